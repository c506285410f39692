"""Terminal tabs in the window, against OpenSSH's real sshd: keys in, the emulated screen out."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from techdesk.core.roster import HostSpec
from techdesk.store import audit

pytestmark = pytest.mark.sshd
DEADLINE = 60.0
SHOT = os.environ.get("TECHDESK_TERMINAL_SHOT")  # a PNG path: save what the technician sees


def _host(services, sshd) -> None:
    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    services.roster.add(HostSpec(name="acme-web01", address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path), client="Acme", site="HQ"))


def _wait(qloop, predicate, what: str, view=None) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            screen = "\n".join(view.emulator.text()) if view is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{screen}")
        qloop.run_until_complete(asyncio.sleep(0.03))


def _type(qtbot, view, text: str) -> None:
    qtbot.keyClicks(view.canvas, text)
    qtbot.keyClick(view.canvas, Qt.Key.Key_Return)


def _screen_has(view, text: str) -> bool:
    return any(text in line for line in view.emulator.text())


def _open(window, qloop, services, sshd):
    _host(services, sshd)
    window.roster.refresh()
    window.roster_panel.terminal_requested.emit("acme-web01")   # what a double-click sends
    view = window.terminals.views[-1]
    qloop.run_until_complete(window.terminals.tasks[view])
    assert view.session is not None, "\n".join(view.emulator.text())
    assert window.tabs.tabText(window.tabs.indexOf(view)) == "acme-web01"
    return view


def test_terminal_tab_keys_full_screen_program_resize_copy(window, qloop, qtbot, services, sshd):
    view = _open(window, qloop, services, sshd)
    _type(qtbot, view, "echo sum=$((40+2))")
    _wait(qloop, lambda: _screen_has(view, "sum=42"), "the shell's answer", view)
    assert not _screen_has(view, "Connecting to")          # the banner goes once the shell is up

    # a full-screen program: alternate screen, absolute cursor moves, colour; then back
    _type(qtbot, view, "printf '\\033[?1049h\\033[2J\\033[3;5H\\033[32mFULL\\033[0m'; sleep 1; "
                       "printf '\\033[?1049l'; echo done-$((3*3))")
    _wait(qloop, lambda: view.emulator.screen.alternate and _screen_has(view, "FULL"), "the program", view)
    assert view.emulator.text()[2][4:8] == "FULL" and view.emulator.screen.buffer[2][4].fg == "green"
    assert not _screen_has(view, "sum=42")
    _wait(qloop, lambda: _screen_has(view, "done-9"), "the main screen again", view)
    assert _screen_has(view, "sum=42") and not view.emulator.screen.alternate

    # resize the window: the tab's grid changes and the host is told (stty size agrees)
    before = (view.emulator.columns, view.emulator.lines)
    window.resize(window.width() - 160, window.height() - 120)
    _wait(qloop, lambda: (view.emulator.columns, view.emulator.lines) != before, "the new grid", view)
    cols, lines = view.emulator.columns, view.emulator.lines
    _type(qtbot, view, "stty size")
    _wait(qloop, lambda: _screen_has(view, f"{lines} {cols}"), f"stty size = {lines} {cols}", view)

    # select a word and copy it with Ctrl+Shift+C (the window's own Ctrl+Shift+C must not win)
    row = next(i for i, line in enumerate(view.emulator.text()) if "sum=42" in line)
    absolute = view.top_row() + row
    col = view.emulator.row_text(absolute).index("sum=42")
    view.select((absolute, col), (absolute, col + 5))
    qtbot.keyClick(view.canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert QGuiApplication.clipboard().text() == "sum=42"

    # paste: an ESC in the clipboard never reaches the host (it could end bracketed paste)
    QGuiApplication.clipboard().setText("echo pasted\x1b[201~; echo INJECTED")
    view.paste()
    qtbot.keyClick(view.canvas, Qt.Key.Key_Return)
    _wait(qloop, lambda: _screen_has(view, "INJECTED"), "the pasted line", view)
    assert _screen_has(view, "pasted[201~")   # the ESC was dropped; the rest came through as text

    # font size setting: bigger text, fewer columns, remembered for the next tab
    cols_before = view.emulator.columns
    view.set_font_size(view.font_size + 4)
    _wait(qloop, lambda: view.emulator.columns < cols_before, "fewer columns", view)
    assert window.terminals.font_size() == view.font_size

    if SHOT:
        cols_big = view.emulator.columns
        view.set_font_size(11)
        _wait(qloop, lambda: view.emulator.columns > cols_big, "the normal font's grid", view)
        # sent as a paste: QTest cannot type non-Latin characters
        view.session.send("clear; printf '\\033]0;acme-web01: ~\\007'; ls -la --color=always /etc | head -12; "
                          "printf '\\033[1;31mcrit\\033[0m \\033[33mwarn\\033[0m \\033[32mok\\033[0m "
                          "\\033[38;5;208m256-colour\\033[0m ünïcødé ✓\\n'\r".encode())
        _wait(qloop, lambda: _screen_has(view, "256-colour"), "the screenshot content", view)
        qloop.run_until_complete(asyncio.sleep(0.3))
        Path(SHOT).parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(SHOT)

    # the session ends: the tab says so, and the audit log has start and end with bytes
    _type(qtbot, view, "exit")
    _wait(qloop, lambda: view.ended, "the end of the shell", view)
    assert window.tabs.tabText(window.tabs.indexOf(view)) == "acme-web01 — closed"
    qloop.run_until_complete(asyncio.sleep(0.2))
    actions = [(e.action, e.outcome) for e in audit.entries(services.conn, host="acme-web01")]
    assert ("terminal", "opening") in actions and ("terminal-result", "closed") in actions
    # Enter reconnects on the same tab (same scrollback)
    qtbot.keyClick(view.canvas, Qt.Key.Key_Return)
    qloop.run_until_complete(window.terminals.tasks[view])
    assert not view.ended and window.tabs.tabText(window.tabs.indexOf(view)) == "acme-web01"
    _type(qtbot, view, "echo again-$((5+5))")
    _wait(qloop, lambda: _screen_has(view, "again-10"), "the new shell", view)
    window.terminals.close(view)
    assert view not in window.terminals.views


def test_hostile_output_cannot_crash_stall_or_reach_the_clipboard(window, qloop, qtbot, services, sshd,
                                                                  tmp_path):
    view = _open(window, qloop, services, sshd)
    QGuiApplication.clipboard().setText("the technician's clipboard")
    hostile = tmp_path / "hostile.py"
    hostile.write_text(
        "import sys\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'\\x1b]52;c;' + b'cHduZWQ=' + b'\\x07')            # OSC 52: clipboard write\n"
        "out.write(b'\\x1b]52;p;' + b'QUFB' * 200000 + b'\\x1b\\\\')    # a huge one, ST-terminated\n"
        "out.write(b'\\x1b]0;\\x1b[31mevil\\ttitle\\x07')                # a title with controls\n"
        "out.write(b'\\x1b[' + b'9' * 5000 + b'm')                        # an absurd parameter\n"
        "out.write(b'\\x1b[99999;99999H\\x1b[999999999@\\x1b[999999999L\\x1b[999999999P')\n"
        "out.write(b'\\x1b[31m\\x1b[1;38;5;300m' * 20000)                  # an SGR flood\n"
        "out.write(bytes(range(256)) * 200)                              # invalid UTF-8, every control\n"
        "out.write(b'\\xff\\xfe\\xc3\\x28\\xe2\\x82' * 20000)\n"
        "out.write(b'x' * 3_000_000)                                     # a 3 MB line\n"
        "out.write(b'\\x1bc\\x1b[?1049l\\r\\nHOSTILE-DONE\\r\\n')\n"
        "out.flush()\n")
    target = "python3" if shutil.which("python3") else "python"
    started = time.monotonic()
    _type(qtbot, view, f"stty -echo; {target} {hostile}; stty echo")
    stalls = []

    def tick():
        t0 = time.perf_counter()
        qloop.run_until_complete(asyncio.sleep(0))
        stalls.append(time.perf_counter() - t0)
        return _screen_has(view, "HOSTILE-DONE")

    _wait(qloop, tick, "the end of the hostile output", view)
    assert time.monotonic() - started < DEADLINE
    assert QGuiApplication.clipboard().text() == "the technician's clipboard"
    title = view.emulator.screen.title
    assert "\x1b" not in title and "\t" not in title and len(title) <= 120
    window.terminals._update_tooltips()
    assert "\x1b" not in window.tabs.tabToolTip(window.tabs.indexOf(view))
    assert not window.grab().isNull()      # it still paints
    # the widget fed the flood in slices: no single step held the loop for long
    assert view.stall_max < 0.5, f"one feed step took {view.stall_max:.3f}s"
    _type(qtbot, view, "echo alive-$((6*6))")
    _wait(qloop, lambda: _screen_has(view, "alive-36"), "the shell after the flood", view)
    window.terminals.close(view)
