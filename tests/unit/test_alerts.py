"""Alerts: open after N, one alert per host and check, escalate, resolve, unreachable, maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from techdesk.core.alerts import (
    HOST_CHECK,
    AlertConfig,
    AlertState,
    Observation,
    evaluate,
    evaluate_all,
    observations,
)
from techdesk.core.findings import CheckResult, HostError, HostResult
from techdesk.core.severity import Status

OK, WARN, CRIT, UNKNOWN = Status.OK, Status.WARN, Status.CRIT, Status.UNKNOWN
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CONFIG = AlertConfig()


def run(statuses, config=CONFIG, check="disk", maintenance=(), state=None):
    """Feed one status per hourly run; returns the final state and [(run index, event), ...]."""
    events = []
    for i, status in enumerate(statuses):
        obs = Observation("web01", check, status, summary=f"run {i}", title="Disk space",
                          in_maintenance=i in maintenance)
        state, found = evaluate(state, obs, config, T0 + timedelta(hours=i))
        events += [(i, e) for e in found]
    return state, events


def kinds(events):
    return [(i, e.event) for i, e in events]


def test_warn_opens_after_two_runs():
    state, events = run([WARN])
    assert events == [] and not state.open and state.failing == 1
    state, events = run([WARN, WARN])
    assert kinds(events) == [(1, "opened")]
    event = events[0][1]
    assert (event.host, event.check, event.kind, event.severity) == ("web01", "disk", "check", WARN)
    assert event.message == "web01: Disk space WARNING for 2 runs: run 1"
    assert event.at == T0 + timedelta(hours=1)
    assert state.open and state.opened_at == T0 + timedelta(hours=1) and state.notified is WARN


def test_ok_between_warnings_restarts_the_count():
    _, events = run([WARN, OK, WARN, OK, WARN])
    assert events == []


def test_crit_opens_at_once_and_n_is_configurable():
    _, events = run([CRIT])
    assert kinds(events) == [(0, "opened")]
    assert events[0][1].message == "web01: Disk space CRITICAL: run 0"
    _, events = run([CRIT, CRIT], AlertConfig(open_after_crit=2, open_after=3))
    assert kinds(events) == [(1, "opened")]
    _, events = run([WARN, WARN, WARN], AlertConfig(open_after=3))
    assert kinds(events) == [(2, "opened")]
    _, events = run([WARN, CRIT])  # the crit run opens it, as CRITICAL
    assert kinds(events) == [(1, "opened")] and events[0][1].severity is CRIT
    assert events[0][1].message == "web01: Disk space CRITICAL: run 1"
    _, events = run([CRIT, CRIT], AlertConfig(open_after_crit=2, open_after=5))
    assert events[0][1].message == "web01: Disk space CRITICAL for 2 runs: run 1"


def test_no_storm_100_failing_runs_open_exactly_one_alert():
    _, events = run([CRIT] * 100)
    assert kinds(events) == [(0, "opened")]
    _, events = run([WARN] * 100)
    assert kinds(events) == [(1, "opened")]


def test_escalate_and_deescalate_update_the_one_alert():
    state, events = run([WARN, WARN, CRIT, CRIT, WARN, WARN, CRIT])
    assert kinds(events) == [(1, "opened"), (2, "escalated"), (4, "deescalated"), (6, "escalated")]
    assert [e.severity for _, e in events] == [WARN, CRIT, WARN, CRIT]
    assert events[1][1].message == "web01: Disk space rose to CRITICAL: run 2"
    assert events[2][1].message == "web01: Disk space fell to WARNING: run 4"
    assert all(e.opened_at == T0 + timedelta(hours=1) for _, e in events)
    assert state.opened_at == T0 + timedelta(hours=1)


def test_resolves_after_m_ok_runs():
    state, events = run([CRIT, OK])
    assert kinds(events) == [(0, "opened"), (1, "resolved")]
    resolved = events[1][1]
    assert resolved.severity is OK and resolved.opened_at == T0
    assert resolved.message == "web01: Disk space OK again after 1 h: run 1"
    assert not state.open and state.notified is None

    config = AlertConfig(resolve_after=3)
    state, events = run([CRIT, OK, OK, CRIT, OK, OK, OK], config)
    assert kinds(events) == [(0, "opened"), (6, "resolved")]
    assert events[1][1].message.startswith("web01: Disk space OK again after 6 h")


def test_a_new_alert_after_resolution():
    _, events = run([CRIT, OK, WARN, WARN])
    assert kinds(events) == [(0, "opened"), (1, "resolved"), (3, "opened")]


def test_unknown_does_not_resolve_nor_open_and_does_not_break_a_streak():
    state, events = run([CRIT, UNKNOWN, UNKNOWN, None, UNKNOWN])
    assert kinds(events) == [(0, "opened")] and state.open
    _, events = run([UNKNOWN] * 10 + [None] * 10)
    assert events == []
    _, events = run([WARN, UNKNOWN, None, WARN])  # neutral runs in between: still 2 in a row
    assert kinds(events) == [(3, "opened")]
    _, events = run([UNKNOWN, UNKNOWN], AlertConfig(unknown_opens=True))
    assert kinds(events) == [(1, "opened")] and events[0][1].severity is UNKNOWN


def test_host_unreachable_after_k_failures():
    def reach(results, config=CONFIG):
        return run([OK if r else None for r in results], config, check=HOST_CHECK)

    _, events = reach([False, False])
    assert events == []
    state, events = reach([False, False, False, False, False, True])
    assert kinds(events) == [(2, "opened"), (5, "resolved")]
    opened, resolved = events[0][1], events[1][1]
    assert opened.kind == "host-unreachable" and opened.severity is UNKNOWN
    assert opened.message == "web01 unreachable for 3 runs: run 2"
    assert resolved.message == "web01 is reachable again after 3 h"
    _, events = reach([False, True, False, False, True, False, False])
    assert events == []
    _, events = reach([False], AlertConfig(unreachable_after=1))
    assert kinds(events) == [(0, "opened")]


def test_observations_from_a_host_result():
    result = HostResult("web01", checks=[
        CheckResult("disk", "Disk space", CRIT, "/ 97% used", 2, 0.1),
        CheckResult("load", "Load", OK, "load 0.1", 0, 0.1)])
    got = observations(result)
    assert [(o.check, o.status, o.title) for o in got] == [
        ("disk", CRIT, "Disk space"), ("load", OK, "Load"), (HOST_CHECK, OK, "")]
    down = observations(HostResult("web01", error=HostError("timeout", "connect timed out")), True)
    assert [(o.check, o.status, o.summary, o.in_maintenance) for o in down] == [
        (HOST_CHECK, None, "timeout: connect timed out", True)]


def test_evaluate_all_keeps_one_state_per_host_and_check():
    states, events = {}, []
    for i in range(3):
        result = HostResult("web01", checks=[CheckResult("disk", "Disk", CRIT, "full", 2, 0.1)])
        states, found = evaluate_all(states, observations(result), CONFIG, T0 + timedelta(hours=i))
        events += found
    assert sorted(states) == [("web01", "disk"), ("web01", HOST_CHECK)]
    assert [e.event for e in events] == ["opened"]


def test_maintenance_suppresses_and_opens_after_the_window_if_still_failing():
    # failing from run 1, window over runs 0-3: tracked but silent; run 4 still fails: announced
    state, events = run([OK, CRIT, CRIT, CRIT, CRIT, CRIT], maintenance={0, 1, 2, 3})
    assert kinds(events) == [(4, "opened")]
    assert events[0][1].opened_at == T0 + timedelta(hours=1)  # when it really began
    assert state.open


def test_problem_gone_by_the_end_of_the_window_is_never_announced():
    _, events = run([CRIT, CRIT, OK, OK], maintenance={0, 1, 2})
    assert events == []
    # with resolve_after=2 the first run after the window is OK but the alert is not yet
    # resolved: still nothing is announced, and then it resolves silently
    _, events = run([CRIT, CRIT, OK, OK], AlertConfig(resolve_after=2), maintenance={0, 1})
    assert events == []


def test_announced_alert_resolved_in_a_window_is_resolved_after_it():
    state, events = run([CRIT, OK, OK, OK], maintenance={1, 2})
    assert kinds(events) == [(0, "opened"), (3, "resolved")]
    assert events[1][1].message.startswith("web01: Disk space OK again after 3 h")


def test_severity_change_in_a_window_is_announced_after_it():
    _, events = run([WARN, WARN, CRIT, CRIT, CRIT], maintenance={2, 3})
    assert kinds(events) == [(1, "opened"), (4, "escalated")]
    # resolved and failing again inside the window: still the one alert, nothing new
    _, events = run([CRIT, OK, CRIT, CRIT], maintenance={1, 2})
    assert kinds(events) == [(0, "opened")]


def test_state_json_round_trip():
    state, _ = run([WARN, WARN, CRIT])
    assert AlertState.from_json(state.as_json()) == state
    assert AlertState.from_json(AlertState("h", "c").as_json()) == AlertState("h", "c")


# -- acknowledge and snooze: a technician's hand, until it resolves or gets worse -------------
def test_acknowledge_and_snooze_survive_runs_and_the_store_but_end_on_worse_or_resolved():
    from techdesk.core.alerts import acknowledge, snooze

    state, _ = run([WARN, WARN])
    state = snooze(acknowledge(state, "Ann", T0), T0 + timedelta(hours=4))
    assert AlertState.from_json(state.as_json()) == state  # kept in the store as JSON
    assert state.snoozed(T0 + timedelta(hours=3)) and not state.snoozed(T0 + timedelta(hours=5))
    same, events = evaluate(state, Observation("web01", "disk", WARN), CONFIG, T0 + timedelta(hours=2))
    assert events == [] and (same.acked_by, same.snoozed_until) == ("Ann", T0 + timedelta(hours=4))
    worse, events = evaluate(same, Observation("web01", "disk", CRIT), CONFIG, T0 + timedelta(hours=3))
    assert [e.event for e in events] == ["escalated"]
    assert (worse.acked_by, worse.acked_at, worse.snoozed_until) == ("", None, None)
    acked = acknowledge(worse, "Bo", T0)
    fixed, events = evaluate(acked, Observation("web01", "disk", OK), CONFIG, T0 + timedelta(hours=4))
    assert [e.event for e in events] == ["resolved"] and fixed.acked_by == "" and not fixed.open


def test_only_an_open_alert_can_be_acknowledged_or_snoozed():
    import pytest

    from techdesk.core.alerts import acknowledge, snooze

    state, _ = run([WARN])  # one warning: not open yet
    with pytest.raises(ValueError, match="no open alert"):
        acknowledge(state, "Ann", T0)
    with pytest.raises(ValueError, match="no open alert"):
        snooze(state, T0 + timedelta(hours=1))
