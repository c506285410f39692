"""Host-key dialogs: trust a key seen for the first time; refuse a changed one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)


class UnknownHostKeyDialog(QDialog):
    """Shows host, port, key type and SHA256 fingerprint; the technician decides."""

    ONCE = 3
    REMEMBER = 2

    def __init__(self, host: str, address: str, port: int, key_type: str, fingerprint: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New host key")
        self.setMinimumWidth(520)
        text = QLabel(
            f"techdesk has not connected to {host} ({address}, port {port}) before.\n\n"
            f"It presents this {key_type} key:\n\n    {fingerprint}\n\n"
            "Compare the fingerprint with the one the machine shows (for example "
            "`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on its console) before trusting it.")
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox()
        remember = QPushButton("Trust and remember")
        once = QPushButton("Trust this time only")
        buttons.addButton(remember, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(once, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        remember.clicked.connect(lambda: self.done(self.REMEMBER))
        once.clicked.connect(lambda: self.done(self.ONCE))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)


def changed_key_box(host: str, message: str, parent=None) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Critical, "Host key changed — connection refused",
                      f"The key of {host} is not the one techdesk trusts.", parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # the host name is roster data
    box.setInformativeText(
        "This can mean the machine was reinstalled — or that someone is intercepting the "
        "connection. techdesk will not connect. Check the new key with the client out of band; "
        f"if it is genuine, forget the old key (Host ▸ Forget host key, or `techdesk hostkeys forget {host}`) "
        "and connect again.")
    box.setDetailedText(message)
    return box
