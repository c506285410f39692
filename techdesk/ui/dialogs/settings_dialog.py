"""Settings: General (technician, concurrency, staleness, billing), Notifications
(webhook, e-mail, send a test), Shared folder (choose one, or set up a new one).

Every change goes through the settings and notification services, so the rules are
the CLI's; a bad value is shown in the dialog in one line and nothing is saved."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from techdesk.secrets import SecretsError, backend_info
from techdesk.services.notify_setup import NotifyError
from techdesk.terminal.transcript import TRANSCRIPT_CAP
from techdesk.ui.labels import error_label, plain_label
from techdesk.ui.timefmt import local_time
from techdesk.workspace import SettingsError, setting_range


def _row(*widgets) -> QWidget:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
    holder = QWidget()
    holder.setLayout(row)
    return holder


class SettingsDialog(QDialog):
    def __init__(self, services, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        workspace = services.workspace
        s = workspace.settings
        self.setWindowTitle("Settings")
        self.setMinimumWidth(600)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._general(workspace, s), "General")
        self.tabs.addTab(self._notifications(s), "Notifications")
        self.tabs.addTab(self._shared(s), "Shared folder")
        self.error = error_label()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.test_task: asyncio.Future | None = None

    # -- tabs ---------------------------------------------------------------
    def _general(self, workspace, s) -> QWidget:
        self.technician = QLineEdit(s.technician or "")
        self.technician.setPlaceholderText(workspace.technician)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(*setting_range("concurrency"))
        self.concurrency.setValue(s.concurrency)
        self.stale = QSpinBox()
        self.stale.setRange(*setting_range("stale_after_hours"))
        self.stale.setSuffix(" h")
        self.stale.setValue(s.stale_after_hours)
        self.rounding = QSpinBox()
        self.rounding.setRange(*setting_range("billing_round_minutes"))
        self.rounding.setSuffix(" min")
        self.rounding.setValue(s.billing_round_minutes)
        self.warm = QSpinBox()  # whole minutes here; the setting takes fractions too
        self.warm.setRange(*setting_range("warm_connection_minutes"))
        self.warm.setSuffix(" min")
        self.warm.setSpecialValueText("off")
        self.warm.setValue(round(s.warm_connection_minutes))
        self.warm.setToolTip("After a run, fix or command the SSH connection stays open this long, "
                             "so the next one on that host starts at once (0 = off)")
        self.transcript = QCheckBox("Keep a transcript of each terminal session")
        self.transcript.setChecked(s.terminal_transcript)
        self.transcript_note = QLabel(
            f"Off by default. When on, what the host shows in a terminal tab is saved as plain text "
            f"(escapes removed, at most {TRANSCRIPT_CAP // 1048576} MB per session) in "
            f"{workspace.transcripts_dir}. Keys you type are not recorded.")
        self.transcript_note.setWordWrap(True)
        info = backend_info()
        keyring = QLabel(f"{info.message} ({info.name})")
        keyring.setWordWrap(True)
        page = QWidget()
        form = QFormLayout(page)
        form.addRow("Technician name:", self.technician)
        form.addRow("Hosts checked at once:", self.concurrency)
        form.addRow("Host is stale after:", self.stale)
        form.addRow("Round billable time to:", self.rounding)
        form.addRow("Keep connections open:", self.warm)
        form.addRow("Terminal transcripts:", self.transcript)
        form.addRow("", self.transcript_note)
        form.addRow("Keyring:", keyring)
        form.addRow("Workspace:", QLabel(str(workspace.path)))
        return page

    def _notifications(self, s) -> QWidget:
        self.webhook = QLineEdit(s.webhook_url or "")
        self.webhook.setPlaceholderText("https://chat.example.com/hooks/… (alerts are POSTed as JSON)")
        self.smtp_host = QLineEdit(s.smtp_host or "")
        self.smtp_host.setPlaceholderText("mail server, empty: no e-mail")
        self.smtp_port = QSpinBox()
        self.smtp_port.setRange(*setting_range("smtp_port"))
        self.smtp_port.setValue(s.smtp_port)
        self.smtp_security = QComboBox()
        self.smtp_security.addItems(["starttls", "ssl", "none"])
        self.smtp_security.setCurrentText(s.smtp_security)
        self.smtp_user = QLineEdit(s.smtp_user or "")
        self.smtp_password = QLineEdit()
        self.smtp_password.setEchoMode(QLineEdit.EchoMode.Password)
        stored = self.services.notify_setup.config()["smtp_password_stored"]
        self.smtp_password.setPlaceholderText("stored in the keyring — type to replace" if stored
                                              else "stored in the system keyring, never in a file")
        self.smtp_from = QLineEdit(s.smtp_from or "")
        self.smtp_to = QLineEdit(s.smtp_to or "")
        self.smtp_to.setPlaceholderText("ops@example.com, ann@example.com")
        self.test_button = QPushButton("Save and send a test alert")
        self.test_button.clicked.connect(self.send_test)
        self.test_result = plain_label()
        page = QWidget()
        form = QFormLayout(page)
        form.addRow("Webhook URL:", self.webhook)
        form.addRow("SMTP server:", _row(self.smtp_host, QLabel("port"), self.smtp_port, self.smtp_security))
        form.addRow("Login:", self.smtp_user)
        form.addRow("Password:", self.smtp_password)
        form.addRow("From:", self.smtp_from)
        form.addRow("To:", self.smtp_to)
        form.addRow("", self.test_button)
        form.addRow("", self.test_result)
        return page

    def _shared(self, s) -> QWidget:
        self.shared = QLineEdit(s.shared or "")
        self.shared.setPlaceholderText("the team's shared folder (Syncthing, Dropbox, SMB…)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.setup_button = QPushButton("Set up a new shared folder…")
        self.setup_button.clicked.connect(self.set_up_folder)
        status = self.services.sync.status()
        self.sync_state = plain_label(_sync_text(status))
        about = QLabel("Each technician keeps a local workspace; the shared folder carries the team's "
                       "roster, notes, visits and schedules between them. Choose the folder your team already "
                       "syncs, or set up a new, empty one for the team.")
        about.setWordWrap(True)
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(about)
        form.addRow("Shared folder:", _row(self.shared, browse))
        form.addRow("", self.setup_button)
        form.addRow("Status:", self.sync_state)
        return page

    # -- actions ------------------------------------------------------------
    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Shared folder", self.shared.text())
        if path:
            self.shared.setText(path)

    def set_up_folder(self) -> None:
        from techdesk.ui.dialogs.shared_folder_dialog import SharedFolderDialog

        dialog = SharedFolderDialog(self.services, self)
        if dialog.exec() and dialog.folder:
            self.shared.setText(dialog.folder)
            self.sync_state.setText(_sync_text(self.services.sync.status()))

    def _notify_values(self) -> dict:
        return {"webhook_url": self.webhook.text(), "smtp_host": self.smtp_host.text(),
                "smtp_port": self.smtp_port.value(), "smtp_security": self.smtp_security.currentText(),
                "smtp_user": self.smtp_user.text(), "smtp_from": self.smtp_from.text(),
                "smtp_to": self.smtp_to.text()}

    def save(self) -> bool:
        """Apply every tab through the services; False (and the error shown) on bad input."""
        try:
            # Notifications first: their checks (webhook, addresses) are the ones that can
            # fail, and a failure then leaves every setting as it was.
            setup = self.services.notify_setup
            setup.configure(**self._notify_values())
            self.services.settings.update(
                technician=self.technician.text(), concurrency=self.concurrency.value(),
                stale_after_hours=self.stale.value(), billing_round_minutes=self.rounding.value(),
                warm_connection_minutes=self.warm.value(), shared=self.shared.text(),
                terminal_transcript=self.transcript.isChecked())
            if self.smtp_password.text():
                setup.store_password(self.smtp_password.text())
                self.smtp_password.clear()
                self.smtp_password.setPlaceholderText("stored in the keyring — type to replace")
        except (SettingsError, NotifyError, SecretsError) as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        return True

    def send_test(self) -> asyncio.Future | None:
        """Save, then send one test alert in a worker thread (a slow server never freezes the window)."""
        if not self.save():
            return None
        setup = self.services.notify_setup
        if not setup.config()["channels"]:
            self.test_result.setText("No channel is set up yet: give a webhook URL, or an SMTP server with "
                                     "sender and recipients.")
            return None
        self.test_button.setEnabled(False)
        self.test_result.setText("Sending…")
        self.test_task = asyncio.get_event_loop().run_in_executor(None, setup.send_test)
        self.test_task.add_done_callback(self._tested)
        return self.test_task

    def _tested(self, task) -> None:
        self.test_button.setEnabled(True)
        error = task.exception()
        if error is not None:
            self.test_result.setText(f"Not sent: {error}")
            return
        delivery = task.result()
        self.test_result.setText("Sent through " + " and ".join(delivery.channels) + "." if delivery.delivered
                                 else "Not sent: " + "; ".join(delivery.errors))

    def accept(self) -> None:
        if self.save():
            super().accept()


def _sync_text(status: dict) -> str:
    if not status["folder"]:
        return "No shared folder: this device works on its own."
    last = local_time(status["last_sync"]) if status["last_sync"] else "never"
    return (f"{status['folder']} — last sync {last}, {status['pending']} change(s) waiting to be sent"
            + (f", {status['conflicts']} conflict(s)" if status["conflicts"] else ""))
