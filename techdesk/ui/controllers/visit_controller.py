"""Visits from the window: start/stop with a visible timer, checklist, report export."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from techdesk.core.roster import RosterError
from techdesk.core.work import WorkError
from techdesk.ui.timefmt import local_time


class VisitController(QObject):
    visit_changed = Signal()

    def __init__(self, services, panel, window, timer_label) -> None:
        super().__init__(window)
        self.services = services
        self.panel = panel
        self.window = window
        self.timer_label = timer_label
        self.shown = None
        self._running = None
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_timer)
        self._save_summary = QTimer(self)
        self._save_summary.setSingleShot(True)
        self._save_summary.setInterval(600)
        self._save_summary.timeout.connect(self._store_summary)
        panel.item_toggled.connect(self._toggle)
        panel.summary_edited.connect(self._save_summary.start)
        panel.export_clicked.connect(self.export)
        panel.visit_selected.connect(self.show_visit)
        self.refresh()

    @property
    def current(self):
        return self.services.visits.current()

    def refresh(self) -> None:
        current = self._running = self.current  # the 1 s timer reads this, not the database
        self.show_visit(current.id if current else None)
        self.panel.set_history(self.services.visits.list()[:50])
        if current:
            self._tick.start()
        else:
            self._tick.stop()
        self._update_timer()

    def show_visit(self, visit_id: str | None) -> None:
        visit = self.services.visits.get(visit_id) if visit_id else None
        self.shown = visit
        self.panel.set_visit(visit, len(self.services.visits.notes(visit)) if visit else 0)

    def start(self, client: str, site: str | None) -> None:
        try:
            self.services.visits.start(client, site)
        except (WorkError, RosterError) as exc:
            QMessageBox.warning(self.window, "Visit not started", str(exc))
            return
        self.refresh()
        self.visit_changed.emit()

    def stop(self) -> None:
        self._store_summary()
        try:
            visit = self.services.visits.stop()
        except WorkError as exc:
            QMessageBox.information(self.window, "No visit", str(exc))
            return
        self.refresh()
        self.show_visit(visit.id)
        self.visit_changed.emit()
        self.window.statusBar().showMessage(
            f"Visit stopped: {visit.minutes_on_site():.0f} min on site, {visit.billable_minutes} billable", 8000)

    def _toggle(self, index: int, done: bool) -> None:
        if self.shown:
            self.shown = self.services.visits.update(self.shown.id, check=(index, done))

    def _store_summary(self) -> None:
        if self.shown and self.panel.summary.toPlainText() != self.shown.summary:
            self.shown = self.services.visits.update(self.shown.id, summary=self.panel.summary.toPlainText())

    def _update_timer(self) -> None:
        current = self._running if self._tick.isActive() else None
        if current is None:
            self.timer_label.setText("")
            self.panel.timer.setText("")
            return
        minutes = current.minutes_on_site(datetime.now().astimezone())
        clock = f"{int(minutes // 60):d}:{int(minutes % 60):02d} h"
        # The status bar and the panel say the same time, the same way (local time).
        self.timer_label.setText(f"On site at {current.client} · {clock}")
        self.panel.timer.setText(f"Started {local_time(current.started)} · {clock} on site")

    def counts_changed(self) -> None:
        """A run or a note during the visit: its counters follow at once."""
        if self.shown is not None:
            self.show_visit(self.shown.id)

    def export(self, fmt: str) -> None:
        if not self.shown:
            return
        self._store_summary()
        default = f"visit-{self.shown.client}-{self.shown.started[:10]}.{fmt}".replace("/", "-")
        path, _ = QFileDialog.getSaveFileName(self.window, "Export visit report", default,
                                              "PDF (*.pdf)" if fmt == "pdf" else "HTML (*.html)")
        if path:
            self.export_to(path)

    def export_to(self, path: str, open_file: bool = True) -> str | None:
        try:
            written = self.services.reports.visit(self.shown.id, path, **self.panel.report_options())
        except Exception as exc:  # a report failure is shown, never fatal
            QMessageBox.warning(self.window, "Report not written", str(exc))
            return None
        if open_file:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(written)))
        self.window.statusBar().showMessage(f"Report written to {written}", 8000)
        return str(written)
