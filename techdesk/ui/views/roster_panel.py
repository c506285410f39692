"""The roster panel: filter box and the Client -> Site -> Host tree."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from techdesk.ui.models.roster_model import (
    CLIENT_ROLE,
    KIND_ROLE,
    NAME_ROLE,
    RosterFilter,
    RosterModel,
)


class RosterPanel(QWidget):
    host_activated = Signal(str)
    terminal_requested = Signal(str)  # a host row double-clicked
    selection_changed = Signal()
    context_menu_requested = Signal(object)  # global QPoint
    quick_connect_requested = Signal(str)  # Enter on "user@host[:port]" typed in the filter

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = RosterModel(self)
        self.proxy = RosterFilter(self)
        self.proxy.setSourceModel(self.model)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: name, address…  status:crit client:Acme tag:web  user@host to connect  (Ctrl+K)")
        self.filter.setToolTip("Words match name, address, tags, client and site; all must match.\n"
                               "status:crit / warn / unknown / ok / never / stale / failed, client:NAME,"
                               " site:NAME, tag:TAG\n(quote names with spaces: client:\"Bäckerei Müller\").\n"
                               "Down or Enter: to the results · Esc: clear\n"
                               "user@host[:port] and Enter: open a terminal there (quick connect)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        self.filter.installEventFilter(self)
        self.no_matches = QLabel("No hosts match the filter.")
        self.no_matches.setEnabled(False)
        self.no_matches.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_matches.hide()
        self.tree = QTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)  # fast layout with thousands of rows
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(
            lambda pos: self.context_menu_requested.emit(self.tree.viewport().mapToGlobal(pos)))
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        # Fits "name  ✎3", an address with a port and "Warning · unreached" at 1280×800.
        self.tree.setColumnWidth(0, 196)
        self.tree.setColumnWidth(1, 108)
        self.tree.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit())
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.tree.activated.connect(self._current_changed)
        self.tree.doubleClicked.connect(self._double_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.no_matches)
        layout.addWidget(self.tree, 1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """From the filter: Down/Enter go to the first result, Esc clears (before it cancels a run)."""
        if watched is self.filter and event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            key = event.key()
            if key == Qt.Key.Key_Escape and self.filter.text():
                if event.type() == QEvent.Type.KeyPress:
                    self.filter.clear()
                event.accept()
                return event.type() == QEvent.Type.KeyPress
            if event.type() == QEvent.Type.KeyPress and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                    and "@" in self.filter.text():
                self.quick_connect_requested.emit(self.filter.text().strip())
                return True
            if event.type() == QEvent.Type.KeyPress and key in (Qt.Key.Key_Down, Qt.Key.Key_Return,
                                                                 Qt.Key.Key_Enter):
                self.focus_first_result()
                return True
        return super().eventFilter(watched, event)

    def focus_first_result(self) -> None:
        """The first host shown (or the first row), selected, with the keyboard in the tree."""
        index = self._first_host(self.proxy.index(0, 0)) if self.proxy.rowCount() else QModelIndex()
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
        self.tree.setFocus()

    def _first_host(self, index: QModelIndex) -> QModelIndex:
        while index.isValid() and index.data(KIND_ROLE) != "host" and self.proxy.rowCount(index):
            self.tree.expand(index)
            index = self.proxy.index(0, 0, index)
        return index

    def _filter_changed(self, text: str) -> None:
        # Collapsed first: re-filtering thousands of expanded rows is what costs.
        self.tree.collapseAll()
        self.proxy.set_text(text)
        if text:
            self._expand_matches()
        else:
            self.tree.expandToDepth(1 if len(self.model.host_names()) < 300 else 0)
        self.no_matches.setVisible(bool(text) and self.proxy.rowCount() == 0)

    def _expand_matches(self, budget: int = 400) -> None:
        """Open groups top-down until about a screenful-and-more of rows is shown."""
        shown = 0
        for row in range(self.proxy.rowCount()):
            client = self.proxy.index(row, 0)
            self.tree.expand(client)
            for child_row in range(self.proxy.rowCount(client)):
                child = self.proxy.index(child_row, 0, client)
                count = self.proxy.rowCount(child)
                if count:
                    self.tree.expand(child)
                shown += count + 1
            shown += 1
            if shown > budget:
                break

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex | None = None) -> None:
        index = current.siblingAtColumn(0)
        if index.isValid() and index.data(KIND_ROLE) == "host":
            self.host_activated.emit(index.data(NAME_ROLE))

    def _double_clicked(self, index: QModelIndex) -> None:
        index = index.siblingAtColumn(0)
        if index.isValid() and index.data(KIND_ROLE) == "host":
            self.terminal_requested.emit(index.data(NAME_ROLE))

    def selected(self) -> list[tuple[str, str, str | None]]:
        """(kind, name, client) of each selected row."""
        rows = self.tree.selectionModel().selectedRows(0)
        return [(i.data(KIND_ROLE), i.data(NAME_ROLE), i.data(CLIENT_ROLE)) for i in rows]

    def selected_hosts(self) -> list[str]:
        """Selected hosts, plus every host under a selected client or site."""
        names: list[str] = []
        for index in self.tree.selectionModel().selectedRows(0):
            names.extend(self._hosts_under(index))
        return list(dict.fromkeys(names))

    def _hosts_under(self, index: QModelIndex) -> list[str]:
        if index.data(KIND_ROLE) == "host":
            return [index.data(NAME_ROLE)]
        found = []
        for row in range(self.proxy.rowCount(index)):
            found.extend(self._hosts_under(self.proxy.index(row, 0, index)))
        return found

    def select_host(self, name: str) -> None:
        item = self.model._host_items.get(name)
        if item is None:
            return
        index = self.proxy.mapFromSource(item.index())
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
