"""Sync from the window: a status indicator, Sync now, a periodic sync, the conflicts dialog."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QPushButton

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
        if self.services.sync.status()["conflicts"]:
            self.show_conflicts()
        else:
            self.sync_now()

    def sync_now(self) -> asyncio.Task | None:
        if self.services.workspace.shared is None or (self.task and not self.task.done()):
            self.update_status()
            return None
        self.task = asyncio.ensure_future(self.services.sync.sync_async())
        self.task.add_done_callback(self._done)
        self.update_status()
        return self.task

    def _done(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, SharedFolderError):
            self.offline_reason = str(error)  # nothing lost: changes wait in the outbox
        elif error is not None:
            self.update_status()
            raise error
        else:
            self.offline_reason = None
            report = task.result()
            self.window.statusBar().showMessage(
                f"Synced: {report.pushed} sent, {report.pulled} received"
                + (f", {len(report.skipped)} bad files skipped" if report.skipped else ""), 6000)
            self.synced.emit(report)
        self.update_status()

    def show_conflicts(self) -> None:
        from techdesk.ui.dialogs.conflicts_dialog import ConflictsDialog

        ConflictsDialog(self.services.sync, self.window).exec()
        self.update_status()
        self.synced.emit(None)
