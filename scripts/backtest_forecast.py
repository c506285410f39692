"""Backtest: do forecasts flag slow-burn failures a week ahead without crying wolf?

    .venv/bin/python scripts/backtest_forecast.py [--hosts 1000] [--days 120] [--seed 13]

Simulates a fleet for ``--days`` days. Servers report every 12 h (a reading now
and then lost, some with week-long outages); laptops every 6 h while they are on
(off most nights and weekends, off for whole holidays). Every host has one metric
(disk or memory %, critical at 90) following one scenario:

failing (the reading reaches 90 during the run)
  linear        steady fill
  change-point  flat for weeks, then filling fast
  accelerating  a fill whose rate keeps growing
  creeping-saw  weekly purge, but each week's floor (and peak) is higher
  leak-stops    a memory leak reset by restarts, until the restarts stop
  step-fill     a big copy, then a steady fill
  laptop-fill   a steady fill on a laptop that is often off
healthy (never reaches 90, nor would within the horizon after the run)
  sawtooth      a spool filled over a week and purged (peak 75-86%)
  rotation      daily log rotation on a full-ish disk
  leak-restart  a memory leak reset by restarts every 3-9 days (peak < 87%)
  step-flat     a big copy once, then flat
  noisy-high    flat at 72-82% with autocorrelated noise
  slow-growth   0.05-0.15 %/day, centuries from full
  outage-flat   flat, with 1-2 outages of 5-20 days (level shifts across them)
  cleanup       slow growth with a big manual cleanup every 3-6 weeks

Walking forward one day at a time, each method sees only the readings taken
before that day and flags a host when it foresees the reading at or above 90
within ``--horizon`` days (default 21: a week's notice plus two weeks to plan
a visit) or sees it there already. Measured in the same run:

* techdesk        core.forecast.forecast_series, as the app calls it
* static-80       flag when the latest reading is 80% or more
* lsq-14d         ordinary least squares over the last 14 days, extrapolated

Figures: recall = failing hosts flagged >= 7 days before the failure and kept
flagged until it (lead = failure - first day of that last streak); median lead
over failing hosts that were flagged at all; false alarms = healthy host-weeks
with any flag (weeks counted from day 14). Goals (issue 13): recall >= 95%,
false alarms < 5% overall and < 10% in every healthy scenario, median lead
>= 14 days, whole run < 3 minutes. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from techdesk.core.forecast import DAY, capacity_for, forecast_series  # noqa: E402

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
CRIT = 90.0
FAILING = ("linear", "change-point", "accelerating", "creeping-saw", "leak-stops", "step-fill",
           "laptop-fill")
HEALTHY = ("sawtooth", "rotation", "leak-restart", "step-flat", "noisy-high", "slow-growth",
           "outage-flat", "cleanup")
MEMORY = {"leak-stops", "leak-restart"}


# -- when readings are taken -------------------------------------------------------------------

def server_times(rng: random.Random, days: int, outages: int = 0) -> list[float]:
    """Every 12 h (jitter of minutes), 3% lost; ``outages`` gaps of 5-20 days."""
    off = []
    for _ in range(outages):
        start = rng.uniform(20, days - 25)
        off.append((start, start + rng.uniform(5, 20)))
    times = []
    for k in range(days * 2):
        t = k * 0.5 + rng.uniform(0, 0.02)
        if rng.random() < 0.03 or any(a <= t < b for a, b in off):
            continue
        times.append(t)
    return times


def laptop_times(rng: random.Random, days: int) -> list[float]:
    """Every 6 h while on: weekdays 08-20 h mostly, weekends seldom, 0-2 holidays."""
    holidays = []
    for _ in range(rng.randrange(3)):
        start = rng.uniform(10, days - 15)
        holidays.append((start, start + rng.uniform(4, 14)))
    times = []
    for k in range(days * 4):
        t = k * 0.25 + rng.uniform(0, 0.03)
        day, hour = int(t), (t % 1) * 24
        weekend = day % 7 in (5, 6)
        on = (0.15 if weekend else 0.9) if 7 <= hour < 21 else (0.05 if weekend else 0.3)
        if rng.random() < on and not any(a <= t < b for a, b in holidays):
            times.append(t)
    return times


# -- what the readings are ---------------------------------------------------------------------

def _saw(t: float, cuts: list[float]) -> tuple[float, int]:
    """(days since the last cut before t, index of the cycle)."""
    i = bisect_left(cuts, t + 1e-9) - 1
    return (t - cuts[i], i) if i >= 0 else (t + 7.0, -1)


def _cuts(rng: random.Random, days: int, period: float, jitter: float, first: float = 0.0) -> list[float]:
    cuts, t = [], first - rng.uniform(0, period)
    while t < days + period:
        cuts.append(t)
        t += period + rng.uniform(-jitter, jitter)
    return cuts


def scenario(name: str, rng: random.Random, days: int, horizon: float):
    """(times in days, the level function f(t), the noise sd, AR(1) noise or not)."""
    laptop = name == "laptop-fill" or (name not in ("outage-flat",) and rng.random() < 0.35)
    outages = rng.randrange(1, 3) if name == "outage-flat" else 0
    times = laptop_times(rng, days) if laptop else server_times(rng, days, outages)
    fail = rng.uniform(40, days - 2)  # when a failing scenario reaches 90
    sd, ar = rng.uniform(0.2, 1.0), False
    if name in ("linear", "laptop-fill"):
        base = rng.uniform(25, 65)
        slope = (CRIT - base) / fail
        def f(t): return base + slope * t
    elif name == "change-point":  # at least 12 days from the bend to 90: a week's notice is possible
        base = rng.uniform(30, 65)
        slope = rng.uniform(0.8, min(4.0, (CRIT - base) / 12))
        bend = max(20.0, fail - (CRIT - base) / slope)
        fail = bend + (CRIT - base) / slope
        def f(t): return base + slope * max(0.0, t - bend)
    elif name == "accelerating":
        base, tau = rng.uniform(20, 50), rng.uniform(12, 35)
        k = (CRIT - base) / (math.exp(fail / tau) - 1)
        def f(t): return base + k * (math.exp(t / tau) - 1)
    elif name == "creeping-saw":
        floor, amp, creep = rng.uniform(30, 45), rng.uniform(12, 25), 0.0
        creep = (CRIT - floor - amp) / fail
        cuts = _cuts(rng, days, 7.0, 0.4)
        def f(t):
            age, _ = _saw(t, cuts)
            return floor + creep * t + amp * min(1.0, age / 7.0)
    elif name == "leak-stops":
        base, rate = rng.uniform(35, 50), rng.uniform(0.8, 2.0)
        period = rng.uniform(3, 7)
        last = fail - (CRIT - base) / rate
        if last < 25:
            last, fail = 25.0, 25.0 + (CRIT - base) / rate
        cuts = [c for c in _cuts(rng, days, period, 1.0) if c < last] + [last]
        sd, ar = rng.uniform(0.5, 2.0), True
        def f(t): return base + rate * _saw(t, cuts)[0]
    elif name == "step-fill":
        base, jump, slope = rng.uniform(30, 50), rng.uniform(15, 25), rng.uniform(0.4, 1.5)
        step = max(15.0, fail - (CRIT - base - jump) / slope)
        fail = step + (CRIT - base - jump) / slope
        def f(t): return base + (jump + slope * (t - step) if t >= step else 0.0)
    elif name == "sawtooth":
        floor, peak = rng.uniform(30, 50), rng.uniform(75, 86)
        period = rng.choice((7.0, 7.0, 3.5, 14.0))
        cuts = _cuts(rng, days, period, 0.3)
        def f(t): return floor + (peak - floor) * min(1.0, _saw(t, cuts)[0] / period)
    elif name == "rotation":
        floor, amp = rng.uniform(55, 72), rng.uniform(4, 12)
        phase = rng.uniform(0, 1)
        def f(t): return floor + amp * ((t + phase) % 1.0)
    elif name == "leak-restart":
        base, period = rng.uniform(35, 50), rng.uniform(3, 9)
        rate = rng.uniform(0.6, 1.0) * (86 - base) / (period + 1.5)
        cuts = _cuts(rng, days, period, 1.5)
        sd, ar = rng.uniform(0.5, 2.0), True
        def f(t): return base + rate * _saw(t, cuts)[0]
    elif name == "step-flat":
        base, jump, at = rng.uniform(35, 60), rng.uniform(15, 28), rng.uniform(20, days - 5)
        jump = min(jump, 86 - base)
        width = rng.uniform(0.05, 0.8)  # the copy takes an hour or most of a day
        def f(t): return base + jump * min(1.0, max(0.0, (t - at) / width))
    elif name == "noisy-high":
        level = rng.uniform(72, 82)
        sd, ar = rng.uniform(1.5, 3.0), True
        def f(t): return level
    elif name == "slow-growth":
        base, slope = rng.uniform(35, 60), rng.uniform(0.05, 0.15)
        def f(t): return base + slope * t
    elif name == "outage-flat":
        level, shift = rng.uniform(55, 78), rng.uniform(-5, 5)
        sd, ar = rng.uniform(0.3, 1.5), True
        gap = next((times[i] for i in range(1, len(times)) if times[i] - times[i - 1] > 4), days)
        def f(t): return level + (shift if t >= gap else 0.0)
    elif name == "cleanup":
        base, slope = rng.uniform(35, 50), rng.uniform(0.3, 0.6)
        cuts = _cuts(rng, days, rng.uniform(21, 42), 5.0)
        top = CRIT - 2 - slope * horizon  # a peak that far from crit is no emergency
        def f(t): return min(top, base + slope * _saw(t, cuts)[0])
    else:
        raise ValueError(name)
    return times, f, sd, ar, fail


def make_host(name: str, rng: random.Random, days: int, horizon: float):
    """(points [(epoch, value)], failure epoch or None) for one host of scenario ``name``."""
    times, f, sd, ar, _ = scenario(name, rng, days, horizon)
    healthy = name in HEALTHY
    points, e, failed = [], 0.0, None
    for t in times:
        e = (0.8 * e + 0.6 * rng.gauss(0, sd)) if ar else rng.gauss(0, sd)
        v = min(max(f(t) + e, 0.0), CRIT - 0.5 if healthy else 100.0)
        if v >= CRIT and failed is None:
            failed = START + t * DAY
        elif rng.random() < 0.005:  # a bad reading now and then (never a false failure)
            v = min(max(v + rng.choice((-25.0, 12.0)), 0.0), CRIT - 0.5)
        points.append((START + t * DAY, round(v, 1)))
    return points, failed


# -- the methods -------------------------------------------------------------------------------

def techdesk(points, now, horizon, cap):
    f = forecast_series(points, cap, now=now)
    return f.days_left is not None and f.days_left <= horizon


def static80(points, now, horizon, cap):
    return points[-1][1] >= 80.0


def lsq14(points, now, horizon, cap):
    if points[-1][1] >= CRIT:
        return True
    window = points[bisect_left(points, now - 14 * DAY, key=lambda p: p[0]):]
    if len(window) < 5 or window[-1][0] - window[0][0] < 3 * DAY:
        return False
    n = len(window)
    mx = sum(t for t, _ in window) / n
    my = sum(v for _, v in window) / n
    sxx = sum((t - mx) ** 2 for t, _ in window)
    slope = sum((t - mx) * (v - my) for t, v in window) / sxx
    return my + slope * (now + horizon * DAY - mx) >= CRIT


METHODS = {"techdesk": techdesk, "static-80": static80, "lsq-14d": lsq14}


# -- the walk ----------------------------------------------------------------------------------

def walk(method, points, failed, days: int, horizon: float, cap) -> list[tuple[int, bool]]:
    """[(day, flagged)] for each day with data before it, up to the failure."""
    flags, stamps = [], [p[0] for p in points]
    for day in range(1, days + 1):
        now = START + day * DAY
        if failed is not None and now > failed:
            break
        k = bisect_left(stamps, now)
        if k == 0:
            continue
        flags.append((day, method(points[:k], now, horizon, cap)))
    return flags


def lead_days(flags, failed) -> float:
    """Days from the first flag of the streak that lasts until the failure (0: none)."""
    first = None
    for day, flagged in flags:
        if flagged and first is None:
            first = day
        elif not flagged:
            first = None
    return 0.0 if first is None else (failed - (START + first * DAY)) / DAY


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--horizon", type=float, default=21.0)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--explain", metavar="SCENARIO",
                    help="print techdesk's flags day by day, with sentence and basis, for 3 hosts of it "
                         "(its misses, or its false alarms, first)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rng = random.Random(args.seed)
    fleet = []
    for i in range(args.hosts):
        name = FAILING[i % len(FAILING)] if i % 2 == 0 else HEALTHY[(i // 2) % len(HEALTHY)]
        points, failed = make_host(name, rng, args.days, args.horizon)
        if name in FAILING and (failed is None or failed < START + 30 * DAY):
            continue  # failed too early to be forecast (or noise kept it below): not counted
        kind = ("memory", "mem_used") if name in MEMORY else ("disk", "/srv")
        fleet.append((name, points, failed, capacity_for(*kind, "%", crit=CRIT)))
    built = time.perf_counter() - t0
    if args.explain:
        chosen = [h for h in fleet if h[0] == args.explain]
        if args.explain in FAILING:  # the misses are the interesting ones
            chosen = [h for h in chosen if lead_days(walk(techdesk, h[1], h[2], args.days, args.horizon, h[3]),
                                                       h[2]) < 7] or chosen
        else:  # and the false alarms
            chosen = [h for h in chosen if any(f for d, f in walk(techdesk, h[1], h[2], args.days, args.horizon,
                                                                   h[3]) if d >= 14)] or chosen
        explain(chosen[:3], args)
        return
    n_fail = sum(1 for h in fleet if h[2] is not None)
    print(f"fleet: {len(fleet)} hosts ({n_fail} failing, {len(fleet) - n_fail} healthy), "
          f"{sum(len(h[1]) for h in fleet):,} readings over {args.days} days, seed {args.seed}, "
          f"built in {built:.1f} s; flag = crossing 90% foreseen within {args.horizon:g} days")
    results = {}
    for label, method in METHODS.items():
        t1 = time.perf_counter()
        hits, leads, weeks, alarms = defaultdict(int), [], defaultdict(int), defaultdict(int)
        total = defaultdict(int)
        for name, points, failed, cap in fleet:
            flags = walk(method, points, failed, args.days, args.horizon, cap)
            if failed is not None:
                lead = lead_days(flags, failed)
                total[name] += 1
                hits[name] += lead >= 7.0
                if lead > 0:
                    leads.append(lead)
            else:
                by_week = defaultdict(bool)
                for day, flagged in flags:
                    if day >= 14:
                        by_week[(day - 14) // 7] |= flagged
                weeks[name] += len(by_week)
                alarms[name] += sum(by_week.values())
        results[label] = (hits, total, leads, weeks, alarms, time.perf_counter() - t1)
    print_table(results, args)
    print(f"whole run: {time.perf_counter() - t0:.1f} s (goal < 180 s)")


def explain(hosts, args) -> None:
    from techdesk.core.forecast import describe

    for name, points, failed, cap in hosts:
        print(f"-- {name}: failed {'day %.1f' % ((failed - START) / DAY) if failed else 'never'}")
        for day in range(14, args.days + 1):
            now = START + day * DAY
            if failed is not None and now > failed:
                break
            k = bisect_left([p[0] for p in points], now)
            f = forecast_series(points[:k], cap, now=now, check=cap.kind, label="mem_used" if cap.kind == "memory" else "/srv")
            flagged = f.days_left is not None and f.days_left <= args.horizon
            print(f"day {day:3} {'FLAG' if flagged else '    '} {points[k - 1][1]:5.1f} "
                  f"{describe(f)} [{f.basis}]")


def pct(a: float, b: float) -> str:
    return f"{100.0 * a / b:5.1f}%" if b else "    -"


def print_table(results, args) -> None:
    names = list(results)
    print(f"\n{'':26}" + "".join(f"{n:>12}" for n in names))
    rows = [("recall (>= 7 days ahead)", lambda r: pct(sum(r[0].values()), sum(r[1].values())))]
    rows.append(("median lead, days", lambda r: f"{statistics.median(r[2]):6.1f}" if r[2] else "     -"))
    rows.append(("false alarms/host-week", lambda r: pct(sum(r[4].values()), sum(r[3].values()))))
    for title, cell in rows:
        print(f"{title:26}" + "".join(f"{cell(results[n]):>12}" for n in names))
    print("recall by failing scenario")
    for s in FAILING:
        print(f"  {s:24}" + "".join(f"{pct(results[n][0][s], results[n][1][s]):>12}" for n in names)
              + f"   (n={results[names[0]][1][s]})")
    print("false alarms by healthy scenario (host-weeks)")
    for s in HEALTHY:
        print(f"  {s:24}" + "".join(f"{pct(results[n][4][s], results[n][3][s]):>12}" for n in names)
              + f"   (n={results[names[0]][3][s]})")
    print(f"{'time, s':26}" + "".join(f"{results[n][5]:12.1f}" for n in names))
    hits, total, leads, weeks, alarms, _ = results["techdesk"]
    recall = sum(hits.values()) / max(1, sum(total.values()))
    fa = sum(alarms.values()) / max(1, sum(weeks.values()))
    worst = max(alarms[s] / weeks[s] for s in HEALTHY if weeks[s])
    lead = statistics.median(leads) if leads else 0.0
    print("\ngoals for techdesk: "
          f"recall {100 * recall:.1f}% >= 95% {'met' if recall >= 0.95 else 'NOT met'}; "
          f"false alarms {100 * fa:.1f}% < 5% {'met' if fa < 0.05 else 'NOT met'}; "
          f"worst healthy scenario {100 * worst:.1f}% < 10% {'met' if worst < 0.10 else 'NOT met'}; "
          f"median lead {lead:.1f} d >= 14 {'met' if lead >= 14 else 'NOT met'}")


if __name__ == "__main__":
    main()
