"""A global exception hook: log the error and show it, instead of dying silently.

qasync sends exceptions raised in slots and tasks to sys.excepthook, so this is
where every unexpected error in the window ends up.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback

from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("techdesk.ui")


def install_excepthook() -> None:
    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unexpected error\n%s", details)
        app = QApplication.instance()
        if app is None:
            sys.__excepthook__(exc_type, exc, tb)
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "techdesk — unexpected error",
                          f"{exc_type.__name__}: {exc}", parent=app.activeWindow())
        box.setInformativeText("Nothing was lost. The details are in the log file.")
        box.setDetailedText(details)
        box.open()

    sys.excepthook = hook

    def thread_hook(args) -> None:
        # Library threads end this way when a connection dies (paramiko's SFTP prefetch
        # raises EOFError): the task that used them reports it; here it is only logged.
        if args.exc_type is SystemExit:
            return
        details = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        log.warning("thread %s ended with an error\n%s", getattr(args.thread, "name", "?"), details)

    threading.excepthook = thread_hook
