"""Honest replay: health(now=…), forecasts(host, now=…) and `health --at` read only data up to
`now` (caches included), and runs take their time from the services' clock."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta

from techdesk.core.findings import CheckResult, HostResult, Metric
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.services.context import Services
from techdesk.store import runs as runs_repo
from techdesk.workspace import Workspace

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
AT = T0 + timedelta(days=19)  # the time replayed
LATER = T0 + timedelta(days=30)


def _reading(svc: Services, host: str, when: datetime, value: float) -> None:
    run_id = f"r-{host}-{when.timestamp():.0f}"
    stamp = when.isoformat(timespec="seconds")
    runs_repo.create_run(svc.conn, run_id, "linux-health", 1, "ann", stamp, trigger="schedule")
    status = Status.CRIT if value >= 90 else Status.WARN if value >= 80 else Status.OK
    check = CheckResult("disk", "Disk space", status, f"/srv {value:.0f}% used", int(status.rank), 0.1,
                        {"/srv": Metric("/srv", value, "%", 80.0, 90.0, 0.0, 100.0)})
    runs_repo.save_host_result(svc.conn, run_id, HostResult(host, [check]), stamp)
    runs_repo.finish_run(svc.conn, run_id)


def _fleet(workspace_dir) -> Services:
    svc = Services(Workspace(workspace_dir))
    svc.roster.add(HostSpec(name="fs1", address="10.0.0.5", client="Acme"))
    svc.roster.add(HostSpec(name="fs2", address="10.0.0.6", client="Acme"))
    for day in range(20):  # up to AT: fs1 fills 1.5 %/day to 78.5%, fs2 flat at 40%
        _reading(svc, "fs1", T0 + timedelta(days=day), 50 + 1.5 * day)
        _reading(svc, "fs2", T0 + timedelta(days=day), 40.0)
    return svc


def _the_future(svc: Services) -> None:
    """What happened after AT: fs1 cleaned up, fs2 filled to critical."""
    for day in range(20, 30):
        _reading(svc, "fs1", T0 + timedelta(days=day, hours=1), 30.0)
        _reading(svc, "fs2", T0 + timedelta(days=day, hours=1), 40 + 6 * (day - 19))


def _view(report: dict) -> dict:
    """The parts of a health report that depend on the data."""
    return {"totals": report["totals"], "hosts": report["hosts"], "attention": report["attention"],
            "forecasts": report["forecasts"], "stale": report["stale"]}


def test_health_and_forecasts_at_a_time_ignore_later_data_and_later_caches(workspace_dir):
    svc = _fleet(workspace_dir)
    before = _view(svc.monitor.health(now=AT))
    fits = [f.as_json() for f in svc.monitor.forecasts("fs1", now=AT)]
    assert [f["host"] for f in before["forecasts"]] == ["fs1"]
    assert before["forecasts"][0]["days_left"] < 14 and "based on" not in before["forecasts"][0]["summary"]
    assert before["forecasts"][0]["basis"].startswith("20 readings 2026-03-01 to 2026-03-20")

    _the_future(svc)
    later = svc.monitor.health(now=LATER)  # fits (and caches) every reading up to LATER
    assert [f["host"] for f in later["forecasts"]] == ["fs2"]
    assert "since the drop" in svc.monitor.forecasts("fs1", now=LATER)[0].basis
    assert _view(svc.monitor.health(now=AT)) == before
    assert [f.as_json() for f in svc.monitor.forecasts("fs1", now=AT)] == fits
    assert _view(svc.monitor.health(now=LATER)) == _view(later)
    svc.close()


def test_health_at_on_the_command_line(cli, workspace_dir):
    svc = _fleet(workspace_dir)
    _the_future(svc)
    svc.close()
    code, out, err = cli("health", "--at", AT.isoformat(), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["now"] == AT.isoformat(timespec="seconds")
    assert [(f["host"], f["label"]) for f in report["forecasts"]] == [("fs1", "/srv")]
    assert {h["host"]: h["status"] for h in report["hosts"]} == {"fs1": "ok", "fs2": "ok"}
    code, out, _ = cli("health", "--at", AT.isoformat())
    assert code == 0 and out.startswith("As of ") and "fs1: /srv will reach 90%" in out
    assert "based on 20 readings" in out
    code, out, _ = cli("health")
    assert code == 0 and "fs2" in out and "CRIT" in out
    code, out, err = cli("health", "--at", "last tuesday")
    assert code == 64 and out == "" and err.strip().splitlines()[-1].startswith("techdesk: error:")
    assert "not a time" in err


def test_runs_and_metrics_take_their_time_from_the_clock(sshd, workspace_dir):
    workspace_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")
    folder = workspace_dir / "bundles"
    folder.mkdir()
    (folder / "tiny.toml").write_text(
        '[bundle]\nname = "tiny"\ntitle = "tiny"\nos = "linux"\nversion = 1\n\n[[checks]]\nid = "disk"\n'
        "title = \"Disk\"\nscript = \"echo 'OK - fine|/srv=42%;80;90;0;100'\"\n")
    times = iter([AT, AT + timedelta(seconds=3)])
    svc = Services(Workspace(workspace_dir), clock=lambda: next(times))
    svc.roster.add(HostSpec(name="web1", address=sshd.host, port=sshd.port, user=sshd.user,
                            key=str(sshd.client_key_path)))
    report = asyncio.run(svc.runner.run(svc.bundles.get("tiny"), [svc.roster.get("web1")]))
    assert report.results[0].error is None, report.results[0].error
    assert report.started == AT.isoformat(timespec="seconds")
    assert svc.conn.execute("SELECT ts FROM metrics WHERE host = 'web1'").fetchone()[0] == \
        (AT + timedelta(seconds=3)).isoformat(timespec="seconds")
    assert svc.monitor.health(now=AT)["hosts"][0]["status"] == "never"  # the host run began after AT
    assert svc.monitor.health(now=AT + timedelta(seconds=3))["hosts"][0]["status"] == "ok"
    svc.close()
