"""Conflicts: two technicians changed the same record offline. Show both, keep one or merge."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

KEY_ROLE = Qt.ItemDataRole.UserRole + 30


class ConflictsDialog(QDialog):
    def __init__(self, sync_service, parent=None) -> None:
        super().__init__(parent)
        self.sync = sync_service
        self.setWindowTitle("Conflicts")
        self.resize(1000, 560)
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._show)
        self.versions = QHBoxLayout()
        self.merge_button = QPushButton("Merge both (keep every text)")
        self.merge_button.clicked.connect(self._merge)
        self.hint = QLabel("Nothing is lost: every version stays in the shared folder's history.")
        right = QVBoxLayout()
        right.addLayout(self.versions, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.merge_button)
        right.addLayout(bottom)
        right_widget = QWidget()
        right_widget.setLayout(right)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(right_widget)
        split.setSizes([260, 740])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for conflict in self.sync.conflicts():
            item = QListWidgetItem(f"{conflict.kind}: {conflict.title}\n{len(conflict.heads)} versions")
            item.setData(KEY_ROLE, (conflict.kind, conflict.id))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self._clear()
            self.hint.setText("No conflicts left.")
            self.merge_button.setEnabled(False)

    def _clear(self) -> None:
        while self.versions.count():
            widget = self.versions.takeAt(0).widget()
            if widget:
                widget.deleteLater()

    def _show(self, current, _previous) -> None:
        self._clear()
        if current is None:
            return
        kind, record_id = current.data(KEY_ROLE)
        self.merge_button.setEnabled(kind in ("note", "visit"))
        for version in self.sync.conflict_versions(kind, record_id):
            box = QVBoxLayout()
            head = QLabel(f"{version['author']} on {version['device']}\n{version['time']}")
            head.setTextFormat(Qt.TextFormat.PlainText)
            text = QPlainTextEdit(version["text"])
            text.setReadOnly(True)
            keep = QPushButton("Keep this version")
            keep.clicked.connect(lambda _=False, rid=record_id, rev=version["rev"]: self._keep(rid, rev))
            box.addWidget(head)
            box.addWidget(text, 1)
            box.addWidget(keep)
            column = QWidget()
            column.setLayout(box)
            self.versions.addWidget(column)

    def _keep(self, record_id: str, rev: str) -> None:
        self._resolve(record_id, keep=rev)

    def _merge(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._resolve(item.data(KEY_ROLE)[1], merge=True)

    def _resolve(self, record_id: str, **how) -> None:
        try:
            self.sync.resolve(record_id, **how)
        except Exception as exc:  # shown, not fatal: e.g. "sync first"
            QMessageBox.warning(self, "Not resolved", str(exc))
            return
        self.reload()
