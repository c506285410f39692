"""First run on an empty workspace: who is the technician, and where the hosts come from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)


class FirstRunDialog(QDialog):
    """Done with ADD, IMPORT or 0 (later); the name is saved in every case."""

    ADD, IMPORT = 2, 3

    def __init__(self, workspace, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setWindowTitle("Welcome to techdesk")
        self.setMinimumWidth(480)
        head = QLabel("Welcome to techdesk")
        font = head.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        head.setFont(font)
        intro = QLabel("Your name goes on notes, visits and reports, and tells your team who did what.\n"
                       "Then add the machines you look after: one by one, or from your SSH config.")
        intro.setWordWrap(True)
        self.name = QLineEdit(workspace.settings.technician or "")
        self.name.setPlaceholderText(workspace.technician)
        form = QFormLayout()
        form.addRow("Your name:", self.name)
        self.add_button = QPushButton("Add your first host…")
        self.add_button.setDefault(True)
        self.import_button = QPushButton("Import from ~/.ssh/config…")
        later = QPushButton("Later")
        self.add_button.clicked.connect(lambda: self._finish(self.ADD))
        self.import_button.clicked.connect(lambda: self._finish(self.IMPORT))
        later.clicked.connect(lambda: self._finish(0))
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(later)
        where = QLabel(f"Workspace: {workspace.path}")
        where.setTextFormat(Qt.TextFormat.PlainText)
        where.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addWidget(where)

    def _finish(self, code: int) -> None:
        name = self.name.text().strip()
        if name:
            self.workspace.settings.technician = name
        elif not self.workspace.settings.technician:
            self.workspace.settings.technician = self.workspace.technician  # the login name, said once
        self.workspace.save_settings()
        self.done(code)
