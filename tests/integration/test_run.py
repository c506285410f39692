"""`techdesk run` end to end against OpenSSH's real sshd (host-key checking on)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
import time

import pytest

from techdesk.services.context import Services
from techdesk.ssh.connect import Timeouts
from techdesk.workspace import Workspace
from tests.integration.hostile_servers import FakeServer

pytestmark = pytest.mark.sshd


def _add(cli, sshd, name="local", **over):
    args = ["hosts", "add", name, "--address", over.get("address", sshd.host), "--port",
            str(over.get("port", sshd.port)), "--user", sshd.user, "--key", str(over.get("key", sshd.client_key_path))]
    code, _, err = cli(*args)
    assert code == 0, err


def _pin(workspace_dir, sshd):
    workspace_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")


def _bundle(workspace_dir, name: str, checks: str) -> None:
    folder = workspace_dir / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(
        f'[bundle]\nname = "{name}"\ntitle = "{name}"\nos = "linux"\nversion = 1\n\n{checks}')


def test_run_linux_health_json_and_history(cli, sshd, workspace_dir):
    _pin(workspace_dir, sshd)
    _add(cli, sshd)
    code, out, err = cli("run", "linux-health", "local", "--json")
    report = json.loads(out)
    host = report["hosts"][0]
    assert host["host"] == "local" and host["error"] is None, host
    assert len(host["checks"]) >= 12
    assert code == {"ok": 0, "warn": 1, "crit": 2, "unknown": 3}[host["status"]]
    disk = next(c for c in host["checks"] if c["id"] == "disk")
    assert disk["metrics"] and all("value" in m for m in disk["metrics"].values())
    assert set(report) == {"run_id", "bundle", "started", "hosts"}
    # The run is stored: history lists it and a metric series exists.
    code, out, _ = cli("history", "local", "--json")
    hist = json.loads(out)
    assert hist["runs"][0]["run_id"] == report["run_id"]
    assert any(m["check_id"] == "disk" for m in hist["metrics"])
    # The audit log has the script that was sent and verifies.
    code, out, _ = cli("audit", "--json")
    audit = json.loads(out)
    assert code == 0 and audit["verified"]
    sent = [e for e in audit["entries"] if e["action"] == "run"]
    assert sent and sent[0]["host"] == "local" and len(sent[0]["script_sha256"]) == 64


def test_unknown_host_key_runs_nothing_without_flag(cli, sshd, workspace_dir, tmp_path):
    marker = tmp_path / "was-run"
    _bundle(workspace_dir, "touch", f'[[checks]]\nid = "t"\ntitle = "t"\nscript = "touch {marker}; echo OK"\n')
    _add(cli, sshd)
    code, out, _ = cli("run", "touch", "local", "--json")
    assert code == 3
    error = json.loads(out)["hosts"][0]["error"]
    assert error["kind"] == "hostkey-unknown" and "SHA256:" in error["message"]
    assert not marker.exists()
    assert not (workspace_dir / "known_hosts").exists() or "127.0.0.1" not in (workspace_dir / "known_hosts").read_text()
    code, out, _ = cli("run", "touch", "local", "--json", "--accept-new-hostkeys")
    assert code == 0, out
    assert marker.exists()
    assert f"[127.0.0.1]:{sshd.port}" in (workspace_dir / "known_hosts").read_text()


def test_changed_host_key_is_refused_even_with_flag(cli, sshd, sshd_fresh, workspace_dir, tmp_path):
    # Pin the session server's keys for the fresh server's port: its real key then differs.
    workspace_dir.mkdir(parents=True, exist_ok=True)
    pinned = sshd.known_hosts_path.read_text().replace(f"]:{sshd.port} ", f"]:{sshd_fresh.port} ")
    assert f"]:{sshd_fresh.port} " in pinned
    (workspace_dir / "known_hosts").write_text(pinned)
    marker = tmp_path / "was-run"
    _bundle(workspace_dir, "touch", f'[[checks]]\nid = "t"\ntitle = "t"\nscript = "touch {marker}"\n')
    _add(cli, sshd_fresh, port=sshd_fresh.port)
    code, out, _ = cli("run", "touch", "local", "--json", "--accept-new-hostkeys")
    assert code == 3
    error = json.loads(out)["hosts"][0]["error"]
    assert error["kind"] == "hostkey-changed"
    assert error["message"].count("SHA256:") >= 2 and "hostkeys forget" in error["message"]
    assert not marker.exists()
    assert (workspace_dir / "known_hosts").read_text() == pinned
    _, out, _ = cli("audit", "--json")
    assert any(e["action"] == "hostkey-changed" for e in json.loads(out)["entries"])


def test_failures_are_per_host_and_classified(cli, sshd, workspace_dir, tmp_path):
    _pin(workspace_dir, sshd)
    _add(cli, sshd, "good")
    bad_key = tmp_path / "stranger"
    import paramiko

    paramiko.Ed25519Key.generate().write_private_key_file(str(bad_key)) if hasattr(
        paramiko.Ed25519Key, "generate") else None
    if not bad_key.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        bad_key.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    _add(cli, sshd, "wrongkey", key=str(bad_key))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    _add(cli, sshd, "nothing-listens", port=closed_port)
    hostile = "srv; $(touch /tmp/td-pwned) `id` 'q' \"dq\" ☃"
    _add(cli, sshd, hostile)
    t0 = time.monotonic()
    code, out, err = cli("run", "linux-quick", "--all", "--json")
    took = time.monotonic() - t0
    hosts = {h["host"]: h for h in json.loads(out)["hosts"]}
    assert hosts["good"]["error"] is None and hosts["good"]["checks"]
    assert hosts[hostile]["error"] is None and hosts[hostile]["checks"]
    assert hosts["wrongkey"]["error"]["kind"] == "auth"
    assert hosts["nothing-listens"]["error"]["kind"] == "unreachable"
    # Host failures make it 3, unless a check on a healthy host is CRITICAL (a busy
    # machine's load can be): CRITICAL outranks everything.
    any_crit = any(c["status"] == "crit" for h in hosts.values() for c in h["checks"])
    assert code == (2 if any_crit else 3)
    assert took < 20
    import os

    assert not os.path.exists("/tmp/td-pwned")


def test_silent_server_times_out_bounded(sshd, workspace_dir):
    listener = FakeServer()
    svc = Services(Workspace(workspace_dir))
    try:
        from techdesk.core.roster import HostSpec

        svc.roster.add(HostSpec(name="mute", address="127.0.0.1", port=listener.port))
        t0 = time.monotonic()
        report = asyncio.run(svc.runner.run(svc.bundles.get("linux-quick"), [svc.roster.get("mute")],
                                            timeouts=Timeouts(connect=2, banner=1, auth=2)))
        took = time.monotonic() - t0
        assert report.results[0].error.kind == "timeout"
        assert took < 6
    finally:
        svc.close()
        listener.close()


def test_sshd_killed_mid_run_loses_only_that_host(sshd, sshd_factory, workspace_dir, tmp_path):
    victim = sshd_factory()
    ws = Workspace(workspace_dir)
    (workspace_dir / "known_hosts").write_text(sshd.known_hosts_path.read_text()
                                               + victim.known_hosts_path.read_text())
    # The checks of one wave (six by default) are reported together once all of them
    # ended: "fast" is in the first wave, "slow" alone in the second.
    fast = "".join(f'[[checks]]\nid = "fast{i}"\ntitle = "fast"\nscript = "echo OK fast"\n\n'
                   for i in range(6))
    _bundle(workspace_dir, "slow", fast + '[[checks]]\nid = "slow"\ntitle = "slow"\ntimeout = 60\n'
            'script = "sleep 20; echo OK"\n')
    svc = Services(ws)
    try:
        from techdesk.core.roster import HostSpec

        svc.roster.add(HostSpec(name="victim", address="127.0.0.1", port=victim.port, user=sshd.user,
                                key=str(sshd.client_key_path)))
        svc.roster.add(HostSpec(name="survivor", address="127.0.0.1", port=sshd.port, user=sshd.user,
                                key=str(sshd.client_key_path)))
        quick = svc.bundles.get("linux-quick")
        slow = svc.bundles.get("slow")

        async def scenario():
            victim_run = asyncio.ensure_future(svc.runner.run(slow, [svc.roster.get("victim")]))
            await asyncio.sleep(1.5)
            victim.kill()
            other = await svc.runner.run(quick, [svc.roster.get("survivor")])
            return await asyncio.wait_for(victim_run, 15), other

        t0 = time.monotonic()
        report, other = asyncio.run(scenario())
        assert time.monotonic() - t0 < 15
        result = report.results[0]
        assert result.error is not None and result.error.kind in ("unreachable", "protocol")
        by_id = {c.id: c for c in result.checks}
        assert by_id["fast0"].status.value == "ok"  # what was reported before the cut is kept
        assert by_id["fast5"].status.value == "ok"
        assert by_id["slow"].status.value == "unknown"
        assert other.results[0].error is None
    finally:
        svc.close()


def test_cancel_stops_every_host(sshd, workspace_dir):
    _pin(workspace_dir, sshd)
    _bundle(workspace_dir, "slow", '[[checks]]\nid = "slow"\ntitle = "slow"\ntimeout = 60\nscript = "sleep 30"\n')
    svc = Services(Workspace(workspace_dir))
    try:
        from techdesk.core.roster import HostSpec

        for i in range(5):
            svc.roster.add(HostSpec(name=f"h{i}", address="127.0.0.1", port=sshd.port, user=sshd.user,
                                    key=str(sshd.client_key_path)))
        cancel = threading.Event()

        async def scenario():
            task = asyncio.ensure_future(svc.runner.run(svc.bundles.get("slow"), svc.roster.hosts(),
                                                        cancel=cancel))
            await asyncio.sleep(1.5)
            cancel.set()
            return await asyncio.wait_for(task, 10)

        t0 = time.monotonic()
        report = asyncio.run(scenario())
        assert time.monotonic() - t0 < 8
        assert report.cancelled
        assert all(r.error and "cancel" in r.error.message for r in report.results)
    finally:
        svc.close()


def test_hostile_checks_over_ssh_are_capped_cleaned_and_bounded(cli, sshd, workspace_dir):
    """Over the real sshd: a check past its timeout, one printing 100 MB, one forging
    frames and escape sequences — each gives a bounded, cleaned result and the next check runs."""
    _pin(workspace_dir, sshd)
    _add(cli, sshd)
    checks = (
        '[[checks]]\nid = "sleepy"\ntitle = "sleepy"\ntimeout = 2\nscript = "sleep 30; echo OK"\n\n'
        '[[checks]]\nid = "flood"\ntitle = "flood"\nscript = "yes | head -c 100000000; exit 0"\n\n'
        '[[checks]]\nid = "forger"\ntitle = "forger"\nscript = \'\'\'\n'
        'printf "OK - fine\\\\n@@TD-00000000000000000000000000000000 END forger 0 -\\\\n"\n'
        'printf "\\\\033[31mred\\\\033[0m \\\\033]0;title\\\\007 \\\\342\\\\200\\\\256evil \\\\377\\\\376\\\\n"\n'
        'exit 2\n\'\'\'\n\n'
        '[[checks]]\nid = "after"\ntitle = "after"\nscript = "echo OK - still running"\n'
    )
    _bundle(workspace_dir, "hostile", checks)
    t0 = time.monotonic()
    code, out, err = cli("run", "hostile", "local", "--json")
    took = time.monotonic() - t0
    host = json.loads(out)["hosts"][0]
    by_id = {c["id"]: c for c in host["checks"]}
    assert took < 25, took
    assert by_id["sleepy"]["status"] == "unknown" and by_id["sleepy"]["timed_out"]
    assert by_id["flood"]["truncated"] and len(by_id["flood"]["output"]) <= 300_000
    forger = by_id["forger"]
    assert forger["status"] == "crit" and forger["exit_code"] == 2
    assert "\x1b" not in forger["output"] and "\u202e" not in forger["output"] and "\x07" not in forger["output"]
    assert "\ufffd" in forger["output"]  # invalid UTF-8 replaced, not dropped silently
    assert by_id["after"]["status"] == "ok" and by_id["after"]["summary"] == "still running"
    assert code == 2
