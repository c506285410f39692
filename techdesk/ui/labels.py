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


def human_size(size: int) -> str:
    """1536 -> "1.5 KB" (sizes of files and transfers)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
