"""Status-bar indicator: which hosts have a warm SSH connection open right now."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

REFRESH_MS = 2000  # the pool changes from worker threads; polling it is cheap and thread-safe


class ConnectionsIndicator(QObject):
    def __init__(self, services, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.label = QLabel("")
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        self.refresh()

    def refresh(self) -> None:
        # The pool is made by the first run, fix or command (it loads paramiko): none yet, none open.
        pool = self.services.__dict__.get("connections")
        names = pool.connected() if pool is not None else []
        if not names:
            self.label.setText("")
            self.label.setToolTip("")
            self.label.setVisible(False)
            return
        shown = names[0] if len(names) == 1 else f"{len(names)} hosts"
        self.label.setText(f"⇄ connected: {shown}")
        minutes = pool.idle_s / 60
        self.label.setToolTip("Warm SSH connections (reused by the next run, fix or command; "
                              f"closed after {minutes:g} min idle):\n" + "\n".join(names))
        self.label.setVisible(True)
