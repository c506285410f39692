"""Capacity forecasts: when will a disk, inode table, memory or certificate run out?

Pure and fast (no numpy). A series is ``[(epoch seconds, value), ...]`` sorted by
time. Which metrics, which threshold, the minimum data, the robust fit and the
change-point rule: docs/proactive.md, and the names below.
"""

from __future__ import annotations

import gc
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from math import sqrt
from operator import itemgetter, sub, truediv
from typing import Any

DAY = 86400.0
_TS = itemgetter(0)

# check id glob, label glob, uom (None: any), kind, falling (low is bad).
CAPACITY_TABLE: tuple[tuple[str, str, str | None, str, bool], ...] = (
    ("disk", "*", "%", "disk", False),
    ("inodes", "*", "%", "inodes", False),
    ("memory", "mem_used", "%", "memory", False),
    ("swap", "swap_used", "%", "swap", False),
    ("*", "days_left", None, "days-left", True),
    ("*", "*_days_left", None, "days-left", True),
)


@dataclass(frozen=True, slots=True)
class Capacity:
    """What a series is forecast against. ``source``: crit, max, 100%, min or 0."""

    threshold: float | None
    falling: bool = False
    kind: str = "custom"  # disk | inodes | memory | swap | days-left | custom
    source: str = "crit"
    uom: str = ""

    @property
    def full(self) -> bool:
        """True when the threshold is the end of the capacity itself (full, expired)."""
        return self.source != "crit"


@dataclass(frozen=True, slots=True)
class ForecastParams:
    window_days: float = 30.0
    min_points: int = 5
    min_span_days: float = 3.0
    drop_frac: float = 0.4  # a drop > 40% of the window's range ...
    min_drop: float = 2.0  # ... and > 2 units (points of %) is a cleanup
    max_points: int = 64  # longer windows are subsampled evenly
    max_pairs: int = 24
    min_t: float = 3.0
    horizon_days: float = 365.0


DEFAULT_PARAMS = ForecastParams()


@dataclass(slots=True)
class Forecast:
    host: str
    check: str
    label: str
    slope_per_day: float | None  # in the metric's unit; negative = falling
    current: float | None  # the last value seen
    threshold: float | None
    eta: datetime | None  # UTC; None = no crossing foreseen (see reason)
    days_left: float | None
    confidence: float  # robust r²: 0 = noise only, 1 = a perfect line
    points_used: int
    reason: str | None = None  # why there is no ETA
    capacity: Capacity | None = None
    level: float | None = None  # fitted value at `now`: the forecast line's anchor
    now: float = 0.0  # epoch seconds the forecast was made for
    fitted_from: float | None = None  # epoch seconds of the first point fitted

    def value_at(self, ts: float) -> float | None:
        """The forecast line at ``ts`` (epoch seconds), for charts."""
        if self.level is None or self.slope_per_day is None:
            return None
        return self.level + self.slope_per_day * (ts - self.now) / DAY

    def as_json(self) -> dict:
        return {"host": self.host, "check": self.check, "label": self.label,
                "slope_per_day": self.slope_per_day, "current": self.current,
                "threshold": self.threshold, "eta": _iso(self.eta.timestamp()) if self.eta else None,
                "days_left": self.days_left, "confidence": self.confidence,
                "points_used": self.points_used, "reason": self.reason,
                "kind": self.capacity.kind if self.capacity else None, "level": self.level,
                "now": _iso(self.now), "fitted_from": _iso(self.fitted_from)}


def capacity_for(check: str, label: str, uom: str = "", *, crit: float | None = None,
                 min: float | None = None, max: float | None = None,
                 spec: Mapping[str, Any] | None = None, target: str = "crit") -> Capacity | None:
    """The capacity a metric is forecast against, or None when it is not a capacity metric.

    ``spec`` is the bundle threshold for this label (``{"warn", "crit", "direction",
    "capacity"}``): ``capacity = true`` marks any metric as capacity (falling when
    ``direction = "below"``), ``false`` opts a table metric out. ``target="full"``
    forecasts the end of the capacity (max, 100%, min, 0) instead of crit.
    """
    flag = spec.get("capacity") if spec else None
    if flag is False:
        return None
    kind = falling = None
    for check_glob, label_glob, unit, row_kind, row_falling in CAPACITY_TABLE:
        if (fnmatchcase(check, check_glob) and fnmatchcase(label, label_glob)
                and (unit is None or unit == uom)):
            kind, falling = row_kind, row_falling
            break
    if kind is None:
        if not flag:
            return None
        kind, falling = "custom", spec.get("direction") == "below"
    if crit is None and spec and isinstance(spec.get("crit"), int | float):
        crit = float(spec["crit"])
    if falling:
        full = (min, "min") if min is not None else (0.0, "0")
    elif max is not None:
        full = (max, "max")
    else:
        full = (100.0, "100%") if uom == "%" else (None, "max")
    threshold, source = full if target == "full" or crit is None else (crit, "crit")
    return Capacity(threshold, bool(falling), kind, source, uom)


def forecast_series(points: list[tuple[float, float]], capacity: Capacity | float | None, *,
                    host: str = "", check: str = "", label: str = "",
                    now: float | datetime | None = None,
                    params: ForecastParams = DEFAULT_PARAMS) -> Forecast:
    """Forecast one series. ``capacity`` may be a plain threshold (rising metric).

    ``now`` (default: the last point's time) is where the window ends and the
    ETA is counted from.
    """
    if isinstance(capacity, int | float):
        capacity = Capacity(float(capacity))
    return _forecast(host, check, label, points, capacity, _epoch(now), params)


def forecast_many(series: Iterable[tuple[tuple[str, str, str], list[tuple[float, float]],
                                         Capacity | None]], *,
                  now: float | datetime | None = None,
                  params: ForecastParams = DEFAULT_PARAMS) -> list[Forecast]:
    """Forecast every ``((host, check, label), points, capacity)``, in order.

    The cyclic garbage collector is paused meanwhile (and restored): the batch
    creates only acyclic objects, and with millions of points alive each
    collection would scan them all (a quarter of the time at 10,000 hosts).
    """
    now = _epoch(now)
    with _gc_paused():
        return [_forecast(key[0], key[1], key[2], points, capacity, now, params)
                for key, points, capacity in series]


@contextmanager
def _gc_paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _epoch(now: float | datetime | None) -> float | None:
    return now.timestamp() if isinstance(now, datetime) else now


def _need(p: ForecastParams) -> str:
    return f"need {p.min_points} points over {p.min_span_days:g} days"


def _none(host, check, label, capacity, n, reason, current=None, now=0.0) -> Forecast:
    threshold = capacity.threshold if capacity else None
    return Forecast(host, check, label, None, current, threshold, None, None, 0.0, n, reason,
                    capacity, None, now)


def _forecast(host: str, check: str, label: str, points: list, capacity: Capacity | None,
              now: float | None, p: ForecastParams) -> Forecast:
    if not points:
        return _none(host, check, label, capacity, 0, "no data", None, now or 0.0)
    if now is None:
        now = points[-1][0]
    if capacity is None or capacity.threshold is None:
        return _none(host, check, label, capacity, 0, "no threshold to forecast against",
                     points[-1][1], now)
    cutoff = now - p.window_days * DAY
    if points[0][0] < cutoff:
        points = points[bisect_left(points, cutoff, key=_TS):]
    n = len(points)
    if n < p.min_points:
        return _none(host, check, label, capacity, n, f"too few points: {n} in the last "
                     f"{p.window_days:g} days ({_need(p)})", points[-1][1] if points else None, now)
    if n > p.max_points:  # subsample evenly, keeping the latest point
        step = -(-n // p.max_points)
        points = points[(n - 1) % step::step]
        n = len(points)
    ts, ys = zip(*points, strict=False)
    current = ys[-1]
    min_span = p.min_span_days * DAY
    if ts[-1] - ts[0] < min_span:
        return _none(host, check, label, capacity, n, f"too short: {n} points over "
                     f"{(ts[-1] - ts[0]) / DAY:.1f} days ({_need(p)})", current, now)
    falling = capacity.falling
    u = [-y for y in ys] if falling else ys  # oriented so that up is toward the threshold
    diffs = list(map(sub, u, u[1:]))  # a step down is a positive diff
    biggest = max(diffs)
    if biggest > p.min_drop:
        ordered = sorted(u)
        drop = max(p.drop_frac * (ordered[-1] - ordered[0]), p.min_drop)
        cp = _change_point(u, diffs, drop) if biggest > drop else 0
        if cp:
            ts, u = ts[cp:], u[cp:]
            n = len(ts)
            if n < p.min_points or ts[-1] - ts[0] < min_span:
                when = datetime.fromtimestamp(ts[0], UTC).strftime("%Y-%m-%d")
                return _none(host, check, label, capacity, n,
                             f"only {n} points since the drop on {when} ({_need(p)})", current, now)
    m = len(u)
    h = m // 2
    pairs = m - h
    step = -(-pairs // p.max_pairs) if pairs > p.max_pairs else 1
    try:
        if step == 1:
            slopes = sorted(map(truediv, map(sub, u[h:], u), map(sub, ts[h:], ts)))
        else:
            slopes = sorted(map(truediv, map(sub, u[h::step], u[:pairs:step]),
                                map(sub, ts[h::step], ts[:pairs:step])))
    except ZeroDivisionError:  # duplicate timestamps half a segment apart
        slopes = sorted((u[i + h] - u[i]) / (ts[i + h] - ts[i])
                        for i in range(0, pairs, step) if ts[i + h] > ts[i])
        if not slopes:
            return _none(host, check, label, capacity, n, "no time spread", current, now)
    k = len(slopes)
    q = k // 4 if k >= 4 else (k - 1) // 2  # interquartile mean (median when k < 4)
    bs = sum(slopes[q:k - q]) / (k - 2 * q)
    resid = sorted([y - bs * t for t, y in zip(ts, u, strict=False)])
    q = m // 4
    a = sum(resid[q:m - q]) / (m - 2 * q)
    sigma = (resid[(3 * m) // 4] - resid[m // 4]) / 1.349
    slope = bs * DAY
    span = (ts[-1] - ts[0]) / DAY
    rise = slope * span
    signal2 = rise * rise / 12.0
    noise2 = sigma * sigma
    confidence = signal2 / (signal2 + noise2) if signal2 + noise2 > 0 else 0.0
    level = a + bs * now
    sign = -1.0 if falling else 1.0
    threshold = capacity.threshold
    limit, days, reason = sign * threshold, None, None
    if sign * current >= limit:  # already there
        days = 0.0
    else:
        tstat = rise * sqrt(m / 12.0) / sigma if sigma > 0 else rise * 1e300
        if tstat <= -p.min_t:
            reason = f"{'rising' if falling else 'falling'}: moving away from {threshold:g}"
        elif slope <= 0 or tstat < p.min_t:
            reason = "flat: no clear trend"
        elif (limit - level) / slope > p.horizon_days:
            reason = f"no crossing within {p.horizon_days:g} days"
        else:
            days = (limit - level) / slope if limit > level else 0.0
    eta = None if days is None else datetime.fromtimestamp(now + days * DAY, UTC)
    return Forecast(host, check, label, sign * slope, current, threshold, eta, days, confidence, m,
                    reason, capacity, sign * level, now, ts[0])


def _median(values) -> float:
    s = sorted(values)
    k = len(s)
    return s[k // 2] if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2


def _change_point(u, diffs: list[float], drop: float) -> int:
    """Index where the segment after the last significant, lasting drop starts (0: none).

    A step ``u[i-1] - u[i]`` counts when it exceeds both ``drop`` and four times the
    noise (estimated from the spread of the steps), and the median of the (up to)
    five points from ``i`` is that much below the median of the five before it: a
    spike, a dip or noise is not a drop. A drop over several steps is followed.
    """
    n = len(u)
    steps = sorted(diffs)
    k = len(steps)
    level = max(drop, 4 * (steps[(3 * k) // 4] - steps[k // 4]) / (1.349 * 1.4142))
    if steps[-1] <= level:
        return 0
    for j in range(k - 1, -1, -1):
        if diffs[j] > level:
            i = j + 1
            if _median(u[max(0, i - 5):i]) - _median(u[i:i + 5]) > level:
                while i + 1 < n and u[i] - u[i + 1] > drop / 2:
                    i += 1
                return i
    return 0


# -- findings ---------------------------------------------------------------------------------

def _num(value: float, uom: str = "") -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return {"%": f"{text}%", "d": f"{text} days", "": text}.get(uom, f"{text} {uom}")


def _subject(f: Forecast) -> str:
    kind = f.capacity.kind if f.capacity else "custom"
    if kind in ("memory", "swap"):
        return kind
    if kind == "days-left" and f.label == "days_left":
        return f.check
    return {"disk": f.label, "inodes": f"inodes on {f.label}"}.get(kind, f"{f.check} {f.label}")


def describe(f: Forecast) -> str:
    """One plain sentence: "/srv will be full in about 9 days (growing 1.2 %/day; 87% now)"."""
    cap = f.capacity or Capacity(f.threshold)
    subject, uom, limit = _subject(f), cap.uom, _num(f.threshold or 0.0, cap.uom)
    if f.days_left is None or f.current is None:
        return f"{subject}: no forecast ({f.reason})"
    expires = cap.kind == "days-left"
    now = _num(f.current, uom) + (" left" if expires else " now")
    if cap.falling:
        goal, reached = (("expire", "has expired") if expires else ("run out", "has run out")) \
            if cap.full else (f"fall to {limit} (critical)", f"is at or below {limit} (critical)")
    else:
        goal, reached = ("be full", "is full") if cap.full else \
            (f"reach {limit} (critical)", f"is at or above {limit} (critical)")
    if f.days_left == 0 and (f.current <= f.threshold if cap.falling else f.current >= f.threshold):
        return f"{subject} {reached} ({now})"
    days = round(f.days_left)
    when = "within a day" if f.days_left < 1 else f"in about {days} day{'s' if days != 1 else ''}"
    rate = f"{_num(abs(f.slope_per_day or 0.0))} {uom}/day" if uom else \
        f"{_num(abs(f.slope_per_day or 0.0))}/day"
    return f"{subject} will {goal} {when} ({'falling' if cap.falling else 'growing'} {rate}; {now})"


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def forecast_findings(forecasts: Iterable[Forecast], within_days: float = 14.0,
                      crit_within_days: float = 3.0) -> list[dict]:
    """Forecasts crossing within ``within_days`` as findings-like dicts, soonest first;
    status "crit" within ``crit_within_days`` (or already crossed), else "warn"."""
    found = [{
        "host": f.host, "check": f.check, "label": f.label, "id": f"forecast:{f.check}:{f.label}",
        "kind": "forecast", "title": f"Forecast: {_subject(f)}",
        "status": "crit" if f.days_left <= crit_within_days else "warn",
        "summary": describe(f), "eta": f.eta.isoformat(timespec="seconds") if f.eta else None,
        "days_left": round(f.days_left, 1),
        "evidence": {"slope_per_day": f.slope_per_day, "current": f.current,
                     "threshold": f.threshold,
                     "threshold_source": f.capacity.source if f.capacity else None,
                     "level": f.level, "confidence": round(f.confidence, 3),
                     "points_used": f.points_used, "fitted_from": _iso(f.fitted_from),
                     "now": _iso(f.now)},
    } for f in forecasts if f.days_left is not None and f.days_left <= within_days]
    found.sort(key=lambda d: (d["days_left"], d["host"], d["check"], d["label"]))
    return found
