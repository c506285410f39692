"""The run panel: pick a bundle and targets, watch results stream in, cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from techdesk.core.host_state import is_cancel
from techdesk.ui.icons import STATUS_LABELS, status_icon
from techdesk.ui.plain import plain_tip

MAX_OUTPUT_LINES = 5000
CHECK_ROLE = Qt.ItemDataRole.UserRole + 10
CHECK_ID_ROLE = Qt.ItemDataRole.UserRole + 11  # (host, check id) of a check row
COLUMNS = ("Host / check", "Status", "Summary", "Time")


class RunPanel(QWidget):
    run_clicked = Signal()
    cancel_clicked = Signal()
    attach_clicked = Signal()
    fix_requested = Signal(str, str)  # host, check id: "Fix…" in a check row's context menu

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.bundle = QComboBox()
        self.bundle.setMinimumContentsLength(18)
        self.targets = QLabel("No hosts selected")
        self.targets.setTextFormat(Qt.TextFormat.PlainText)
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.attach_button = QPushButton("Attach to note…")
        self.attach_button.setEnabled(False)
        self.attach_button.clicked.connect(self.attach_clicked)

        top = QHBoxLayout()
        top.addWidget(QLabel("Bundle:"))
        top.addWidget(self.bundle)
        top.addWidget(QLabel("on"))
        top.addWidget(self.targets, 1)
        top.addWidget(self.run_button)
        top.addWidget(self.cancel_button)

        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m hosts")
        self.progress.setValue(0)
        self.elapsed = QLabel("")
        self.counts = QLabel("")
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.counts)
        bar.addWidget(self.elapsed)
        bar.addWidget(self.attach_button)

        self.results = QTreeWidget()
        self.results.setHeaderLabels(list(COLUMNS))
        self.results.setUniformRowHeights(True)
        header = self.results.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.results.setColumnWidth(0, 220)
        self.results.setColumnWidth(1, 90)
        self.results.currentItemChanged.connect(self._show_output)
        self.fixable: set[str] = set()  # check ids that have fixes (set by the window)
        self.results.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.results.customContextMenuRequested.connect(self._context_menu)

        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(MAX_OUTPUT_LINES)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.output.setPlaceholderText("Select a check to see its output.")

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.results)
        split.addWidget(self.output)
        split.setSizes([400, 150])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self._host_items: dict[str, QTreeWidgetItem] = {}

    # -- called by the controller --------------------------------------------
    def set_bundles(self, names_titles: list[tuple[str, str]], current: str | None = None) -> None:
        self.bundle.clear()
        for name, title in names_titles:
            self.bundle.addItem(f"{title} ({name})", name)
        if current:
            index = self.bundle.findData(current)
            if index >= 0:
                self.bundle.setCurrentIndex(index)

    def selected_bundle(self) -> str | None:
        return self.bundle.currentData()

    def start(self, hosts: list[str]) -> None:
        self.results.clear()
        self.output.clear()
        self._host_items.clear()
        for name in hosts:
            item = QTreeWidgetItem([name, "Waiting", "", ""])
            item.setIcon(0, status_icon("never"))
            self._host_items[name] = item
        self.results.addTopLevelItems(list(self._host_items.values()))
        self.progress.setRange(0, len(hosts))
        self.progress.setValue(0)
        self.set_running(True)

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.bundle.setEnabled(not running)
        self.attach_button.setEnabled(not running and bool(self._host_items))

    def host_item(self, host: str) -> QTreeWidgetItem | None:
        """The host's row in the results (its checks are its children); None if not in this run."""
        return self._host_items.get(host)

    def host_started(self, host: str) -> None:
        item = self._host_items.get(host)
        if item:
            item.setText(1, "Running")
            item.setIcon(0, status_icon("running"))

    def add_check(self, host: str, check) -> None:
        parent = self._host_items.get(host)
        if parent is None:
            return
        child = QTreeWidgetItem([check.title, STATUS_LABELS[check.status.value], check.summary,
                                 f"{check.duration_s:.2f}s"])
        child.setIcon(1, status_icon(check.status.value))
        child.setData(0, CHECK_ROLE, check.output)
        child.setData(0, CHECK_ID_ROLE, (host, check.id))
        child.setToolTip(2, plain_tip(check.summary))
        parent.addChild(child)

    def host_done(self, result) -> None:
        item = self._host_items.get(result.host)
        if item is None:
            return
        status = result.status.value
        item.setIcon(0, status_icon(status))
        item.setText(1, STATUS_LABELS[status])
        if result.error and is_cancel(result.error) and not result.checks:
            # An attempt, not a finding: grey, and the host keeps its known state.
            item.setIcon(0, status_icon("never"))
            item.setText(1, "Cancelled")
            item.setText(2, "not run: cancelled (the host keeps its last known state)")
        elif result.error:
            item.setText(2, f"{_ERROR_TEXT.get(result.error.kind, result.error.kind)}: {result.error.message}")
            item.setToolTip(2, plain_tip(result.error.message))
            item.setData(0, CHECK_ROLE, result.error.message)
        else:
            worst = [c for c in result.checks if c.status.value in ("crit", "warn", "unknown")]
            item.setText(2, f"{len(result.checks)} checks" + (f", {len(worst)} need attention" if worst else ""))
        item.setText(3, f"{result.duration_s:.1f}s")
        if result.status.value in ("crit", "warn", "unknown") or result.error:
            item.setExpanded(True)
        self.progress.setValue(self.progress.value() + 1)

    def _show_output(self, current, _previous) -> None:
        text = current.data(0, CHECK_ROLE) if current else ""
        self.output.setPlainText(text or "")

    def _context_menu(self, pos) -> None:
        item = self.results.itemAt(pos)
        found = item.data(0, CHECK_ID_ROLE) if item is not None else None
        if not found:
            return
        menu = QMenu(self)
        action = menu.addAction("Fix…", lambda: self.fix_requested.emit(*found))
        action.setEnabled(found[1] in self.fixable)
        menu.exec(self.results.viewport().mapToGlobal(pos))


_ERROR_TEXT = {
    "unreachable": "Unreachable",
    "timeout": "Timed out",
    "auth": "Authentication failed",
    "hostkey-unknown": "Host key not trusted yet",
    "hostkey-changed": "HOST KEY CHANGED — refused",
    "protocol": "Error",
    "tampered": "TAMPERED",
}
