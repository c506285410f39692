"""Local port forwards through OpenSSH's real sshd to a loopback echo server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.services.sessions import SessionError, parse_forward
from techdesk.store import audit
from techdesk.workspace import Workspace
from tests.fixtures.sshd import add_host

pytestmark = pytest.mark.sshd
DEADLINE = 60.0


@pytest.fixture
def echo_server():
    """A TCP echo server on 127.0.0.1 (the 'RDP desktop behind the client's box')."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    server.close()


def _services(tmp_path, server) -> Services:
    return add_host(Services(Workspace(tmp_path / "ws")), server, "gw")


def _echo_through(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        sender = threading.Thread(target=lambda: (s.sendall(payload), s.shutdown(socket.SHUT_WR)))
        sender.start()
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
        sender.join(DEADLINE)
    return b"".join(chunks)


def test_forward_carries_real_bytes_on_loopback_only_and_is_audited(sshd, tmp_path, echo_server):
    svc = _services(tmp_path, sshd)
    payload = os.urandom(3 * 1024 * 1024 + 17)

    async def scenario():
        forward = await svc.sessions.open_forward("gw", "127.0.0.1", echo_server)
        try:
            assert forward.listener.getsockname()[0] == "127.0.0.1"   # never the LAN
            back = await asyncio.get_running_loop().run_in_executor(None, _echo_through, forward.port, payload)
            assert hashlib.sha256(back).hexdigest() == hashlib.sha256(payload).hexdigest()
            # a second connection on the same forward; and a target that refuses does not end it
            assert _echo_through(forward.port, b"hello") == b"hello"
        finally:
            forward.stop()
        return forward

    forward = asyncio.run(scenario())
    assert forward.connections == 2 and forward.bytes_out == len(payload) + 5
    assert forward.bytes_in == len(payload) + 5
    assert svc.connections.opened == 1
    entries = audit.entries(svc.conn, host="gw")
    started = next(e for e in entries if e.action == "tunnel")
    ended = next(e for e in entries if e.action == "tunnel-result")
    assert f"-> 127.0.0.1:{echo_server}" in started.detail and started.outcome == "started"
    assert f"{len(payload) + 5} bytes sent" in ended.detail and ended.outcome == "stopped"
    with pytest.raises(OSError):  # stopped: nothing listens any more
        socket.create_connection(("127.0.0.1", forward.port), timeout=2).close()
    svc.close()


def test_forward_spec_rules():
    assert parse_forward("3389:10.0.0.5:3389").local_port == 3389
    assert parse_forward("[::1]:80").target_host == "::1"
    for bad in ("80", "a:b:c", "x:0", "70000:h:1", "user@h:22", "h x:22"):
        with pytest.raises(SessionError):
            parse_forward(bad)


def test_tunnel_command_until_ctrl_c(sshd, tmp_path, echo_server, cli):
    ws = tmp_path / "ws"
    svc = _services(tmp_path, sshd)
    svc.close()
    code, _out, err = cli("tunnel", "gw", "no-port-here")
    assert code == 64 and err.strip().splitlines()[-1].startswith("techdesk: error: not a forward")
    code, _out, err = cli("tunnel", "nosuchhost", "127.0.0.1:80")
    assert code == 64 and "techdesk: error:" in err and "Traceback" not in err

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        local = probe.getsockname()[1]
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    proc = subprocess.Popen([sys.executable, "-m", "techdesk", "--workspace", str(ws), "tunnel", "gw",
                             f"{local}:127.0.0.1:{echo_server}"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"forwarding 127.0.0.1:{local} -> 127.0.0.1:{echo_server} through gw"), \
            line + proc.stderr.read() if proc.poll() is not None else line
        assert _echo_through(local, b"through the tunnel" * 1000) == b"through the tunnel" * 1000
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=DEADLINE)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    assert proc.returncode == 0, err
    assert "1 connections, 18000 bytes sent, 18000 bytes received" in err
    again = Services(Workspace(ws))
    ended = [e for e in audit.entries(again.conn, host="gw") if e.action == "tunnel-result"]
    assert ended and "18000 bytes sent" in ended[-1].detail
    again.close()


def test_tunnel_to_unknown_host_key_is_refused(sshd, tmp_path, cli):
    ws = Workspace(tmp_path / "ws")   # no pinned key for the server
    svc = Services(ws)
    svc.roster.add(HostSpec(name="gw", address=sshd.host, port=sshd.port, user=sshd.user,
                            key=str(sshd.client_key_path)))
    svc.close()
    started = time.monotonic()
    code, out, err = cli("tunnel", "gw", "127.0.0.1:9")
    assert code == 1 and out == "" and err.startswith("techdesk: error:") and len(err.strip().splitlines()) == 1
    assert time.monotonic() - started < DEADLINE


def test_saved_tunnels_go_with_the_host_and_run_by_label(sshd, tmp_path, echo_server, cli):
    svc = _services(tmp_path, sshd)
    svc.close()
    code, out, err = cli("tunnel", "gw", "--list", "--json")
    assert code == 0 and out.strip() == "[]"
    code, _out, err = cli("tunnel", "gw", "bad spec", "--save", "x")
    assert code == 64 and "not a forward" in err
    svc = Services(Workspace(tmp_path / "ws"))
    saved = svc.tunnels.save("gw", f"127.0.0.1:{echo_server}", "  echo   desk ")
    assert saved.label == "echo desk" and saved.spec.local_port == 0
    with pytest.raises(SessionError, match="already has"):
        svc.tunnels.save("gw", "127.0.0.1:22", "echo desk")
    assert [t.label for t in svc.tunnels.saved("gw")] == ["echo desk"]

    async def scenario():
        forward = await svc.tunnels.start(saved.id)
        assert await svc.tunnels.start(saved.id) is forward          # started once
        back = await asyncio.get_running_loop().run_in_executor(None, _echo_through, forward.port, b"rdp" * 100)
        assert back == b"rdp" * 100
        assert svc.tunnels.launch(saved.id) is None                  # an echo port: nothing to open
        svc.tunnels.stop(saved.id)
        return forward

    forward = asyncio.run(scenario())
    assert not forward.active and saved.id not in svc.tunnels.running
    ended = [e for e in audit.entries(svc.conn, host="gw") if e.action == "tunnel-result"]
    assert "300 bytes sent, 300 bytes received" in ended[-1].detail
    svc.roster.remove("gw")
    assert svc.tunnels.saved("gw") == []            # removed with its host
    assert svc.conn.execute("SELECT COUNT(*) FROM tunnels").fetchone()[0] == 0
    svc.close()


def test_open_launches_rdp_or_browser_on_the_forwarded_port():
    from techdesk.services.tunnels import launch_plan

    assert launch_plan(443, 15443).url == "https://127.0.0.1:15443/"
    assert launch_plan(8080, 18080).url == "http://127.0.0.1:18080/"
    assert launch_plan(3389, 13389, "win32").argv == ("mstsc", "/v:127.0.0.1:13389")
    assert launch_plan(3389, 13389, "darwin").url.startswith("rdp://full%20address=s:127.0.0.1:13389")
    linux = launch_plan(3389, 13389, "linux", which=lambda p: p == "xfreerdp")
    assert linux.argv == ("xfreerdp", "/v:127.0.0.1:13389")
    assert launch_plan(3389, 13389, "linux", which=lambda p: None) is None   # no client: no Open
    assert launch_plan(22, 2222) is None
