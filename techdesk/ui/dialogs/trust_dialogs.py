"""Questions the trust rules ask in the window (docs/sync-format.md, "Trust model"):
held deletions after a sync, the trash, and a host whose endpoint changed before its
stored secret is sent. Text from the shared folder is shown as plain text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from techdesk.diagnostics.sanitize import clean_text

ID_ROLE = Qt.ItemDataRole.UserRole + 40


def _label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class HeldDeletionsDialog(QDialog):
    """A sync held back many deletions: apply them, or keep the records for now."""

    def __init__(self, held: dict[str, int], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Deletions held back")
        self.setMinimumWidth(480)
        what = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(held.items()))
        layout = QVBoxLayout(self)
        heading = QLabel(f"The shared folder asks to delete {what} on this computer.")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setStyleSheet("font-weight: bold")
        layout.addWidget(heading)
        layout.addWidget(_label("That is many at once, so nothing was deleted yet; everything else was "
                                "synced. If a teammate really removed them, apply the deletions: the "
                                "deleted notes, visits and hosts stay in the trash and can be restored."))
        layout.addStretch(1)
        buttons = QDialogButtonBox()
        self.apply_button = buttons.addButton("Delete them", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.keep_button = buttons.addButton("Keep them for now", QDialogButtonBox.ButtonRole.RejectRole)
        self.apply_button.clicked.connect(self.accept)
        self.keep_button.clicked.connect(self.reject)
        self.keep_button.setDefault(True)
        layout.addWidget(buttons)


TRASH_COLUMNS = ("Kind", "Title", "Deleted (UTC)", "By")


class TrashDialog(QDialog):
    """Deleted notes, visits and hosts whose last version is kept here; restore one."""

    def __init__(self, sync_service, parent=None) -> None:
        super().__init__(parent)
        self.sync = sync_service
        self.setWindowTitle("Trash")
        self.resize(760, 420)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(TRASH_COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.restore_button = QPushButton("Restore")
        self.restore_button.clicked.connect(self._restore)
        self.hint = _label("A restored record is shared again by the next sync.")
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.restore_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addLayout(bottom)
        self.reload()

    def reload(self) -> None:
        self.tree.clear()
        for entry in self.sync.trash():
            item = QTreeWidgetItem([entry["kind"], clean_text(entry["title"]),
                                    entry["deleted_at"].replace("T", " ")[:19], clean_text(entry["deleted_by"])])
            item.setData(0, ID_ROLE, entry["id"])
            self.tree.addTopLevelItem(item)
        for column in (0, 2, 3):
            self.tree.resizeColumnToContents(column)
        self.tree.setColumnWidth(1, max(self.tree.columnWidth(1), 300))
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._selected()

    def _selected(self) -> None:
        self.restore_button.setEnabled(self.tree.currentItem() is not None)

    def _restore(self) -> None:
        item = self.tree.currentItem()
        if item is None:
            return
        try:
            result = self.sync.restore(item.data(0, ID_ROLE))
        except Exception as exc:  # a clear message, the list stays as it was
            QMessageBox.warning(self, "Not restored", clean_text(str(exc)))
            return
        renamed = "".join(f"\n{r['name']} is back as {r['as']} (the name is taken)." for r in result["renamed"])
        self.hint.setText(clean_text(f"Restored {result['kind']} {result['title']}.{renamed}"))
        self.reload()


class EndpointChangedDialog(QDialog):
    """A host's address, port, user or jump route changed since its secret was stored."""

    def __init__(self, change, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{change.host} has moved")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.addWidget(_label(f"The {change.kind} stored for {change.host} was kept for:"))
        layout.addWidget(_label(f"    {change.was}"))
        layout.addWidget(_label(f"{change.host} now points to:"))
        now = _label(f"    {change.now}")
        now.setStyleSheet("font-weight: bold")
        layout.addWidget(now)
        layout.addWidget(_label("The change came from a sync, an import or an edit. Send the stored "
                                f"{change.kind} to the new machine only if you know it is right."))
        buttons = QDialogButtonBox()
        self.send_button = buttons.addButton(f"Trust the new endpoint and send the {change.kind}",
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        self.refuse_button = buttons.addButton("Don't send", QDialogButtonBox.ButtonRole.RejectRole)
        self.send_button.clicked.connect(self.accept)
        self.refuse_button.clicked.connect(self.reject)
        self.refuse_button.setDefault(True)
        layout.addWidget(buttons)
