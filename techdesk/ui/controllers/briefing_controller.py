"""The Briefing view's logic: which client, the briefing from ReportService, PDF files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from techdesk.core.roster import RosterError
from techdesk.core.work import WorkError


class BriefingController(QObject):
    def __init__(self, services, view, window) -> None:
        super().__init__(window)
        self.services = services
        self.view = view
        self.window = window
        view.target_changed.connect(lambda _client, _site: self.show())
        view.refresh_clicked.connect(self.refresh)
        view.save_clicked.connect(self.save_pdf)
        view.care_clicked.connect(self.save_care_report)

    def refresh(self) -> None:
        """Re-read the clients (they may have changed) and show the briefing."""
        self.view.set_clients([c.name for c in self.services.roster.clients()])
        self.show()

    def show(self) -> None:
        client, site = self.view.target()
        if not client:
            self.view.show_html("<p>No clients yet: add hosts with a client first.</p>")
            return
        self.view.set_sites([s.name for s in self.services.roster.sites(client)])
        client, site = self.view.target()
        reports = self.services.reports
        data = reports.briefing_data(client, site or None)
        self.view.show_html(reports.render_html("briefing", data, for_pdf=True))

    def _ask_file(self, title: str, name: str, filters: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.window, title, str(Path.home() / name), filters)
        return Path(path) if path else None

    def save_pdf(self, path: Path | None = None) -> Path | None:
        client, site = self.view.target()
        path = path or self._ask_file("Save the briefing", f"briefing-{client}.pdf", "PDF (*.pdf)")
        return self._write(lambda: self.services.reports.briefing(client, path, site=site or None)) if path else None

    def save_care_report(self, path: Path | None = None) -> Path | None:
        from techdesk.reports.period import last_month

        client, _site = self.view.target()
        period = last_month()
        path = path or self._ask_file("Save the care report", f"care-{client}-{period.start:%Y-%m}.pdf",
                                      "PDF (*.pdf);;HTML (*.html)")
        return self._write(lambda: self.services.reports.care(client, period, path)) if path else None

    def _write(self, make) -> Path | None:
        try:
            return make()
        except (RosterError, WorkError, OSError) as exc:
            QMessageBox.warning(self.window, "techdesk", str(exc))
            return None
