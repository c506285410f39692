"""Roster actions: refresh the tree, add/edit/remove hosts, import, context menu."""

from __future__ import annotations

import asyncio
import shlex
import shutil
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QDir, QObject, QProcess, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox, QProgressDialog

from techdesk.core.roster import RosterError
from techdesk.ui.dialogs.host_dialog import HostDialog
from techdesk.ui.models.roster_model import UNASSIGNED
from techdesk.ui.plain import warn


class RosterController(QObject):
    run_requested = Signal(list, str)  # host names, bundle name ("" = choose)
    hosts_changed = Signal()
    note_requested = Signal()
    visit_requested = Signal()
    command_requested = Signal(list)  # host names: "Run command…"
    terminal_requested = Signal(str)  # host name: a terminal tab in the window
    files_requested = Signal(str)  # host name: an SFTP tab
    tunnels_requested = Signal(str)  # host name: its saved port forwards

    def __init__(self, services, panel, window) -> None:
        super().__init__(window)
        self.services = services
        self.panel = panel
        self.window = window
        panel.context_menu_requested.connect(self.context_menu)

    def refresh(self) -> None:
        svc = self.services
        stale = timedelta(hours=svc.workspace.settings.stale_after_hours)
        selected = self.panel.selected_hosts()
        self.panel.model.rebuild(svc.roster.hosts(), svc.history.host_states(stale), svc.notes.counts())
        self.panel.tree.expandToDepth(1 if len(self.panel.model.host_names()) < 300 else 0)
        if len(selected) == 1:
            self.panel.select_host(selected[0])

    def refresh_note_counts(self) -> None:
        """After a note is saved: relabel hosts whose count changed (no tree rebuild)."""
        self.panel.model.set_note_counts(self.services.notes.counts())

    # -- actions -------------------------------------------------------------
    def add_host(self) -> None:
        dialog = HostDialog(self.services.roster, parent=self.window)
        kind_name = self.panel.selected()
        if kind_name and kind_name[0][2]:
            dialog.client.setCurrentText(kind_name[0][2])
            if kind_name[0][0] == "site":
                dialog.site.setCurrentText(kind_name[0][1])
        if dialog.exec() and dialog.saved:
            self.refresh()
            self.panel.select_host(dialog.saved.name)
            self.hosts_changed.emit()

    def edit_host(self, name: str | None = None) -> None:
        hosts = [n for kind, n, _ in self.panel.selected() if kind == "host"]
        name = name or (hosts[0] if len(hosts) == 1 else None)
        if not name:
            self.window.explain("Select one host in the roster to edit it." if not hosts else
                                "Several hosts are selected: select the one to edit.")
            return
        dialog = HostDialog(self.services.roster, self.services.roster.get(name), parent=self.window)
        if dialog.exec() and dialog.saved:
            self.refresh()
            self.panel.select_host(dialog.saved.name)
            self.hosts_changed.emit()

    def remove_hosts(self) -> None:
        names = [n for kind, n, _ in self.panel.selected() if kind == "host"]
        if not names:
            groups = [n for kind, n, _ in self.panel.selected() if kind in ("client", "site")]
            self.window.explain(f"Remove removes hosts: select the hosts of {groups[0]} to remove them."
                                if groups else "Select the hosts to remove in the roster first.")
            return
        answer = QMessageBox.question(
            self.window, "Remove hosts",
            f"Remove {len(names)} host{'s' if len(names) > 1 else ''} from the roster?\n\n"
            + "\n".join(names[:10]) + ("\n…" if len(names) > 10 else "")
            + "\n\nTheir run history is kept.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        errors = []
        for name in names:
            try:
                self.services.roster.remove(name)
            except RosterError as exc:
                errors.append(str(exc))
        if errors:
            warn(self.window, "Some hosts were not removed", "\n".join(errors))
        self.refresh()
        self.hosts_changed.emit()

    def import_hosts(self, fmt: str) -> None:
        filters = {"ssh-config": "SSH config (config *)", "csv": "CSV files (*.csv)",
                   "ansible": "Ansible inventory (*.ini *.yml *.yaml hosts *)"}
        ssh = Path.home() / ".ssh"
        start = ssh if fmt == "ssh-config" and ssh.is_dir() else Path.home()
        # Qt's own dialog: it starts in ~/.ssh and shows hidden files on every desktop.
        dialog = QFileDialog(self.window, "Import hosts", str(start), filters[fmt])
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setFilter(dialog.filter() | QDir.Filter.Hidden)
        if fmt == "ssh-config" and (ssh / "config").is_file():
            dialog.selectFile(str(ssh / "config"))
        self.last_file_dialog = dialog
        if not dialog.exec() or not dialog.selectedFiles():
            return
        client = self.ask_client(Path(dialog.selectedFiles()[0]).name)
        if client is not None:
            self.import_task = self.import_file(Path(dialog.selectedFiles()[0]), fmt, client or None)

    def ask_client(self, source: str) -> str | None:
        """Which client the imported hosts belong to ("" for none); None when cancelled."""
        clients = [c.name for c in self.services.roster.clients()]
        selected = self.panel.selected()
        current = selected[0][2] if selected and selected[0][2] not in (None, UNASSIGNED) else ""
        items = ["(no client)", *clients]
        name, ok = QInputDialog.getItem(self.window, "Import hosts", f"Client of the hosts in {source}\n"
                                        "(pick one, type a new name, or no client):", items,
                                        items.index(current) if current in items else 0, True)
        if not ok:
            return None
        name = name.strip()
        return "" if name in ("", "(no client)") else name

    def import_file(self, path: Path, fmt: str, client: str | None = None) -> asyncio.Task:
        """Read the file in a worker (a big or hostile file must not freeze the window),
        with a progress dialog whose Cancel imports nothing; then add the hosts here."""
        progress = QProgressDialog(f"Reading {path.name}…", "Cancel", 0, 0, self.window)
        progress.setWindowTitle("Import hosts")
        progress.setMinimumDuration(300)
        progress.setValue(0)
        self.import_progress = progress
        task = asyncio.ensure_future(self._import(path, fmt, progress, client))
        progress.canceled.connect(task.cancel)
        return task

    async def _import(self, path: Path, fmt: str, progress, client: str | None) -> dict | None:
        loop = asyncio.get_running_loop()
        try:
            specs = await loop.run_in_executor(None, self.services.roster.read_file, path, fmt)
            result = self.services.roster.import_hosts(specs, client=client)
        except asyncio.CancelledError:
            self.window.statusBar().showMessage(f"Import of {path.name} cancelled: nothing was imported", 5000)
            return None
        except RosterError as exc:
            progress.reset()
            warn(self.window, "Nothing was imported", str(exc))
            return None
        finally:
            progress.reset()
        self.refresh()
        self.hosts_changed.emit()
        self.window.statusBar().showMessage(
            f"Imported {len(result['added'])} hosts from {path.name}", 5000)
        return result

    def copy_address(self, name: str) -> None:
        host = self.services.roster.get(name)
        QGuiApplication.clipboard().setText(host.address)

    def open_terminal(self, name: str) -> None:
        host = self.services.roster.get(name)
        argv = ["ssh", "-p", str(host.port)]
        if host.key:
            argv += ["-i", host.key]
        if host.jump:
            jump = self.services.roster.get(host.jump)
            argv += ["-J", f"{jump.user + '@' if jump.user else ''}{jump.address}:{jump.port}"]
        argv.append(f"{host.user + '@' if host.user else ''}{host.address}")
        terminal = next((t for t in ("x-terminal-emulator", "gnome-terminal", "konsole", "xterm")
                         if shutil.which(t)), None)
        if terminal is None:
            QGuiApplication.clipboard().setText(shlex.join(argv))
            self.window.statusBar().showMessage("No terminal found: the ssh command was copied", 6000)
            return
        QProcess.startDetached(terminal, ["-e", shlex.join(argv)])

    def context_menu(self, global_pos) -> None:
        hosts = self.panel.selected_hosts()
        menu = QMenu(self.window)
        run_menu = menu.addMenu("Run bundle")
        run_menu.setEnabled(bool(hosts))
        for bundle in self.services.bundles.all().values():
            action = run_menu.addAction(f"{bundle.title} ({bundle.name})")
            action.triggered.connect(lambda _=False, b=bundle.name: self.run_requested.emit(hosts, b))
        command = menu.addAction("Run command…", lambda: self.command_requested.emit(hosts))
        command.setEnabled(bool(hosts))
        menu.addSeparator()
        single = hosts[0] if len(hosts) == 1 and self.panel.selected()[0][0] == "host" else None
        note = menu.addAction("New note", self.note_requested.emit)
        note.setEnabled(bool(self.panel.selected()))
        visit = menu.addAction("Start visit here", self.visit_requested.emit)
        visit.setEnabled(bool(self.panel.selected()) and self.panel.selected()[0][2] not in (None, "(no client)"))
        menu.addSeparator()
        menu.addAction("Add host…", self.add_host)
        edit = menu.addAction("Edit host…", lambda: self.edit_host(single))
        edit.setEnabled(single is not None)
        copy = menu.addAction("Copy address", lambda: self.copy_address(single))
        copy.setEnabled(single is not None)
        term = menu.addAction("Open terminal", lambda: self.terminal_requested.emit(single))
        term.setEnabled(single is not None)
        external = menu.addAction("Open in external terminal (OpenSSH)", lambda: self.open_terminal(single))
        external.setEnabled(single is not None)
        files = menu.addAction("Files (SFTP)", lambda: self.files_requested.emit(single))
        files.setEnabled(single is not None)
        tunnels = menu.addAction("Tunnels…", lambda: self.tunnels_requested.emit(single))
        tunnels.setEnabled(single is not None)
        menu.addSeparator()
        host_rows = [n for kind, n, _ in self.panel.selected() if kind == "host"]
        remove = menu.addAction(f"Remove {len(host_rows)} host{'s' if len(host_rows) != 1 else ''}…"
                                if host_rows else "Remove…", self.remove_hosts)
        remove.setEnabled(bool(host_rows))  # a client or site is not removed from here
        menu.exec(global_pos)
