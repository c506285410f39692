"""The schedule list's "next due" and the sweep's plan follow one rule (core/schedule.py):
the time a schedule shows as next due is the first time a sweep runs the host, with
backoff after failures and maintenance windows (no SSH: the plan only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.store import monitor as repo
from techdesk.workspace import Workspace

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # a Wednesday
STEP = timedelta(minutes=5)


@pytest.fixture
def svc(tmp_path):
    services = Services(Workspace(tmp_path / "ws"))
    services.roster.add(HostSpec(name="a1", address="10.0.0.1"))
    yield services
    services.close()


def _next_due(svc: Services, uid: str, now: datetime) -> datetime | None:
    (item,) = [s for s in svc.monitor.schedules(now) if s["id"] == uid]
    return repo.parse_iso(item["next_due"]) if item["next_due"] else None


def _runs_at(svc: Services, uid: str, now: datetime) -> bool:
    return any(s["id"] == uid and "a1" in hosts for s, hosts in svc.monitor.due(now))


def _first_run(svc: Services, uid: str, start: datetime, hours: int = 8) -> datetime | None:
    when = start
    while when <= start + timedelta(hours=hours):
        if _runs_at(svc, uid, when):
            return when
        when += STEP
    return None


def _failed(svc: Services, failures: int, retry_at: datetime) -> None:
    repo.save_health(svc.conn, [{"host": "a1", "last_attempt": T0, "last_success": None,
                                 "failures": failures, "next_retry": retry_at,
                                 "last_error": "unreachable: refused"}])


def _agree(svc: Services, uid: str, expected: datetime) -> None:
    shown = _next_due(svc, uid, T0)
    assert shown == expected, f"the list says {shown}, the rule says {expected}"
    assert _first_run(svc, uid, T0) == expected, "the sweep runs the host at another time"
    assert not _runs_at(svc, uid, expected - timedelta(seconds=1))
    for k in range(0, 8 * 12):  # at every moment: due now <=> shown as due by now
        now = T0 + k * STEP
        due_by = _next_due(svc, uid, now)
        assert _runs_at(svc, uid, now) == (due_by is not None and due_by <= now), now


def test_backoff_after_failures_is_shown_as_the_next_due_time(svc):
    every6h = svc.monitor.add_schedule("linux-quick", "all", "6h")
    repo.mark_runs(svc.conn, [(every6h["id"], "a1", repo.iso(T0), "r1")])
    _failed(svc, 2, T0 + timedelta(minutes=10))
    # two failures: retry after 10 minutes, not after the 6 h interval
    _agree(svc, every6h["id"], T0 + timedelta(minutes=10))


def test_the_hosts_retry_time_from_another_schedule_holds_this_one_too(svc):
    hourly = svc.monitor.add_schedule("linux-quick", "all", "1h")
    repo.mark_runs(svc.conn, [(hourly["id"], "a1", repo.iso(T0 - timedelta(hours=2)), "r1")])
    _failed(svc, 4, T0 + timedelta(minutes=40))  # set by another schedule's failed run
    _agree(svc, hourly["id"], T0 + timedelta(minutes=40))


def test_a_maintenance_window_moves_the_due_time_to_its_end(svc):
    held = svc.monitor.add_schedule("linux-quick", "all", "6h", "Wed 10:30-11:30 UTC")
    repo.mark_runs(svc.conn, [(held["id"], "a1", repo.iso(T0 - timedelta(hours=4, minutes=30)), "r1")])
    _agree(svc, held["id"], T0 + timedelta(hours=2, minutes=30))  # due 10:30, held until 11:30


def test_backoff_that_ends_inside_a_window_waits_for_the_window(svc):
    held = svc.monitor.add_schedule("linux-quick", "all", "6h", "Wed 09:15-10:00 UTC")
    repo.mark_runs(svc.conn, [(held["id"], "a1", repo.iso(T0), "r1")])
    _failed(svc, 3, T0 + timedelta(minutes=20))  # retry at 09:20, inside the window
    _agree(svc, held["id"], T0 + timedelta(hours=1))
