"""Sync from the window: a status indicator, Sync now, a periodic sync, the conflicts dialog,
held deletions to confirm, and the trash (right-click the indicator)."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMenu, QPushButton

from techdesk.sync import SharedFolderError
from techdesk.ui.plain import plain_tip

AUTO_SYNC_MS = 5 * 60 * 1000


class SyncController(QObject):
    synced = Signal(object)  # SyncReport

    def __init__(self, services, window) -> None:
        super().__init__(window)
        self.services = services
        self.window = window
        self.task: asyncio.Task | None = None
        self.button = QPushButton()
        self.button.setFlat(True)
        self.button.clicked.connect(self._clicked)
        self.button.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.button.customContextMenuRequested.connect(self._menu)
        self.held_dialog = None
        self.offline_reason: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(AUTO_SYNC_MS)
        self._timer.timeout.connect(self.sync_now)
        self._timer.start()
        self.update_status()

    def update_status(self) -> None:
        status = self.services.sync.status()
        if not status["folder"]:
            text, tip = "Sync: no shared folder", "Set the team's shared folder in File ▸ Settings."
        elif self.task is not None and not self.task.done():
            text, tip = "Syncing…", status["folder"]
        elif status["conflicts"]:
            text, tip = f"⚠ Conflicts {status['conflicts']}", "Click to compare the versions and resolve."
        elif self.offline_reason:
            text, tip = f"Offline · pending {status['pending']}", self.offline_reason
        elif status["pending"]:
            text, tip = f"Pending {status['pending']}", "Changes wait in the outbox. Click to sync now."
        else:
            text, tip = "✓ Synced", f"{status['folder']}\nlast sync {status['last_sync'] or 'never'}"
        self.button.setText(text)
        self.button.setToolTip(plain_tip(tip))

    def _clicked(self) -> None:
        status = self.services.sync.status()
        if status["conflicts"]:
            self.show_conflicts()
        elif not status["folder"] or self.offline_reason:
            self.explain_offline()
        else:
            self.sync_now()

    def explain_offline(self):
        """Why sync is off or offline, and what to do: try again, or Settings."""
        from techdesk.ui.dialogs.shared_folder_dialog import SyncOfflineDialog

        dialog = SyncOfflineDialog(self.services.sync.status(), self.offline_reason, self.window)
        dialog.exec()
        if dialog.choice == "retry":
            self.sync_now()
        elif dialog.choice == "settings":
            self.window.open_settings("Shared folder")
        return dialog

    def _menu(self, pos) -> None:
        menu = QMenu(self.button)
        menu.addAction("Sync now", lambda: self.sync_now())
        menu.addAction("Conflicts…", self.show_conflicts)
        menu.addAction("Trash…", self.show_trash)
        menu.exec(self.button.mapToGlobal(pos))

    def sync_now(self, allow_deletes: bool = False) -> asyncio.Task | None:
        if self.services.workspace.shared is None or (self.task and not self.task.done()):
            self.update_status()
            return None
        self.task = asyncio.ensure_future(self.services.sync.sync_async(allow_deletes=allow_deletes))
        self.task.add_done_callback(self._done)
        self.update_status()
        return self.task

    def _done(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, SharedFolderError):
            self.offline_reason = str(error)  # nothing lost: changes wait in the outbox
            self.window.statusBar().showMessage(f"Sync offline: {error} (click “Offline” for details)", 15000)
        elif error is not None:
            self.update_status()
            raise error
        else:
            self.offline_reason = None
            report = task.result()
            self.window.statusBar().showMessage(
                f"Synced: {report.pushed} sent, {report.pulled} received"
                + (f", {len(report.skipped)} bad files skipped" if report.skipped else "")
                + (f", {len(report.suspicious)} SUSPICIOUS (claiming this device)" if report.suspicious else ""),
                6000)
            self.synced.emit(report)
            if report.held:
                self.confirm_deletions(report.held)
        self.update_status()

    def confirm_deletions(self, held: dict[str, int]) -> None:
        """Many deletions were held back: ask (without blocking the loop) whether to apply them."""
        from techdesk.ui.dialogs.trust_dialogs import HeldDeletionsDialog

        if self.held_dialog is not None:
            return  # already asking
        self.held_dialog = dialog = HeldDeletionsDialog(held, self.window)

        def answered(code: int) -> None:
            self.held_dialog = None
            dialog.deleteLater()
            if code == HeldDeletionsDialog.DialogCode.Accepted:
                self.sync_now(allow_deletes=True)

        dialog.finished.connect(answered)
        dialog.open()

    def show_trash(self) -> None:
        from techdesk.ui.dialogs.trust_dialogs import TrashDialog

        TrashDialog(self.services.sync, self.window).exec()
        self.update_status()
        self.synced.emit(None)

    def show_conflicts(self) -> None:
        from techdesk.ui.dialogs.conflicts_dialog import ConflictsDialog

        ConflictsDialog(self.services.sync, self.window).exec()
        self.update_status()
        self.synced.emit(None)
