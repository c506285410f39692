"""Benchmark: forecasts for 10,000 hosts x 10 metrics x 90 daily points.

    .venv/bin/python scripts/bench_forecast.py [--hosts 10000] [--repeat 3]

Builds a fixed-seed fleet of series in a mix of shapes (steady and noisy growth,
cleanups, flat, decreasing, spikes, whole-percent steps, certificate days left
with renewals), then times ``forecast_many`` over all of it against baselines
measured in the same run on the same series:

* ``statistics.linear_regression`` over each whole series (the cheapest
  non-robust fit the standard library has, nothing else done);
* the same over each series' 30-day window (the points the forecast looks at).

Target (issue 6): forecast_many under 2 s (wall time; CPU time is printed too,
as other work on the machine inflates wall time). Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from bisect import bisect_left
from collections import Counter
from operator import itemgetter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from techdesk.core.forecast import DAY, capacity_for, forecast_findings, forecast_many  # noqa: E402

NOW = 1_767_268_800.0  # 2026-01-01T12:00:00Z
DAYS = 90
METRICS = [("disk", "/", "%"), ("disk", "/srv", "%"), ("disk", "/var", "%"), ("disk", "/home", "%"),
           ("inodes", "/", "%"), ("inodes", "/srv", "%"), ("memory", "mem_used", "%"),
           ("swap", "swap_used", "%"), ("cert", "days_left", "d"), ("disk", "/boot", "%")]
SHAPES = ("steady", "noisy", "cleanup", "flat", "decreasing", "spikes", "steps")


def series_values(rng: random.Random, noise: list[float], shape: str) -> list[float]:
    base, slope = rng.uniform(20, 70), rng.uniform(0.05, 1.5)
    k = rng.randrange(len(noise) - DAYS)
    eps = noise[k:k + DAYS]
    if shape == "steady":
        return [base + slope * i for i in range(DAYS)]
    if shape == "noisy":
        return [base + slope * i + 2.0 * e for i, e in zip(range(DAYS), eps, strict=True)]
    if shape == "cleanup":
        at = rng.randrange(40, 85)
        return [base + slope * i - (30.0 if i >= at else 0.0) + 0.5 * e
                for i, e in zip(range(DAYS), eps, strict=True)]
    if shape == "flat":
        return [base + 1.5 * e for e in eps]
    if shape == "decreasing":
        return [base + 40 - 0.3 * i + e for i, e in zip(range(DAYS), eps, strict=True)]
    if shape == "spikes":
        values = [base + 0.3 * i + 0.5 * e for i, e in zip(range(DAYS), eps, strict=True)]
        for i in rng.sample(range(DAYS), 3):
            values[i] = 100.0
        return values
    return [float(int(base + 0.1 * i)) for i in range(DAYS)]  # whole-percent steps


def cert_values(rng: random.Random) -> list[float]:
    left = rng.randrange(5, 90)
    values = []
    for _ in range(DAYS):
        values.append(float(left))
        left = left - 1 if left > 3 else 89  # renewed
    return values


def build(hosts: int, seed: int = 6):
    rng = random.Random(seed)
    noise = [rng.gauss(0, 1) for _ in range(100_000)]
    stamps = [NOW - (DAYS - 1 - i) * DAY for i in range(DAYS)]
    series = []
    for h in range(hosts):
        host = f"host{h:05d}"
        for check, label, uom in METRICS:
            values = cert_values(rng) if check == "cert" else series_values(
                rng, noise, rng.choice(SHAPES))
            spec = {"warn": 30, "crit": 7, "direction": "below"} if check == "cert" else None
            cap = capacity_for(check, label, uom, crit=None if spec else 90.0, spec=spec)
            series.append(((host, check, label), list(zip(stamps, values, strict=True)), cap))
    return series


def baseline(series, window: bool) -> float:
    cutoff = NOW - 30 * DAY
    key = itemgetter(0)
    start = time.perf_counter()
    for _key, points, _cap in series:
        if window:
            points = points[bisect_left(points, cutoff, key=key):]
        xs, ys = zip(*points, strict=True)
        statistics.linear_regression(xs, ys)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    series = build(args.hosts)
    points = sum(len(p) for _k, p, _c in series)
    print(f"built {len(series):,} series, {points:,} points in {time.perf_counter() - t0:.1f} s")
    times, cpu = [], []
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        forecasts = forecast_many(series, now=NOW)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"forecast_many:                          best {min(times):.3f} s, "
          f"median {statistics.median(times):.3f} s of {args.repeat} "
          f"({min(times) / len(series) * 1e6:.1f} us/series; best CPU time {min(cpu):.3f} s)")
    full = min(baseline(series, window=False) for _ in range(args.repeat))
    win = min(baseline(series, window=True) for _ in range(args.repeat))
    print(f"baseline linear_regression, 90 points:  best {full:.3f} s")
    print(f"baseline linear_regression, 30-day win: best {win:.3f} s")
    eta = sum(1 for f in forecasts if f.eta is not None)
    reasons = Counter((f.reason or "").split(":")[0] for f in forecasts if f.eta is None)
    start = time.perf_counter()
    findings = forecast_findings(forecasts)
    print(f"forecast_findings: {len(findings):,} findings in {time.perf_counter() - start:.3f} s")
    print(f"with an ETA: {eta:,}; without: {dict(reasons)}")
    print("target < 2 s:", "met" if min(times) < 2.0 else "NOT met")


if __name__ == "__main__":
    main()
