"""Light and dark palettes: follow the system, or force one (View → Appearance).

The choice is a display preference of this device, kept in the window's settings
(window.ini), not in the workspace. Fusion is used for both palettes so that a
forced palette looks the same on every desktop; status colours (icons.py) read on both.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

MODES = ("system", "light", "dark")
MODE_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def apply_theme(mode: str) -> str:
    """Apply ``mode`` to the running application; returns the palette used, light or dark."""
    app = QApplication.instance()
    mode = mode if mode in MODES else "system"
    dark = system_is_dark() if mode == "system" else mode == "dark"
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    return "dark" if dark else "light"


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#2b2d30"), QColor("#1e1f22"), QColor("#dfe1e5")
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor("#26282b"),
        QPalette.ColorRole.ToolTipBase: QColor("#3c3f41"), QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#8c8f94"), QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#3c3f41"), QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b68"), QPalette.ColorRole.Highlight: QColor("#2f6fd0"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"), QPalette.ColorRole.Link: QColor("#6ea8fe"),
        QPalette.ColorRole.Light: QColor("#4a4d50"), QPalette.ColorRole.Midlight: QColor("#3f4245"),
        QPalette.ColorRole.Mid: QColor("#323437"), QPalette.ColorRole.Dark: QColor("#1b1c1e"),
        QPalette.ColorRole.Shadow: QColor("#000000"),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    muted = QColor("#7d8085")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, muted)
    return p
