"""The main window: lays out the panels and hands each controller what it needs."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import cached_property

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSplitter, QTabWidget, QToolBar

from techdesk import __version__
from techdesk.secrets import backend_info
from techdesk.ui.controllers.alerts_controller import AlertsController
from techdesk.ui.controllers.briefing_controller import BriefingController
from techdesk.ui.controllers.dashboard_controller import DashboardController
from techdesk.ui.controllers.hostkey_prompt import EndpointPrompter, HostKeyPrompter, SecretPrompter
from techdesk.ui.controllers.notes_controller import NotesController
from techdesk.ui.controllers.roster_controller import RosterController
from techdesk.ui.controllers.run_controller import RunController
from techdesk.ui.controllers.sync_controller import SyncController
from techdesk.ui.controllers.visit_controller import VisitController
from techdesk.ui.controllers.window_tools import WindowTools
from techdesk.ui.icons import app_icon
from techdesk.ui.theme import MODE_LABELS, MODES, apply_theme
from techdesk.ui.views.briefing_view import BriefingView
from techdesk.ui.views.dashboard import Dashboard
from techdesk.ui.views.find_bar import FindBar
from techdesk.ui.views.host_page import HostPage
from techdesk.ui.views.notes_panel import NotesPanel
from techdesk.ui.views.roster_panel import RosterPanel
from techdesk.ui.views.run_panel import RunPanel
from techdesk.ui.views.visit_panel import VisitPanel

log = logging.getLogger(__name__)
PRELOAD_AFTER_MS = 1000
_preload_started = threading.Event()


def _preload() -> None:
    """What the first run needs (the runner and paramiko: ~0.2 s of imports), loaded off
    the GUI thread once the window is up: neither start-up nor the first run's loop pays."""
    try:
        import techdesk.services.connections  # noqa: F401
        import techdesk.services.runner  # noqa: F401
    except Exception:  # the run imports them again and reports what is wrong
        log.exception("preloading the runner failed")


def start_preload() -> None:
    if not _preload_started.is_set():
        _preload_started.set()
        threading.Thread(target=_preload, name="techdesk-preload", daemon=True).start()


def _beyond(row: dict) -> int:
    """0 past its crit line, 1 past warn, 2 within (a falling metric has crit below warn)."""
    value, warn, crit = row["value"], row["warn"], row["crit"]
    falling = warn is not None and crit is not None and crit < warn

    def past(limit) -> bool:
        return limit is not None and (value <= limit if falling else value >= limit)

    return 0 if past(crit) else 1 if past(warn) else 2


class MainWindow(QMainWindow):
    def __init__(self, services) -> None:
        super().__init__()
        self.services = services
        self.setWindowTitle(f"techdesk — {services.workspace.technician}")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)

        self.roster_panel = RosterPanel()
        self.host_page = HostPage()
        self.run_panel = RunPanel()
        self.notes_panel = NotesPanel()
        self.dashboard = Dashboard()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.dashboard, "Dashboard")
        self.tabs.addTab(self.host_page, "Host")
        self.tabs.addTab(self.run_panel, "Run")
        self.tabs.addTab(self.notes_panel, "Notes")
        self.visit_panel = VisitPanel()
        self.tabs.addTab(self.visit_panel, "Visit")
        self.briefing_view = BriefingView()
        self.tabs.addTab(self.briefing_view, "Briefing")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.roster_panel)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([460, 820])
        self.setCentralWidget(self.splitter)

        self.hostkey_prompt = HostKeyPrompter(self)
        self.secret_prompt = SecretPrompter(self)
        self.roster = RosterController(services, self.roster_panel, self)
        self.endpoint_prompt = EndpointPrompter(self)
        self.runs = RunController(services, self.run_panel, self.hostkey_prompt, self.secret_prompt, self,
                                  endpoint_prompt=self.endpoint_prompt)
        self.notes = NotesController(services, self.notes_panel, self)
        self.visit_timer = QLabel("")
        self.visits = VisitController(services, self.visit_panel, self, self.visit_timer)
        self.sync = SyncController(services, self)
        self.dashboard_ctl = DashboardController(services, self.dashboard, self)
        self.briefing = BriefingController(services, self.briefing_view, self)
        self.tabs.currentChanged.connect(
            lambda i: self.briefing.refresh() if self.tabs.widget(i) is self.briefing_view else None)
        self.alerts = AlertsController(services, self.dashboard, self.dashboard_ctl, self)
        self.tools = WindowTools(services, self)
        self.dashboard.host_activated.connect(self._open_host)
        self.dashboard.schedules_clicked.connect(lambda: self.tools.open_schedules())
        self.dashboard.schedules.schedule_activated.connect(lambda uid: self.tools.open_schedules(uid))
        self.sync.synced.connect(self._after_sync)
        self.notes.notes_changed.connect(self.sync.update_status)
        self.roster.hosts_changed.connect(self.sync.update_status)
        self.roster.hosts_changed.connect(self._close_removed_host)

        self.roster_panel.host_activated.connect(self.show_host)
        self.roster_panel.selection_changed.connect(self._selection_changed)
        self.roster.run_requested.connect(self.run_on)
        self.roster.note_requested.connect(lambda: self._new_note())
        self.roster.visit_requested.connect(lambda: self._start_visit())
        self.host_page.run_requested.connect(lambda: self.run_on([self.host_page.host_name], ""))
        self.host_page.edit_requested.connect(lambda: self.roster.edit_host(self.host_page.host_name))
        self.host_page.fix_requested.connect(lambda check: self.fix_finding(self.host_page.host_name, check))
        self.run_panel.fix_requested.connect(self.fix_finding)
        self.host_page.command_requested.connect(lambda: self.run_command([self.host_page.host_name]))
        self.roster.command_requested.connect(self.run_command)
        self.runs.host_finished.connect(self._host_finished)
        self.runs.hosts_finished.connect(self._hosts_finished)
        self.runs.run_finished.connect(lambda _report: self._refresh_current())
        self.runs.run_finished.connect(lambda _report: self._sync_targets())
        self.runs.run_finished.connect(lambda _report: self.dashboard_ctl.refresh())
        self.runs.run_finished.connect(self.tools.record_alerts)
        self.run_panel.attach_clicked.connect(self.tools.note_from_last_run)
        self.notes.notes_changed.connect(self.roster.refresh_note_counts)
        self.notes.notes_changed.connect(self.visits.counts_changed)
        self.runs.run_finished.connect(lambda _report: self.visits.counts_changed())

        self.run_panel.fixable = self._fixable_checks()
        self._build_actions()
        for output in (self.run_panel.output, self.host_page.output):
            FindBar.attach(output, shortcut=False)  # the window's Ctrl+F picks the visible one
        self.host_page.runs.itemDoubleClicked.connect(self.tools.open_past_run)
        self._build_status_bar()
        self._settings = QSettings(str(services.workspace.path / "window.ini"), QSettings.Format.IniFormat)
        # Terminal, Files and Tunnels are made when first asked for (below): their modules
        # (paramiko, pyte) cost ~0.3 s of start-up.
        self.roster.terminal_requested.connect(lambda name: self.terminals.open(name))
        self.roster_panel.terminal_requested.connect(lambda name: self.terminals.open(name))
        self.roster_panel.quick_connect_requested.connect(lambda text: self.terminals.open_quick(text))
        self.roster.files_requested.connect(lambda name: self.files.open(name))
        self.roster.tunnels_requested.connect(lambda name: self.tunnels.open(name))
        self._restore_state()
        self.set_theme(str(self._settings.value("appearance", "system")), save=False)
        self.roster.refresh()
        # After the window is on screen: fleet health over a large history takes a moment.
        QTimer.singleShot(0, self, self._first_refresh)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.last_close_box: QMessageBox | None = None

    @cached_property
    def terminals(self):
        from techdesk.ui.controllers.terminal_controller import TerminalController

        return TerminalController(self.services, self, self.tabs, self._settings)

    @cached_property
    def files(self):
        from techdesk.ui.controllers.files_controller import FilesController

        return FilesController(self.services, self, self.tabs)

    @cached_property
    def tunnels(self):
        from techdesk.ui.controllers.tunnels_controller import TunnelsController

        return TunnelsController(self.services, self, self.tabs)

    # -- actions, menus, toolbar ---------------------------------------------
    def _action(self, text: str, slot, shortcut: str | None = None, tip: str | None = None) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text)
        return action

    def _build_actions(self) -> None:
        self.act_add = self._action("Add host…", self.roster.add_host, "Ctrl+N")
        self.act_edit = self._action("Edit host…", lambda: self.roster.edit_host(self._shown_host()), "Ctrl+E")
        self.act_remove = self._action("Remove…", self.roster.remove_hosts, "Del")
        self.act_run = self._action("Run", self._run_selected, "F5", "Run the chosen bundle on the selected hosts")
        self.act_cancel = self._action("Cancel run", self.runs.cancel, "Esc")
        self.act_filter = self._action("Find host", self._focus_filter, "Ctrl+K")
        self.act_refresh = self._action("Refresh", self.roster.refresh, "Ctrl+R")
        self.act_quit = self._action("Quit", self.close, "Ctrl+Q")
        self.act_visit_start = self._action("Start visit", self._start_visit, "Ctrl+Shift+V",
                                            "Start a visit at the selected client or site")
        self.act_visit_stop = self._action("Stop visit", self.visits.stop, "Ctrl+Shift+X")
        self.act_note = self._action("New note", self._new_note, "Ctrl+Shift+N")
        self.act_save_note = self._action("Save note", self._save_note, "Ctrl+S")
        self.act_sync = self._action("Sync now", self.sync.sync_now, "Ctrl+Shift+S")
        self.act_conflicts = self._action("Resolve conflicts…", self.sync.show_conflicts)

        file_menu = self.menuBar().addMenu("&File")
        import_menu = file_menu.addMenu("Import hosts")
        for label, fmt in (("From SSH config…", "ssh-config"), ("From CSV…", "csv"),
                           ("From Ansible inventory…", "ansible")):
            import_menu.addAction(label, lambda f=fmt: self.roster.import_hosts(f))
        file_menu.addSeparator()
        file_menu.addAction(self._action("Settings…", self._settings_dialog, "Ctrl+,"))
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        host_menu = self.menuBar().addMenu("&Host")
        for action in (self.act_add, self.act_edit, self.act_remove, self.act_run, self.act_cancel):
            host_menu.addAction(action)
        host_menu.addSeparator()
        self.act_history = self._action("History…", lambda: self.tools.open_history(), "Ctrl+H",
                                        "Past runs of the host shown: open one, compare two")
        self.act_copy_run = self._action("Copy run as text", self.tools.copy_run, "Ctrl+Shift+C",
                                         "The whole last run (every host, check and output) as text")
        self.act_save_run = self._action("Save run as text…", self.tools.save_run, None)
        self.act_find = self._action("Find in output", self.tools.find_in_output, "Ctrl+F")
        for action in (self.act_history, self.act_copy_run, self.act_save_run):
            host_menu.addAction(action)
        host_menu.addAction(self._action("Open terminal", lambda: self._on_one_host(self.terminals.open),
                                         "Ctrl+Shift+T", "A shell on the selected host in a tab of this window"))
        host_menu.addAction(self._action("Files (SFTP)", lambda: self._on_one_host(self.files.open),
                                         "Ctrl+Shift+O", "Browse and transfer files on the selected host"))
        host_menu.addAction(self._action("Tunnels…", lambda: self._on_one_host(self.tunnels.open), None,
                                         "Port forwards saved with the selected host: start, stop, open"))
        host_menu.addSeparator()
        host_menu.addAction(self._action("Clients and sites…", lambda: self.tools.open_clients(), None,
                                         "Connection defaults, rename and remove of clients and sites"))
        work_menu = self.menuBar().addMenu("&Work")
        for action in (self.act_note, self.act_save_note, self.act_visit_start, self.act_visit_stop, None, self.act_sync,
                       self.act_conflicts):
            if action is None:
                work_menu.addSeparator()
            else:
                work_menu.addAction(action)
        self.act_schedules = self._action("Schedules…", lambda: self.tools.open_schedules(), "Ctrl+Shift+H",
                                          "Create, edit, pause and delete scheduled diagnostics")
        work_menu.addSeparator()
        work_menu.addAction(self.act_schedules)
        work_menu.addAction(self._action("Alerts…", self.alerts.open_dialog, None,
                                         "Open alerts: acknowledge, snooze, wake"))
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.act_filter)
        view_menu.addAction(self.act_find)
        view_menu.addAction(self.act_refresh)
        view_menu.addSeparator()
        appearance = view_menu.addMenu("Appearance")
        group = QActionGroup(self)
        self.theme_actions = {}
        for mode in MODES:
            action = appearance.addAction(MODE_LABELS[mode], lambda m=mode: self.set_theme(m))
            action.setCheckable(True)
            group.addAction(action)
            self.theme_actions[mode] = action
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("About techdesk", self._about)

        bar = QToolBar("Main")
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.act_add, self.act_edit, None, self.act_run, self.act_cancel, None, self.act_note,
                       self.act_visit_start, self.act_visit_stop, None, self.act_sync, self.act_refresh):
            if action is None:
                bar.addSeparator()
            else:
                bar.addAction(action)
        self.addToolBar(bar)

    def _build_status_bar(self) -> None:
        from techdesk.ui.status_bar import StatusBar

        self.setStatusBar(StatusBar(self))
        info = backend_info()
        # Plain text: an emoji lock is a missing-glyph box with the default fonts (DejaVu).
        self.keyring_label = QLabel(("" if info.secure else "⚠ ") + info.message)
        self.keyring_label.setToolTip(info.name)
        if not info.secure:
            self.keyring_label.setStyleSheet("color: #d64541")
        from techdesk.ui.controllers.connections_indicator import ConnectionsIndicator

        self.connections = ConnectionsIndicator(self.services, self)
        self.statusBar().addPermanentWidget(self.connections.label)
        self.statusBar().addPermanentWidget(self.visit_timer)
        self.statusBar().addPermanentWidget(self.sync.button)
        self.statusBar().addPermanentWidget(self.keyring_label)
        self.statusBar().showMessage(f"Workspace {self.services.workspace.path}", 8000)

    # -- behaviour -----------------------------------------------------------
    def _focus_filter(self) -> None:
        self.roster_panel.filter.setFocus()
        self.roster_panel.filter.selectAll()

    def _sync_targets(self) -> None:
        """Run's target is the roster's selection, named as selected ("Acme", "Acme / HQ")."""
        if self.runs.running:
            return  # the running targets stay shown; the selection is taken when the run ends
        selected = self.roster_panel.selected()
        groups = [(f"{client} / {name}" if kind == "site" else name) for kind, name, client in selected
                  if kind in ("client", "site")]
        singles = [name for kind, name, _ in selected if kind == "host"]
        parts = groups + singles
        description = ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")
        self.runs.set_targets(self.roster_panel.selected_hosts(), description)

    def _selection_changed(self) -> None:
        self._sync_targets()
        selected = self.roster_panel.selected()
        if len(selected) == 1 and selected[0][0] in ("client", "site") and selected[0][2] != "(no client)":
            self.notes.show_for_client(selected[0][2])

    def _first_refresh(self) -> None:
        if self.isVisible():  # not for a window closed before the loop came round
            self.dashboard_ctl.refresh()
            QTimer.singleShot(PRELOAD_AFTER_MS, self, start_preload)
            if not self.roster_panel.model.host_names() and not self.services.workspace.settings.technician:
                self.first_run()

    def first_run(self) -> None:
        """An empty workspace: ask the technician's name, offer the first hosts (not modal)."""
        from techdesk.ui.dialogs.first_run import FirstRunDialog

        self.first_run_dialog = dialog = FirstRunDialog(self.services.workspace, self)
        dialog.finished.connect(self._first_run_done)
        dialog.open()

    def _first_run_done(self, code: int) -> None:
        from techdesk.ui.dialogs.first_run import FirstRunDialog

        self.services.settings_changed()
        self.setWindowTitle(f"techdesk — {self.services.workspace.technician}")
        if code == FirstRunDialog.ADD:
            self.roster.add_host()
        elif code == FirstRunDialog.IMPORT:
            self.roster.import_hosts("ssh-config")

    def set_theme(self, mode: str, save: bool = True) -> None:
        mode = mode if mode in MODES else "system"
        self.palette_used = apply_theme(mode)
        self.theme_actions[mode].setChecked(True)
        if save:
            self._settings.setValue("appearance", mode)

    def _open_host(self, name: str) -> None:
        self.roster_panel.select_host(name)
        self.show_host(name)
        self.tabs.setCurrentWidget(self.host_page)

    def notify_alerts(self, events: list[dict]) -> None:
        """New alerts: a desktop notification where the system has a tray, else the status bar."""
        from PySide6.QtWidgets import QSystemTrayIcon

        text = "\n".join(e.get("message", "") for e in events[:5])
        if QSystemTrayIcon.isSystemTrayAvailable():
            if not hasattr(self, "_tray"):
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
                self._tray.show()
            self._tray.showMessage(f"techdesk: {len(events)} new alert(s)", text)
        self.statusBar().showMessage(f"{len(events)} new alert(s): {text}", 15000)

    def _after_sync(self, _report) -> None:
        self.roster.refresh()
        self.visits.refresh()
        if self.notes.host or self.notes.client:
            self.notes._reload()
        self._refresh_current()
        self.dashboard_ctl.refresh()  # schedules and hosts may have come from the team

    def _start_visit(self) -> None:
        selected = self.roster_panel.selected()
        if not selected or not selected[0][2] or selected[0][2] == "(no client)":
            QMessageBox.information(self, "Start visit", "Select a client, a site or one of their hosts first.")
            return
        kind, name, client = selected[0]
        site = name if kind == "site" else None
        if kind == "host":
            site = self.services.roster.get(name).spec.site
        self.visits.start(client, site)
        self.tabs.setCurrentWidget(self.visit_panel)

    def _save_note(self) -> None:
        if self.notes.panel.is_dirty():
            self.notes.save()
        else:
            self.statusBar().showMessage("No unsaved note text", 3000)

    def _new_note(self) -> None:
        self.tabs.setCurrentWidget(self.notes_panel)
        self.notes.new_note()

    def explain(self, text: str) -> None:
        """An action that cannot act says why (status bar), instead of doing nothing."""
        self.statusBar().showMessage(text, 8000)

    def _shown_host(self) -> str | None:
        """The host Edit acts on: the one on the host page when it is in front, else the selection."""
        if self.tabs.currentWidget() is self.host_page and self.host_page.host_name:
            return self.host_page.host_name
        return None

    def _close_removed_host(self) -> None:
        name = self.host_page.host_name
        if name and not self.services.roster.exists(name):
            self.host_page.show_empty(f"{name} was removed from the roster.")
            if self.notes.host == name:
                self.notes.panel.show_note(None)

    def _run_selected(self) -> None:
        hosts = self.roster_panel.selected_hosts()
        if hosts:
            self.run_on(hosts, "")
        else:
            self.explain("Nothing to run on: select hosts, a site or a client in the roster first.")

    def run_on(self, hosts: list[str], bundle: str) -> None:
        if not self.runs.running:
            self.runs.set_targets(hosts)
        self.tabs.setCurrentWidget(self.run_panel)
        if bundle:
            index = self.run_panel.bundle.findData(bundle)
            if index >= 0:
                self.run_panel.bundle.setCurrentIndex(index)
        if not self.runs.running:
            self.runs.run_selected()

    def host_states(self, hosts: list[str] | None = None) -> dict:
        """Host statuses by the one rule (core/host_state.py), for every view of the window."""
        stale_after = timedelta(hours=self.services.workspace.settings.stale_after_hours)
        return self.services.history.host_states(stale_after, hosts)

    def _on_one_host(self, action) -> None:
        hosts = self.roster_panel.selected_hosts()
        if len(hosts) == 1:
            action(hosts[0])
        else:
            self.statusBar().showMessage("Select one host first", 5000)

    def show_host(self, name: str) -> None:
        svc = self.services
        host = svc.roster.get(name)
        current = svc.history.current_results(name)
        series: dict[str, list[dict]] = {}
        for row in svc.history.metric_series(name):
            series.setdefault(f"{row['check_id']} · {row['label']}", []).append(row)
        # Every metric with a warn or crit line gets a chart; those of checks not OK first.
        rank = {c.id: -c.status.rank for c, _, _ in current}
        charted = sorted(((k, rows) for k, rows in series.items()
                          if rows[-1]["warn"] is not None or rows[-1]["crit"] is not None),
                         key=lambda kv: (_beyond(kv[1][-1]), rank.get(kv[1][-1]["check_id"], 0), kv[0]))
        forecasts = {}
        for f in svc.monitor.forecasts(name):
            if f.eta is not None:
                from techdesk.core.forecast import describe

                forecasts[f"{f.check} · {f.label}"] = (f.eta, f.threshold, describe(f))
        self.host_page.fixable = self.run_panel.fixable = self._fixable_checks()
        self.host_page.show_host(host, self.host_states([name])[name], current, dict(charted),
                                 svc.history.host_runs(name), forecasts)
        self.notes.show_for_host(name)

    def _hosts_finished(self, names: list[str]) -> None:
        # The rows show the hosts' status by the one rule (a failed attempt marks them, no more);
        # one query per batch of results, not per host.
        self.roster_panel.model.set_states(self.host_states(names))

    def fix_finding(self, host: str, check_id: str) -> None:
        from techdesk.ui.dialogs.fix_dialog import FixDialog

        dialog = FixDialog(self.services, host, check_id, self)
        dialog.fixed.connect(lambda _outcomes: (self._refresh_current(), self.visits.refresh(),
                                                self.notes.notes_changed.emit()))
        dialog.open()

    def _fixable_checks(self) -> set[str]:
        return {c.id for b in self.services.bundles.all().values() for c in b.checks if c.fixes}

    def run_command(self, hosts: list[str]) -> None:
        from techdesk.ui.dialogs.command_dialog import CommandDialog

        if hosts:
            CommandDialog(self.services, hosts, self).open()

    def _host_finished(self, result) -> None:
        if result.error and result.error.kind == "hostkey-changed":
            from techdesk.ui.dialogs.hostkey_dialog import changed_key_box

            changed_key_box(result.host, result.error.message, self).open()

    def _refresh_current(self) -> None:
        if self.host_page.host_name and self.services.roster.exists(self.host_page.host_name):
            self.show_host(self.host_page.host_name)

    def _settings_dialog(self) -> None:
        self.open_settings()

    def open_settings(self, tab: str | None = None) -> None:
        from techdesk.ui.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services, self)
        for index in range(dialog.tabs.count()):
            if dialog.tabs.tabText(index) == tab:
                dialog.tabs.setCurrentIndex(index)
        if dialog.exec():
            self.sync.update_status()
            self.setWindowTitle(f"techdesk — {self.services.workspace.technician}")
            self.roster.refresh()

    def _about(self) -> None:
        QMessageBox.about(self, "About techdesk",
                          f"techdesk {__version__}\nRemote support for field IT technicians.\n\n"
                          f"Workspace: {self.services.workspace.path}")

    def stop_timers(self) -> None:
        """No controller ticks after the window closes (the store is closed next): a
        pending debounced save (single-shot, active) runs now instead of being lost."""
        for timer in self.findChildren(QTimer):
            if timer.isActive():
                if timer.isSingleShot():
                    timer.timeout.emit()
                timer.stop()

    # -- state ---------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self._settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self._settings.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def confirm_unsaved_note(self) -> bool:
        """Closing with unsaved note text: Save, Discard or Cancel. True when it may close."""
        if not self.notes.panel.is_dirty():
            return True
        self.tabs.setCurrentWidget(self.notes_panel)
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved note",
                          f"The note “{self.notes.panel.title.text() or 'new note'}” has unsaved changes.",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        self.last_close_box = box
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.notes.save() is not None
        if answer == QMessageBox.StandardButton.Discard:
            self.notes.discard()
            return True
        return False

    def closeEvent(self, event) -> None:
        if not self.confirm_unsaved_note():
            event.ignore()
            return
        self.dashboard_ctl.stop()  # a closed window runs no more schedules
        if self.runs.running:
            self.runs.cancel()
        self.stop_timers()
        for made in ("terminals", "files", "tunnels"):  # only those opened (made on first use)
            if made in self.__dict__:
                self.__dict__[made].close_all()
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.setValue("splitter", self.splitter.saveState())
        self._settings.sync()
        super().closeEvent(event)
