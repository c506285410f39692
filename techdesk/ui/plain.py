"""Show untrusted text literally in Qt.

Qt guesses: a tooltip or label whose text "looks like" HTML (Qt::mightBeRichText)
is rendered as rich text, so a host, client or check summary like
``<img src=...>`` or ``<a href=...>`` from a client machine or the shared folder
would be rendered, not shown. Labels get Qt.TextFormat.PlainText; tooltips have
no such switch, so their text is escaped into a rich-text paragraph that keeps
line breaks.
"""

from __future__ import annotations

import html

from techdesk.core.text import clean_text


def plain_tip(text: str | None) -> str:
    """A tooltip showing ``text`` exactly (cleaned, escaped, line breaks kept)."""
    if not text:
        return ""
    return "<p style='white-space:pre-wrap'>" + html.escape(clean_text(text)) + "</p>"


def warn(parent, title: str, text: str) -> None:
    """QMessageBox.warning, but the text is shown literally (errors quote names and
    lines from imported or synced files)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Warning, title, clean_text(text), parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def question(parent, title: str, text: str) -> bool:
    """QMessageBox.question with the text shown literally (it quotes remote file names)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, title, clean_text(text),
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box.exec() == QMessageBox.StandardButton.Yes
