"""Importing from the window: the file is read off the GUI thread, with a progress
dialog whose Cancel imports nothing; a bomb gives one line and changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox, QPushButton

from tests.unit.test_import_bombs import _laughs


def _big_inventory(path, groups=9, per_group=9000):
    # Real parse work (~80,000 hosts would be refused; this is just under the limits).
    lines = [f"[g{g}]\nh{g}-[1:{per_group}] ansible_user=ops" for g in range(groups)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_reads_off_the_gui_thread(services, qloop, window, qtbot, tmp_path):
    inventory = _big_inventory(tmp_path / "inv.ini", groups=3, per_group=2000)
    threads = []
    real = services.roster.read_file

    def spy(path, fmt):  # the real reader; only notes which thread it ran on
        threads.append(threading.current_thread())
        return real(path, fmt)

    services.roster.read_file = spy
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    result = qloop.run_until_complete(window.roster.import_file(inventory, "ansible"))
    timer.stop()
    assert threads and threads[0] is not threading.main_thread()
    assert len(result["added"]) == 6000 and len(services.roster.hosts()) == 6000
    assert "Imported 6000 hosts" in window.statusBar().currentMessage()


def test_cancel_imports_nothing(services, qloop, window, qtbot, tmp_path):
    inventory = _big_inventory(tmp_path / "inv.ini", groups=5, per_group=9000)
    task = window.roster.import_file(inventory, "ansible")
    progress = window.roster.import_progress
    qloop.call_later(0.05, progress.findChild(QPushButton).click)  # the technician's Cancel
    with contextlib.suppress(asyncio.CancelledError):
        qloop.run_until_complete(task)
    qloop.run_until_complete(asyncio.sleep(1.0))  # the worker may still finish its parse
    assert services.roster.hosts() == []
    assert "cancelled: nothing was imported" in window.statusBar().currentMessage()


def test_alias_bomb_from_the_window_is_one_line(services, qloop, window, qtbot, tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.yml"
    bomb.write_text(_laughs(), encoding="utf-8")
    shown = []

    def exec_(box):  # the technician reads the box; it must show the text literally
        shown.append((box.windowTitle(), box.text()))
        assert box.textFormat() == Qt.TextFormat.PlainText
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    result = qloop.run_until_complete(window.roster.import_file(bomb, "ansible"))
    assert result is None and services.roster.hosts() == []
    [(title, text)] = shown
    assert title == "Nothing was imported" and text.startswith(f"{bomb}:") and "alias bomb" in text
    assert "\n" not in text
