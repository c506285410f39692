"""Clients and sites: connection defaults (user, port, jump host, key), rename, remove
(with confirmation naming the hosts they hold). All through the roster service."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from techdesk.core.roster import RosterError
from techdesk.ui.labels import error_label, plain_label

KEY_ROLE = Qt.ItemDataRole.UserRole + 80
FIELDS = ("user", "port", "jump", "key")


def removal_text(what: str, hosts: list[str]) -> str:
    """The confirmation: what goes, which hosts it holds, what stays."""
    if not hosts:
        return f"Remove {what}? It holds no hosts. Notes and visits stay; schedules aimed at it are removed."
    shown = ", ".join(hosts[:12]) + (f" and {len(hosts) - 12} more" if len(hosts) > 12 else "")
    return (f"Remove {what}? It holds {len(hosts)} host{'s' if len(hosts) != 1 else ''}: {shown}.\n\n"
            "Remove the hosts with it, or keep them without it. Notes and visits stay; "
            "schedules aimed at it are removed.")


class ClientsDialog(QDialog):
    changed = Signal()

    def __init__(self, services, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Clients and sites")
        self.resize(860, 460)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Client / site", "Hosts"])
        self.tree.setColumnWidth(0, 260)
        self.tree.currentItemChanged.connect(lambda *_: self._show())
        self.title = plain_label(wrap=False)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.edits = {name: QLineEdit() for name in FIELDS}
        self.edits["key"].setPlaceholderText("path to a private key")
        form = QFormLayout()
        for name, label in (("user", "User:"), ("port", "Port:"), ("jump", "Jump host:"), ("key", "Key file:")):
            form.addRow(label, self.edits[name])
        self.error = error_label()
        self.save_button = QPushButton("Save defaults")
        self.save_button.clicked.connect(self.save_defaults)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(lambda: self.rename())
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(self.remove)
        box = QGroupBox("Connection defaults (a host's own value wins, then its site's, then its client's)")
        box_layout = QVBoxLayout(box)
        box_layout.addLayout(form)
        actions = QHBoxLayout()
        for button in (self.save_button, self.rename_button, self.remove_button):
            actions.addWidget(button)
        actions.addStretch(1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.title)
        right_layout.addWidget(box)
        right_layout.addWidget(self.error)
        right_layout.addLayout(actions)
        right_layout.addStretch(1)
        split = QSplitter()
        split.addWidget(self.tree)
        split.addWidget(right)
        split.setSizes([320, 540])
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        self.reload()

    # -- the tree -----------------------------------------------------------
    def reload(self, select: tuple[str, str | None] | None = None) -> None:
        select = select or self.current()
        roster = self.services.roster
        counts: dict[tuple[str, str | None], int] = {}
        for host in roster.hosts():
            if host.spec.client:
                counts[(host.spec.client, None)] = counts.get((host.spec.client, None), 0) + 1
                if host.spec.site:
                    key = (host.spec.client, host.spec.site)
                    counts[key] = counts.get(key, 0) + 1
        self._defaults = {}
        self.tree.clear()
        chosen = None
        for client in roster.clients():
            item = QTreeWidgetItem([client.name, str(counts.get((client.name, None), 0))])
            item.setData(0, KEY_ROLE, (client.name, None))
            self._defaults[(client.name, None)] = client.defaults
            self.tree.addTopLevelItem(item)
            chosen = item if select == (client.name, None) else chosen
            for site in roster.sites(client.name):
                child = QTreeWidgetItem([site.name, str(counts.get((client.name, site.name), 0))])
                child.setData(0, KEY_ROLE, (client.name, site.name))
                self._defaults[(client.name, site.name)] = site.defaults
                item.addChild(child)
                chosen = child if select == (client.name, site.name) else chosen
        self.tree.expandAll()
        self.tree.setCurrentItem(chosen or self.tree.topLevelItem(0))
        self._show()

    def current(self) -> tuple[str, str | None] | None:
        item = self.tree.currentItem()
        return tuple(item.data(0, KEY_ROLE)) if item is not None else None

    def select(self, client: str, site: str | None = None) -> None:
        self.reload((client, site))

    def _show(self) -> None:
        key = self.current()
        for widget in (*self.edits.values(), self.save_button, self.rename_button, self.remove_button):
            widget.setEnabled(key is not None)
        self.error.setText("")
        if key is None:
            self.title.setText("No clients yet: they are created with their first host.")
            return
        client, site = key
        self.title.setText(f"Site {site} of {client}" if site else f"Client {client}")
        defaults = self._defaults[key]
        inherited = self._defaults.get((client, None)) if site else None
        for name, edit in self.edits.items():
            value = getattr(defaults, name)
            edit.setText("" if value is None else str(value))
            parent = getattr(inherited, name) if inherited else None
            edit.setPlaceholderText(f"from {client}: {parent}" if parent not in (None, "") else
                                    ("path to a private key" if name == "key" else ""))

    # -- actions ------------------------------------------------------------
    def save_defaults(self) -> bool:
        key = self.current()
        if key is None:
            return False
        client, site = key
        try:
            self.services.roster.set_defaults(client, site, **{n: e.text().strip() for n, e in self.edits.items()})
        except RosterError as exc:
            self.error.setText(str(exc))
            return False
        self.reload(key)
        self.changed.emit()
        return True

    def rename(self, new: str | None = None) -> bool:
        key = self.current()
        if key is None:
            return False
        client, site = key
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename", f"New name for {'site ' + site if site else client}:",
                                           text=site or client)
            if not ok:
                return False
        try:
            self.services.roster.rename(client, new, site)
        except RosterError as exc:
            self.error.setText(str(exc))
            return False
        self.reload((client, new.strip()) if site else (new.strip(), None))
        self.changed.emit()
        return True

    def remove(self) -> dict | None:
        key = self.current()
        if key is None:
            return None
        client, site = key
        hosts = self.services.roster.hosts_of(client, site)
        what = f"site {site} of {client}" if site else f"client {client}"
        box = QMessageBox(QMessageBox.Icon.Warning, "Remove", removal_text(what, hosts), parent=self)
        with_hosts = box.addButton(f"Remove with {len(hosts)} host{'s' if len(hosts) != 1 else ''}" if hosts
                                   else "Remove", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Remove, keep the hosts", QMessageBox.ButtonRole.AcceptRole) if hosts else None
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self._confirm = box  # for tests: the question asked
        box.exec()
        clicked = box.clickedButton()
        if clicked not in (with_hosts, keep) or clicked is None:
            return None
        try:
            done = self.services.roster.remove_holder(client, site, keep_hosts=clicked is keep)
        except RosterError as exc:
            self.error.setText(str(exc))
            return None
        self.reload((client, None) if site else None)
        self.changed.emit()
        return done
