"""The roster tree (Client -> Site -> Host) as a Qt item model, with a fast filter.

The whole tree is rebuilt from one roster query and one status query; filtering
runs in C++ (QSortFilterProxyModel on a prepared search-text role), so a
keystroke stays fast with thousands of hosts. Each row's search text holds, one per
line, everything whose match shows the row — a host: itself, its site and client;
a group: itself, its client, every host under it — so one multi-line match per row
decides, and the proxy never walks a group's 100 hosts row by row (Qt's recursive
filtering did, ~15 ms a keystroke at 10,000 hosts).
"""

from __future__ import annotations

import shlex

from PySide6.QtCore import QRegularExpression, QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from techdesk.core.host_state import HostState
from techdesk.ui.icons import STATUS_LABELS, host_icon
from techdesk.ui.plain import plain_tip
from techdesk.ui.timefmt import local_time

KIND_ROLE = Qt.ItemDataRole.UserRole + 1      # "client" | "site" | "host"
NAME_ROLE = Qt.ItemDataRole.UserRole + 2      # the client/site/host name
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3    # lowercase lines the filter matches (any line with every word)
STATUS_ROLE = Qt.ItemDataRole.UserRole + 4
CLIENT_ROLE = Qt.ItemDataRole.UserRole + 5
NOTES_ROLE = Qt.ItemDataRole.UserRole + 6
STALE_ROLE = Qt.ItemDataRole.UserRole + 7     # HostState.marked: the last attempt failed or the data is old
UNASSIGNED = "(no client)"


def state_tooltip(state: HostState | None) -> str:
    """The status line of a host's tooltip: status, when checked, the last attempt if it failed."""
    if state is None:
        return STATUS_LABELS["never"]
    lines = [state.label]
    if state.checked:
        lines.append(f"checked {local_time(state.checked)}")
    if state.attempt_failed:
        lines.append(f"last attempt {local_time(state.attempt.at)}: {state.attempt.text}")
    return "\n".join(lines)


class RosterModel(QStandardItemModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels(["Name", "Address", "Status"])
        self._host_items: dict[str, QStandardItem] = {}
        self._searchable: dict[str, str] = {}   # host -> its words for the filter (without the status)
        self._hosts: dict = {}                  # host -> its Host, for the tooltip (made when shown)
        self._states: dict[str, HostState | None] = {}  # host -> its state, for the tooltip
        self._counts: dict[str, int] = {}       # client -> hosts, for its tooltip
        self._own: dict[str, str] = {}          # host -> its own search text (words and status)
        self._place: dict[str, tuple[str, str | None]] = {}  # host -> (client row, site row)
        self._groups: dict = {}                 # client or (client, site) -> (its item, its hosts)
        self._sites: dict[str, list[str]] = {}  # client -> its sites

    def rebuild(self, hosts, states: dict[str, HostState], note_counts: dict[str, int] | None = None) -> None:
        note_counts = note_counts or {}
        self.beginResetModel()
        self.blockSignals(True)
        try:
            self.removeRows(0, self.rowCount())
            self._host_items.clear()
            self._searchable.clear()
            self._hosts.clear()
            self._states.clear()
            self._counts.clear()
            self._own.clear()
            self._place.clear()
            self._groups.clear()
            self._sites.clear()
            groups: dict[str, dict[str | None, list]] = {}
            for host in hosts:
                groups.setdefault(host.spec.client or UNASSIGNED, {}).setdefault(host.spec.site, []).append(host)
            root = self.invisibleRootItem()
            for client in sorted(groups, key=lambda c: (c == UNASSIGNED, c.lower())):
                client_item = self._group_item(client, "client", client)
                self._groups[client] = (client_item, [])
                self._sites[client] = [site for site in groups[client] if site is not None]
                count = 0
                for site in sorted(groups[client], key=lambda s: (s is not None, (s or "").lower())):
                    parent = client_item
                    if site is not None:
                        parent = self._group_item(site, "site", client)
                        self._groups[(client, site)] = (parent, [])
                        client_item.appendRow([parent, QStandardItem(), QStandardItem()])
                    members = [host.spec.name for host in groups[client][site]]
                    self._groups[client][1].extend(members)
                    if site is not None:
                        self._groups[(client, site)][1].extend(members)
                    for name, host in zip(members, groups[client][site], strict=True):
                        self._place[name] = (client, site)
                        parent.appendRow(self._host_row(name, host, states.get(name), note_counts.get(name, 0)))
                    count += len(members)
                self._counts[client] = count
                root.appendRow([client_item, QStandardItem(), QStandardItem()])
            for group in self._groups:
                self._group_search(group)
        finally:
            self.blockSignals(False)
            self.endResetModel()

    def _group_item(self, name: str, kind: str, client: str) -> QStandardItem:
        item = QStandardItem(name)
        item.setData(kind, KIND_ROLE)
        item.setData(name, NAME_ROLE)
        item.setData(client, CLIENT_ROLE)
        font = item.font()
        font.setBold(kind == "client")
        item.setFont(font)
        return item

    def _host_row(self, name: str, host, state: HostState | None, notes: int) -> list[QStandardItem]:
        # Not editable: the tree has no edit triggers (30,000 setEditable calls cost ~0.1 s at 10k hosts).
        spec, address = host.spec, host.effective["address"]
        item = QStandardItem(_label(name, notes))
        item.setData("host", KIND_ROLE)
        item.setData(name, NAME_ROLE)
        item.setData(notes, NOTES_ROLE)
        item.setData(spec.client, CLIENT_ROLE)
        tags, client, site = spec.tags, spec.client or "", spec.site or ""
        self._searchable[name] = " ".join([name, address, *tags, client, site, *(f"tag:{t}" for t in tags),
                                           f"client:{client}", f"site:{site}"]).lower()
        self._hosts[name] = host
        port = host.effective["port"]
        status = QStandardItem()
        self._host_items[name] = item
        self._apply_state(name, item, status, state)
        return [item, QStandardItem(f"{address}:{port}" if port != 22 else address), status]

    def _apply_state(self, host: str, name: QStandardItem, status: QStandardItem, state: HostState | None) -> None:
        value = state.status if state else "never"
        marked = bool(state and state.marked)
        name.setIcon(host_icon(value, marked))
        name.setData(value, STATUS_ROLE)
        name.setData(marked, STALE_ROLE)
        # The filter matches "status:crit", "status:stale" as words of the search text.
        self._own[host] = (f"{self._searchable[host]} status:{value}" + (" status:stale" if state and state.stale
                                                                        else "")
                           + (" status:failed" if state and state.attempt_failed else ""))
        client, site = self._place[host]
        # A host shows when it, its site or its client matches (typing a client name shows its hosts).
        name.setData("\n".join([self._own[host], *([site.lower()] if site is not None else []), client.lower()]),
                     SEARCH_ROLE)
        self._states[host] = state
        status.setText(state.short_label if state else STATUS_LABELS["never"])

    def _group_search(self, group) -> None:
        """A group shows when it, its client, one of its sites or one of its hosts matches."""
        item, hosts = self._groups[group]
        if isinstance(group, tuple):
            own = [group[1].lower(), group[0].lower()]
        else:
            own = [group.lower(), *(site.lower() for site in self._sites[group])]
        item.setData("\n".join([*own, *(self._own[h] for h in hosts)]), SEARCH_ROLE)

    def tooltip(self, index) -> str:
        """The tooltip of a cell (a source index), made when it is shown: escaping 20,000
        tooltips up front cost ~0.15 s of start-up at 10k hosts."""
        item = self.itemFromIndex(index.siblingAtColumn(0))
        if item is None:
            return ""
        kind, name = item.data(KIND_ROLE), item.data(NAME_ROLE)
        if kind == "client" and index.column() == 0:
            return plain_tip(f"{name}: {self._counts.get(name, 0)} hosts")
        if kind != "host":
            return ""
        tip = state_tooltip(self._states.get(name))
        if index.column() == 2:
            return plain_tip(tip)
        host = self._hosts[name]
        where = (f"{host.user + '@' if host.user else ''}{host.address}:{host.port}"
                 + (f"\ntags: {', '.join(host.spec.tags)}" if host.spec.tags else ""))
        return plain_tip(f"{name}\n{where}\n{tip}")

    def set_state(self, host: str, state: HostState | None) -> None:
        """A host's status changed (a run finished): update its row in place."""
        self.set_states({host: state})

    def set_states(self, states: dict[str, HostState | None]) -> None:
        """A batch of hosts' statuses changed: their rows in place, then each group's
        search lines once (a client may hold thousands of hosts)."""
        touched = set()
        for host, state in states.items():
            item = self._host_items.get(host)
            status_item = self.itemFromIndex(item.index().siblingAtColumn(2)) if item is not None else None
            if status_item is not None:
                self._apply_state(host, item, status_item, state)
                client, site = self._place[host]
                touched.update((client, (client, site)))
        for group in touched:  # their search lines hold these hosts'
            if group in self._groups:
                self._group_search(group)

    def set_note_counts(self, counts: dict[str, int]) -> None:
        for host, item in self._host_items.items():
            count = counts.get(host, 0)
            if item.data(NOTES_ROLE) != count:
                item.setData(count, NOTES_ROLE)
                item.setText(_label(host, count))

    def host_names(self) -> list[str]:
        return list(self._host_items)

    def host_item(self, host: str) -> QStandardItem | None:
        """The host's name item (its roles: STATUS_ROLE, NOTES_ROLE…); None if not shown."""
        return self._host_items.get(host)


def _words(text: str) -> list[str]:
    """Typed words; a quoted part is one word (client:"Bäckerei Müller"); an unclosed quote is fine."""
    try:
        return [w.replace('"', "") for w in shlex.split(text.replace("'", "\\'"))]
    except ValueError:
        return text.replace('"', " ").split()


def _label(name: str, notes: int) -> str:
    return name + (f"  ✎{notes}" if notes else "")


class RosterFilter(QSortFilterProxyModel):
    """Matches the typed words (all of them, on one line of a row's search text) against
    name, address, tags, client and site. Which rows a match shows is in the search
    lines (RosterModel), so Qt's row-by-row recursive filtering stays off."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFilterRole(SEARCH_ROLE)
        self.setFilterKeyColumn(0)

    def set_text(self, text: str) -> None:
        words = [QRegularExpression.escape(w) for w in _words(text.lower())]
        # Every word on the same line, in any order: a lookahead per word (one word needs
        # none: it never spans lines); "." stops at a line's end.
        pattern = (words[0] if len(words) == 1 else "^" + "".join(f"(?=.*?{w})" for w in words)) if words else ""
        # A reset rebuilds the mapping in one pass, for the rows the view asks about; the
        # incremental update Qt does otherwise costs ~0.5 s when a keystroke hides thousands of rows.
        self.beginResetModel()
        self.endResetModel()  # first: the old rows are dropped, not filtered again
        self.setFilterRegularExpression(QRegularExpression(pattern, QRegularExpression.PatternOption.MultilineOption))
