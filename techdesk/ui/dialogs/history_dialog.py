"""A host's run history: double-click a run to open it; select two to compare them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from techdesk.services import run_views
from techdesk.ui.icons import STATUS_COLORS, STATUS_LABELS, status_icon
from techdesk.ui.labels import plain_label
from techdesk.ui.timefmt import local_time

RUN_ROLE = Qt.ItemDataRole.UserRole + 110
CHANGE_WORDS = {"worse": "worse", "better": "better", "new": "new check", "gone": "not run",
                "changed": "changed", "same": "same"}


def _label(status: str | None) -> str:
    return STATUS_LABELS[status] if status else "—"


class HistoryDialog(QDialog):
    def __init__(self, services, host: str, tools=None, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.host = host
        self.tools = tools
        self.setWindowTitle(f"History of {host}")
        self.resize(820, 480)
        self.runs = QTreeWidget()
        self.runs.setHeaderLabels(["When", "Bundle", "Status", "By", "How"])
        self.runs.setRootIsDecorated(False)
        self.runs.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.runs.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs.itemDoubleClicked.connect(lambda item, _c: self.open_run(item.data(0, RUN_ROLE)))
        self.runs.itemSelectionChanged.connect(self._update_buttons)
        for run in services.history.host_runs(host, limit=200):
            item = QTreeWidgetItem([local_time(run.started), run.bundle, _label(run.status), run.technician,
                                    run.trigger])
            item.setIcon(2, status_icon(run.status))
            item.setData(0, RUN_ROLE, run.run_id)
            self.runs.addTopLevelItem(item)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(lambda: self.open_run(self._selected()[0]))
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Select two runs (Ctrl+click) to see what changed")
        self.compare_button.clicked.connect(self.compare_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        hint = QLabel("Double-click a run to open it. Select two runs to compare them.")
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(hint, 1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.runs, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def _selected(self) -> list[str]:
        rows = sorted(self.runs.selectedItems(), key=self.runs.indexOfTopLevelItem)
        return [item.data(0, RUN_ROLE) for item in rows]

    def _update_buttons(self) -> None:
        count = len(self._selected())
        self.open_button.setEnabled(count == 1)
        self.compare_button.setEnabled(count == 2)

    def open_run(self, run_id: str):
        from techdesk.ui.dialogs.run_viewer import RunViewer

        viewer = RunViewer(self.services, run_id, self.host, self.tools, self)
        viewer.show()
        return viewer

    def compare_selected(self):
        newer, older = self._selected()  # the list is newest first
        dialog = CompareDialog(self.services, self.host, older, newer, self)
        dialog.show()
        return dialog


class CompareDialog(QDialog):
    """Two runs of one host side by side: status before and after, what changed first."""

    def __init__(self, services, host: str, older: str, newer: str, parent=None) -> None:
        super().__init__(parent)
        history = services.history
        runs = [run_views.run_info(history, r) for r in (older, newer)]
        self.changes = run_views.compare(history, host, older, newer)
        self.setWindowTitle(f"{host}: what changed")
        self.resize(1000, 560)
        head = plain_label(f"{host}: {runs[0]['bundle']} {local_time(runs[0]['started'])}  →  "
                      f"{runs[1]['bundle']} {local_time(runs[1]['started'])}", wrap=False)
        self.only_changed = QCheckBox("Only what changed")
        self.only_changed.setChecked(True)
        self.only_changed.toggled.connect(self._fill)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["Check", "Before", "After", "Change", "Before: summary", "After: summary"])
        self.table.setRootIsDecorated(True)
        header = self.table.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in ((0, 200), (1, 80), (2, 80), (3, 80), (4, 260)):
            self.table.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        self.summary = QLabel("")
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(head, 1)
        top.addWidget(self.only_changed)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._fill()

    def _fill(self) -> None:
        self.table.clear()
        counts: dict[str, int] = {}
        for c in self.changes:
            counts[c.change] = counts.get(c.change, 0) + 1
            if self.only_changed.isChecked() and c.change == "same":
                continue
            item = QTreeWidgetItem([c.title, _label(c.before), _label(c.after), CHANGE_WORDS[c.change],
                                    c.before_summary, c.after_summary])
            if c.before:
                item.setIcon(1, status_icon(c.before))
            if c.after:
                item.setIcon(2, status_icon(c.after))
            if c.change in ("worse", "better"):
                color = STATUS_COLORS["crit" if c.change == "worse" else "ok"]
                item.setForeground(3, QBrush(QColor(color)))
            for label, before, after, uom in c.metrics:
                if before != after:
                    item.addChild(QTreeWidgetItem([f"  {label}", _num(before, uom), _num(after, uom),
                                                   _delta(before, after, uom)]))
            item.setToolTip(4, c.before_summary)
            item.setToolTip(5, c.after_summary)
            self.table.addTopLevelItem(item)
        self.table.expandAll()
        self.summary.setText(", ".join(f"{n} {CHANGE_WORDS[k]}" for k, n in counts.items()))


def _fmt(value: float, sign: str = "") -> str:
    """Readable numbers: 5,447,914 rather than 5.44791e+06."""
    return f"{value:{sign},.0f}" if abs(value) >= 100_000 else f"{value:{sign}g}"


def _num(value: float | None, uom: str) -> str:
    return "—" if value is None else f"{_fmt(value)}{uom}"


def _delta(before: float | None, after: float | None, uom: str) -> str:
    if before is None or after is None:
        return ""
    return f"{_fmt(after - before, '+')}{uom}"
