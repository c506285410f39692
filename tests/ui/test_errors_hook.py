"""Exceptions in library threads (paramiko's SFTP prefetch when a connection dies) go to
the log file, not to the terminal that started the window."""

from __future__ import annotations

import logging
import threading


def test_a_thread_error_is_logged_not_printed(qapp, caplog, capsys, monkeypatch):
    from techdesk.ui.errors import install_excepthook

    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr("sys.excepthook", __import__("sys").excepthook)
    install_excepthook()

    def boom() -> None:
        raise EOFError("connection lost")

    with caplog.at_level(logging.WARNING, logger="techdesk.ui"):
        t = threading.Thread(target=boom, name="prefetch")
        t.start()
        t.join()
    assert "thread prefetch ended with an error" in caplog.text and "EOFError" in caplog.text
    assert "Traceback" not in capsys.readouterr().err
