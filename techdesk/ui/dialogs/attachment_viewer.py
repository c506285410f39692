"""Shows a note's attachment inside the window: an image as a picture, anything else as
plain text. Never handed to the system to open: an attachment comes from a host or a
teammate, and "x.exe" or "x.desktop" opened by the desktop would run."""

from __future__ import annotations

from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
)

from techdesk.core.text import clean_text


class AttachmentViewer(QDialog):
    def __init__(self, parent, name: str, data: bytes) -> None:
        super().__init__(parent)
        self.setWindowTitle(clean_text(name).replace("\n", " "))
        self.resize(760, 520)
        layout = QVBoxLayout(self)
        image = QImage.fromData(data)
        self.text: QPlainTextEdit | None = None
        if not image.isNull():
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(image))
            scroll = QScrollArea()
            scroll.setWidget(label)
            layout.addWidget(scroll, 1)
        else:
            self.text = QPlainTextEdit(readOnly=True)
            self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.text.setPlainText(clean_text(data.decode("utf-8", "replace")))  # escapes are data
            layout.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
