"""Proactive monitoring end to end: schedules through the CLI, due times with a fake
clock, sweeps against OpenSSH's real sshd (host-key checking on), backoff, staleness,
alerts without storms, webhooks to a local HTTP server, forecasts from stored history,
the sweep lock across processes, and schedules travelling through team sync."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import types
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from techdesk.core.findings import CheckResult, HostResult, Metric
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.services.context import Services
from techdesk.services.monitor_types import HealthReport, SweepResult
from techdesk.store import runs as runs_repo
from techdesk.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
MIN = timedelta(minutes=1)


def _pin(workspace_dir: Path, sshd) -> None:
    workspace_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")


def _bundle(workspace_dir: Path, name: str, script: str, check: str = "probe") -> None:
    folder = workspace_dir / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(
        f'[bundle]\nname = "{name}"\ntitle = "{name}"\nos = "linux"\nversion = 1\n\n'
        f'[[checks]]\nid = "{check}"\ntitle = "Probe"\ntimeout = 20\nscript = \'\'\'\n{script}\n\'\'\'\n')


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _services(workspace_dir: Path, **settings) -> Services:
    ws = Workspace(workspace_dir)
    for key, value in settings.items():
        setattr(ws.settings, key, value)
    ws.save_settings()
    return Services(ws)


def _add_host(svc: Services, sshd, name: str, port: int | None = None, **spec) -> None:
    svc.roster.add(HostSpec(name=name, address=sshd.host, port=port or sshd.port, user=sshd.user,
                            key=str(sshd.client_key_path), **spec))


def _sweep(svc: Services, now: datetime) -> dict:
    return asyncio.run(svc.monitor.sweep(now=now))


def _shaped(value, kind, where: str = "") -> None:
    """``value`` has the keys its declared type (services/monitor_types.py) says, all the
    way down: each required key, no key the type does not name."""
    if typing.is_typeddict(kind):
        hints = typing.get_type_hints(kind)
        assert kind.__required_keys__ <= value.keys() <= hints.keys(), (where or kind.__name__, sorted(value))
        for key, item in value.items():
            _shaped(item, hints[key], f"{where}.{key}")
    elif typing.get_origin(kind) is list:
        for i, item in enumerate(value):
            _shaped(item, typing.get_args(kind)[0], f"{where}[{i}]")
    elif typing.get_origin(kind) in (typing.Union, types.UnionType) and value is not None:
        [inner] = [k for k in typing.get_args(kind) if typing.is_typeddict(k)] or [None]
        if inner is not None:
            _shaped(value, inner, where)


def _opened(result: dict, check: str | None = None) -> list[dict]:
    return [e for e in result["alerts"] if e["event"] == "opened" and (check is None or e["check"] == check)]


# ---------------------------------------------------------------------------- schedules in the CLI
def test_schedule_add_list_remove_and_bad_input(cli, workspace_dir):
    for args in (("web1", "--client", "Acme", "--site", "HQ", "--tag", "web"),
                 ("db1", "--client", "Acme", "--site", "Branch"), ("pc9", "--client", "Other", "--site", "HQ")):
        assert cli("hosts", "add", args[0], "--address", "10.0.0.9", *args[1:])[0] == 0
    code, out, err = cli("schedule", "add", "linux-quick", "--client", "Acme", "--every", "6h",
                         "--window", "Sun 02:00-04:00 Europe/Berlin", "--window", "Mon-Fri 22:00-02:00 UTC alerts",
                         "--json")
    assert code == 0, err
    first = json.loads(out)
    assert (first["bundle"], first["target"], first["every"], first["hosts"]) == ("linux-quick", "client:Acme", "6h", 2)
    assert first["windows"] == ["Sun 02:00-04:00 Europe/Berlin", "Mon-Fri 22:00-02:00 UTC alerts"]
    code, out, err = cli("schedule", "add", "linux-health", "--site", "Branch", "--every", "1d")
    assert code == 0 and "site:Acme/Branch" in out and "(1 host now)" in out, (out, err)
    assert cli("schedule", "add", "linux-health", "--tag", "web", "--every", "90m")[0] == 0
    code, out, err = cli("schedule", "add", "linux-health", "--tag", "nobody", "--every", "1d")
    assert code == 0 and "no host matches tag:nobody yet" in err
    code, out, _ = cli("schedule", "list", "--json")
    listed = json.loads(out)
    assert [s["target"] for s in listed] == ["client:Acme", "site:Acme/Branch", "tag:web", "tag:nobody"]
    assert listed[2]["every"] == "90m" and listed[0]["next_due"] and listed[0]["last_run"] is None
    code, out, _ = cli("schedule", "list")
    assert code == 0 and first["id"][:8] in out and "Sun 02:00-04:00 Europe/Berlin" in out

    bad = [
        (("linux-quick", "--all", "--every", "6x"), "bad interval '6x'"),
        (("linux-quick", "--all", "--every", "0m"), "must be from 1m to 365d"),
        (("linux-quick", "--all", "--every", "1h", "--window", "Sun 02:00-04:00 Mars/Olympus"), "unknown time zone"),
        (("linux-quick", "--all", "--every", "1h", "--window", "Someday 02:00-04:00 UTC"), "unknown day"),
        (("linux-quick", "--all", "--every", "1h", "--window", "Sun 02:00-02:00 UTC"), "ends when it starts"),
        (("no-such-bundle", "--all", "--every", "1h"), "no bundle named 'no-such-bundle'"),
        (("linux-quick", "--client", "Nobody", "--every", "1h"), "no client named 'Nobody'"),
        (("linux-quick", "--host", "ghost", "--every", "1h"), "no host named 'ghost'"),
        (("linux-quick", "--site", "HQ", "--every", "1h"), "exists at several clients"),
        (("linux-quick", "--site", "Acme/Nowhere", "--every", "1h"), "no site 'Acme/Nowhere'"),
        (("linux-quick", "--every", "1h"), "one of the arguments"),
    ]
    for args, message in bad:
        code, out, err = cli("schedule", "add", *args)
        assert code == 64, (args, code, err)
        last = err.strip().splitlines()[-1]
        assert last.startswith("techdesk: error: ") and message in last and "Traceback" not in err, (args, err)
        assert err.count("\n") == 1 or err.startswith("usage:"), err  # argparse adds its usage
        assert out == ""
    for ident, message in (("zzzz", "no schedule with id 'zzzz'"), ("", "no schedule"), ("a", "no schedule")):
        code, _, err = cli("schedule", "remove", ident)
        assert code == 64 and message in err and err.count("\n") == 1, err
    code, out, err = cli("schedule", "remove", first["id"][:6])
    assert code == 0 and "removed schedule" in out, err
    assert [s["target"] for s in json.loads(cli("schedule", "list", "--json")[1])] == \
        ["site:Acme/Branch", "tag:web", "tag:nobody"]
    code, out, _ = cli("schedule", "disable", listed[1]["id"][:8])
    assert code == 0 and "disabled" in out
    assert json.loads(cli("schedule", "list", "--json")[1])[0]["enabled"] is False


def test_schedule_install_prints_or_writes_the_os_entry(cli, workspace_dir, tmp_path, monkeypatch):
    import techdesk.services.os_scheduler as mon_cli

    code, out, err = cli("schedule", "install", "--print")
    assert code == 0 and "sweep" in out and str(workspace_dir.absolute()) in out, (out, err)
    monkeypatch.setattr(mon_cli, "detect_system", lambda: "systemd")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    units = tmp_path / "cfg" / "systemd" / "user"
    code, out, _ = cli("schedule", "install", "--print")
    assert code == 0 and not units.exists() and "[Timer]" in out
    code, out, _ = cli("schedule", "install")
    assert code == 0 and "wrote" in out and "systemctl --user" in out
    assert sorted(p.suffix for p in units.iterdir()) == [".service", ".timer"]
    service = next(units.glob("*.service")).read_text()
    assert f'"{sys.executable}" "-m" "techdesk" "--workspace" "{workspace_dir.absolute()}" "sweep"' in service
    code, out, _ = cli("schedule", "install")
    assert code == 0 and "already installed" in out
    monkeypatch.setattr(mon_cli, "detect_system", lambda: "cron")
    code, out, err = cli("schedule", "install")
    assert code == 0 and out.startswith("*/5 * * * * ") and "crontab -e" in err


# ---------------------------------------------------------------------------- due, with a fake clock
def test_due_honours_last_run_windows_backoff_and_overlap(workspace_dir):
    svc = _services(workspace_dir)
    for name, client in (("a1", "Acme"), ("a2", "Acme"), ("b1", "Beta")):
        svc.roster.add(HostSpec(name=name, address="10.0.0.1", client=client))
    svc.roster.add(HostSpec(name="w1", address="10.0.0.2", client="Acme", os="windows"))
    mon = svc.monitor
    hourly = mon.add_schedule("linux-quick", "client:Acme", "1h")
    now = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday
    due = mon.due(now)
    assert [(s["id"], hosts) for s, hosts in due] == [(hourly["id"], ["a1", "a2"])]  # never run: due; w1 is windows
    from techdesk.store import monitor as repo

    repo.mark_runs(svc.conn, [(hourly["id"], "a1", repo.iso(now), "r1"), (hourly["id"], "a2", repo.iso(now), "r1")])
    assert mon.due(now + 30 * MIN) == []  # just ran
    assert [h for _, h in mon.due(now + 60 * MIN)] == [["a1", "a2"]]  # an interval later
    # A second schedule of the same bundle on all hosts: a host due twice runs once.
    everyone = mon.add_schedule("linux-quick", "all", "15m")
    due = mon.due(now + 60 * MIN)
    assert [(s["id"], h) for s, h in due] == [(hourly["id"], ["a1", "a2"]), (everyone["id"], ["b1"])]
    # A maintenance window holding runs: nothing of that schedule is due inside it.
    mon.remove_schedule(everyone["id"])
    mon.remove_schedule(hourly["id"])
    held = mon.add_schedule("linux-quick", "all", "1h", "Wed 09:30-11:00 UTC")
    assert mon.due(now) == []
    # ... and the sweep says why, once per schedule (w1 is a Windows host: not for this bundle).
    assert sorted(s["reason"] for s in mon._plan(now).skipped) == [
        "3 hosts held by a maintenance window until 2026-03-04T11:00:00+00:00",
        "bundle linux-quick is for linux: not run on w1"]
    assert [h for _, h in mon.due(now + 61 * MIN)] == [["a1", "a2", "b1"]]
    mon.remove_schedule(held["id"])
    alerts_only = mon.add_schedule("linux-quick", "all", "1h", "Wed 09:30-11:00 UTC alerts")
    assert [h for _, h in mon.due(now)] == [["a1", "a2", "b1"]]  # an alerts window lets runs go on
    # A failing host backs off: 5, 10, 20 min ... (never longer than the interval).
    repo.mark_runs(svc.conn, [(alerts_only["id"], n, repo.iso(now), "r2") for n in ("a1", "a2", "b1")])
    repo.save_health(svc.conn, [{"host": "b1", "last_attempt": now, "last_success": None, "failures": 3,
                                 "next_retry": now + 20 * MIN, "last_error": "unreachable: refused"}])
    assert mon.due(now + 19 * MIN) == []
    assert [h for _, h in mon.due(now + 21 * MIN)] == [["b1"]]
    repo.save_health(svc.conn, [{"host": "b1", "last_attempt": now, "last_success": None, "failures": 12,
                                 "next_retry": now + 60 * MIN, "last_error": "unreachable: refused"}])
    assert mon.due(now + 59 * MIN) == [] and [h for _, h in mon.due(now + 60 * MIN)] == [["a1", "a2", "b1"]]
    # Another schedule does not run a host sooner than its backoff says, and says why.
    other = mon.add_schedule("linux-health", "host:b1", "1d")
    plan = mon._plan(now + 30 * MIN)
    assert plan.items == [] and any(s["host"] == "b1" and "backing off after 12 failed" in s["reason"]
                                    for s in plan.skipped)
    mon.remove_schedule(other["id"])
    svc.close()


def test_due_across_a_dst_change(workspace_dir):
    svc = _services(workspace_dir)
    svc.roster.add(HostSpec(name="a1", address="10.0.0.1"))
    svc.monitor.add_schedule("linux-quick", "all", "6h", "Sun 02:00-03:00 Europe/Berlin")
    # 2026-03-29: Berlin springs forward at 02:00 CET -> 03:00 CEST; the window is 03:00-04:00 CEST.
    assert svc.monitor.due(datetime(2026, 3, 29, 0, 59, tzinfo=UTC))  # 01:59 CET: before
    assert svc.monitor.due(datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == []  # 03:30 CEST: inside
    assert svc.monitor.due(datetime(2026, 3, 29, 2, 0, tzinfo=UTC))  # 04:00 CEST: over
    svc.close()


# ---------------------------------------------------------------------------- sweeps against sshd
@pytest.mark.sshd
def test_sweep_with_an_unreachable_host_backoff_stale_alert_once_and_recovery(sshd, workspace_dir):
    _pin(workspace_dir, sshd)
    _bundle(workspace_dir, "tiny", "echo 'OK - alive|up=1;;;0'")
    svc = _services(workspace_dir, stale_after_hours=1, alert_unreachable_after=3)
    _add_host(svc, sshd, "good1", client="Acme")
    _add_host(svc, sshd, "good2", client="Acme")
    _add_host(svc, sshd, "bad", port=_closed_port(), client="Acme")
    svc.monitor.add_schedule("tiny", "client:Acme", "1h")
    t0 = datetime.now(UTC).replace(microsecond=0)

    first = _sweep(svc, t0)
    _shaped(first, SweepResult)
    assert first["ran"] == 3 and len(first["runs"]) == 1 and first["errors"] == [] and not first["locked"]
    status = {h["host"]: h for h in first["hosts"]}
    assert status["good1"]["status"] == status["good2"]["status"] == "ok"
    assert status["bad"]["error"]["kind"] == "unreachable"
    assert first["alerts"] == []
    assert svc.history.host_runs("good1")[0].trigger == "schedule"
    assert svc.monitor.due(t0 + MIN) == []  # the good ones ran; the bad one backs off 5 min
    assert [h for _, h in svc.monitor.due(t0 + 6 * MIN)] == [["bad"]]

    second = _sweep(svc, t0 + 6 * MIN)
    assert [h["host"] for h in second["hosts"]] == ["bad"] and second["alerts"] == []
    assert svc.monitor.due(t0 + 12 * MIN) == []  # two failures: 10 minutes now
    third = _sweep(svc, t0 + 17 * MIN)
    _shaped(third, SweepResult)
    [event] = _opened(third)
    assert (event["host"], event["check"], event["kind"], event["severity"]) == \
        ("bad", "host-unreachable", "host-unreachable", "unknown")
    assert "unreachable for 3 runs" in event["message"]
    assert svc.monitor.health(now=t0 + 30 * MIN)["stale"] == []  # known for less than stale_after

    # No storm: five more failing sweeps announce nothing new.
    when = t0 + 17 * MIN
    for _ in range(5):
        when += 2 * 60 * MIN
        later = _sweep(svc, when)
        assert {h["host"] for h in later["hosts"]} == {"good1", "good2", "bad"}
        assert later["alerts"] == []
    health = svc.monitor.health(now=when + MIN)
    _shaped(health, HealthReport)
    assert [s["host"] for s in health["stale"]] == ["bad"]  # the others succeeded a minute ago
    assert health["stale"][0]["failures"] == 8 and "unreachable" in health["stale"][0]["last_error"]
    assert health["clients"][0]["stale"] == 1 and health["totals"]["unknown"] == 1
    assert [a["host"] for a in health["alerts"]] == ["bad"]
    assert health["attention"][0]["host"] == "bad" and health["attention"][0]["kind"] == "host"
    assert [a["check"] for a in svc.monitor.alerts()] == ["host-unreachable"]
    code, out, _ = _cli(workspace_dir, "alerts")
    assert code == 0 and "host-unreachable" in out and "bad" in out

    svc.roster.edit("bad", port=sshd.port)  # back online
    back = _sweep(svc, when + 2 * 60 * MIN)
    [resolved] = [e for e in back["alerts"] if e["event"] == "resolved"]
    assert resolved["host"] == "bad" and "reachable again" in resolved["message"]
    assert svc.monitor.alerts() == []
    [history] = svc.monitor.alerts(open_only=False)
    assert history["open"] is False and [e["event"] for e in history["events"]] == ["opened", "resolved"]
    assert svc.monitor.health(now=when + 2 * 60 * MIN + MIN)["stale"] == []
    svc.close()


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/techdesk?token=s3cret", _Hook.received
    server.shutdown()
    server.server_close()


@pytest.mark.sshd
def test_check_alert_opens_after_n_runs_resolves_and_is_posted_to_the_webhook(sshd, workspace_dir, tmp_path,
                                                                              webhook):
    url, received = webhook
    flag = tmp_path / "failing"
    _pin(workspace_dir, sshd)
    _bundle(workspace_dir, "toggle", f'if [ -f "{flag}" ]; then echo "WARNING - flag is set"; exit 1; fi\n'
                                     'echo "OK - flag is clear"', check="flag")
    svc = _services(workspace_dir, alert_open_after=2, webhook_url=url)
    _add_host(svc, sshd, "web1")
    svc.monitor.add_schedule("toggle", "host:web1", "15m")
    when = datetime.now(UTC).replace(microsecond=0)
    flag.touch()
    first = _sweep(svc, when)
    assert first["hosts"][0]["status"] == "warn" and first["alerts"] == [] and received == []
    opened = _sweep(svc, when := when + 15 * MIN)
    [event] = _opened(opened)
    assert (event["check"], event["severity"], event["notified"]) == ("flag", "warn", True)
    assert event["message"] == "web1: Probe WARNING for 2 runs: flag is set"
    [(ctype, body)] = received
    assert ctype.startswith("application/json") and body["source"] == "techdesk"
    assert body["events"][0]["message"] == event["message"] and "[WARN]" in body["text"]
    for _ in range(3):
        assert _sweep(svc, when := when + 15 * MIN)["alerts"] == []
    code, out, _ = _cli(workspace_dir, "alerts", "--json")
    [alert] = json.loads(out)
    assert alert["check"] == "flag" and alert["open"] and alert["announced"] and code == 0
    flag.unlink()
    fixed = _sweep(svc, when + 15 * MIN)
    [resolved] = fixed["alerts"]
    assert resolved["event"] == "resolved" and "OK again after 1 h" in resolved["message"]
    assert len(received) == 2 and received[1][1]["events"][0]["event"] == "resolved"
    svc.close()


@pytest.mark.sshd
def test_failed_notifications_never_stop_a_sweep_and_are_retried(sshd, workspace_dir, tmp_path, webhook):
    flag = tmp_path / "failing"
    flag.touch()
    _pin(workspace_dir, sshd)
    _bundle(workspace_dir, "toggle", f'[ -f "{flag}" ] && {{ echo "CRITICAL - down"; exit 2; }}; echo "OK - up"',
            check="svc")
    svc = _services(workspace_dir, webhook_url=f"http://127.0.0.1:{_closed_port()}/hook")
    _add_host(svc, sshd, "web1")
    svc.monitor.add_schedule("toggle", "all", "15m")
    when = datetime.now(UTC).replace(microsecond=0)
    result = _sweep(svc, when)
    [event] = _opened(result)  # CRITICAL opens at once
    assert event["notified"] is False and result["errors"] and "webhook http://127.0.0.1:" in result["errors"][0]
    assert "/hook" not in result["errors"][0]  # the URL's path (tokens) never shows in errors
    url, received = webhook
    svc.workspace.settings.webhook_url = url
    again = _sweep(svc, when + 15 * MIN)  # nothing new, but the undelivered alert goes out now
    assert again["alerts"] == [] and again["errors"] == []
    assert [b["events"][0]["seq"] for _, b in received] == [event["seq"]]
    assert svc.monitor.alerts()[0]["events"][0]["notified"] is True
    svc.close()


@pytest.mark.sshd
def test_two_sweeps_at_once_the_second_skips(sshd, workspace_dir, tmp_path):
    _pin(workspace_dir, sshd)
    started = tmp_path / "started"
    _bundle(workspace_dir, "slow", f'touch "{started}"; sleep 3; echo "OK - slept"')
    svc = _services(workspace_dir)
    _add_host(svc, sshd, "web1")
    svc.monitor.add_schedule("slow", "all", "1h")
    svc.close()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    cmd = [sys.executable, "-m", "techdesk", "--workspace", str(workspace_dir), "sweep", "--json"]
    procs = [subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    results = [json.loads(out) for out, _ in outputs]
    ran = [r for r in results if not r["locked"]]
    skipped = [(r, err) for r, (_, err) in zip(results, outputs, strict=True) if r["locked"]]
    assert len(ran) == 1 and len(skipped) == 1, outputs
    assert ran[0]["ran"] == 1 and ran[0]["hosts"][0]["status"] == "ok"
    result, err = skipped[0]
    assert result["ran"] == 0 and "another sweep is" in result["skipped"][0]["reason"]
    assert "this sweep skipped" in err
    assert sorted(p.returncode for p in procs) == [0, 0]
    assert not (workspace_dir / "sweep.lock").exists()
    # The window's own sweep finds the lock of a running sweep the same way.
    svc = Services(Workspace(workspace_dir))
    (workspace_dir / "sweep.lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                          "started": "now"}))
    blocked = asyncio.run(svc.monitor.sweep(now=datetime.now(UTC) + timedelta(days=1)))
    assert blocked["locked"] and blocked["ran"] == 0 and f"pid {os.getpid()}" in blocked["skipped"][0]["reason"]
    (workspace_dir / "sweep.lock").unlink()
    svc.close()


def _cli(workspace_dir: Path, *args: str) -> tuple[int, str, str]:
    """The CLI in-process without the capsys fixture (tests that also hold services)."""
    import contextlib
    import io

    from techdesk.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workspace", str(workspace_dir), *args])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.sshd
def test_sweep_cli_exit_codes_and_text(sshd, workspace_dir, tmp_path):
    flag = tmp_path / "crit"
    _pin(workspace_dir, sshd)
    _bundle(workspace_dir, "probe", f'[ -f "{flag}" ] && {{ echo "CRITICAL - bad"; exit 2; }}; echo "OK - fine"')
    svc = _services(workspace_dir)
    _add_host(svc, sshd, "web1")
    svc.monitor.add_schedule("probe", "all", "1m", confirmed=True)
    svc.close()
    code, out, err = _cli(workspace_dir, "sweep")
    assert code == 0 and "OK" in out and "swept 1 host in 1 run" in out, (out, err)
    code, out, _ = _cli(workspace_dir, "sweep")
    assert code == 0 and "nothing was due" in out
    svc = Services(Workspace(workspace_dir))
    from techdesk.store import monitor as repo

    svc.conn.execute("UPDATE schedule_hosts SET last_run = ?",
                     (repo.iso(datetime.now(UTC) - timedelta(hours=1)),))
    svc.close()
    flag.touch()
    code, out, _ = _cli(workspace_dir, "sweep", "--json")
    result = json.loads(out)
    assert code == 2 and result["hosts"][0]["status"] == "crit" and _opened(result)


# ---------------------------------------------------------------------------- health and forecasts
def _store_history(svc: Services, host: str, values: list[float], label: str = "/srv", days: int = 14) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for i, value in enumerate(values):
        started = (now - timedelta(days=days) + timedelta(days=days * i / (len(values) - 1))).isoformat()
        run_id = f"hist-{host}-{i}"
        runs_repo.create_run(svc.conn, run_id, "linux-health", 1, "ann", started, trigger="schedule")
        check = CheckResult("disk", "Disk space", Status.WARN if value >= 80 else Status.OK,
                            f"{label} {value:.0f}% used", 0, 0.1,
                            {label: Metric(label, value, "%", 80.0, 90.0, 0.0, 100.0)})
        runs_repo.save_host_result(svc.conn, run_id, HostResult(host, [check]), started)
        runs_repo.finish_run(svc.conn, run_id)


def test_health_json_has_a_forecast_finding_and_the_report_shows_trends(cli, workspace_dir):
    svc = _services(workspace_dir)
    svc.roster.add(HostSpec(name="fs1", address="10.0.0.5", client="Acme", site="HQ"))
    svc.roster.add(HostSpec(name="db1", address="10.0.0.6", client="Acme"))
    svc.roster.add(HostSpec(name="new1", address="10.0.0.7", client="Beta"))
    # /srv grows 1.5 points a day, 15 days of daily runs: 59% -> 80% now, crit 90 in about 7 days.
    _store_history(svc, "fs1", [59 + 1.5 * d for d in range(15)])
    _store_history(svc, "db1", [40.0, 41.0, 40.0, 40.5, 40.0, 41.0, 40.0, 40.5])  # flat
    svc.close()
    code, out, err = cli("health", "--json")
    assert code == 0, err
    report = json.loads(out)
    _shaped(report, HealthReport)
    [finding] = report["forecasts"]
    assert (finding["host"], finding["check"], finding["label"], finding["status"], finding["client"]) == \
        ("fs1", "disk", "/srv", "warn", "Acme")
    assert 6 <= finding["days_left"] <= 8 and finding["evidence"]["points_used"] == 15
    assert abs(finding["evidence"]["slope_per_day"] - 1.5) < 0.01 and finding["evidence"]["threshold"] == 90
    assert "/srv will reach 90% (critical) in about 7 days" in finding["summary"]
    assert [(a["host"], a["kind"]) for a in report["attention"]] == [("fs1", "check"), ("fs1", "forecast")]
    acme = next(c for c in report["clients"] if c["client"] == "Acme")
    assert (acme["hosts"], acme["warn"], acme["ok"]) == (2, 1, 1)
    beta = next(c for c in report["clients"] if c["client"] == "Beta")
    assert (beta["hosts"], beta["never"]) == (1, 1)
    code, out, _ = cli("health")
    assert code == 0 and "fs1: /srv will reach 90% (critical) in about 7 days" in out and "Acme" in out

    svc = Services(Workspace(workspace_dir))
    [forecast] = [f for f in svc.monitor.forecasts("fs1") if f.label == "/srv"]
    assert forecast.eta is not None and abs(forecast.value_at(forecast.now + 86400) - 81.5) < 0.2
    [flat] = svc.monitor.forecasts("db1")
    assert flat.days_left is None and flat.reason.startswith("flat")
    trends = svc.reports.client_data("Acme")["trends"]
    assert trends[0] == {"host": "fs1", "title": "Disk space /srv", "status": "warn",
                         "text": trends[0]["text"]} and "in about 7 days" in trends[0]["text"]
    assert trends[1]["host"] == "db1" and trends[1]["status"] == "ok"
    assert "Trends and forecasts" in svc.reports.render_html("client", svc.reports.client_data("Acme"))
    assert svc.reports.trends("Beta") is None  # no history: no section
    # The fleet's fits are cached; a new run of the host refits it. One low reading may be a
    # cleanup or a bad reading: the forecast stays, saying so, until the next run confirms
    # the drop and ends it.
    assert [f["host"] for f in svc.monitor.health()["forecasts"]] == ["fs1"]
    assert svc.conn.execute("SELECT COUNT(*) FROM forecast_cache").fetchone()[0] == 2
    for run_id, used in (("cleanup", 30.0), ("check-again", 30.5)):
        runs_repo.create_run(svc.conn, run_id, "linux-health", 1, "ann", datetime.now(UTC).isoformat())
        runs_repo.save_host_result(svc.conn, run_id, HostResult("fs1", [CheckResult(
            "disk", "Disk space", Status.OK, f"/srv {used}% used", 0, 0.1,
            {"/srv": Metric("/srv", used, "%", 80.0, 90.0)})]), datetime.now(UTC).isoformat())
        if run_id == "cleanup":
            [held] = svc.monitor.health()["forecasts"]
            assert "a drop not yet confirmed" in held["basis"] and "last reading 30%" in held["summary"]
    assert svc.monitor.health()["forecasts"] == []
    assert "since the drop" in next(f for f in svc.monitor.forecasts("fs1") if f.label == "/srv").reason
    svc.close()


def test_health_of_ten_thousand_hosts_is_a_query_per_table(workspace_dir):
    """Not a benchmark: a guard that health() does not query per host."""
    svc = _services(workspace_dir)
    svc.roster.import_hosts([HostSpec(name=f"h{i:05d}", address="10.0.0.1", client=f"C{i % 50}")
                             for i in range(10_000)])
    statements = []
    svc.conn.set_trace_callback(statements.append)
    report = svc.monitor.health()
    svc.conn.set_trace_callback(None)
    assert report["totals"]["hosts"] == 10_000 and report["totals"]["never"] == 10_000
    # The shared-read check (store/snapshot.py) is one PRAGMA per whole-store read, not per host.
    queries = [s for s in statements if s != "PRAGMA data_version"]
    assert len(queries) < 15, queries
    assert len(statements) - len(queries) <= 2, statements
    svc.close()


# ---------------------------------------------------------------------------- team sync
def test_a_schedule_travels_with_the_roster(tmp_path, monkeypatch):
    shared = tmp_path / "shared"

    def run(ws: Path, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("TECHDESK_TECHNICIAN", ws.name)
        return _cli_shared(ws, shared, *args)

    ann, bob = tmp_path / "ann", tmp_path / "bob"
    assert run(ann, "sync", "--init")[0] == 0
    assert run(ann, "hosts", "add", "web1", "--address", "10.0.0.1", "--client", "Acme")[0] == 0
    _bundle(ann, "ann-only", "echo OK")
    code, out, err = run(ann, "schedule", "add", "linux-quick", "--client", "Acme", "--every", "6h",
                         "--window", "Sun 02:00-04:00 Europe/Berlin", "--json")
    assert code == 0, err
    schedule = json.loads(out)
    assert run(ann, "schedule", "add", "ann-only", "--all", "--every", "1d")[0] == 0
    code, out, _ = run(ann, "sync", "--json")
    assert code == 0 and json.loads(out)["pushed"] == 4  # client, host, two schedules
    assert (shared / "schedules" / schedule["id"]).is_dir()
    assert run(bob, "sync")[0] == 0
    code, out, _ = run(bob, "schedule", "list", "--json")
    mine = {s["id"]: s for s in json.loads(out)}
    assert mine[schedule["id"]]["target"] == "client:Acme" and mine[schedule["id"]]["every"] == "6h"
    assert mine[schedule["id"]]["windows"] == ["Sun 02:00-04:00 Europe/Berlin"] and mine[schedule["id"]]["hosts"] == 1
    # Ann's schedules stay inactive on Bob's device until he enables them there (trust rule 6).
    assert all(s["enabled"] and not s["enabled_here"] and s["next_due"] is None for s in mine.values())
    svc = Services(Workspace(bob))
    assert svc.monitor.due() == [] and svc.monitor._plan(datetime.now(UTC)).skipped == []
    svc.close()
    for sid in mine:
        assert run(bob, "schedule", "enable", sid[:8])[0] == 0
    # Bob has no bundle "ann-only": his sweeps skip that schedule and say so.
    svc = Services(Workspace(bob))
    plan = svc.monitor._plan(datetime.now(UTC))
    assert any("bundle 'ann-only' is not on this device" in s["reason"] for s in plan.skipped)
    svc.close()
    # Bob disables it, Ann removes the other: both travel.
    assert run(bob, "schedule", "disable", schedule["id"][:8])[0] == 0
    other = next(i for i in mine if i != schedule["id"])
    assert run(ann, "schedule", "remove", other[:8])[0] == 0
    assert run(bob, "sync")[0] == 0 and run(ann, "sync")[0] == 0 and run(bob, "sync")[0] == 0
    for ws in (ann, bob):
        listed = json.loads(run(ws, "schedule", "list", "--json")[1])
        assert [(s["id"], s["enabled"]) for s in listed] == [(schedule["id"], False)]
    svc = Services(Workspace(ann, shared=str(shared)))
    assert svc.sync.pending() == 0
    svc.close()


def _cli_shared(ws: Path, shared: Path, *args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from techdesk.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workspace", str(ws), "--shared", str(shared), *args])
    return code, out.getvalue(), err.getvalue()


def test_a_bundle_threshold_marks_a_custom_metric_as_capacity(workspace_dir):
    folder = workspace_dir / "bundles"
    folder.mkdir(parents=True)
    (folder / "backup.toml").write_text(
        '[bundle]\nname = "backup"\nos = "linux"\n\n[[checks]]\nid = "backup"\nscript = "echo OK"\n'
        '[checks.thresholds]\nrepo_used = { warn = 800, crit = 900, capacity = true }\n'
        '"/boot" = { warn = 95, capacity = false }\n')
    svc = _services(workspace_dir)
    assert svc.bundles.problems == [] and "backup" in svc.bundles.all()
    svc.roster.add(HostSpec(name="nas1", address="10.0.0.8", client="Acme"))
    now = datetime.now(UTC).replace(microsecond=0)
    for day in range(10):
        started = (now - timedelta(days=9 - day)).isoformat()
        runs_repo.create_run(svc.conn, f"b{day}", "backup", 1, "ann", started)
        check = CheckResult("backup", "Backup", Status.OK, "ok", 0, 0.1,
                            {"repo_used": Metric("repo_used", 700.0 + 20 * day, "GB")})
        runs_repo.save_host_result(svc.conn, f"b{day}", HostResult("nas1", [check]), started)
    [finding] = svc.monitor.health()["forecasts"]
    assert (finding["check"], finding["label"], finding["evidence"]["threshold"]) == ("backup", "repo_used", 900)
    assert finding["summary"].startswith("backup repo_used will reach 900 GB (critical) ")
    svc.close()
