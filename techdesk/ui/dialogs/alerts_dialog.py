"""Open alerts with what is being done about them: acknowledge, snooze, wake.

The rules (an acknowledgement or a snooze ends when the alert resolves or gets worse)
are the core's; this dialog only calls services.monitor.acknowledge / snooze."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from techdesk.services.monitor import AlertError
from techdesk.ui.icons import status_icon
from techdesk.ui.timefmt import local_time

KEY_ROLE = Qt.ItemDataRole.UserRole + 70
SNOOZE_CHOICES = (("1 hour", "1h"), ("4 hours", "4h"), ("1 day", "1d"), ("1 week", "7d"))


def alert_state(alert: dict) -> str:
    """'snoozed until …' / 'acknowledged by Ann, today 10:02' / 'new' (not acted on)."""
    if alert.get("snoozed_until"):
        return f"snoozed until {local_time(alert['snoozed_until'])}"
    if alert.get("acked_by"):
        return f"acknowledged by {alert['acked_by']}, {local_time(alert.get('acked_at'))}"
    return "new" if alert.get("announced", True) else "held (maintenance window)"


def snooze_menu(parent, on_choice) -> QMenu:
    menu = QMenu("Snooze", parent)
    for label, every in SNOOZE_CHOICES:
        menu.addAction(f"for {label}", lambda e=every: on_choice(e))
    return menu


COLUMNS = ("", "Host", "Check", "Since", "State", "Message")


class AlertsDialog(QDialog):
    changed = Signal()

    def __init__(self, services, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Open alerts")
        self.resize(980, 420)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.snooze_button = QPushButton("Snooze")
        self.snooze_button.setMenu(snooze_menu(self, self.snooze_selected))
        self.wake_button = QPushButton("Wake")
        self.wake_button.setToolTip("Back into the open list now")
        self.wake_button.clicked.connect(lambda: self.snooze_selected(None))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.ack_button, self.snooze_button, self.wake_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        self.tree.clear()
        for a in self.services.monitor.alerts(include_snoozed=True):
            item = QTreeWidgetItem(["", a["host"], a["check"], local_time(a["opened_at"]), alert_state(a),
                                    a["message"] or a["summary"]])
            item.setIcon(0, status_icon(a["severity"]))
            item.setData(0, KEY_ROLE, (a["host"], a["check"]))
            self.tree.addTopLevelItem(item)

    def selected(self) -> list[tuple[str, str]]:
        return [item.data(0, KEY_ROLE) for item in self.tree.selectedItems()]

    def acknowledge_selected(self) -> None:
        self._each(lambda host, check: self.services.monitor.acknowledge(host, check))

    def snooze_selected(self, every: str | None) -> None:
        self._each(lambda host, check: self.services.monitor.snooze(host, check, every))

    def _each(self, action) -> None:
        errors = []
        for host, check in self.selected():
            try:
                action(host, check)
            except AlertError as exc:  # resolved meanwhile (a sweep)
                errors.append(str(exc))
        self.reload()
        self.changed.emit()
        if errors:
            QMessageBox.information(self, "Alerts", "\n".join(errors))
