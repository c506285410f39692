"""Client-facing reports: a visit report and a client health report, as HTML or PDF.

`data` gathers what a report says (a plain dict), `html` renders it through a
Jinja2 template a user may replace, `pdf` turns the HTML into a PDF through Qt.
Services call this through `techdesk.services.reports.ReportService`.
"""

from __future__ import annotations

from techdesk.reports.data import client_report, visit_report

TEMPLATES = {"visit": "visit_report.html.j2", "client": "client_report.html.j2", "care": "care_report.html.j2",
             "briefing": "briefing.html.j2"}

__all__ = ["TEMPLATES", "client_report", "visit_report"]
