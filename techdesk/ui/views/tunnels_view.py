"""The Tunnels tab for one host: its saved port forwards, started and stopped here."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from techdesk.ui.labels import human_size

ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass
class TunnelRow:
    id: int
    label: str
    local: str            # "127.0.0.1:13389" while running, the saved port (or "any") otherwise
    target: str
    state: str            # "stopped", "running", "dropped"
    bytes_out: int = 0
    bytes_in: int = 0
    can_open: bool = False


class TunnelsView(QWidget):
    add_clicked = Signal()
    remove_clicked = Signal()
    start_clicked = Signal()
    stop_clicked = Signal()
    open_clicked = Signal()

    def __init__(self, host: str, parent=None) -> None:
        super().__init__(parent)
        self.host = host
        heading = QLabel(f"Port forwards through {host}. They listen on 127.0.0.1 only, on this computer.")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Tunnel", "On this computer", "Target (seen from the host)", "State", "Traffic"])
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(lambda *_: self.open_clicked.emit()
                                            if self.open.isEnabled() else self.start_clicked.emit())
        self.add = QPushButton("Add…")
        self.remove = QPushButton("Remove")
        self.start = QPushButton("Start")
        self.stop = QPushButton("Stop")
        self.open = QPushButton("Open")
        self.open.setToolTip("The remote desktop client or the browser on the forwarded port")
        buttons = QHBoxLayout()
        for button, signal in ((self.add, self.add_clicked), (self.remove, self.remove_clicked),
                               (self.start, self.start_clicked), (self.stop, self.stop_clicked),
                               (self.open, self.open_clicked)):
            button.clicked.connect(signal)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)   # errors quote the host's words
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.rows: list[TunnelRow] = []
        self._selection_changed()

    def show_rows(self, rows: list[TunnelRow]) -> None:
        selected = self.selected_id()
        self.rows = rows
        self.list.clear()
        for r in rows:
            traffic = f"↑ {human_size(r.bytes_out)}  ↓ {human_size(r.bytes_in)}" if r.state != "stopped" else ""
            item = QTreeWidgetItem([r.label, r.local, r.target, r.state, traffic])
            item.setData(0, ID_ROLE, r.id)
            self.list.addTopLevelItem(item)
            if r.id == selected:
                item.setSelected(True)
        for column in range(4):
            self.list.resizeColumnToContents(column)
        self._selection_changed()

    def selected_id(self) -> int | None:
        items = self.list.selectedItems()
        return items[0].data(0, ID_ROLE) if items else None

    def select(self, tunnel_id: int) -> None:
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            item.setSelected(item.data(0, ID_ROLE) == tunnel_id)

    def _selection_changed(self) -> None:
        row = next((r for r in self.rows if r.id == self.selected_id()), None)
        running = row is not None and row.state == "running"
        self.remove.setEnabled(row is not None)
        self.start.setEnabled(row is not None and not running)
        self.stop.setEnabled(running)
        self.open.setEnabled(running and row.can_open)
