"""Labels the dialogs share: plain text (never rich text from data) and the one-line
error shown inside a dialog, in the colour of CRITICAL."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from techdesk.ui.icons import STATUS_COLORS


def plain_label(text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


def error_label() -> QLabel:
    """Where a dialog says what is wrong (visible, not only a tooltip)."""
    label = plain_label()
    label.setObjectName("error")
    label.setStyleSheet(f"color: {STATUS_COLORS['crit']}")
    return label
