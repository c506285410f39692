"""The numeric pieces of a forecast on small series (core.trend): drops, cycle peaks,
change points. Values are oriented: up is toward the threshold."""

from __future__ import annotations

from techdesk.core import trend

DAY = trend.DAY


def diffs(u):
    return [a - b for a, b in zip(u, u[1:], strict=False)]


def test_a_purge_right_after_a_bad_high_reading_is_a_drop():
    # a ramp of 1 per reading, a bad reading of +13 at 70, then the purge to 58
    u = [60 + k for k in range(11)] + [83.7] + [58.0 + k for k in range(6)]
    assert trend.drops(u, diffs(u), 5.0) == [12]


def test_a_lone_spike_is_not_a_drop():
    u = [60 + 0.5 * k for k in range(10)] + [75.0] + [65.5 + 0.5 * k for k in range(6)]
    assert trend.drops(u, diffs(u), 5.0) == []


def test_a_sawtooth_refilling_fast_after_its_purge_drops_every_cycle():
    # rises 2 a reading, purged by 6: the three readings after the purge are barely
    # below the three before it, yet each purge is a drop
    cycle = [50 + 2 * k for k in range(6)]
    u = cycle + [c + 4 for c in cycle] + [c + 8 for c in cycle] + [c + 12 for c in cycle]
    assert trend.drops(u, diffs(u), 5.0) == [6, 12, 18]


def test_noise_is_not_a_drop_even_when_it_wanders_up():
    u = [50, 51, 50, 52, 51, 53, 52, 47, 49, 48, 50, 49, 51, 50]
    assert trend.drops(u, diffs(u), 4.0) == []


def test_a_cycle_peak_ignores_one_bad_reading_at_its_top():
    ts = [k * DAY / 2 for k in range(16)]
    u = [60, 61, 62, 63, 64, 65, 78, 50, 51, 52, 53, 54, 55, 56, 57, 45]
    assert trend.cycle_peaks(ts, u, [7, 15], 5.0) == [65, 57]
    # a top reached after days without readings is no bad reading
    ts[6] = ts[5] + 3 * DAY
    assert trend.cycle_peaks(ts, u, [7, 15], 5.0) == [78, 57]


def test_a_step_between_the_candidate_splits_is_placed_on_its_reading():
    ts = [k * DAY / 2 for k in range(60)]
    u = [50.0 + (0.3 if k % 2 else -0.3) for k in range(45)] + [70.0 + (0.3 if k % 2 else -0.3)
                                                                for k in range(15)]
    assert trend.latest_break(ts, u, min_tail=3, min_tail_days=0.0, min_f=20.0, min_gain=0.25) == 45


def test_one_bad_last_reading_is_no_regime():
    ts = [k * DAY for k in range(30)]
    u = [60.0 + k for k in range(29)] + [81.0]
    assert trend.latest_break(ts, u, min_tail=3, min_tail_days=0.0, min_f=20.0, min_gain=0.25) == 0


def test_mean_square_sees_a_recent_rise_the_robust_spread_leaves_out():
    ts = [k * DAY / 2 for k in range(60)]
    u = [50.0 + (0.2 if k % 2 else -0.2) for k in range(52)] + [50.0 + 1.5 * k for k in range(1, 9)]
    fit = trend.robust_line(ts, u, 24)
    assert fit[2] < 0.5 < trend.mean_square(fit[3], fit[1]) ** 0.5


def test_rho_by_distances_is_the_lag_one_autocorrelation():
    r = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5, -2.0]
    a = 3.0
    total = sum(x * x for x in r)
    expected = sum(x * y for x, y in zip(r, r[1:], strict=False)) / total
    got, ss = trend.rho([x + a for x in r], a)
    assert abs(got - expected) < 1e-12 and abs(ss - total) < 1e-12


def test_a_drop_must_exceed_the_level_it_is_given():
    # a purge of 6 counts against the steps' own noise, not against a noisier window's level
    u = [50 + 0.5 * k for k in range(10)] + [48.5 + 0.5 * k for k in range(6)]
    assert trend.drops(u, diffs(u), 2.0) == [10]
    assert trend.drops(u, diffs(u), 2.0, level=7.0) == []
