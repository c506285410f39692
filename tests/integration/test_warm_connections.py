"""Warm connections (ssh/pool.py) against OpenSSH's real sshd: reuse and every reason not to."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from techdesk import secrets
from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.ssh.knownhosts import TrustStore
from techdesk.workspace import Workspace

pytestmark = pytest.mark.sshd


def _services(tmp_path, server, *, idle_minutes: float = 5, name: str = "web") -> Services:
    ws = Workspace(tmp_path / "ws")
    ws.settings.warm_connection_minutes = idle_minutes
    ws.save_settings()
    shutil.copy(server.known_hosts_path, ws.known_hosts_path)
    svc = Services(ws)
    svc.roster.add(HostSpec(name=name, address=server.host, port=server.port, user=server.user,
                            key=str(server.client_key_path)))
    folder = ws.bundles_dir
    folder.mkdir(parents=True, exist_ok=True)
    marker = tmp_path / "runs.log"
    (folder / "probe.toml").write_text(
        '[bundle]\nname = "probe"\ntitle = "probe"\nos = "linux"\nversion = 1\n\n'
        f'[[checks]]\nid = "p"\ntitle = "p"\nscript = "echo run >> {marker}; echo OK"\n')
    return svc


def _run(svc: Services, name: str = "web"):
    bundle = svc.bundles.get("probe")
    report = asyncio.run(svc.runner.run(bundle, [svc.roster.get(name)]))
    return report.results[0]


def _connections_logged(server, since: int) -> int:
    return server.log_text(since).count("Connection from 127.0.0.1")


def _wait(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_second_run_reuses_one_tcp_connection(sshd, tmp_path):
    svc = _services(tmp_path, sshd)
    since = sshd.log_size()
    try:
        first, second = _run(svc), _run(svc)
        assert first.error is None and second.error is None, (first.error, second.error)
        assert svc.connections.opened == 1
        assert _connections_logged(sshd, since) == 1, sshd.log_text(since)
        assert svc.connections.connected() == ["web"]
    finally:
        svc.close()
    # exit closes it: the server sees the client go
    assert _wait(lambda: "Disconnected from user" in sshd.log_text(since)
                 or "Connection closed by 127.0.0.1" in sshd.log_text(since))


# Holds the session's output open after the shell is gone: a process of the user
# (here left by the check) that opened the topmost "sh -s"'s stdout.
HOLDER = r"""
p=$$ sh_pid=
while [ "$p" -gt 1 ]; do
  p=$(cut -d' ' -f4 /proc/$p/stat)
  [ "$(tr '\0' ' ' </proc/$p/cmdline)" = "sh -s " ] && sh_pid=$p
done
setsid sleep 25 >"/proc/$sh_pid/fd/1" 2>&1 </dev/null &
sleep 0.5  # out of the check's process group before the check ends (its group is killed)
echo "OK - left a holder"
"""


def test_a_run_returns_once_every_check_answered(sshd, tmp_path):
    """Before: the run waited for the session's output to end, which a process left
    holding it put off until the run's limit. Now it returns at the last END; the
    session ends on its own on the warm connection, which the next run still uses."""
    svc = _services(tmp_path, sshd)
    (svc.workspace.bundles_dir / "holder.toml").write_text(
        '[bundle]\nname = "holder"\nos = "linux"\n[[checks]]\nid = "h"\nscript = \'\'\'\n'
        + HOLDER + "\'\'\'\n")
    try:
        t0 = time.monotonic()
        report = asyncio.run(svc.runner.run(svc.bundles.get("holder"), [svc.roster.get("web")]))
        assert time.monotonic() - t0 < 10
        [result] = report.results
        assert result.error is None and [(c.id, c.status.value) for c in result.checks] == [("h", "ok")]
        assert _run(svc).error is None and svc.connections.opened == 1
    finally:
        t0 = time.monotonic()
        svc.close()  # waits at most 0.5 s for the held session, then closes
        assert time.monotonic() - t0 < 3
        subprocess.run(["pkill", "-f", "sleep 25"], check=False)


def test_idle_zero_means_no_warm_connection(sshd, tmp_path):
    svc = _services(tmp_path, sshd, idle_minutes=0)
    since = sshd.log_size()
    try:
        assert _run(svc).error is None and _run(svc).error is None
        assert svc.connections.connected() == []
        assert _connections_logged(sshd, since) == 2
    finally:
        svc.close()


def test_edited_endpoint_is_never_served_by_the_old_connection(sshd, sshd_fresh, tmp_path):
    svc = _services(tmp_path, sshd)
    try:
        assert _run(svc).error is None
        assert svc.connections.connected() == ["web"]
        with open(svc.workspace.known_hosts_path, "a") as fh:  # pin the other server too
            fh.write(sshd_fresh.known_hosts_path.read_text())
        since_old, since_new = sshd.log_size(), sshd_fresh.log_size()
        svc.roster.edit("web", port=sshd_fresh.port)
        assert svc.connections.connected() == []  # closed on the edit itself
        assert _run(svc).error is None
        assert _connections_logged(sshd_fresh, since_new) == 1
        assert _connections_logged(sshd, since_old) == 0
    finally:
        svc.close()


def test_pool_checks_the_route_even_without_an_edit_notice(sshd, sshd_fresh, tmp_path):
    """A route changed behind the service's back (e.g. by a sync merge) is caught on lease."""
    svc = _services(tmp_path, sshd)
    try:
        assert _run(svc).error is None
        svc.roster.conn.execute("UPDATE hosts SET port = ? WHERE name = 'web'", (sshd_fresh.port,))
        svc.roster.conn.commit()
        since_new = sshd_fresh.log_size()
        result = _run(svc)
        # fresh server's key is not pinned: refused, and certainly not run on the old server
        assert result.error is not None and result.error.kind == "hostkey-unknown", result.error
        assert _connections_logged(sshd_fresh, since_new) == 1
    finally:
        svc.close()


def test_changed_pin_is_never_served_by_the_old_connection(sshd, tmp_path):
    svc = _services(tmp_path, sshd)
    marker = tmp_path / "runs.log"
    try:
        assert _run(svc).error is None
        assert marker.read_text().count("run") == 1
        # The technician learns the machine was reinstalled: a different key is pinned now.
        trust: TrustStore = svc.trust
        trust.forget(sshd.host, sshd.port)
        trust.add(sshd.host, sshd.port, _other_key())
        result = _run(svc)
        assert result.error is not None and result.error.kind == "hostkey-changed", result.error
        assert marker.read_text().count("run") == 1  # nothing ran on the warm connection
        assert svc.connections.connected() == []
    finally:
        svc.close()


def _other_key() -> paramiko.PKey:
    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    kind, b64 = raw.split()[:2]
    return paramiko.PKey.from_type_string(kind, base64.b64decode(b64))


def test_secret_change_closes_the_connection(sshd, tmp_path):
    svc = _services(tmp_path, sshd)
    try:
        assert _run(svc).error is None and svc.connections.connected() == ["web"]
        secrets.set_secret("password", "web", "new password")
        assert svc.connections.connected() == []
    finally:
        svc.close()


def test_sshd_killed_while_idle_reconnects_cleanly(sshd_fresh, tmp_path):
    svc = _services(tmp_path, sshd_fresh)
    try:
        assert _run(svc).error is None
        sshd_fresh.kill_connections()  # the server side of the warm connection dies
        result = _run(svc)
        assert result.error is None, result.error
        assert svc.connections.opened == 2
        assert (tmp_path / "runs.log").read_text().count("run") == 2
    finally:
        svc.close()


def test_dead_warm_transport_is_replaced_once_before_anything_is_sent(sshd_fresh, tmp_path):
    """The transport still looks alive to the pool, but the server is gone: one new
    connection, and the script runs exactly once."""
    svc = _services(tmp_path, sshd_fresh)
    try:
        assert _run(svc).error is None
        pool = svc.connections
        entry = pool._entries["web"]
        # Close the socket under paramiko without telling the pool; is_active() still says
        # True for a moment, so the lease hands it out and opening a session fails.
        entry.conn.transport.sock.close()
        original = entry.conn.is_active
        entry.conn.is_active = lambda: True
        result = _run(svc)
        entry.conn.is_active = original
        assert result.error is None, result.error
        assert pool.opened == 2
        assert (tmp_path / "runs.log").read_text().count("run") == 2
    finally:
        svc.close()


def test_connection_lost_mid_run_is_not_retried(sshd_fresh, tmp_path):
    svc = _services(tmp_path, sshd_fresh)
    marker = tmp_path / "slow.log"
    (svc.workspace.bundles_dir / "slow.toml").write_text(
        '[bundle]\nname = "slow"\ntitle = "slow"\nos = "linux"\nversion = 1\n\n'
        f'[[checks]]\nid = "s"\ntitle = "s"\ntimeout = 30\nscript = "echo run >> {marker}; sleep 20; echo OK"\n')
    try:
        assert _run(svc).error is None  # warm
        killer = threading.Thread(target=lambda: (_wait(marker.exists), sshd_fresh.kill_connections()))
        killer.start()
        report = asyncio.run(svc.runner.run(svc.bundles.get("slow"), [svc.roster.get("web")]))
        killer.join()
        assert report.results[0].error is not None
        assert report.results[0].error.kind == "unreachable", report.results[0].error
        time.sleep(0.5)
        assert marker.read_text().count("run") == 1  # never silently run a second time
    finally:
        svc.close()


def test_idle_timeout_closes_the_connection(sshd_fresh, tmp_path):
    svc = _services(tmp_path, sshd_fresh, idle_minutes=1 / 60)  # one second
    try:
        assert _run(svc).error is None
        assert _wait(lambda: svc.connections.connected() == [], 20)
        assert _wait(lambda: not sshd_fresh.connection_pids(), 20), sshd_fresh.connection_pids()
    finally:
        svc.close()


def test_keepalive_detects_a_server_that_stopped_answering(sshd_fresh, tmp_path):
    svc = _services(tmp_path, sshd_fresh)
    pool = svc.connections
    pool.keepalive_s, pool.probe_timeout_s = 1.0, 2.0
    stopped: list[int] = []
    try:
        assert _run(svc).error is None
        for pid in sshd_fresh.connection_pids():  # frozen: TCP stays up, nothing answers
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        assert _wait(lambda: pool.connected() == [], 20)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        svc.close()


@pytest.mark.parametrize("change", ["network", "sleep"])
def test_network_change_or_sleep_closes_warm_connections(sshd, tmp_path, monkeypatch, change):
    from techdesk.ssh import pool as pool_module

    svc = _services(tmp_path, sshd)
    try:
        assert _run(svc).error is None and svc.connections.connected() == ["web"]
        if change == "network":  # an interface came or went (Wi-Fi switched, VPN up)
            real = pool_module._interfaces
            monkeypatch.setattr(pool_module, "_interfaces", lambda: real() | {"wlan-new"})
        else:  # the boot-time clock ran ahead of the monotonic one: the laptop was asleep
            real_gap = pool_module._clock_gap
            monkeypatch.setattr(pool_module, "_clock_gap", lambda: real_gap() + 3600)
        assert _wait(lambda: svc.connections.connected() == [], 10)
    finally:
        svc.close()


def test_slowest_known_hosts_start_first(sshd, tmp_path):
    svc = _services(tmp_path, sshd)
    for name in ("fast", "slow"):
        svc.roster.add(HostSpec(name=name, address=sshd.host, port=sshd.port, user=sshd.user,
                                key=str(sshd.client_key_path)))
    try:
        bundle = svc.bundles.get("probe")
        hosts = [svc.roster.get(n) for n in ("fast", "web", "slow")]
        asyncio.run(svc.runner.run(bundle, hosts, concurrency=1))
        svc.conn.execute("UPDATE run_hosts SET duration_s = CASE host WHEN 'slow' THEN 9 "
                         "WHEN 'fast' THEN 0.1 ELSE 1 END")
        svc.conn.commit()
        started: list[str] = []
        asyncio.run(svc.runner.run(bundle, hosts, concurrency=1,
                                   on_event=lambda e: e.kind == "host-started" and started.append(e.host)))
        assert started == ["slow", "web", "fast"]
    finally:
        svc.close()


def test_lingering_sessions_never_use_up_the_servers_sessions(sshd_factory, tmp_path):
    """A hostile host leaves a holder in every run: each run's session lingers on
    the warm connection. Runs in quick succession (under LINGER_S apart) must not
    pile them up until the server refuses a session (MaxSessions, here 3)."""
    server = sshd_factory(extra_config="Match all\n  MaxSessions 3")
    svc = _services(tmp_path, server)
    pids = tmp_path / "holders"
    (svc.workspace.bundles_dir / "holder.toml").write_text(
        '[bundle]\nname = "holder"\nos = "linux"\n[[checks]]\nid = "h"\nscript = \'\'\'\n'
        + HOLDER.replace("sleep 0.5 ", f"echo $! >>{pids}; sleep 0.5 ") + "\'\'\'\n")
    try:
        for _ in range(5):
            report = asyncio.run(svc.runner.run(svc.bundles.get("holder"), [svc.roster.get("web")]))
            [result] = report.results
            assert result.error is None, result.error
            assert [c.status.value for c in result.checks] == ["ok"]
        assert svc.connections.opened == 1
    finally:
        svc.close()
        for pid in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
