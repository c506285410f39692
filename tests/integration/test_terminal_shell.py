"""Terminal shells over the warm connection pool, against OpenSSH's real sshd."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.services.sessions import SessionError
from techdesk.store import audit
from techdesk.terminal.emulator import Emulator
from techdesk.workspace import Workspace

pytestmark = pytest.mark.sshd
DEADLINE = 60.0  # a loaded CI box: generous


def _services(tmp_path, server) -> Services:
    ws = Workspace(tmp_path / "ws")
    shutil.copy(server.known_hosts_path, ws.known_hosts_path)
    svc = Services(ws)
    svc.roster.add(HostSpec(name="web", address=server.host, port=server.port, user=server.user,
                            key=str(server.client_key_path)))
    return svc


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
