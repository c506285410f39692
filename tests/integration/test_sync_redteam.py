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
                       "checks": []}]}


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
