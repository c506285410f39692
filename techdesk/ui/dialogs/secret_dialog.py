"""Ask for a password or key passphrase, optionally remembering it in the OS keyring."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout

from techdesk.secrets import backend_info


class SecretDialog(QDialog):
    def __init__(self, kind: str, host: str, parent=None) -> None:
        super().__init__(parent)
        what = "password" if kind == "password" else "passphrase of the key"
        self.setWindowTitle(f"{kind.capitalize()} for {host}")
        self.setMinimumWidth(420)
        label = QLabel(f"techdesk needs the {what} for {host}.")
        label.setTextFormat(Qt.TextFormat.PlainText)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        info = backend_info()
        self.remember = QCheckBox("Remember in the system keyring")
        self.remember.setEnabled(info.secure)
        self.remember.setToolTip(info.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.secret)
        layout.addWidget(self.remember)
        if not info.secure:
            warning = QLabel(f"Not remembered: {info.message}.")
            warning.setStyleSheet("color: #d64541")
            layout.addWidget(warning)
        layout.addWidget(buttons)
