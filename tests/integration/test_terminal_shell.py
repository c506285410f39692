"""Terminal shells over the warm connection pool, against OpenSSH's real sshd."""

from __future__ import annotations

import asyncio
import time

import pytest

from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.services.sessions import SessionError
from techdesk.store import audit
from techdesk.terminal.emulator import Emulator
from techdesk.workspace import Workspace
from tests.fixtures.sshd import add_host

pytestmark = pytest.mark.sshd
DEADLINE = 60.0  # a loaded CI box: generous


def _services(tmp_path, server) -> Services:
    return add_host(Services(Workspace(tmp_path / "ws")), server, "web")


async def _until(shell, emu: Emulator, predicate, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; screen:\n" + "\n".join(emu.text()))
        emu.feed(shell.take(1 << 20))
        await asyncio.sleep(0.02)


def test_full_screen_program_alternate_screen_and_resize(sshd, tmp_path):
    svc = _services(tmp_path, sshd)

    async def scenario():
        shell = await svc.sessions.open_shell("web", 80, 24)
        emu = Emulator(80, 24, reply=shell.send)
        try:
            shell.send(b"stty size; echo READY-$((6*7))\n")
            await _until(shell, emu, lambda: any("READY-42" in line for line in emu.text()), "the prompt")
            assert any(line.startswith("24 80") for line in emu.text())
            # a full-screen program: alternate screen, clear, absolute cursor moves, colour
            shell.send(b"printf '\\033[?1049h\\033[2J\\033[5;10H\\033[1;31mBOXED\\033[0m\\033[24;1HSTATUS'; "
                       b"sleep 0.5; echo; echo ALT=$((1+1))\n")
            await _until(shell, emu, lambda: emu.screen.alternate and "BOXED" in emu.text()[4], "BOXED")
            assert emu.text()[4].index("BOXED") == 9          # row 5, column 10
            cell = emu.screen.buffer[4][9]
            assert cell.fg == "red" and cell.bold
            assert emu.text()[23].startswith("STATUS")
            assert not any("READY-42" in line for line in emu.text())  # the main screen is hidden
            shell.send(b"printf '\\033[?1049l'; echo BACK-$((2+3))\n")
            await _until(shell, emu, lambda: not emu.screen.alternate and
                         any("BACK-5" in line for line in emu.text()), "the main screen")
            assert any("READY-42" in line for line in emu.text())  # restored
            # resize: the host learns the new size (window-change)
            shell.resize(100, 30)
            emu.resize(100, 30)
            shell.send(b"stty size\n")
            await _until(shell, emu, lambda: any(line.startswith("30 100") for line in emu.text()),
                         "the new size")
        finally:
            shell.close()
        await asyncio.sleep(0.2)  # the close entry is queued onto the loop
        return shell

    shell = asyncio.run(scenario())
    assert shell.bytes_in > 0 and shell.bytes_out > 0
    entries = [e for e in audit.entries(svc.conn) if e.host == "web"]
    actions = [(e.action, e.outcome) for e in entries]
    assert ("terminal", "opening") in actions and ("terminal-result", "closed") in actions
    closed = next(e for e in entries if e.action == "terminal-result")
    assert f"{shell.bytes_in} bytes from the host" in closed.detail
    svc.close()


def test_shell_reuses_the_warm_connection_and_refuses_unknown_host_keys(sshd, tmp_path):
    svc = _services(tmp_path, sshd)

    async def two_shells():
        first = await svc.sessions.open_shell("web", 80, 24)
        second = await svc.sessions.open_shell("web", 80, 24)
        first.close()
        second.close()

    asyncio.run(two_shells())
    assert svc.connections.opened == 1  # both tabs on the same pooled transport
    svc.close()

    # a host whose key is not pinned: refused, nothing opened, the reason in one line
    ws = Workspace(tmp_path / "ws2")
    other = Services(ws)
    other.roster.add(HostSpec(name="web", address=sshd.host, port=sshd.port, user=sshd.user,
                              key=str(sshd.client_key_path)))
    with pytest.raises(SessionError) as err:
        asyncio.run(other.sessions.open_shell("web", 80, 24))
    assert "\n" not in str(err.value) and "key" in str(err.value).lower()
    other.close()


def test_transcript_only_when_turned_on_clean_text_without_typed_keys(sshd, tmp_path):
    svc = _services(tmp_path, sshd)
    folder = svc.workspace.transcripts_dir

    async def session(*steps: tuple[bytes, str]) -> None:
        shell = await svc.sessions.open_shell("web", 80, 24)
        emu = Emulator(80, 24, reply=shell.send)
        try:
            for command, marker in steps:
                shell.send(command)
                await _until(shell, emu, lambda m=marker: any(m in line for line in emu.text()), marker)
        finally:
            shell.close()
        await asyncio.sleep(0.2)

    # off (the default): nothing is written anywhere
    asyncio.run(session((b"echo OFF-$((1+1))\n", "OFF-2")))
    assert not folder.exists()

    svc.settings.update(terminal_transcript=True)
    # a password typed at a prompt that does not echo: never in the file
    asyncio.run(session(
        (b"stty -echo; echo ASK-$((3*3)); read -r secret; stty echo; printf '\\033[31mRED\\033[0m-%s\\n' "
         b"$((20+1))\n", "ASK-9"),
        (b"hunter2-typed\n", "RED-21")))
    files = list(folder.iterdir())
    assert len(files) == 1 and files[0].name.startswith("web-")
    text = files[0].read_text(encoding="utf-8")
    assert "RED-21" in text and "\x1b" not in text and "\r" not in text
    assert "hunter2-typed" not in text
    closed = [e for e in audit.entries(svc.conn) if e.action == "terminal-result"][-1]
    assert str(files[0]) in closed.detail
    svc.close()
