"""Alerts from the dashboard: acknowledge or snooze one from its context menu, or open
the Alerts dialog. The dashboard refreshes after every change."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu

from techdesk.services.monitor import AlertError


class AlertsController(QObject):
    def __init__(self, services, dashboard, dashboard_ctl, window) -> None:
        super().__init__(window)
        self.services = services
        self.dashboard_ctl = dashboard_ctl
        self.window = window
        dashboard.alert_menu_requested.connect(self._menu)

    def _menu(self, position, host: str, check: str) -> None:
        from techdesk.ui.dialogs.alerts_dialog import snooze_menu

        menu = QMenu(self.window)
        menu.addAction("Acknowledge", lambda: self.acknowledge(host, check))
        menu.addMenu(snooze_menu(menu, lambda every: self.snooze(host, check, every)))
        menu.addSeparator()
        menu.addAction("All open alerts…", self.open_dialog)
        menu.popup(position)

    def acknowledge(self, host: str, check: str) -> None:
        self._apply(lambda: self.services.monitor.acknowledge(host, check))

    def snooze(self, host: str, check: str, every: str | None) -> None:
        self._apply(lambda: self.services.monitor.snooze(host, check, every))

    def _apply(self, action) -> None:
        try:
            action()
        except AlertError as exc:
            self.window.statusBar().showMessage(str(exc), 6000)
        self.dashboard_ctl.refresh()

    def open_dialog(self):
        from techdesk.ui.dialogs.alerts_dialog import AlertsDialog

        dialog = AlertsDialog(self.services, self.window)
        dialog.changed.connect(self.dashboard_ctl.refresh)
        dialog.exec()
        return dialog
