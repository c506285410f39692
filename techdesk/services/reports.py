"""Reports: the one API the CLI and the window use to write a visit or client report.

The format follows the file name: .pdf or .html (.htm). The whole report is made in
memory first and then written atomically (a temporary file in the same folder,
fsynced, renamed), so a failed report never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from techdesk.core.work import WorkError
from techdesk.reports import TEMPLATES, data, html
from techdesk.reports.period import Period

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}


def report_format(path: Path | str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise WorkError(f"cannot tell the report format from {Path(path).name!r}: "
                        "the file name must end in .pdf or .html")
    return FORMATS[suffix]


def write_atomically(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # like any file the user makes: reports are handed over
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def place_charts(report: dict, for_pdf: bool) -> list[dict]:
    """Give each chart of a report its <img> source: `chart:N` for the PDF (drawn as
    vectors by reports/charts.py), an SVG data URI for HTML. Returns the charts."""
    found = [report["fleet"]] if report.get("fleet") else []
    found += [c["evidence"] for c in report.get("caught", ()) if c.get("evidence")]
    if not found:
        return []
    from techdesk.reports import charts

    for i, chart in enumerate(found):
        chart["width"], chart["height"] = charts.WIDTH, charts.height_of(chart)
        chart["src"] = f"{charts.SCHEME}{i}" if for_pdf else charts.svg_data_uri(chart)
    return found


class ReportService:
    def __init__(self, services) -> None:
        self.services = services

    # -- the data and HTML (the window can preview these) --------------------------
    def visit_data(self, visit_id: str, appendix: str = "problems", unticked: bool = True) -> dict:
        return data.visit_report(self.services, visit_id, appendix, unticked)

    def client_data(self, name: str) -> dict:
        return data.client_report(self.services, name, trends=self.trends(name))

    def trends(self, client: str) -> list[dict] | None:
        """Trends and forecasts for the client report: [{host, title, text, status}]
        from the stored metric history (MonitorService.client_trends), most urgent
        first; None when there is not enough history to say anything."""
        rows = self.services.monitor.client_trends(client)
        return [{k: r[k] for k in ("host", "title", "text", "status")} for r in rows] or None

    def render_html(self, kind: str, report: dict, for_pdf: bool = False) -> str:
        return html.render(TEMPLATES[kind], report, self.services.workspace.path, for_pdf=for_pdf)

    # -- files -----------------------------------------------------------------
    def visit(self, visit_id: str, path: Path | str, appendix: str = "problems", unticked: bool = True) -> Path:
        """Write the report of a visit to `path` (.pdf or .html); returns the full path.
        ``appendix``: raw output of problems (default), all or no checks; ``unticked=False``
        leaves out checklist items that were not done."""
        report_format(path)
        return self._write("visit", self.visit_data(visit_id, appendix, unticked), Path(path))

    def client(self, name: str, path: Path | str) -> Path:
        """Write the health report of a client to `path` (.pdf or .html)."""
        report_format(path)
        return self._write("client", self.client_data(name), Path(path))

    def care_data(self, name: str, period: Period) -> dict:
        from techdesk.reports.care import care_report

        return care_report(self.services, name, period)

    def care(self, name: str, period: Period, path: Path | str) -> Path:
        """Write the care report of a client for `period` to `path` (.pdf or .html)."""
        report_format(path)
        return self._write("care", self.care_data(name, period), Path(path))

    def briefing_data(self, client: str, site: str | None = None, now: datetime | None = None) -> dict:
        from techdesk.reports.briefing import briefing

        return briefing(self.services, client, site, now=now)

    def briefing(self, client: str, path: Path | str, site: str | None = None) -> Path:
        """Write the visit briefing of a client (and site) to `path` (.pdf or .html)."""
        report_format(path)
        return self._write("briefing", self.briefing_data(client, site), Path(path))

    def _write(self, kind: str, report: dict, path: Path) -> Path:
        fmt = report_format(path)
        path = path.expanduser().absolute()
        if path.is_dir():
            raise WorkError(f"{path} is a folder: give a file name ending in .{fmt}")
        if not path.parent.is_dir():
            raise WorkError(f"folder {path.parent} does not exist")
        charts = place_charts(report, for_pdf=fmt == "pdf")
        page = self.render_html(kind, report, for_pdf=fmt == "pdf")
        if fmt == "pdf":
            from techdesk.reports.pdf import html_to_pdf

            footer = f"{report['title']} · {report['date']}"
            content = html_to_pdf(page, title=f"{report['title']} ({report['date']})", footer=footer,
                                  charts=charts)
        else:
            content = page.encode("utf-8")
        write_atomically(path, content)
        return path
