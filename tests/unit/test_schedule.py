"""Schedules: intervals, targets, maintenance windows across midnight and DST, backoff, staleness."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from techdesk.core.schedule import (
    Schedule,
    ScheduleError,
    Target,
    Window,
    due_state,
    format_interval,
    in_maintenance,
    is_due,
    is_stale,
    maintenance_end,
    next_due,
    not_running,
    parse_interval,
    parse_windows,
    retry_delay,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- intervals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, minutes", [("15m", 15), ("6h", 360), ("1d", 1440), ("2d", 2880),
                                           (" 90M ", 90), ("1m", 1), ("365d", 365 * 1440)])
def test_parse_interval(text, minutes):
    assert parse_interval(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "6", "h", "6x", "1.5h", "-1h", "0m", "366d", "6 hours", "1h30m"])
def test_bad_interval_is_one_clear_error(text):
    with pytest.raises(ScheduleError) as info:
        parse_interval(text)
    message = str(info.value)
    assert "\n" not in message
    assert repr(text) in message
    assert "e.g. 15m, 6h, 1d" in message or "from 1m to 365d" in message


@pytest.mark.parametrize("minutes, text", [(15, "15m"), (90, "90m"), (360, "6h"), (1440, "1d"),
                                           (2880, "2d"), (2160, "36h")])
def test_format_interval(minutes, text):
    assert format_interval(timedelta(minutes=minutes)) == text
    assert parse_interval(text) == timedelta(minutes=minutes)


# -- targets -----------------------------------------------------------------------------------

def test_targets_parse_format_and_match():
    assert str(Target.parse("client:Acme")) == "client:Acme"
    assert Target.parse("all") == Target("all")
    assert Target.parse("host:web01").matches("web01")
    assert not Target.parse("host:web01").matches("web02")
    assert Target.parse("client:Acme").matches("x", client="Acme", site="HQ")
    assert not Target.parse("site:HQ").matches("x", client="Acme", site="Lab")
    assert Target.parse("tag:backup").matches("x", tags=["db", "backup"])
    assert Target("all").matches("anything")
    for bad in ("galaxy:x", "client:", "client", "all:x", ""):
        with pytest.raises(ScheduleError, match="bad target"):
            Target.parse(bad)


# -- windows: parsing --------------------------------------------------------------------------

@pytest.mark.parametrize("text, canonical", [
    ("Sun 02:00-04:00 Europe/Berlin", "Sun 02:00-04:00 Europe/Berlin"),
    ("sunday 2:00-4:00 Europe/Berlin", "Sun 02:00-04:00 Europe/Berlin"),
    ("Mon-Fri 22:00-02:00 UTC alerts", "Mon-Fri 22:00-02:00 UTC alerts"),
    ("Sat,Sun 00:00-24:00 America/New_York runs", "Sat,Sun 00:00-24:00 America/New_York"),
    ("Fri-Mon 01:00-02:00 UTC", "Mon,Fri-Sun 01:00-02:00 UTC"),
    ("daily 03:00-03:30 Europe/Berlin", "daily 03:00-03:30 Europe/Berlin"),
    ("Mon,Wed,Thu,Fri 12:00-13:00 UTC", "Mon,Wed-Fri 12:00-13:00 UTC"),
])
def test_window_parse_and_format(text, canonical):
    window = Window.parse(text)
    assert str(window) == canonical
    assert Window.parse(str(window)) == window


def test_window_fields():
    w = Window.parse("Sat 22:00-02:00 Europe/Berlin alerts")
    assert w.days == frozenset({5})
    assert (w.start, w.end, w.tz, w.mode) == (22 * 60, 2 * 60, "Europe/Berlin", "alerts")
    assert w.length == timedelta(hours=4)
    assert Window.parse("Sun 00:00-24:00 UTC").length == timedelta(days=1)


@pytest.mark.parametrize("text, why", [
    ("Sun 2-4 Europe/Berlin", "bad time '2'"),
    ("Sun 02:00-04:00 Berlin", "unknown time zone 'Berlin'"),
    ("Sun 02:00-04:00 ../../etc/passwd", "unknown time zone"),
    ("Sonntag 02:00-04:00 UTC", "unknown day"),
    ("Sun 02:00 UTC", "bad times '02:00'"),
    ("Sun 25:00-26:00 UTC", "bad time '25:00'"),
    ("Sun 02:60-03:00 UTC", "bad time '02:60'"),
    ("Sun 24:00-02:00 UTC", "bad time '24:00'"),
    ("Sun 02:00-04:00", "expected DAYS HH:MM-HH:MM ZONE"),
    ("Sun 02:00-04:00 UTC sometimes", "unknown mode 'sometimes'"),
    ("Sun 02:00-02:00 UTC", "it ends when it starts"),
    ("", "expected DAYS"),
])
def test_bad_window_is_one_clear_error(text, why):
    with pytest.raises(ScheduleError) as info:
        Window.parse(text)
    message = str(info.value)
    assert message.startswith(f"bad maintenance window {text!r}: ")
    assert why in message
    assert "\n" not in message


def test_parse_several_windows():
    windows = parse_windows("Sun 02:00-04:00 Europe/Berlin; Wed 12:00-13:00 UTC alerts")
    assert [str(w) for w in windows] == ["Sun 02:00-04:00 Europe/Berlin", "Wed 12:00-13:00 UTC alerts"]
    assert parse_windows("") == ()


# -- windows: when -----------------------------------------------------------------------------

def test_plain_window_in_winter_berlin():
    w = [Window.parse("Sun 02:00-04:00 Europe/Berlin")]  # CET = UTC+1 in January
    assert not in_maintenance(w, utc(2026, 1, 4, 0, 59))
    assert in_maintenance(w, utc(2026, 1, 4, 1, 0))
    assert in_maintenance(w, utc(2026, 1, 4, 2, 59))
    assert not in_maintenance(w, utc(2026, 1, 4, 3, 0))
    assert not in_maintenance(w, utc(2026, 1, 5, 1, 30))  # a Monday


def test_window_across_midnight():
    w = [Window.parse("Sat 22:00-02:00 UTC")]
    assert not in_maintenance(w, utc(2026, 1, 3, 21, 59))  # Saturday
    assert in_maintenance(w, utc(2026, 1, 3, 22, 0))
    assert in_maintenance(w, utc(2026, 1, 4, 1, 59))  # Sunday morning: Saturday's window
    assert not in_maintenance(w, utc(2026, 1, 4, 2, 0))
    assert not in_maintenance(w, utc(2026, 1, 4, 23, 0))  # Sunday evening: no window starts
    assert not in_maintenance(w, utc(2026, 1, 2, 23, 0))  # Friday evening


def test_naive_datetimes_are_utc():
    w = [Window.parse("Sat 22:00-02:00 UTC")]
    assert in_maintenance(w, datetime(2026, 1, 3, 23, 0))


def test_berlin_spring_forward_window_in_the_skipped_hour():
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC). 02:00-03:00 never shows on the
    # clock: the window starts at the jump and still lasts its hour (03:00-04:00 CEST).
    w = Window.parse("Sun 02:00-03:00 Europe/Berlin")
    assert w.occurrence(date(2026, 3, 29)) == (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    assert not in_maintenance([w], utc(2026, 3, 29, 0, 59))  # 01:59 CET
    assert in_maintenance([w], utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert in_maintenance([w], utc(2026, 3, 29, 1, 59))
    assert not in_maintenance([w], utc(2026, 3, 29, 2, 0))  # 04:00 CEST
    # a start inside the skipped hour also starts at the jump
    w = Window.parse("Sun 02:30-03:30 Europe/Berlin")
    assert w.occurrence(date(2026, 3, 29)) == (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    # the next Sunday is ordinary summer time: 02:00-03:00 CEST = 00:00-01:00 UTC
    w = Window.parse("Sun 02:00-03:00 Europe/Berlin")
    assert w.occurrence(date(2026, 4, 5)) == (utc(2026, 4, 5, 0), utc(2026, 4, 5, 1))


def test_berlin_fall_back_window_covers_both_passes():
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00 UTC; 02:00-03:00 happens twice.
    w = Window.parse("Sun 02:00-03:00 Europe/Berlin")
    assert w.occurrence(date(2026, 10, 25)) == (utc(2026, 10, 25, 0), utc(2026, 10, 25, 2))
    assert not in_maintenance([w], utc(2026, 10, 24, 23, 59))  # 01:59 CEST
    assert in_maintenance([w], utc(2026, 10, 25, 0, 30))  # 02:30 CEST, first pass
    assert in_maintenance([w], utc(2026, 10, 25, 1, 30))  # 02:30 CET, second pass
    assert not in_maintenance([w], utc(2026, 10, 25, 2, 0))  # 03:00 CET


def test_new_york_spring_forward_and_fall_back():
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
    w = Window.parse("Sun 02:00-03:00 America/New_York")
    assert w.occurrence(date(2026, 3, 8)) == (utc(2026, 3, 8, 7), utc(2026, 3, 8, 8))
    assert not in_maintenance([w], utc(2026, 3, 8, 6, 59))
    assert in_maintenance([w], utc(2026, 3, 8, 7, 30))
    # 2026-11-01: 02:00 EDT falls back to 01:00 EST at 06:00 UTC; 01:00-02:00 happens twice.
    w = Window.parse("Sun 01:00-02:00 America/New_York")
    assert w.occurrence(date(2026, 11, 1)) == (utc(2026, 11, 1, 5), utc(2026, 11, 1, 7))
    assert in_maintenance([w], utc(2026, 11, 1, 5, 30))  # 01:30 EDT
    assert in_maintenance([w], utc(2026, 11, 1, 6, 30))  # 01:30 EST
    assert not in_maintenance([w], utc(2026, 11, 1, 7, 0))  # 02:00 EST


def test_window_modes():
    runs, alerts = Window.parse("Sun 02:00-04:00 UTC"), Window.parse("Sun 02:00-04:00 UTC alerts")
    when = utc(2026, 1, 4, 3)
    assert in_maintenance([alerts], when)
    assert not in_maintenance([alerts], when, runs=True)
    assert in_maintenance([runs], when, runs=True)


def test_maintenance_end_chains_overlapping_windows():
    windows = parse_windows("Sun 02:00-04:00 UTC; Sun 03:30-05:00 UTC")
    assert maintenance_end(windows, utc(2026, 1, 4, 2, 15)) == utc(2026, 1, 4, 5)
    assert maintenance_end(windows, utc(2026, 1, 4, 6)) is None


# -- due ---------------------------------------------------------------------------------------

def schedule(every="6h", windows="") -> Schedule:
    return Schedule("linux-health", Target.parse("client:Acme"), parse_interval(every),
                    parse_windows(windows), id="s1")


def test_due_and_not_due():
    s = schedule("6h")
    last = utc(2026, 1, 5, 8)
    assert next_due(s, last, utc(2026, 1, 5, 9)) == utc(2026, 1, 5, 14)
    assert not is_due(s, last, utc(2026, 1, 5, 13, 59))
    assert is_due(s, last, utc(2026, 1, 5, 14))
    assert is_due(s, last, utc(2026, 1, 6, 0))  # overdue
    assert next_due(s, last, utc(2026, 1, 6, 0)) == utc(2026, 1, 5, 14)  # shown as overdue
    assert is_due(s, None, utc(2026, 1, 5, 9))  # never run: due now
    s.enabled = False
    assert not is_due(s, None, utc(2026, 1, 5, 9))


def test_due_state_says_why_and_agrees_with_next_due():
    s = schedule("1h", "Sun 02:00-04:00 UTC")
    last = utc(2026, 1, 4, 0, 30)
    retry = utc(2026, 1, 4, 5)  # the host's own next try, after failed runs elsewhere
    cases = [
        (utc(2026, 1, 4, 1), 0, None, "waiting"),
        (utc(2026, 1, 4, 1, 30), 0, None, "due"),
        (utc(2026, 1, 4, 1), 2, None, "due"),  # backoff: 10 min after 2 failures
        (utc(2026, 1, 4, 2, 30), 0, None, "held"),
        (utc(2026, 1, 4, 4, 30), 3, retry, "backing-off"),
        (utc(2026, 1, 4, 5), 3, retry, "due"),
    ]
    for now, failures, retry_at, state in cases:
        assert due_state(s, last, now, failures, retry_at) == state, now
        assert is_due(s, last, now, failures, retry_at) == (state == "due")
        assert (next_due(s, last, now, failures, retry_at) <= now) == (state == "due"), now
    assert next_due(s, last, utc(2026, 1, 4, 1), 3, retry) == retry
    s.enabled = False
    assert due_state(s, last, utc(2026, 1, 4, 5)) == "disabled"


def test_interval_is_absolute_time_across_dst():
    # 6 h after 23:00 UTC on the night Berlin springs forward is 05:00 UTC, whatever the clock says
    s = schedule("6h")
    assert next_due(s, utc(2026, 3, 28, 23), utc(2026, 3, 29, 0)) == utc(2026, 3, 29, 5)
    s = schedule("1d")
    assert next_due(s, utc(2026, 10, 24, 10), utc(2026, 10, 24, 11)) == utc(2026, 10, 25, 10)


def test_run_window_holds_runs_until_it_ends():
    s = schedule("1h", "Sun 02:00-04:00 UTC")
    last = utc(2026, 1, 4, 1, 30)
    assert next_due(s, last, utc(2026, 1, 4, 1, 40)) == utc(2026, 1, 4, 4)
    assert not is_due(s, last, utc(2026, 1, 4, 3, 59))
    assert is_due(s, last, utc(2026, 1, 4, 4))
    # overdue from before the window: still held while it is open
    assert not is_due(s, utc(2026, 1, 3, 12), utc(2026, 1, 4, 2, 30))
    assert next_due(s, utc(2026, 1, 3, 12), utc(2026, 1, 4, 2, 30)) == utc(2026, 1, 4, 4)


def test_alert_window_does_not_hold_runs():
    s = schedule("1h", "Sun 02:00-04:00 UTC alerts")
    assert is_due(s, utc(2026, 1, 4, 1, 30), utc(2026, 1, 4, 2, 30))


def test_run_window_on_spring_forward_day_holds_runs_for_its_hour():
    s = schedule("15m", "Sun 02:00-03:00 Europe/Berlin")
    last = utc(2026, 3, 29, 0, 50)
    # due 01:05 UTC = 03:05 CEST, inside the window (03:00-04:00 CEST): held to its end
    assert next_due(s, last, utc(2026, 3, 29, 0, 55)) == utc(2026, 3, 29, 2, 0)
    assert not is_due(s, last, utc(2026, 3, 29, 1, 30))
    assert is_due(s, last, utc(2026, 3, 29, 2, 0))


# -- backoff, staleness, overlap ---------------------------------------------------------------

def test_retry_delay_grows_and_is_capped_by_the_interval():
    day = timedelta(days=1)
    assert retry_delay(0, day) == day
    got = [retry_delay(n, day) for n in range(1, 11)]
    assert got[:4] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert got[8] == timedelta(minutes=1280)
    assert got[9] == day  # 2560 min > 1 day: capped
    assert retry_delay(10_000, day) == day
    assert retry_delay(3, timedelta(minutes=15)) == timedelta(minutes=15)


def test_failed_host_is_retried_sooner_with_backoff():
    s = schedule("1d")
    last = utc(2026, 1, 5, 8)
    assert next_due(s, last, last, failures=1) == utc(2026, 1, 5, 8, 5)
    assert next_due(s, last, last, failures=3) == utc(2026, 1, 5, 8, 20)
    assert next_due(s, last, last, failures=0) == utc(2026, 1, 6, 8)


def test_stale():
    now = utc(2026, 1, 5, 12)
    assert not is_stale(utc(2026, 1, 5, 0), now, timedelta(hours=24))
    assert is_stale(utc(2026, 1, 4, 12), now, timedelta(hours=24))
    assert is_stale(None, now, timedelta(hours=24))
    assert not is_stale(None, now, timedelta(hours=24), since=utc(2026, 1, 5, 11))
    assert is_stale(None, now, timedelta(hours=24), since=utc(2026, 1, 1))


def test_not_running_drops_running_hosts_and_duplicates():
    assert not_running(["a", "b", "c", "b"], {"c"}) == ["a", "b"]
    due = [("s1", "web01"), ("s2", "db01"), ("s3", "web01"), ("s1", "mail")]
    assert not_running(due, {"mail"}, host=lambda item: item[1]) == [("s1", "web01"), ("s2", "db01")]


def test_schedule_json_round_trip():
    s = schedule("6h", "Sun 02:00-04:00 Europe/Berlin; Wed 12:00-13:00 UTC alerts")
    s.last_run = utc(2026, 1, 5, 8)
    data = s.as_json()
    assert data == {"id": "s1", "bundle": "linux-health", "target": "client:Acme", "every": "6h",
                    "windows": ["Sun 02:00-04:00 Europe/Berlin", "Wed 12:00-13:00 UTC alerts"],
                    "last_run": "2026-01-05T08:00:00+00:00", "enabled": True}
    assert Schedule.from_json(data) == s
    with pytest.raises(ScheduleError, match="bad schedule s1: bad interval"):
        Schedule.from_json({**data, "every": "often"})
