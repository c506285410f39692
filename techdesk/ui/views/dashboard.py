"""The dashboard: fleet health at a glance, what needs attention, stale hosts, alerts."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from techdesk.ui.icons import STATUS_COLORS, STATUS_LABELS, status_icon
from techdesk.ui.plain import plain_tip
from techdesk.ui.timefmt import local_time
from techdesk.ui.views.schedule_table import ScheduleTable

HOST_ROLE = Qt.ItemDataRole.UserRole + 40
CHECK_ROLE = Qt.ItemDataRole.UserRole + 41
TILES = ("crit", "warn", "unknown", "ok", "never", "stale")


class _Tile(QFrame):
    def __init__(self, status: str) -> None:
        super().__init__()
        self.setObjectName("tile")
        color = STATUS_COLORS[status]
        self.setStyleSheet(f"#tile {{ border: 1px solid {color}; border-radius: 6px; }}")
        self.count = QLabel("0")
        font = self.count.font()
        font.setPointSizeF(font.pointSizeF() * 2)
        font.setBold(True)
        self.count.setFont(font)
        self.count.setStyleSheet(f"color: {color}")
        label = QLabel(STATUS_LABELS[status])
        layout = QVBoxLayout(self)
        layout.addWidget(self.count, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)


def _tree(headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    tree.header().setStretchLastSection(True)
    return tree


class Dashboard(QWidget):
    host_activated = Signal(str)
    sweep_clicked = Signal()
    schedules_clicked = Signal()
    alert_menu_requested = Signal(object, str, str)  # global position, host, check

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tiles = {status: _Tile(status) for status in TILES}
        tiles = QHBoxLayout()
        for tile in self.tiles.values():
            tiles.addWidget(tile)
        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.sweep_button = QPushButton("Run due schedules now")
        self.sweep_button.clicked.connect(self.sweep_clicked)
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(self.sweep_button)
        self.schedules_button = QPushButton("Schedules…")
        self.schedules_button.clicked.connect(self.schedules_clicked)
        head.addWidget(self.schedules_button)

        # Compact enough for 1280×800: the counts in one column ("2 crit · 1 warn · 5 ok").
        self.clients = _tree(["Client", "Hosts", "Problems", "Stale"])
        self.attention = _tree(["", "Host", "Client", "Finding", "Details", "When"])
        header = self.attention.header()
        header.setStretchLastSection(False)
        for column, width in ((1, 100), (2, 105), (3, 150)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.attention.setColumnWidth(column, width)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        # The client is in the host's tooltip and the Clients table: room for the details at 1280×800.
        self.attention.setColumnHidden(2, True)
        self.alerts = _tree(["", "Host", "Check", "Since", "Message"])
        self.stale = _tree(["Host", "Last success", "Last error"])
        for tree in (self.attention, self.alerts, self.stale):
            tree.itemDoubleClicked.connect(self._activated)
        self.alerts.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.alerts.customContextMenuRequested.connect(self._alert_menu)

        grid = QGridLayout()
        boxes = [("Needs attention (worst first, then soonest forecast)", self.attention),
                 ("Clients", self.clients), ("Open alerts", self.alerts), ("Stale hosts", self.stale)]
        self.schedules = ScheduleTable(compact=True)
        boxes.append(("Schedules", self.schedules))
        self._boxes = {}
        for title, widget in boxes:
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(widget)
            self._boxes[title] = box
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self._boxes[boxes[0][0]])
        side = QSplitter(Qt.Orientation.Vertical)  # clients, and the schedules below them
        side.addWidget(self._boxes["Clients"])
        side.addWidget(self._boxes["Schedules"])
        top.addWidget(side)
        top.setSizes([740, 380])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self._boxes["Open alerts"])
        bottom.addWidget(self._boxes["Stale hosts"])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(bottom)
        body.setSizes([420, 220])
        layout = QVBoxLayout(self)
        layout.addLayout(tiles)
        layout.addLayout(head)
        layout.addWidget(body, 1)
        layout.addLayout(grid)

    def show_health(self, health: dict, schedules: int) -> None:
        totals = health.get("totals", {})
        for status, tile in self.tiles.items():
            tile.count.setText(str(totals.get(status, 0)))
        self.summary.setText(
            f"{totals.get('hosts', 0)} hosts · {len(health.get('alerts', []))} open alerts · "
            f"{len(health.get('forecasts', []))} forecasts within {health.get('within_days', 14):g} days · "
            f"{schedules} schedules")
        self.clients.clear()
        for row in health.get("clients", []):
            parts = [f"{row[k]} {word}" for k, word in (("crit", "crit"), ("warn", "warn"), ("unknown", "unkn"),
                                                        ("never", "never")) if row[k]] or ["all OK"]
            worst = next((k for k in ("crit", "unknown", "warn", "ok", "never") if row[k]), "never")
            item = QTreeWidgetItem([row["client"] or "(no client)", str(row["hosts"]), " · ".join(parts),
                                    str(row["stale"]) if row["stale"] else ""])
            item.setIcon(2, status_icon(worst))
            item.setToolTip(2, ", ".join(f"{row[k]} {STATUS_LABELS[k]}" for k in
                                         ("crit", "warn", "unknown", "ok", "never")))
            self.clients.addTopLevelItem(item)
        self.attention.clear()
        for row in health.get("attention", [])[:500]:
            when = row.get("eta") or row.get("since") or ""
            item = QTreeWidgetItem(["", row["host"], row.get("client") or "", row.get("title") or "",
                                    row.get("summary") or "", local_time(when) if when else ""])
            item.setIcon(0, status_icon(row.get("status", "unknown")))
            item.setToolTip(4, plain_tip(row.get("summary")))
            item.setToolTip(1, plain_tip(f"{row['host']} · {row.get('client') or 'no client'}"))
            item.setData(0, HOST_ROLE, row["host"])
            self.attention.addTopLevelItem(item)
        self.alerts.clear()
        for row in health.get("alerts", []):
            message = row.get("message") or row.get("summary") or ""
            if row.get("acked_by"):
                message = f"✓ {row['acked_by']} is on it · {message}"
            item = QTreeWidgetItem(["", row.get("host", ""), row.get("check", ""),
                                    local_time(row.get("opened_at")), message])
            item.setIcon(0, status_icon(row.get("severity") or row.get("status") or "unknown"))
            item.setToolTip(3, row.get("opened_at") or "")
            item.setData(0, HOST_ROLE, row.get("host"))
            item.setData(0, CHECK_ROLE, row.get("check"))
            self.alerts.addTopLevelItem(item)
        self.stale.clear()
        for row in health.get("stale", []):
            item = QTreeWidgetItem([row["host"], _short(row.get("last_success")) or "never",
                                    row.get("last_error") or ""])
            detail = (f"{row['host']} ({row.get('client') or 'no client'})\n{row.get('last_error') or ''}\n"
                      f"{row.get('failures', 0)} failures in a row"
                      + (f", next retry {_short(row.get('next_retry'))}" if row.get("next_retry") else ""))
            for column in range(3):
                item.setToolTip(column, detail)
            item.setData(0, HOST_ROLE, row["host"])
            self.stale.addTopLevelItem(item)

    def _alert_menu(self, pos) -> None:
        item = self.alerts.itemAt(pos)
        if item is not None:
            self.alert_menu_requested.emit(self.alerts.viewport().mapToGlobal(pos), item.data(0, HOST_ROLE),
                                           item.data(0, CHECK_ROLE))

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        host = item.data(0, HOST_ROLE)
        if host:
            self.host_activated.emit(host)


def _short(value) -> str:
    return local_time(value) if value else ""
