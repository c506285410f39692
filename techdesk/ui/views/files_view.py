"""The SFTP panel's widgets: path bar, listing, actions, transfer progress. No logic here."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStyle,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from techdesk.terminal.files import RemoteEntry
from techdesk.ui.labels import human_size

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
OWN_DRAG = "application/x-techdesk-remote-files"   # marks a drag out of a Files tab
COLUMNS = ("Name", "Size", "Modified", "Permissions")


class _SizeItem(QTreeWidgetItem):
    def __lt__(self, other) -> bool:  # folders first, then by the real numbers, not the text
        mine, theirs = self.data(0, ENTRY_ROLE), other.data(0, ENTRY_ROLE)
        column = self.treeWidget().sortColumn() if self.treeWidget() else 0
        if mine is None or theirs is None:
            return self.text(column) < other.text(column)
        if mine.is_dir != theirs.is_dir:
            return mine.is_dir
        if column == 1:
            return mine.size < theirs.size
        if column == 2:
            return mine.mtime < theirs.mtime
        return self.text(column).lower() < other.text(column).lower()


def local_files(mime) -> list[Path]:
    """The local regular files a drop carries (folders, web addresses and the rest are left out)."""
    if mime is None or not mime.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [p for p in paths if p.is_file()]


class _Listing(QTreeWidget):
    """The listing: local files dropped on it are uploaded; a remote file dragged out asks the
    tab to fetch it first (a drop target needs a real file)."""

    files_dropped = Signal(list)      # [Path]
    drag_requested = Signal(list)     # [RemoteEntry]

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)

    def _ours(self, event) -> bool:   # a drag that started here is not an upload
        return event.source() is self or event.mimeData().hasFormat(OWN_DRAG)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if not self._ours(event) and local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [] if self._ours(event) else local_files(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
        else:
            event.ignore()

    def startDrag(self, _actions) -> None:  # noqa: N802
        entries = [item.data(0, ENTRY_ROLE) for item in self.selectedItems()]
        files = [e for e in entries if e is not None and not e.is_dir]
        if files:
            self.drag_requested.emit(files)


class FilesView(QWidget):
    path_entered = Signal(str)
    up_clicked = Signal()
    refresh_clicked = Signal()
    entry_activated = Signal(object)        # RemoteEntry
    files_dropped = Signal(list)            # [Path] dropped from the desktop: upload
    drag_requested = Signal(list)           # [RemoteEntry] dragged out: download, then drag
    download_clicked = Signal()
    upload_clicked = Signal()
    mkdir_clicked = Signal()
    rename_clicked = Signal()
    delete_clicked = Signal()
    attach_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        style = self.style()
        self.up = QToolButton(icon=style.standardIcon(QStyle.StandardPixmap.SP_FileDialogToParent),
                              toolTip="Up one folder (Backspace)", autoRaise=True)
        self.up.clicked.connect(self.up_clicked)
        self.path = QLineEdit(placeholderText="/path/on/the/host")
        self.path.returnPressed.connect(lambda: self.path_entered.emit(self.path.text()))
        self.refresh = QToolButton(icon=style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload),
                                   toolTip="Refresh", autoRaise=True)
        self.refresh.clicked.connect(self.refresh_clicked)
        bar = QHBoxLayout()
        bar.addWidget(self.up)
        bar.addWidget(self.path, 1)
        bar.addWidget(self.refresh)

        self.list = _Listing()
        self.list.files_dropped.connect(self.files_dropped)
        self.list.drag_requested.connect(self.drag_requested)
        self.list.setHeaderLabels(list(COLUMNS))
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setSortingEnabled(True)
        self.list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.list.itemActivated.connect(lambda item, _col: self.entry_activated.emit(item.data(0, ENTRY_ROLE)))
        self.list.itemSelectionChanged.connect(self._selection_changed)

        self.download = QPushButton("Download…")
        self.upload = QPushButton("Upload…")
        self.mkdir = QPushButton("New folder…")
        self.rename = QPushButton("Rename…")
        self.delete = QPushButton("Delete…")
        self.attach = QPushButton("Attach to note…")
        self.attach.setToolTip("Keep this text file (a log, a config) with a note on this host")
        actions = QHBoxLayout()
        for button, signal in ((self.download, self.download_clicked), (self.upload, self.upload_clicked),
                               (self.mkdir, self.mkdir_clicked), (self.rename, self.rename_clicked),
                               (self.delete, self.delete_clicked), (self.attach, self.attach_clicked)):
            button.clicked.connect(signal)
            actions.addWidget(button)
        actions.addStretch(1)

        self.progress_label = QLabel()
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_clicked)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_label)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel)
        self.progress_row.hide()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # names from the host are never markup
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        layout.addLayout(actions)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.status)
        self._selection_changed()

    def show_entries(self, path: str, entries: list[RemoteEntry]) -> None:
        self.path.setText(path)
        self.list.setSortingEnabled(False)
        self.list.clear()
        style = self.style()
        folder = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        file = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)
        for e in entries:
            name = "".join(ch if ch.isprintable() else "?" for ch in e.name)  # a name is data, shown safely
            item = _SizeItem([name, "" if e.is_dir else human_size(e.size),
                              datetime.fromtimestamp(e.mtime).strftime("%Y-%m-%d %H:%M") if e.mtime else "",
                              e.permissions])
            item.setIcon(0, folder if e.is_dir else file)
            item.setData(0, ENTRY_ROLE, e)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        self.list.setSortingEnabled(True)
        for column in (1, 2, 3):
            self.list.resizeColumnToContents(column)
        self._selection_changed()

    def selected_entries(self) -> list[RemoteEntry]:
        return [item.data(0, ENTRY_ROLE) for item in self.list.selectedItems()]

    def select_name(self, name: str) -> None:
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            item.setSelected(item.data(0, ENTRY_ROLE).name == name)

    def set_busy(self, text: str | None) -> None:
        """A transfer running (text) or not (None): progress row and the buttons that must wait."""
        self.progress_row.setVisible(text is not None)
        if text is not None:
            self.progress_label.setText(text)
            self.progress.setRange(0, 0)
        self._selection_changed()

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{human_size(done)} of {human_size(total)}")

    def _selection_changed(self) -> None:
        entries = self.selected_entries()
        busy = self.progress_row.isVisible()
        self.download.setEnabled(not busy and bool(entries) and all(not e.is_dir for e in entries))
        self.upload.setEnabled(not busy)
        self.rename.setEnabled(not busy and len(entries) == 1)
        self.delete.setEnabled(not busy and bool(entries))
        self.attach.setEnabled(not busy and len(entries) == 1 and not entries[0].is_dir)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Backspace goes up like a file manager
        if event.key() == Qt.Key.Key_Backspace and not self.path.hasFocus():
            self.up_clicked.emit()
            return
        super().keyPressEvent(event)
