"""Forecast math on synthetic histories, capacity rules, and forecast findings."""

from __future__ import annotations

import gc
import random
from datetime import UTC, datetime

import pytest

from techdesk.core.forecast import (
    DAY,
    DEFAULT_PARAMS,
    Capacity,
    ForecastParams,
    capacity_for,
    describe,
    forecast_findings,
    forecast_many,
    forecast_series,
)

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC).timestamp()
DISK = capacity_for("disk", "/srv", "%", crit=90.0)


def daily(values, now=NOW):
    """One point a day, the last one at ``now``."""
    n = len(values)
    return [(now - (n - 1 - i) * DAY, float(v)) for i, v in enumerate(values)]


def line(start, slope, days):
    return [start + slope * i for i in range(days)]


def within(got, expected, tolerance):
    return got is not None and abs(got - expected) <= tolerance * expected


# -- the math ----------------------------------------------------------------------------------

def test_steady_growth():
    # 40% growing 0.8 %/day for 45 days: 75.2% now, crosses 90% in 18.5 days
    f = forecast_series(daily(line(40, 0.8, 45)), DISK, host="web01", check="disk", label="/srv")
    assert within(f.days_left, 18.5, 0.05)
    assert f.eta == datetime.fromtimestamp(NOW + f.days_left * DAY, UTC)
    assert f.slope_per_day == pytest.approx(0.8)
    assert f.current == pytest.approx(75.2) and f.threshold == 90.0
    assert f.confidence == pytest.approx(1.0)
    assert f.points_used == 31  # the last 30 days
    assert f.reason is None
    assert f.fitted_from == NOW - 30 * DAY
    assert f.value_at(NOW + 10 * DAY) == pytest.approx(83.2)
    data = f.as_json()
    assert data["eta"] == "2026-01-29T00:00:00+00:00" and data["kind"] == "disk"
    assert data["now"] == "2026-01-10T12:00:00+00:00" and data["reason"] is None


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_noisy_growth(seed):
    # 1 %/day with noise sigma 2: 70% now (on the line), 90% in 20 days
    rng = random.Random(seed)
    values = [70 - 1.0 * (44 - i) + rng.gauss(0, 2) for i in range(45)]
    f = forecast_series(daily(values), DISK)
    assert within(f.days_left, 20.0, 0.15), f
    assert 0.7 < f.confidence < 1.0


def test_cleanup_fits_only_after_the_drop():
    # growing 1 %/day to 79%, a cleanup on day 30 drops it to 45%, then 0.5 %/day for 15 days
    values = line(50, 1.0, 30) + line(45, 0.5, 15)
    f = forecast_series(daily(values), DISK)
    assert f.fitted_from == NOW - 14 * DAY  # the day of the drop
    assert f.points_used == 15
    assert f.slope_per_day == pytest.approx(0.5)
    assert within(f.days_left, (90 - 52) / 0.5, 0.05)  # 76 days, from the new segment


def test_cleanup_over_two_days_and_noise():
    rng = random.Random(7)
    values = line(50, 1.0, 30) + [62] + line(45, 0.5, 15)
    values = [v + rng.gauss(0, 0.5) for v in values]
    f = forecast_series(daily(values), DISK)
    assert f.fitted_from == NOW - 14 * DAY
    assert within(f.days_left, 76, 0.15)


def test_cleanup_too_recent_gives_no_forecast():
    values = line(50, 1.0, 40) + [40, 40.5]
    f = forecast_series(daily(values), DISK)
    assert f.eta is None and f.days_left is None
    assert f.reason == ("only 2 points since the drop on 2026-01-09 "
                        "(need 5 points over 3 days)")


def test_flat():
    f = forecast_series(daily([60.0] * 40), DISK)
    assert f.eta is None and f.reason == "flat: no clear trend"
    assert f.slope_per_day == 0 and f.level == pytest.approx(60)
    rng = random.Random(3)
    f = forecast_series(daily([60 + rng.gauss(0, 1.5) for _ in range(40)]), DISK)
    assert f.eta is None and f.reason == "flat: no clear trend"
    assert f.confidence < 0.5


def test_noise_near_the_threshold_is_not_a_trend():
    # flat at 84% with noise: half the fits tilt up a little; only a significant trend counts
    reasons = []
    for seed in range(20):
        rng = random.Random(seed)
        f = forecast_series(daily([84 + rng.gauss(0, 1.5) for _ in range(40)]), DISK)
        reasons.append(f.reason)
    assert reasons.count("flat: no clear trend") == 20


def test_whole_percent_steps_are_a_trend_not_noise():
    f = forecast_series(daily([float(int(60 + 0.25 * i)) for i in range(40)]), DISK)
    assert f.slope_per_day == pytest.approx(0.25, abs=0.05)
    assert within(f.days_left, (90 - 69.75) / 0.25, 0.15)


def test_decreasing():
    f = forecast_series(daily(line(80, -0.5, 40)), DISK)
    assert f.eta is None and f.reason == "falling: moving away from 90"
    assert f.slope_per_day == pytest.approx(-0.5)


@pytest.mark.parametrize("points, reason", [
    ([], "no data"),
    (daily([50, 51]), "too few points: 2 in the last 30 days (need 5 points over 3 days)"),
    (daily([50, 51, 52, 53]), "too few points: 4 in the last 30 days (need 5 points over 3 days)"),
    ([(NOW - h * 3600, 50.0 + h) for h in range(48, -1, -1)],
     "too short: 49 points over 2.0 days (need 5 points over 3 days)"),
    (daily(line(50, 1, 40), now=NOW - 40 * DAY),
     "too few points: 0 in the last 30 days (need 5 points over 3 days)"),
])
def test_too_little_data_gives_no_forecast(points, reason):
    f = forecast_series(points, DISK, now=NOW)
    assert f.eta is None and f.days_left is None and f.slope_per_day is None
    assert f.reason == reason


def test_a_few_full_spikes_do_not_break_it():
    values = line(40, 0.8, 45)
    for day in (20, 31, 38):
        values[day] = 100.0
    f = forecast_series(daily(values), DISK)
    assert within(f.days_left, 18.5, 0.05)
    assert f.slope_per_day == pytest.approx(0.8, rel=0.05)
    values = line(40, 0.8, 45)
    values[33] = 0.0  # a bad reading dropping to zero is not a cleanup either
    f = forecast_series(daily(values), DISK)
    assert within(f.days_left, 18.5, 0.05) and f.fitted_from == NOW - 30 * DAY


def test_already_above_the_threshold():
    f = forecast_series(daily(line(80, 0.5, 30)), DISK, label="/srv")  # 94.5% now, crit 90
    assert f.days_left == 0 and f.eta == datetime.fromtimestamp(NOW, UTC)
    assert describe(f) == "/srv is at or above 90% (critical) (94.5% now)"
    full = capacity_for("disk", "/srv", "%", crit=90.0, target="full")
    f = forecast_series(daily([100.0] * 10), full, label="/srv")
    assert f.days_left == 0
    assert describe(f) == "/srv is full (100% now)"


def test_only_the_window_counts():
    # falling for 60 days, then growing for 30 (no drop between): only the growth is fitted
    values = line(80, -0.5, 60) + line(50, 0.5, 30)
    f = forecast_series(daily(values), DISK)
    assert f.slope_per_day == pytest.approx(0.5)
    assert within(f.days_left, (90 - 64.5) / 0.5, 0.05)
    # over 90 days one line is flat, but the turn is a change point: the rise since it counts
    f = forecast_series(daily(values), DISK, params=ForecastParams(window_days=90))
    assert f.slope_per_day == pytest.approx(0.5) and within(f.days_left, (90 - 64.5) / 0.5, 0.05)
    assert "since the trend changed" in f.basis


def test_dense_points_are_subsampled():
    # every 15 minutes for 30 days (2,881 points), 0.2 %/day from 50%: 90% in 170 days
    points = [(NOW - k * 900.0, 56.0 - 0.2 * k * 900 / DAY) for k in range(30 * 96, -1, -1)]
    f = forecast_series(points, DISK)
    assert f.points_used <= DEFAULT_PARAMS.max_points
    assert within(f.days_left, 170, 0.02)


def test_beyond_the_horizon():
    f = forecast_series(daily(line(10, 0.1, 40)), DISK)
    assert f.eta is None and f.reason == "no crossing within 365 days"


def test_certificate_days_left_falls_to_its_lower_bound():
    cert = capacity_for("cert", "days_left", "d", spec={"warn": 30, "crit": 7, "direction": "below"})
    assert cert == Capacity(7.0, True, "days-left", "crit", "d")
    f = forecast_series(daily(line(60, -1, 40)), cert, check="cert", label="days_left")
    assert f.current == 21 and f.slope_per_day == pytest.approx(-1)
    assert f.days_left == pytest.approx(14)
    assert describe(f) == ("cert will fall to 7 days (critical) in about 14 days "
                           "(falling 1 d/day; 21 days left)")
    # renewed 10 days ago: the fit starts at the renewal
    f = forecast_series(daily(line(40, -1, 30) + line(90, -1, 10)), cert, check="cert",
                        label="days_left")
    assert f.fitted_from == NOW - 9 * DAY and f.days_left == pytest.approx(81 - 7)
    f = forecast_series(daily(line(40, -1, 37)), cert, check="cert", label="days_left")
    assert f.days_left == 0 and describe(f) == "cert is at or below 7 days (critical) (4 days left)"


def test_plain_number_threshold():
    f = forecast_series(daily(line(40, 0.8, 45)), 90)
    assert within(f.days_left, 18.5, 0.05)


# -- capacity rules ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs, expected", [
    (("disk", "/", "%"), {"crit": 90.0}, Capacity(90.0, False, "disk", "crit", "%")),
    (("disk", "C:", "%"), {}, Capacity(100.0, False, "disk", "100%", "%")),
    (("disk", "/", "%"), {"crit": 90.0, "target": "full"}, Capacity(100.0, False, "disk", "100%", "%")),
    (("inodes", "/var", "%"), {"crit": 90.0, "max": 100.0, "target": "full"},
     Capacity(100.0, False, "inodes", "max", "%")),
    (("memory", "mem_used", "%"), {"crit": 95.0}, Capacity(95.0, False, "memory", "crit", "%")),
    (("swap", "swap_used", "%"), {"crit": 95.0}, Capacity(95.0, False, "swap", "crit", "%")),
    (("web", "tls_days_left", "d"), {}, Capacity(0.0, True, "days-left", "0", "d")),
    (("web", "days_left", ""), {"min": 1.0}, Capacity(1.0, True, "days-left", "min", "")),
    (("disk", "/", "%"), {"crit": 90.0, "spec": {"capacity": False}}, None),
    (("memory", "mem_available", "MB"), {}, None),
    (("load", "load_per_core", ""), {"crit": 3.0}, None),
    (("disk", "/", "B"), {"crit": 90.0}, None),
    (("backup", "repo_used", "GB"), {"spec": {"crit": 900, "capacity": True}, "max": 1000.0},
     Capacity(900.0, False, "custom", "crit", "GB")),
    (("lic", "seats_free", ""), {"spec": {"crit": 2, "direction": "below", "capacity": True}},
     Capacity(2.0, True, "custom", "crit", "")),
    (("backup", "repo_used", "GB"), {"spec": {"capacity": True}}, Capacity(None, False, "custom", "max", "GB")),
])
def test_capacity_for(args, kwargs, expected):
    assert capacity_for(*args, **kwargs) == expected


def test_no_threshold_no_forecast():
    cap = capacity_for("backup", "repo_used", "GB", spec={"capacity": True})
    f = forecast_series(daily(line(40, 1, 40)), cap)
    assert f.eta is None and f.reason == "no threshold to forecast against"


# -- batch and findings ------------------------------------------------------------------------

def test_forecast_many_keeps_order_and_restores_gc():
    series = [(("web01", "disk", "/srv"), daily(line(40, 0.8, 45)), DISK),
              (("web02", "disk", "/"), daily([60.0] * 40), DISK),
              (("web03", "disk", "/"), daily(line(40, 1, 40)), None)]
    assert gc.isenabled()
    got = forecast_many(series, now=datetime.fromtimestamp(NOW, UTC))
    assert gc.isenabled()
    assert [(f.host, f.check, f.label) for f in got] == [k for k, _p, _c in series]
    assert within(got[0].days_left, 18.5, 0.05) and got[1].eta is None
    assert got[2].reason == "no threshold to forecast against"
    gc.disable()
    try:
        forecast_many(series)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_findings_within_n_days_with_a_plain_sentence():
    full = capacity_for("disk", "/srv", "%", target="full")
    soon = forecast_series(daily(line(89.2 - 1.2 * 29, 1.2, 30)), full, host="web01", check="disk",
                           label="/srv")
    later = forecast_series(daily(line(40, 0.8, 45)), DISK, host="web02", check="disk", label="/")
    urgent = forecast_series(daily(line(60, 1, 30)), DISK, host="db01", check="disk", label="/var")
    mem = forecast_series(daily(line(60, 2, 30)), capacity_for("memory", "mem_used", "%", crit=95.0),
                          host="db01", check="memory", label="mem_used")
    flat = forecast_series(daily([50.0] * 30), DISK, host="web03", check="disk", label="/")
    found = forecast_findings([soon, later, urgent, mem, flat])
    assert [(d["host"], d["label"], d["status"], d["days_left"]) for d in found] == [
        ("db01", "mem_used", "crit", 0), ("db01", "/var", "crit", 1), ("web01", "/srv", "warn", 9)]
    assert found[2]["summary"] == "/srv will be full in about 9 days (growing 1.2 %/day; 89.2% now)"
    assert found[2]["id"] == "forecast:disk:/srv" and found[2]["title"] == "Forecast: /srv"
    assert found[2]["days_left"] == 9.0 and found[2]["eta"] == "2026-01-19T12:00:00+00:00"
    assert found[2]["evidence"]["points_used"] == 30
    assert found[0]["summary"] == "memory is at or above 95% (critical) (118% now)"
    assert found[1]["summary"] == "/var will reach 90% (critical) in about 1 day (growing 1 %/day; 89% now)"
    assert [d["host"] for d in forecast_findings([soon, later], within_days=30)] == ["web01", "web02"]


def test_describe_sentences():
    f = forecast_series(daily(line(40, 0.8, 45)), DISK, check="disk", label="/srv")
    assert describe(f) == "/srv will reach 90% (critical) in about 19 days (growing 0.8 %/day; 75.2% now)"
    inodes = capacity_for("inodes", "/", "%", crit=90.0)
    f = forecast_series(daily(line(40, 0.8, 45)), inodes, check="inodes", label="/")
    assert describe(f).startswith("inodes on / will reach 90% (critical) in about 19 days")
    f = forecast_series(daily([50.0] * 30), DISK, label="/")
    assert describe(f) == "/: no forecast (flat: no clear trend)"


# -- the patterns of a real fleet (issue 13) ----------------------------------------------------

def twice_daily(values, now=NOW):
    """A reading every 12 h, the last one at ``now``."""
    n = len(values)
    return [(now - (n - 1 - i) * DAY / 2, float(v)) for i, v in enumerate(values)]


def test_sawtooth_is_judged_on_its_peaks_not_on_the_rise_since_the_purge():
    # a spool filled 40 -> 82% over a week and purged, for 6 weeks; 2 days into a new cycle
    values = [40 + 6 * (i % 14) / 2 for i in range(6 * 14)] + [40, 43, 46, 49]
    f = forecast_series(twice_daily(values), DISK, check="disk", label="/spool")
    assert f.days_left is None and f.reason.startswith("cyclic: drops back every ~7 days")
    assert "peaks up to 79%" in f.reason and "peaks of" in f.basis
    # the same rise without the history of purges is a forecast
    assert forecast_series(twice_daily(values[-4:] + [52, 55, 58, 61, 64, 67]), DISK).days_left is not None


def test_sawtooth_whose_peaks_creep_up_is_forecast_on_the_peaks():
    values = [40 + 0.25 * i + 3 * (i % 14) / 2 for i in range(6 * 14)]
    f = forecast_series(twice_daily(values), DISK)
    assert f.days_left is not None and f.unit == "peaks" and "cycles" in f.basis


def test_leak_with_restarts_is_cyclic_and_a_missed_restart_is_not():
    rng = random.Random(7)
    values = [45 + 4 * (i % 12) / 2 + rng.gauss(0, 0.5) for i in range(5 * 12)]
    mem = capacity_for("memory", "mem_used", "%", crit=90.0)
    f = forecast_series(twice_daily(values), mem, check="memory", label="mem_used")
    assert f.days_left is None and f.reason.startswith("cyclic")
    # the restart stopped: 12 days without one (twice the cycle) and still leaking
    values += [45 + 2 * i + rng.gauss(0, 0.5) for i in range(24)]
    f = forecast_series(twice_daily(values), mem, check="memory", label="mem_used")
    assert f.days_left is not None and f.days_left < 3 and "cycle is broken" in f.basis


def test_a_step_up_that_stays_flat_is_a_change_point_not_a_trend():
    # 17 days ago someone copied a big ISO: 50% -> 72%, flat since
    values = [50.0 + 0.3 * ((i * 7) % 3) for i in range(26)] + [72.0 + 0.3 * ((i * 5) % 3) for i in range(34)]
    f = forecast_series(twice_daily(values), DISK)
    assert f.days_left is None and f.reason == "flat: no clear trend"
    assert "since the trend changed" in f.basis


def test_a_recent_sustained_rise_is_not_an_outlier():
    # flat for 8 weeks, then filling 3 %/day for 4 days
    rng = random.Random(4)
    values = [50 + rng.gauss(0, 0.4) for _ in range(112)] + [50 + 1.5 * k + rng.gauss(0, 0.4) for k in range(1, 9)]
    f = forecast_series(twice_daily(values), DISK)
    assert f.days_left is not None and within(f.days_left, (90 - 62) / 3, 0.25)
    assert f.slope_per_day == pytest.approx(3, rel=0.2) and "since the trend changed" in f.basis


def test_acceleration_is_caught_by_the_recent_trend():
    # 0.2 %/day for three weeks, then 1.5 %/day for a week: one line says 60+ days
    values = [40 + 0.2 * d for d in range(21)] + [44 + 1.5 * d for d in range(1, 8)]
    f = forecast_series(daily(values), DISK)
    assert f.days_left is not None and f.days_left < 25
    assert f.slope_per_day == pytest.approx(1.5, rel=0.15)


def test_the_sentence_agrees_with_its_numbers():
    # the last reading is far off the line (a noisy dip): the sentence says where the line is
    values = line(60, 1.0, 30)
    values[-1] = 81.0
    f = forecast_series(daily(values), DISK, label="/srv")
    text = describe(f)
    assert text == "/srv will reach 90% (critical) in about 1 day (growing 1 %/day; trend at 89% now, last reading 81%)"
    f = forecast_series(daily(line(40, 0.8, 45)), DISK, label="/srv")
    assert describe(f).endswith("(growing 0.8 %/day; 75.2% now)")


def test_every_forecast_says_which_data_it_rests_on():
    f = forecast_series(daily(line(40, 0.8, 45)), DISK)
    assert f.basis == "31 readings 2025-12-11 to 2026-01-10"
    [found] = forecast_findings([forecast_series(daily(line(60, 1, 30)), DISK, host="h", label="/")])
    assert found["basis"] == found["evidence"]["basis"] == "30 readings 2025-12-12 to 2026-01-10"


def test_readings_after_now_are_not_used():
    points = daily(line(40, 0.8, 45))
    later = points + [(NOW + d * DAY, 20.0) for d in range(1, 6)]  # a cleanup after `now`
    assert forecast_series(later, DISK, now=NOW).as_json() == forecast_series(points, DISK, now=NOW).as_json()


def test_a_drop_on_the_last_reading_alone_waits_for_the_next():
    # growing 1 %/day to 79%; the last reading is 25 points lower (a bad reading, or a
    # cleanup): the forecast stays on the readings before it and says so ...
    values = line(50, 1.0, 30) + [54.0]
    f = forecast_series(daily(values), DISK, label="/srv")
    assert f.days_left is not None and within(f.days_left, 90 - 80, 0.15)
    assert f.points_used == 30 and f.current == 54.0
    assert f.basis == ("30 readings 2025-12-11 to 2026-01-09 "
                       "(the last reading left out: a drop not yet confirmed)")
    assert "trend at 80% now, last reading 54%" in describe(f)
    # ... and a second low reading confirms the drop: the forecast ends
    f = forecast_series(daily(values + [54.5]), DISK)
    assert f.days_left is None and f.reason.startswith("only 2 points since the drop")
    # after a change of trend the basis still says since when
    rng = random.Random(2)
    values = [50 + rng.gauss(0, 0.3) for _ in range(20)] + [50 + 2 * k + rng.gauss(0, 0.3) for k in range(1, 11)]
    f = forecast_series(daily(values + [40.0]), DISK)
    assert f.basis == ("11 readings 2025-12-30 to 2026-01-09 (since the trend changed on 2025-12-30; "
                       "the last reading left out: a drop not yet confirmed)")
    assert f.days_left is not None and within(f.days_left, 9, 0.2)


def test_a_cycle_is_overdue_on_readings_not_while_the_laptop_is_off():
    # the sawtooth above, then the laptop is off for 12 days (1.5 cycles and more): no
    # reading has shown a missed purge, so it is still judged on its peaks
    values = [40 + 6 * (i % 14) / 2 for i in range(6 * 14)] + [40, 43, 46, 49, 52, 55, 58, 61]
    points = twice_daily(values, now=NOW - 12 * DAY)
    f = forecast_series(points, DISK, now=NOW)
    assert f.days_left is None and f.reason.startswith("cyclic: drops back every ~7 days")
    # back on, its readings are past the due purge and show none: the cycle is broken
    points += [(NOW - DAY, 64.0), (NOW - DAY / 2, 66.0), (NOW, 68.0)]
    f = forecast_series(points, DISK, now=NOW)
    assert f.unit == "readings" and not (f.reason or "").startswith("cyclic")
