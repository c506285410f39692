"""Settings: technician name, shared folder, concurrency, staleness, billing rounding."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from techdesk.secrets import backend_info


class SettingsDialog(QDialog):
    def __init__(self, workspace, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        s = workspace.settings
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self.technician = QLineEdit(s.technician or "")
        self.technician.setPlaceholderText(workspace.technician)
        self.shared = QLineEdit(s.shared or "")
        self.shared.setPlaceholderText("the team's shared folder (Syncthing, Dropbox, SMB…)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        shared_row = QHBoxLayout()
        shared_row.addWidget(self.shared, 1)
        shared_row.addWidget(browse)
        shared_widget = QWidget()
        shared_widget.setLayout(shared_row)
        shared_row.setContentsMargins(0, 0, 0, 0)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 128)
        self.concurrency.setValue(s.concurrency)
        self.stale = QSpinBox()
        self.stale.setRange(1, 24 * 90)
        self.stale.setSuffix(" h")
        self.stale.setValue(s.stale_after_hours)
        self.rounding = QSpinBox()
        self.rounding.setRange(1, 60)
        self.rounding.setSuffix(" min")
        self.rounding.setValue(s.billing_round_minutes)
        self.warm = QSpinBox()  # whole minutes here; the setting takes fractions too
        self.warm.setRange(0, 240)
        self.warm.setSuffix(" min")
        self.warm.setSpecialValueText("off")
        self.warm.setValue(round(s.warm_connection_minutes))
        self.warm.setToolTip("After a run, fix or command the SSH connection stays open this long, "
                             "so the next one on that host starts at once (0 = off)")
        info = backend_info()
        keyring = QLabel(f"{info.message} ({info.name})")
        keyring.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Technician name:", self.technician)
        form.addRow("Shared folder:", shared_widget)
        form.addRow("Hosts checked at once:", self.concurrency)
        form.addRow("Host is stale after:", self.stale)
        form.addRow("Round billable time to:", self.rounding)
        form.addRow("Keep connections open:", self.warm)
        form.addRow("Keyring:", keyring)
        form.addRow("Workspace:", QLabel(str(workspace.path)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Shared folder", self.shared.text())
        if path:
            self.shared.setText(path)

    def accept(self) -> None:
        s = self.workspace.settings
        s.technician = self.technician.text().strip() or None
        s.shared = self.shared.text().strip() or None
        s.concurrency = self.concurrency.value()
        s.stale_after_hours = self.stale.value()
        s.billing_round_minutes = self.rounding.value()
        s.warm_connection_minutes = self.warm.value()
        self.workspace.save_settings()
        super().accept()
