"""The window's status bar: a message longer than the room left of the permanent
widgets (connections, visit timer, sync, keyring) is elided with "…" instead of
being cut flush against them; the whole message is the bar's tooltip meanwhile."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar, QWidget


class StatusBar(QStatusBar):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._permanent: list[QWidget] = []
        self.messageChanged.connect(lambda text: None if text else self.setToolTip(""))

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802 - Qt's name
        self._permanent.append(widget)
        super().addPermanentWidget(widget, stretch)

    def room(self) -> int:
        """Pixels left for a message: the bar less the visible permanent widgets and their gaps."""
        taken = sum(w.sizeHint().width() + 12 for w in self._permanent if w.isVisible())
        return max(80, self.width() - taken - 24)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 - Qt's name
        one_line = " · ".join(part for part in text.splitlines() if part.strip())
        # Before the window is laid out the bar has no width yet: nothing to measure against.
        shown = one_line if not self.isVisible() else \
            self.fontMetrics().elidedText(one_line, Qt.TextElideMode.ElideRight, self.room())
        self.setToolTip(one_line if shown != one_line else "")
        super().showMessage(shown, timeout)
