"""One past run, opened from history: findings per host, output with Ctrl+F, copy or
save the whole run as text, attach findings to a note, compare with the previous run."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from techdesk.services import run_views
from techdesk.ui.icons import STATUS_LABELS, status_icon
from techdesk.ui.labels import plain_label
from techdesk.ui.timefmt import local_time
from techdesk.ui.views.find_bar import FindBar

OUTPUT_ROLE = Qt.ItemDataRole.UserRole + 100
CHECK_ROLE = Qt.ItemDataRole.UserRole + 101
HOST_ROLE = Qt.ItemDataRole.UserRole + 102


def save_run_text(parent, history, run_id: str, hosts: list[str] | None = None) -> Path | None:
    """Ask where, then write the run as text; returns the file written (None: cancelled)."""
    info = run_views.run_info(history, run_id)
    suggested = f"techdesk-{info['bundle']}-{info['started'][:10]}-{info['run_id'][:8]}.txt"
    path, _ = QFileDialog.getSaveFileName(parent, "Save run as text", str(Path.home() / suggested),
                                          "Text files (*.txt);;All files (*)")
    if not path:
        return None
    Path(path).write_text(run_views.run_text(history, run_id, hosts), encoding="utf-8")
    return Path(path)


class RunViewer(QDialog):
    def __init__(self, services, run_id: str, host: str | None = None, tools=None, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.tools = tools  # the window's tools: attach to note
        self.info = run_views.run_info(services.history, run_id)
        self.host = host if host in self.info["hosts"] else None
        info = self.info
        self.setWindowTitle(f"Run {info['bundle']} · {local_time(info['started'])}")
        self.resize(1000, 680)
        header = plain_label(f"{info['bundle']} · {local_time(info['started'])} · by {info['technician']} "
                        f"({info['trigger']}) · run {info['run_id'][:8]}", wrap=False)
        self.results = QTreeWidget()
        self.results.setHeaderLabels(["Host / check", "Status", "Summary"])
        self.results.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.results.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.results.setColumnWidth(0, 240)
        self.results.currentItemChanged.connect(self._show_output)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.output.setPlaceholderText("Select a check to see its output (Ctrl+F finds in it).")
        self.find_bar = FindBar.attach(self.output)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.results)
        split.addWidget(self.output)
        split.setSizes([380, 260])
        self.copy_button = QPushButton("Copy as text")
        self.copy_button.clicked.connect(self.copy_text)
        self.save_button = QPushButton("Save as text…")
        self.save_button.clicked.connect(lambda: save_run_text(self, services.history, info["run_id"],
                                                               self._hosts()))
        self.attach_button = QPushButton("Attach to note…")
        self.attach_button.clicked.connect(self.attach)
        self.attach_button.setEnabled(tools is not None)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.copy_button, self.save_button, self.attach_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self._fill()

    def _hosts(self) -> list[str]:
        return [self.host] if self.host else self.info["hosts"]

    def _fill(self) -> None:
        for host in self._hosts():
            result = self.services.history.host_result(self.info["run_id"], host)
            if result is None:
                continue
            item = QTreeWidgetItem([host, STATUS_LABELS[result.status.value],
                                    f"{result.error.kind}: {result.error.message}" if result.error
                                    else f"{len(result.checks)} checks"])
            item.setIcon(0, status_icon(result.status.value))
            item.setData(0, HOST_ROLE, host)
            item.setData(0, OUTPUT_ROLE, result.error.message if result.error else "")
            for check in result.checks:
                child = QTreeWidgetItem([check.title, STATUS_LABELS[check.status.value], check.summary])
                child.setIcon(1, status_icon(check.status.value))
                child.setData(0, OUTPUT_ROLE, check.output)
                child.setData(0, CHECK_ROLE, check.id)
                child.setData(0, HOST_ROLE, host)
                child.setToolTip(2, check.summary)
                item.addChild(child)
            self.results.addTopLevelItem(item)
            item.setExpanded(True)
        first = self.results.topLevelItem(0)
        if first is not None:
            self.results.setCurrentItem(first.child(0) or first)

    def _show_output(self, current, _previous) -> None:
        self.output.setPlainText(current.data(0, OUTPUT_ROLE) or "" if current else "")
        if self.find_bar.isVisible():
            self.find_bar.open()

    def text(self) -> str:
        return run_views.run_text(self.services.history, self.info["run_id"], self._hosts())

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def selected_findings(self) -> dict[str, set[str]]:
        chosen: dict[str, set[str]] = {}
        for item in self.results.selectedItems():
            if item.data(0, CHECK_ROLE):
                chosen.setdefault(item.data(0, HOST_ROLE), set()).add(item.data(0, CHECK_ROLE))
        return chosen

    def attach(self):
        selected = self.selected_findings()
        host = next(iter(selected), None) or self._hosts()[0]
        return self.tools.attach_findings(self.info["run_id"], self.info["hosts"], host, selected, self)
