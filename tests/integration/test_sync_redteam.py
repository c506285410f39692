"""Hostile-peer tests found by a red-team review of the sync trust rules: each plays a
writer of the shared folder (docs/sync-format.md, "Trust model")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from techdesk.core.findings import CheckResult, HostResult
from techdesk.core.severity import Status
from techdesk.store import runs as runs_repo

from .test_sync_trust import forge


def _run_body(started: str) -> dict:
    return {"bundle": "linux-health", "bundle_version": 1, "started": started, "finished": started,
            "technician": "mallory", "trigger": "manual",
            "hosts": [{"host": "web1", "status": "ok", "started": started, "duration_s": 1.0, "error": None,
                       # The disk check "OK": it must not pass for newer than today's CRITICAL.
                       "checks": [{"id": "disk", "title": "Disk", "status": "ok", "summary": "/ 40% used",
                                   "exit_code": 0, "duration_s": 0.1, "output": "", "metrics": []}]}]}


@pytest.mark.parametrize("spelling", ["offset", "basic", "naive-space"])
def test_a_past_run_spelled_to_sort_late_never_hides_todays_critical_result(team, spelling):
    """Times are compared as text in the store: a run from the past written with a +14:00
    offset, in ISO basic format or with a space must not pass for the newest."""
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    ann("sync")
    bob("sync")
    now = datetime.now(UTC).replace(microsecond=0)
    svc = bob.services()
    runs_repo.create_run(svc.conn, "today", "linux-health", 1, "bob", now.isoformat())
    runs_repo.save_host_result(svc.conn, "today", HostResult("web1", [CheckResult(
        "disk", "Disk", Status.CRIT, "/ 99% used", 2, 0.1)], duration_s=1.0), now.isoformat())
    runs_repo.finish_run(svc.conn, "today")
    svc.close()
    earlier = now - timedelta(hours=1)
    started = {
        "offset": earlier.astimezone(timezone(timedelta(hours=14))).isoformat(),
        "basic": earlier.strftime("%Y%m%dT%H%M%S"),
        "naive-space": earlier.strftime("%Y-%m-%d %H:%M:%S.%f"),
    }[spelling]
    forge(bob.shared, "run", "r" * 32, _run_body(started))
    bob("sync")
    health = bob.json("health")[1]
    assert health["totals"]["crit"] == 1 and health["totals"]["ok"] == 0, (started, health["totals"])
    svc = bob.services()
    try:
        assert svc.history.host_states(timedelta(hours=72))["web1"].status == "crit"
    finally:
        svc.close()


def test_a_teammates_synced_run_never_chooses_a_fixs_variables(team):
    """A writer of the shared folder publishes a run "now" whose failed-units finding
    names a unit of their choosing: a fix (which may run as root) checks again first
    instead of taking it. A finding from a run made on this device is used as it is."""
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    ann("sync")
    bob("sync")
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    body = _run_body(now)
    body["hosts"][0]["checks"] = [{"id": "failed_units", "title": "Failed systemd units", "status": "warn",
                                   "summary": "1 failed: sshd.service", "exit_code": 1, "duration_s": 0.1,
                                   "output": "", "metrics": []}]
    forge(bob.shared, "run", "f" * 32, body)
    assert bob("sync")[0] == 0
    svc = bob.services()
    try:
        [host] = [h for h in svc.roster.hosts() if h.name == "web1"]
        assert svc.history.check_history("web1", "failed_units")[0]["summary"] == "1 failed: sshd.service"
        plan = svc.fixes.plan([host], "failed_units")
        assert plan.before["web1"] is None  # checked first when the fix runs
        assert "sshd.service" not in plan.script("web1")
        # The same finding from a run made here drives the fix's variables.
        later = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0).isoformat()
        runs_repo.create_run(svc.conn, "here", "linux-health", 1, "bob", later)
        runs_repo.save_host_result(svc.conn, "here", HostResult("web1", [CheckResult(
            "failed_units", "Failed systemd units", Status.WARN, "1 failed: nginx.service", 1, 0.1)],
            duration_s=1.0), later)
        runs_repo.finish_run(svc.conn, "here")
        plan = svc.fixes.plan([host], "failed_units")
        assert plan.before["web1"] is not None and "nginx.service" in plan.script("web1")
    finally:
        svc.close()
