"""Quick connect from the filter bar and the Tunnels tab, against OpenSSH's real sshd."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
from PySide6.QtCore import Qt

from techdesk.core.roster import HostSpec
from techdesk.services.sessions import parse_quick
from techdesk.store import audit

pytestmark = pytest.mark.sshd
DEADLINE = 30.0


def _wait(qloop, predicate, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        qloop.run_until_complete(asyncio.sleep(0.03))


@pytest.fixture
def agent(sshd, tmp_path, monkeypatch):
    """An ssh-agent holding the fixture's client key: a quick-connect host has no key file."""
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        env = dict(os.environ, SSH_AUTH_SOCK=str(sock))
        subprocess.run(["ssh-add", "-q", str(sshd.client_key_path)], env=env, check=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        yield
    finally:
        proc.terminate()
        proc.wait(10)


def test_quick_connect_parse_rules():
    assert str(parse_quick(" ann@fw.example:2222 ")) == "ann@fw.example:2222"
    assert parse_quick("bob@[::1]:22").address == "::1"
    for not_quick in ("web1", "a@b c", "-oProxyCommand=x@h", "a@-x", "x@y:99999", "@x", "a@", "a@b:c:d", "a@/etc"):
        assert parse_quick(not_quick) is None, not_quick


def test_quick_connect_opens_a_terminal_and_offers_to_save(window, qloop, qtbot, services, sshd, agent, monkeypatch):
    asked = []

    async def hostkey(target, key):   # the window's host-key question: a new host is asked about
        asked.append(target.name)
        return True

    monkeypatch.setattr(window, "hostkey_prompt", hostkey)
    text = f"{sshd.user}@{sshd.host}:{sshd.port}"
    window.roster_panel.filter.setText(text)
    qtbot.keyClick(window.roster_panel.filter, Qt.Key.Key_Return)
    view = window.terminals.views[-1]
    qloop.run_until_complete(window.terminals.tasks[view])
    assert view.session is not None, "\n".join(view.emulator.text())
    assert asked == [text] and services.roster.hosts() == []        # nothing added behind the back
    assert view.offer_row.isVisible() and "not in the roster" in view.offer_label.text()
    entries = audit.entries(services.conn, host=text)
    assert any(e.action == "terminal" for e in entries)
    window.terminals.close(view)
    # not user@host: nothing opens, the filter stays a filter
    window.roster_panel.filter.setText("ann@")
    qtbot.keyClick(window.roster_panel.filter, Qt.Key.Key_Return)
    assert window.terminals.views == []


def test_tunnels_tab_start_carry_stop_open(window, qloop, services, sshd):
    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    services.roster.add(HostSpec(name="acme-gw", address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path), client="Acme"))
    server = socket.create_server(("127.0.0.1", 0))

    def web() -> None:   # "the router's web page": answers one request
        conn, _ = server.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nrouter")

    threading.Thread(target=web, daemon=True).start()
    launched = []
    tab = window.tunnels.open("acme-gw")
    tab.launcher = lambda plan: launched.append(plan) or True
    assert tab.add("8080:127.0.0.1:1", "bad") is not None            # saved; the port is just refused later
    tid = tab.add(f"127.0.0.1:{server.getsockname()[1]}", "router")
    assert tab.add("nonsense", "x") is None and "not a forward" in tab.view.status.text()
    tab.view.select(tid)
    assert qloop.run_until_complete(tab.start())
    forward = services.tunnels.running[tid]
    assert tab.view.rows[1].state == "running" and tab.view.stop.isEnabled()

    def get() -> bytes:
        with socket.create_connection(("127.0.0.1", forward.port), timeout=DEADLINE) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return s.recv(1024)

    assert qloop.run_until_complete(asyncio.to_thread(get)).endswith(b"router")
    # a random target port: nothing we know how to open
    assert not tab.view.open.isEnabled() and not tab.open() and launched == []
    tab.view.select(tid)
    tab.stop()
    assert tab.view.rows[1].state == "stopped" and tid not in services.tunnels.running
    ended = [e for e in audit.entries(services.conn, host="acme-gw") if e.action == "tunnel-result"]
    assert ended and "1 connections" in ended[-1].detail
    server.close()


def test_open_on_a_web_port_hands_the_url_to_the_desktop(window, qloop, services, sshd):
    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    services.roster.add(HostSpec(name="acme-gw", address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path)))
    saved = services.tunnels.save("acme-gw", "127.0.0.1:443", "router admin")
    launched = []
    tab = window.tunnels.open("acme-gw")
    tab.launcher = lambda plan: launched.append(plan) or True
    tab.view.select(saved.id)
    assert qloop.run_until_complete(tab.start())
    tab.refresh()
    tab.view.select(saved.id)
    assert tab.view.open.isEnabled() and tab.open()
    assert launched[0].url == f"https://127.0.0.1:{services.tunnels.running[saved.id].port}/"
    window.tunnels.close_all()
    assert services.tunnels.running == {}
