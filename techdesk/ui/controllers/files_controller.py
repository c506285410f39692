"""SFTP tabs: one per host, browsing and transfers on the host's pooled connection.

One transfer at a time per tab (the progress row shows it, Cancel stops it). The
questions (where to save, which files, a new name, "really delete?") are asked here;
tests pass the answers in instead.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QObject, Qt, QUrl
from PySide6.QtGui import QDrag, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog

from techdesk.core.text import clean_text
from techdesk.core.work import ATTACHMENT_CAP, WorkError, too_big
from techdesk.services.sessions import Prompts, SessionError
from techdesk.terminal.files import TransferCancelled, TransferError, join, local_target, parent
from techdesk.ui.controllers.terminal_controller import add_closable_tab, remove_closable_tab
from techdesk.ui.labels import human_size
from techdesk.ui.plain import question
from techdesk.ui.views.files_view import OWN_DRAG, FilesView


class FilesTab(QObject):
    def __init__(self, services, window, name: str) -> None:
        super().__init__(window)
        self.services = services
        self.window = window
        self.name = name
        self.view = FilesView()
        self.session = None
        self.cwd = ""
        self.task: asyncio.Task | None = None
        self.cancel = threading.Event()
        v = self.view
        v.path_entered.connect(lambda path: self._spawn(self.go(path)))
        v.up_clicked.connect(lambda: self._spawn(self.go(parent(self.cwd))))
        v.refresh_clicked.connect(lambda: self._spawn(self.go(self.cwd)))
        v.entry_activated.connect(self._activated)
        v.download_clicked.connect(lambda: self._spawn(self.download()))
        v.upload_clicked.connect(lambda: self._spawn(self.upload()))
        v.mkdir_clicked.connect(lambda: self._spawn(self.mkdir()))
        v.rename_clicked.connect(lambda: self._spawn(self.rename()))
        v.delete_clicked.connect(lambda: self._spawn(self.delete()))
        v.attach_clicked.connect(lambda: self._spawn(self.attach_to_note()))
        v.cancel_clicked.connect(self.cancel.set)
        v.files_dropped.connect(self._dropped)
        v.drag_requested.connect(self._drag_requested)
        self._staging: Path | None = None        # files fetched to be dragged out; gone on close
        self._staged: dict[str, tuple] = {}       # local path -> (remote path, size, mtime)

    def _spawn(self, coro) -> None:
        self.task = asyncio.ensure_future(coro)

    def _error(self, text: str) -> None:
        self.view.status.setText(clean_text(text))  # errors quote the host's words
        self.view.status.setStyleSheet("color: #b00020;")

    def _info(self, text: str) -> None:
        self.view.status.setText(clean_text(text))
        self.view.status.setStyleSheet("")

    async def connect(self) -> bool:
        self._info(f"Connecting to {self.name}…")
        try:
            self.session = await self.services.sessions.open_files(
                self.name, Prompts(self.window.hostkey_prompt, self.window.secret_prompt, self.window.endpoint_prompt))
            home = await self.session.home()
        except (SessionError, TransferError) as exc:
            self._error(f"Could not open files on {self.name}: {exc}")
            return False
        return await self.go(home)

    async def go(self, path: str) -> bool:
        if self.session is None:
            return False
        try:
            path = await self.session.normalize(path.strip() or "/")
            entries = await self.session.list(path)
        except TransferError as exc:
            self._error(f"Cannot open {path}: {exc}")
            self.view.path.setText(self.cwd)
            return False
        self.cwd = path
        self.view.show_entries(path, entries)
        self._info(f"{len(entries)} items")
        return True

    def _activated(self, entry) -> None:
        if entry is not None and entry.is_dir:
            self._spawn(self.go(entry.path))
        elif entry is not None:
            self._spawn(self.download([entry]))

    # -- transfers ---------------------------------------------------------------------------
    async def download(self, entries=None, folder: Path | None = None) -> list[Path]:
        entries = [e for e in (entries or self.view.selected_entries()) if not e.is_dir]
        if not entries or self.session is None:
            return []
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self.view, "Download to", str(Path.home() / "Downloads"))
            if not chosen:
                return []
            folder = Path(chosen)
        done = []
        for entry in entries:
            try:
                target = local_target(folder, entry.name)
            except TransferError as exc:
                self._info(str(exc))
                continue
            if target.exists() and not question(self.view, "Replace?", f"{target} exists. Replace it?"):
                continue
            if await self._transfer(f"Downloading {entry.name}", self.session.download, entry.path, target):
                done.append(target)
        return done

    async def upload(self, paths: list[Path] | None = None) -> int:
        if self.session is None:
            return 0
        if paths is None:
            chosen, _ = QFileDialog.getOpenFileNames(self.view, f"Upload to {self.name}:{self.cwd}", str(Path.home()))
            paths = [Path(p) for p in chosen]
        count = 0
        for path in paths:
            if await self._transfer(f"Uploading {path.name}", self.session.upload, path, join(self.cwd, path.name)):
                count += 1
        await self.go(self.cwd)
        return count

    async def _transfer(self, label: str, func, src, dst) -> bool:
        self.cancel.clear()
        self.view.set_busy(label)
        try:
            moved = await func(src, dst, progress=self.view.set_progress, cancel=self.cancel)
        except TransferCancelled:
            self._info(f"{label}: cancelled; nothing was kept")
            return False
        except TransferError as exc:
            self._error(str(exc))
            return False
        finally:
            self.view.set_busy(None)
        self._info(f"{label.replace('ing', 'ed', 1)}: {human_size(moved)}")
        return True

    # -- drag and drop ---------------------------------------------------------------------
    def _busy(self) -> bool:
        if self.view.progress_row.isVisible():
            self._error("A transfer is running: try again when it is done")
            return True
        return False

    def _dropped(self, paths: list[Path]) -> None:
        """Local files dropped on the listing: uploaded into this folder like Upload…"""
        if not self._busy():
            self._spawn(self.upload(paths))

    def _staged_path(self, entry) -> Path:
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="techdesk-drag-"))   # 0700
        return local_target(self._staging, entry.name)   # TransferError: not a file name here

    def _is_staged(self, entry) -> bool:
        local = self._staged_path(entry)
        return self._staged.get(str(local)) == (entry.path, entry.size, entry.mtime) and local.is_file()

    def _drag_requested(self, entries) -> None:
        try:
            for entry in entries:
                self._staged_path(entry)
        except TransferError as exc:   # a name that is no file name here: nothing is fetched
            self._info(str(exc))
            return
        if all(self._is_staged(e) for e in entries):
            self._exec_drag(self._mime([self._staged_path(e) for e in entries]))   # Qt's usual path
        elif not self._busy():
            self._spawn(self.drag_out(entries))

    async def drag_out(self, entries) -> QMimeData | None:
        """Remote files dragged to the desktop: downloaded (progress, Cancel) into a private temp
        folder, then dragged as local files if the button is still down — a drop target copies
        a real file, so the bytes must be here first. Else the status says to drag again."""
        if self.session is None:
            return None
        paths = []
        for entry in entries:
            local = self._staged_path(entry)
            if not self._is_staged(entry):
                self._staged.pop(str(local), None)
                if not await self._transfer(f"Downloading {entry.name}", self.session.download, entry.path, local):
                    return None
                self._staged[str(local)] = (entry.path, entry.size, entry.mtime)
            paths.append(local)
        mime = self._mime(paths)
        if QGuiApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            self._exec_drag(mime)
        else:
            self._info(f"{', '.join(p.name for p in paths)} fetched: drag again to drop where you want it")
        return mime

    @staticmethod
    def _mime(paths: list[Path]) -> QMimeData:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        mime.setData(OWN_DRAG, QByteArray(b"1"))
        return mime

    def _exec_drag(self, mime: QMimeData) -> None:
        drag = QDrag(self.view.list)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)

    # -- attach to a note -------------------------------------------------------------------
    def _choose_note(self) -> str | None:
        """The note open for this host in the Notes tab, else one picked from the host's notes
        (or a new one)."""
        notes = self.window.notes
        if notes.host == self.name and notes.panel.current_id:
            return notes.panel.current_id
        existing = self.services.notes.list(host=self.name)
        new = f"A new note on {self.name}"
        titles = [new] + [f"{n.title} ({n.status})" for n in existing]
        chosen, ok = QInputDialog.getItem(self.view, "Attach to note", "Note:", titles, 0, False)
        if not ok:
            return None
        if chosen != new:
            return existing[titles.index(chosen) - 1].id
        return self.services.notes.add(f"Files from {self.name}", host=self.name).id

    async def attach_to_note(self, entry=None, note_id: str | None = None) -> bool:
        """The selected remote text file kept with a note (capped, text only: one line if not)."""
        entries = [entry] if entry is not None else self.view.selected_entries()
        if len(entries) != 1 or entries[0].is_dir or self.session is None:
            return False
        entry = entries[0]
        if entry.size > ATTACHMENT_CAP:      # said before a byte moves
            self._error(f"Not attached: {too_big(entry.name, entry.size)}")
            return False
        note_id = note_id or self._choose_note()
        if not note_id:
            return False
        self.view.set_busy(f"Attaching {entry.name}")
        try:
            await self.services.attachments.attach_remote(note_id, self.session, entry.path, entry.size)
        except (WorkError, TransferError) as exc:
            self._error(f"Not attached: {exc}")
            return False
        finally:
            self.view.set_busy(None)
        self.window.notes.attached(note_id, entry.name)
        self._info(f"Attached {entry.name} ({human_size(entry.size)}) to the note")
        return True

    # -- folder work -------------------------------------------------------------------------
    async def mkdir(self, name: str | None = None) -> bool:
        if name is None:
            name, ok = QInputDialog.getText(self.view, "New folder", f"Folder name in {self.cwd}:")
            if not ok or not name.strip():
                return False
        return await self._change(lambda: self.session.mkdir(join(self.cwd, name.strip())), name.strip())

    async def rename(self, new_name: str | None = None) -> bool:
        entries = self.view.selected_entries()
        if len(entries) != 1:
            return False
        entry = entries[0]
        if new_name is None:
            new_name, ok = QInputDialog.getText(self.view, "Rename", "New name:", text=entry.name)
            if not ok or not new_name.strip() or new_name == entry.name:
                return False
        return await self._change(lambda: self.session.rename(entry.path, join(self.cwd, new_name.strip())),
                                  new_name.strip())

    async def delete(self, confirm=None) -> bool:
        entries = self.view.selected_entries()
        if not entries:
            return False
        names = ", ".join(e.name + ("/ (and everything in it)" if e.is_dir else "") for e in entries[:5])
        more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
        question = f"Delete {names}{more} on {self.name}? This cannot be undone."
        ask = confirm or (lambda text: question(self.view, "Delete", text))
        if not ask(question):
            return False

        async def remove_all() -> None:
            for entry in entries:
                await self.session.delete(entry.path)

        return await self._change(remove_all, None)

    async def _change(self, action, select: str | None) -> bool:
        try:
            await action()
        except (TransferError, SessionError) as exc:
            self._error(str(exc))
            return False
        await self.go(self.cwd)
        if select:
            self.view.select_name(select)
        return True

    def close(self) -> None:
        self.cancel.set()
        if self.session is not None:
            self.session.close()
            self.session = None
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None


class FilesController(QObject):
    def __init__(self, services, window, tabs) -> None:
        super().__init__(window)
        self.services = services
        self.window = window
        self.tabs = tabs
        self.open_tabs: list[FilesTab] = []

    def open(self, name: str) -> FilesTab:
        tab = FilesTab(self.services, self.window, name)
        add_closable_tab(self.tabs, tab.view, f"Files — {name}", lambda: self.close(tab))
        self.open_tabs.append(tab)
        tab.task = asyncio.ensure_future(tab.connect())
        return tab

    def close(self, tab: FilesTab) -> None:
        if tab in self.open_tabs:
            self.open_tabs.remove(tab)
        tab.close()
        remove_closable_tab(self.tabs, tab.view)

    def close_all(self) -> None:
        for tab in list(self.open_tabs):
            self.close(tab)
