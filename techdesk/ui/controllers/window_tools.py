"""The window's tools beyond the panels: schedules, clients and sites, history and
run comparison, output search, copying and saving runs, attaching findings to notes,
and alert state from runs made by hand. Each opens a dialog over the same services
the CLI uses; the main window only wires menus and signals to these methods."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from techdesk.ui.views.find_bar import FindBar


class WindowTools(QObject):
    def __init__(self, services, window) -> None:
        super().__init__(window)
        self.services = services
        self.window = window
        self.alert_task: asyncio.Task | None = None

    # -- alerts from runs by hand -------------------------------------------
    def record_alerts(self, report) -> asyncio.Task:
        """A run by hand feeds alert state like a sweep (services.monitor.record_run);
        the dashboard shows the result and new alerts are announced."""
        task = asyncio.ensure_future(self.services.monitor.record_run(report))
        task.add_done_callback(self._alerts_recorded)
        self.alert_task = task
        return task

    def _alerts_recorded(self, task: asyncio.Task) -> None:
        w = self.window
        error = None if task.cancelled() else task.exception()  # always retrieved: no "never retrieved" noise
        if task.cancelled() or self.services.closed:
            return
        if error is not None:
            w.statusBar().showMessage(f"Alerts not updated: {error}", 10000)
            return
        w.dashboard_ctl.refresh()
        fresh = [e for e in task.result()["alerts"] if e["event"] in ("opened", "escalated")]
        if fresh:
            w.notify_alerts(fresh)

    # -- notes --------------------------------------------------------------
    def note_from_last_run(self):
        """The run panel's “Attach to note…”: the findings selected there, else every
        finding that is not OK, of the last run."""
        w = self.window
        report = w.runs.last_report
        if report is None or not report.results:
            return None
        hosts = [r.host for r in report.results]
        selected: dict[str, set[str]] = {}
        for item in w.run_panel.results.selectedItems():
            parent = item.parent()
            result = next((r for r in report.results if parent and r.host == parent.text(0)), None)
            if result is not None:
                selected.setdefault(result.host, set()).update(c.id for c in result.checks
                                                               if c.title == item.text(0))
        host = next(iter(selected), None) or (w.notes.host if w.notes.host in hosts else hosts[0])
        return self.attach_findings(report.run_id, hosts, host, selected)

    def attach_findings(self, run_id: str, hosts: list[str], host: str, selected=None, parent=None):
        from techdesk.ui.dialogs.attach_dialog import AttachDialog

        w = self.window
        dialog = AttachDialog(self.services, run_id, hosts, host, selected, parent or w)
        if dialog.exec() and dialog.note_id:
            w.notes.show_for_host(dialog.host.currentText())
            w.notes._reload(select=dialog.note_id)
            w.notes.notes_changed.emit()
            w.tabs.setCurrentWidget(w.notes_panel)
            w.statusBar().showMessage(f"{dialog.added} finding{'s' if dialog.added != 1 else ''} attached"
                                      + ("" if dialog.added else " (they were attached already)"), 6000)
        return dialog

    # -- history and output -------------------------------------------------
    def open_history(self, host: str | None = None):
        from techdesk.ui.dialogs.history_dialog import HistoryDialog

        w = self.window
        host = host or w.host_page.host_name or next(iter(w.roster_panel.selected_hosts()), None)
        if not host:
            QMessageBox.information(w, "History", "Select a host first: its past runs are listed.")
            return None
        dialog = HistoryDialog(self.services, host, self, w)
        dialog.show()
        return dialog

    def open_run(self, run_id: str, host: str | None = None):
        from techdesk.ui.dialogs.run_viewer import RunViewer

        viewer = RunViewer(self.services, run_id, host, self, self.window)
        viewer.show()
        return viewer

    def open_past_run(self, item):
        """Double-click on the host page's recent runs: that run, opened (the list shows
        host_runs() newest first, one row per run)."""
        w = self.window
        host = w.host_page.host_name
        runs = self.services.history.host_runs(host, limit=w.host_page.runs.count()) if host else []
        row = w.host_page.runs.row(item)
        if not 0 <= row < len(runs):
            return None
        return self.open_run(runs[row].run_id, host)

    def find_in_output(self) -> FindBar | None:
        w = self.window
        output = {w.run_panel: w.run_panel.output, w.host_page: w.host_page.output}.get(w.tabs.currentWidget())
        if output is None:
            w.statusBar().showMessage("Find in output: open the Run or Host tab first", 4000)
            return None
        bar = FindBar.attach(output, shortcut=False)
        bar.open()
        return bar

    def copy_run(self) -> None:
        from PySide6.QtGui import QGuiApplication

        from techdesk.services.run_views import run_text

        report = self._last_run()
        if report is not None:
            QGuiApplication.clipboard().setText(run_text(self.services.history, report.run_id))
            self.window.statusBar().showMessage(f"Run {report.run_id[:8]} copied as text", 4000)

    def save_run(self) -> None:
        from techdesk.ui.dialogs.run_viewer import save_run_text

        report = self._last_run()
        path = save_run_text(self.window, self.services.history, report.run_id) if report else None
        if path:
            self.window.statusBar().showMessage(f"Saved {path}", 5000)

    def _last_run(self):
        report = self.window.runs.last_report
        if report is None:
            self.window.statusBar().showMessage("No run yet in this session: open one from History (Ctrl+H)",
                                                5000)
        return report

    # -- clients, sites, schedules ------------------------------------------
    def open_clients(self, client: str | None = None, site: str | None = None):
        """Clients and sites: defaults, rename, remove; the roster follows each change."""
        from techdesk.ui.dialogs.clients_dialog import ClientsDialog

        w = self.window
        if client is None:
            selected = w.roster_panel.selected()
            if selected and selected[0][0] in ("client", "site") and selected[0][2] != "(no client)":
                kind, name, client = selected[0]
                site = name if kind == "site" else None
        dialog = ClientsDialog(self.services, w)
        if client:
            dialog.select(client, site)
        dialog.changed.connect(w.roster.refresh)
        dialog.changed.connect(w.dashboard_ctl.refresh)
        dialog.exec()
        return dialog

    def open_schedules(self, edit: str | None = None):
        """The Schedules dialog (``edit``: that schedule's editor at once); the
        dashboard refreshes whenever a schedule changes."""
        from techdesk.ui.dialogs.schedules_dialog import SchedulesDialog

        dialog = SchedulesDialog(self.services, self.window)
        dialog.changed.connect(self.window.dashboard_ctl.refresh)
        if edit:
            dialog.table.select_id(edit)
            dialog.show()
            dialog.edit(edit)
            return dialog
        dialog.exec()
        return dialog
