"""The demo workspace and its embedded SSH server: real server, real client, checks on."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import threading
import time
from pathlib import Path

import paramiko
import pytest

from techdesk.core.severity import Status
from techdesk.demo import personas
from techdesk.demo.server import DemoError
from techdesk.demo.workspace import DemoEnvironment
from techdesk.diagnostics.registry import builtin_bundles
from techdesk.services.context import Services
from techdesk.workspace import Workspace

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the demo server runs /bin/sh")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One demo environment for the tests that only read or add runs."""
    environment = DemoEnvironment.create(tmp_path_factory.mktemp("demo") / "ws")
    yield environment
    environment.close()


@pytest.fixture(scope="module")
def health(env):
    """A live linux-health run over every demo host (its timing: scripts/bench_demo.py)."""
    services = Services(Workspace(env.workspace_path))
    try:
        bundle = services.bundles.get("linux-health")
        return asyncio.run(services.runner.run(bundle, services.roster.hosts(), concurrency=16))
    finally:
        services.close()


@pytest.fixture
def services(env):
    svc = Services(Workspace(env.workspace_path))
    yield svc
    svc.close()


def _result(report, host):
    return next(r for r in report.results if r.host == host)


def _checks(report, host):
    return {c.id: c for c in _result(report, host).checks}


def _run(svc, bundle, hosts, **kw):
    return asyncio.run(svc.runner.run(svc.bundles.get(bundle), [svc.roster.get(h) for h in hosts],
                                      **kw))


# -- the personas -----------------------------------------------------------------------------

def test_file_server_disk_is_critical_on_srv(health):
    checks = _checks(health, "acme-fs01")
    assert checks["disk"].status is Status.CRIT
    assert "/srv" in checks["disk"].summary
    srv = checks["disk"].metrics["/srv"]
    assert srv.value == 94 and srv.uom == "%" and srv.crit == 90
    assert checks["inodes"].status is Status.WARN and checks["inodes"].metrics["/srv"].value == 86


def test_web_server_failed_nginx_and_security_updates(health):
    checks = _checks(health, "acme-web01")
    assert checks["failed_units"].status in (Status.WARN, Status.CRIT)
    assert "nginx.service" in checks["failed_units"].summary
    assert checks["updates"].status is Status.WARN
    assert checks["updates"].metrics["security_updates"].value == 3


def test_workstations_are_healthy(health):
    for name in (personas.HEALTHY_HOST, "sued-kasse1"):
        result = _result(health, name)
        assert result.error is None
        assert len(result.checks) == len(builtin_bundles()[0]["linux-health"].checks)
        assert {c.id: c.status for c in result.checks if c.status is not Status.OK} == {}, name


def test_db_mail_and_nas_personas(health):
    db, mail, nas = (_checks(health, h) for h in ("acme-db01", "acme-mail", "lager-nas"))
    assert db["memory"].status is Status.WARN and db["memory"].metrics["mem_used"].value == 92.4
    assert db["swap"].status is Status.WARN
    assert mail["reboot"].status is Status.WARN and "linux-image" in mail["reboot"].summary
    assert nas["clock"].status is Status.WARN and "not synchronised" in nas["clock"].summary
    assert nas["kernel_errors"].status is Status.WARN
    assert "older than 7 days" in nas["updates"].summary


def test_unreachable_host_is_reported_at_once(health):
    result = _result(health, personas.UNREACHABLE_HOST)
    assert result.error is not None and result.error.kind == "unreachable"
    assert result.duration_s < 3


def test_every_host_as_designed(health):
    from techdesk.cli.demo import designed_differences

    report = health
    assert len(report.results) == len(personas.HOSTS)
    assert designed_differences(report, [c.id for c in _checks(report, "acme-fs01").values()]) == []


def test_seed_lines_match_what_the_scripts_print(health):
    """The seeded history imitates the scripts: today's imitation = the live run."""
    from techdesk.core.perfdata import apply_thresholds, parse_output, strip_status_word
    from techdesk.diagnostics.registry import builtin_bundles

    report = health
    checks = {c.id: c for c in builtin_bundles()[0]["linux-health"].checks}
    for h in personas.HOSTS:
        if h.unreachable:
            continue
        live = _checks(report, h.name)
        for cid, (text, code) in personas.check_lines(h.state(0.0)).items():
            first, metrics = parse_output(text)
            status = apply_thresholds(Status.from_exit_code(code), metrics, checks[cid].thresholds)
            assert status is live[cid].status, (h.name, cid)
            assert set(metrics) == set(live[cid].metrics), (h.name, cid)
            if cid != "kernel_errors":  # the live one carries the journal's time stamp
                assert strip_status_word(first) == live[cid].summary, (h.name, cid)


# -- the seeded workspace ---------------------------------------------------------------------

def test_roster_defaults_keys_and_settings(env, services):
    assert services.workspace.technician == "Demo Technician"
    assert {c.name for c in services.roster.clients()} == {
        "Acme Logistics", "Bäckerei Müller", "Praxis Dr. Weiß"}
    hosts = {h.name: h for h in services.roster.hosts()}
    assert set(hosts) == {h.name for h in personas.HOSTS} == set(env.hosts)
    fs = hosts["acme-fs01"]
    assert (fs.address, fs.port, fs.spec.site) == ("127.0.0.1", env.hosts["acme-fs01"], "HQ")
    assert fs.sources["key"] == "client" and fs.key == str(env.client_key_path)
    assert fs.user and fs.sources["user"] == "client"
    assert env.client_key_path.stat().st_mode & 0o777 == 0o600
    assert str(env.client_key_path).startswith(str(env.workspace_path))
    pinned = services.workspace.known_hosts_path.read_text().splitlines()
    assert sorted(pinned) == sorted(
        f"[127.0.0.1]:{port} ssh-ed25519 {env.server.host_key.get_base64()}"
        for port in env.hosts.values())


def test_seeded_history_trends(env, services):
    hist = services.history
    for h in personas.HOSTS:
        assert len(hist.host_runs(h.name, limit=100)) >= 30, h.name
    srv = [m["value"] for m in hist.metric_series("acme-fs01", "disk", "/srv")]
    assert len(srv) >= 30
    assert 67 <= srv[0] <= 73 and srv[-1] >= 92
    days = range(len(srv))
    slope = statistics.linear_regression(days, srv).slope
    assert 0.6 < slope < 1.0  # % a day: "full in ~7 days"
    mem = [m["value"] for m in hist.metric_series("acme-db01", "memory", "mem_used")]
    assert all(84 <= v < 95 for v in mem) and statistics.pstdev(mem) > 0.5
    # The unreachable PC answered until the weekend.
    runs = hist.host_runs(personas.UNREACHABLE_HOST, limit=100)
    assert runs[0].error_kind == "unreachable" and runs[-1].error_kind is None
    # The seeded runs are in the past, one a day.
    started = sorted(r.started for r in hist.host_runs("acme-db01", limit=100))
    assert started[0] < started[-1] and all(s[:10] != started[0][:10] for s in started[1:3])


def test_seeded_notes_and_visit(services):
    from datetime import UTC, datetime, timedelta

    notes = services.notes.list()
    assert len(notes) == 6
    fs_note = next(n for n in notes if n.host == "acme-fs01")
    assert fs_note.runs and fs_note.runs[0].findings and fs_note.followups
    assert fs_note.visit_id is not None
    assert sorted(n.title for n in notes if n.pinned) == [
        "Never restart lager-nas during warehouse hours", "Server room: key and alarm"]
    visits = services.visits.list()
    assert len(visits) == 2  # newest first: the visit a week ago, then the log cleanup
    visit = visits[0]
    assert not visit.running and visit.id == fs_note.visit_id
    started = datetime.fromisoformat(visit.started)
    assert timedelta(days=6) < datetime.now(UTC) - started < timedelta(days=8)
    assert visit.billable_minutes == 165 and set(visit.hosts) == {"acme-fs01", "acme-db01"}
    assert len(visit.runs) == 2


def test_seeded_care_story_is_what_the_care_report_shows(services):
    """The demo's month: the /var/log cleanup on acme-web01 is caught before an outage,
    its fix note keeps the run before (WARNING) and after (OK), alerts opened and resolved."""
    from datetime import UTC, datetime, timedelta

    from techdesk.reports.period import Period

    now = datetime.now(UTC)
    report = services.reports.care_data("Acme Logistics", Period(now - timedelta(days=31), now, "the demo month"))
    caught = [(c["host"], c["check"]) for c in report["caught"]]
    assert ("acme-web01", "disk") in caught
    item = report["caught"][caught.index(("acme-web01", "disk"))]
    assert item["evidence"]["label"] == "/var/log" and item["worst"] == "warn"
    assert [f["host"] for f in report["fixes"]] == ["acme-web01"]
    assert report["fixes"][0]["changes"][0]["was"] == "warn" and report["fixes"][0]["changes"][0]["now"] == "ok"
    assert report["alerts"]["opened"] >= 5 and report["alerts"]["resolved"] >= 1
    assert report["time"]["count"] == 2
    assert report["never_reached"] == []  # lager-pc02 answered earlier in the month
    brief = services.reports.briefing_data("Acme Logistics")
    assert len(brief["pinned"]) == 2 and brief["last_visit"]["time"] == "2 h 40 min"
    assert any(n["host"] == "lager-pc02" for n in brief["not_seen"])


# -- the SSH server ---------------------------------------------------------------------------

def test_exec_stdin_exit_status_and_refusals(env, tmp_path):
    from techdesk.ssh import Target, TrustStore
    from techdesk.ssh.connect import connect

    trust = TrustStore(env.workspace_path / "known_hosts", None)
    target = Target(personas.HEALTHY_HOST, "127.0.0.1", env.hosts[personas.HEALTHY_HOST],
                    user=env.server.user, key_file=str(env.client_key_path))
    out = bytearray()
    with connect([target], trust) as conn:
        status = conn.run("echo hi; cat; echo oops >&2; exit 3", b"from stdin\n", out.extend)
        assert status == 3
        # stdout and stderr are separate streams: their interleaving is not ordered.
        assert bytes(out).replace(b"oops\n", b"", 1) == b"hi\nfrom stdin\n"
        out.clear()
        # The persona: stubs first on PATH, the fake root.
        conn.run("hostname; uname -r; df -P | tail -n 1", b"", out.extend)
        assert bytes(out).decode().splitlines()[:2] == [personas.HEALTHY_HOST, "6.1.0-21-amd64"]
        transport = conn.transports[-1]
        with pytest.raises(paramiko.ChannelException):
            transport.open_channel("direct-tcpip", ("127.0.0.1", 22), ("127.0.0.1", 0), timeout=5)
        chan = transport.open_session(timeout=5)
        with pytest.raises(paramiko.SSHException):
            chan.invoke_shell()
        with pytest.raises(paramiko.SSHException):
            transport.request_port_forward("127.0.0.1", 0)


def test_host_key_checking_stays_on(env, tmp_path):
    with DemoEnvironment.create(tmp_path / "other") as other:
        svc = Services(Workspace(other.workspace_path))
        try:
            # Point the other workspace's host at the FIRST server: its key is not pinned there.
            port = env.hosts[personas.HEALTHY_HOST]
            svc.roster.edit(personas.HEALTHY_HOST, port=port)
            result = _run(svc, "linux-quick", [personas.HEALTHY_HOST]).results[0]
            assert result.error is not None and result.error.kind == "hostkey-unknown"
            assert not result.checks
            # Pinned to another key: refused as changed.
            key = other.server.host_key
            with open(svc.workspace.known_hosts_path, "a") as fh:
                fh.write(f"[127.0.0.1]:{port} {key.get_name()} {key.get_base64()}\n")
            result = _run(svc, "linux-quick", [personas.HEALTHY_HOST]).results[0]
            assert result.error is not None and result.error.kind == "hostkey-changed"
        finally:
            svc.close()


def test_password_demo_from_the_keyring(tmp_path):
    from techdesk import secrets

    host = personas.HEALTHY_HOST
    with DemoEnvironment.create(tmp_path / "ws") as demo:
        svc = Services(Workspace(demo.workspace_path))
        try:
            svc.roster.set_defaults("Praxis Dr. Weiß", key="")  # no key: the password path
            assert svc.roster.get(host).key is None
            secrets.set_secret("password", host, "wrong")
            result = _run(svc, "linux-quick", [host]).results[0]
            assert result.error is not None and result.error.kind == "auth"
            secrets.set_secret("password", host, "demo")
            result = _run(svc, "linux-quick", [host]).results[0]
            assert result.error is None and len(result.checks) >= 4
            assert all(c.status is Status.OK for c in result.checks)
        finally:
            svc.close()


def _demo_processes(workspace: Path) -> list[int]:
    marker = f"TECHDESK_DEMO_REPLIES={workspace}/".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_cancelled_run_leaves_no_processes(tmp_path):
    with DemoEnvironment.create(tmp_path / "ws") as demo:
        bundles = demo.workspace_path / "bundles"
        bundles.mkdir()
        (bundles / "slow.toml").write_text(
            '[bundle]\nname = "demo-slow"\nos = "linux"\n\n'
            '[[checks]]\nid = "first"\nscript = \'echo "OK - here"\'\n\n'
            '[[checks]]\nid = "slow"\ntimeout = 120\n'
            "script = '''\nsleep 60 &\nsleep 61\necho \"OK - slept\"\n'''\n")
        svc = Services(Workspace(demo.workspace_path))
        cancel = threading.Event()
        running: list[int] = []

        def stop() -> None:
            running.extend(_demo_processes(demo.workspace_path))
            cancel.set()

        # Both checks run in one wave (reported together once both ended): cancel
        # while "slow" sleeps.
        timer = threading.Timer(2.0, stop)
        try:
            t0 = time.monotonic()
            timer.start()
            report = _run(svc, "demo-slow", [personas.HEALTHY_HOST], cancel=cancel)
            assert time.monotonic() - t0 < 10
            assert report.cancelled and report.results[0].error is not None
            assert running, "the slow check should have been running when the run was cancelled"
            deadline = time.monotonic() + 5
            while _demo_processes(demo.workspace_path) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _demo_processes(demo.workspace_path) == []
            # The server goes on serving.
            result = _run(svc, "linux-quick", [personas.HEALTHY_HOST]).results[0]
            assert result.error is None
        finally:
            timer.cancel()
            svc.close()


def test_close_is_idempotent_and_frees_the_ports(tmp_path):
    demo = DemoEnvironment.create()
    folder = demo.workspace_path
    svc = Services(Workspace(folder))
    try:
        assert _run(svc, "linux-quick", [personas.HEALTHY_HOST]).results[0].error is None
    finally:
        svc.close()
    demo.close()
    demo.close()
    assert demo.server.closed and not folder.exists()
    for port in demo.hosts.values():
        with socket.socket() as s, pytest.raises(ConnectionRefusedError):
            s.connect(("127.0.0.1", port))
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))  # nothing holds it any more
            s.listen(1)
    assert not demo.server._thread.is_alive()
    # A folder given to create() is the caller's: close() leaves it.
    with DemoEnvironment.create(tmp_path / "mine") as mine:
        pass
    assert (mine.workspace_path / "techdesk.db").exists()
    with pytest.raises(DemoError, match="not empty"):
        DemoEnvironment.create(tmp_path / "mine")


# -- the commands -----------------------------------------------------------------------------

def _cli(argv: list[str]) -> int:
    """`techdesk ARGV` in-process; through a parser of our own until cli/__init__ registers us."""
    from techdesk import cli

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    if argv[0] in commands:
        return cli.main(argv)
    from techdesk.cli import demo

    parser = cli._Parser(prog="techdesk")
    demo.register(parser.add_subparsers(dest="command", parser_class=cli._Parser))
    args = parser.parse_args(argv)
    return args.func(None, args)


def test_selftest_passes(capsys):
    code = _cli(["selftest"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [line for line in out.splitlines() if line[:7].strip() in ("ok", "skip", "FAILED")]
    assert len(lines) == 6 and all(line.startswith("ok") for line in lines), out
    assert "linux-quick on praxis-empfang" in out and "selftest passed" in out
    assert "main window" in out


def test_selftest_json(capsys):
    code = _cli(["selftest", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["ok"] is True
    assert [s["status"] for s in data["steps"]] == ["ok"] * 6


def test_demo_command_prints_the_table_and_keeps_the_workspace(capsys, tmp_path):
    kept = tmp_path / "kept"
    code = _cli(["demo", "--keep", str(kept)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "HOST" in out and "WORST FINDING" in out
    for h in personas.HOSTS:
        assert h.name in out
    assert "CRIT" in out and "unreachable" in out
    assert "Every demo host gave its designed result" in out
    assert f"techdesk --workspace {kept.resolve()} gui" in out
    svc = Services(Workspace(kept))
    try:
        assert len(svc.history.host_runs("acme-fs01", limit=100)) == 32  # 30 nightly, 1 by hand, 1 now
    finally:
        svc.close()


def test_demo_command_json(capsys):
    code = _cli(["demo", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["as_designed"] and data["differences"] == []
    assert len(data["run"]["hosts"]) == len(personas.HOSTS)
    assert not Path(data["workspace"]).exists()
