"""Set up a new shared folder for the team (what `sync --init` does), and explain why
sync is offline. The work is the services'; these dialogs say what happens."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from techdesk.sync import SharedFolderError
from techdesk.ui.icons import STATUS_COLORS
from techdesk.ui.labels import plain_label

SETUP_TEXT = (
    "The shared folder carries the team's roster, notes, visits and schedules between technicians. "
    "techdesk never opens its database there — each device keeps its own — it only writes small files "
    "that your sync tool (Syncthing, Dropbox, OneDrive, a network share) copies to the others.\n\n"
    "Choose a new or empty folder inside the synced location. techdesk writes a marker file "
    "(techdesk-shared.json) and sends everything this device knows. Colleagues then choose the same "
    "folder in Settings ▸ Shared folder; it must not be set up a second time.")


class SharedFolderDialog(QDialog):
    def __init__(self, services, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.folder: str | None = None
        self.task: asyncio.Task | None = None
        self.setWindowTitle("Set up a new shared folder")
        self.setMinimumWidth(580)
        self.path = QLineEdit()
        self.path.setPlaceholderText("e.g. ~/Sync/techdesk-team (new or empty)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.status = plain_label()
        self.status.setObjectName("status")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.setup_button = self.buttons.addButton("Set up and sync", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(SETUP_TEXT))
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "New shared folder", self.path.text())
        if path:
            self.path.setText(path)

    def start(self) -> asyncio.Task | None:
        from techdesk.services import shared_setup

        try:
            shared_setup.check_candidate(self.path.text())
        except SharedFolderError as exc:
            self._error(str(exc))
            return None
        self.setup_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText("Setting up and sending this device's records…")
        self.task = asyncio.ensure_future(shared_setup.set_up(self.services, self.path.text()))
        self.task.add_done_callback(self._done)
        return self.task

    def _error(self, text: str) -> None:
        self.status.setStyleSheet(f"color: {STATUS_COLORS['crit']}")
        self.status.setText(text)
        self.setup_button.setEnabled(True)

    def _done(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, SharedFolderError):
            self._error(str(error))
            return
        if error is not None:
            self._error(f"{type(error).__name__}: {error}")
            return
        report = task.result()
        self.folder = str(self.services.workspace.shared)
        self.status.setText(f"Shared folder ready: {report.pushed} record(s) sent.")
        self.accept()


def offline_text(status: dict, reason: str | None) -> str:
    """Why sync is not working, what it means and what to do, in plain words."""
    if not status["folder"]:
        return ("Sync is off: no shared folder is set for this device.\n\n"
                "Everything you do is kept here. To work as a team, choose the folder your team syncs "
                "(or set up a new one) in Settings ▸ Shared folder.")
    return (f"Sync is offline: {reason or 'the shared folder could not be read'}.\n\n"
            f"Nothing is lost: {status['pending']} change(s) wait on this device and are sent at the next "
            f"sync that reaches {status['folder']}.\n\n"
            "Check that the folder is there (a network drive mounted, the sync tool running, the USB disk "
            "plugged in), then try again. If the folder was moved, choose it again in Settings ▸ Shared folder.")


class SyncOfflineDialog(QDialog):
    """The explanation behind the status bar's “Offline” (or “no shared folder”)."""

    def __init__(self, status: dict, reason: str | None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sync offline" if status["folder"] else "Sync is off")
        self.setMinimumWidth(520)
        self.choice: str | None = None
        self.text = plain_label(offline_text(status, reason))
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        if status["folder"]:
            retry = buttons.addButton("Try again", QDialogButtonBox.ButtonRole.ActionRole)
            retry.clicked.connect(lambda: self._choose("retry"))
        settings = buttons.addButton("Settings…", QDialogButtonBox.ButtonRole.ActionRole)
        settings.clicked.connect(lambda: self._choose("settings"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()
