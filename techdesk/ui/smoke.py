"""Open and close the main window once: the window step of `techdesk selftest`."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QEvent, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

_APP: QApplication | None = None  # kept alive for the rest of the process


def open_and_close_main_window(services) -> str:
    global _APP
    from techdesk.ui.main_window import MainWindow

    said: list[str] = []  # Qt's own messages ("This plugin does not support ...") while we look

    def collect(mode, context, message) -> None:
        said.append(message)

    app = QApplication.instance()
    if app is None:
        app = _APP = QApplication([sys.argv[0] if sys.argv else "techdesk"])
    previous = qInstallMessageHandler(collect)
    window = MainWindow(services)
    try:
        window.show()
        app.processEvents()
        if not window.isVisible():
            raise RuntimeError("the main window did not show" + "".join(f"; Qt: {m}" for m in said))
    finally:
        window.close()
        app.processEvents()
        window.deleteLater()
        # Outside an event loop deleteLater waits for one: delete now, so the window's
        # timers (the dashboard's scheduler tick) never fire on the services closed after us.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        qInstallMessageHandler(previous)
    return f"shown and closed (Qt platform {app.platformName()})"
