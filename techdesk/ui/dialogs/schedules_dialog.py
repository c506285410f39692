"""Schedules: list, create, edit, enable/disable, delete; install the OS timer that
runs them while the window is closed. Every change goes through the monitor service."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from techdesk.core.schedule import ScheduleError
from techdesk.ui.dialogs.schedule_editor import ScheduleEditor
from techdesk.ui.views.schedule_table import ScheduleTable, target_text


class SchedulesDialog(QDialog):
    changed = Signal()

    def __init__(self, services, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Schedules")
        self.resize(980, 420)
        self.table = ScheduleTable()
        self.table.schedule_activated.connect(self.edit)
        self.table.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.new_button = QPushButton("New…")
        self.edit_button = QPushButton("Edit…")
        self.toggle_button = QPushButton("Disable")
        self.delete_button = QPushButton("Delete…")
        self.install_button = QPushButton("Run when the window is closed…")
        self.install_button.setToolTip("Install the system timer (systemd, launchd, cron or Task Scheduler) "
                                       "that runs due schedules every few minutes")
        close = QPushButton("Close")
        self.new_button.clicked.connect(self.new)
        self.edit_button.clicked.connect(lambda: self.edit(self.table.selected_id()))
        self.toggle_button.clicked.connect(self.toggle)
        self.delete_button.clicked.connect(self.delete)
        self.install_button.clicked.connect(self.install_timer)
        close.clicked.connect(self.accept)
        self.hint = QLabel("While techdesk is open, due schedules run by themselves. "
                           "Runs in a maintenance window wait until it ends.")
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.edit_button, self.toggle_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.install_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self._schedules = {s["id"]: s for s in self.services.monitor.schedules()}
        self.table.show_schedules(list(self._schedules.values()))
        if select:
            self.table.select_id(select)
        elif self.table.currentItem() is None and self.table.topLevelItemCount():
            self.table.setCurrentItem(self.table.topLevelItem(0))
        self._update_buttons()

    def _current(self) -> dict | None:
        return self._schedules.get(self.table.selected_id() or "")

    def _update_buttons(self) -> None:
        current = self._current()
        for button in (self.edit_button, self.toggle_button, self.delete_button):
            button.setEnabled(current is not None)
        self.toggle_button.setText("Enable" if current and not current["enabled"] else "Disable")

    def _apply(self, action, select: str | None = None) -> None:
        try:
            action()
        except ScheduleError as exc:  # removed meanwhile (a sync)
            QMessageBox.warning(self, "Schedules", str(exc))
        self._changed(select)

    def _changed(self, select: str | None = None) -> None:
        self.reload(select)
        self.changed.emit()

    def new(self) -> dict | None:
        editor = ScheduleEditor(self.services, None, self)
        if editor.exec() and editor.saved:
            self._changed(editor.saved["id"])
            return editor.saved
        return None

    def edit(self, schedule_id: str | None) -> dict | None:
        schedule = self._schedules.get(schedule_id or "")
        if schedule is None:
            return None
        editor = ScheduleEditor(self.services, schedule, self)
        if editor.exec() and editor.saved:
            self._changed(schedule["id"])
            return editor.saved
        return None

    def toggle(self) -> None:
        current = self._current()
        if current is None:
            return
        self._apply(lambda: self.services.monitor.enable_schedule(current["id"], not current["enabled"]),
                    current["id"])

    def delete(self) -> None:
        current = self._current()
        if current is None:
            return
        answer = QMessageBox.question(
            self, "Delete schedule",
            f"Delete the schedule “{current['bundle']} on {target_text(current['target'])} every "
            f"{current['every']}”?\n\nRun history stays; only the schedule goes.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._apply(lambda: self.services.monitor.remove_schedule(current["id"]))

    def install_timer(self) -> None:
        from techdesk.services import os_scheduler

        answer = QMessageBox.question(
            self, "Run schedules while techdesk is closed",
            f"Install a system timer that runs `techdesk sweep` every {os_scheduler.SWEEP_EVERY_MIN} minutes "
            f"for this workspace?\n\n{self.services.workspace.path}")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            result = os_scheduler.install(self.services.workspace.path)
        except OSError as exc:
            QMessageBox.warning(self, "Timer not installed", f"Could not write the timer: {exc}")
            return
        box = QMessageBox(QMessageBox.Icon.Information, "System timer",
                          "Installed." if result.installed else "Add this entry yourself:", parent=self)
        box.setDetailedText(result.describe())
        box.setInformativeText(result.describe()[:600])
        box.exec()
