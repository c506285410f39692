"""Capacity forecasts: when will a disk, inode table, memory or certificate run out?

Pure and fast (no numpy). A series is ``[(epoch seconds, value), ...]`` sorted by
time. Which metrics, which threshold, the minimum data, the robust fit and the
change-point rule: docs/proactive.md, and the names below.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from math import ceil, sqrt
from operator import itemgetter, sub
from typing import Any, Literal, TypedDict

from techdesk.core import trend

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
    window_days: float = 30.0  # the longest stretch a line is fitted to
    history_days: float = 45.0  # how far back drops are remembered (cycles)
    min_points: int = 5
    min_span_days: float = 3.0
    drop_frac: float = 0.25  # a drop > 25% of the window's range ...
    min_drop: float = 2.0  # ... and > 2 units (points of %) is a cleanup
    max_points: int = 128  # longer histories are subsampled (a drop blurred over two readings is missed)
    max_pairs: int = 24
    min_t: float = 3.0
    horizon_days: float = 365.0
    overdue: float = 1.5  # a cycle this many times its longest is broken
    max_rho: float = 0.5  # residuals this correlated: look for a change point
    break_f: float = 20.0  # a change point must explain this much more than noise
    min_tail_days: float = 2.0  # a new trend is believed after this many days


DEFAULT_PARAMS = ForecastParams()
HELD = "the last reading left out: a drop not yet confirmed"


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
    fitted_to: float | None = None  # epoch seconds of the last point fitted
    note: str = ""  # why those points: "since the drop", "the peaks of 4 cycles; ..."
    unit: str = "readings"  # what was fitted: readings, or the peaks of cycles

    @property
    def basis(self) -> str:
        """Which data the forecast rests on, in words (made when asked: a fleet's
        forecasts are mostly never shown)."""
        if self.fitted_from is None:
            return ""
        text = f"{self.points_used} {self.unit} {_day(self.fitted_from)} to {_day(self.fitted_to or self.now)}"
        if self.note.startswith("since"):  # "since the drop on …; the last reading left out …"
            head, sep, tail = self.note.partition("; ")
            text += f" ({head} on {_day(self.fitted_from)}{sep}{tail})"
        elif self.note:
            text += f" ({self.note})"
        return text

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
                "now": _iso(self.now), "fitted_from": _iso(self.fitted_from), "basis": self.basis}


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
    elif points[-1][0] > now:  # only what was known at `now`
        points = points[:bisect_right(points, now, key=_TS)]
        if not points:
            return _none(host, check, label, capacity, 0, "no data", None, now)
    if capacity is None or capacity.threshold is None:
        return _none(host, check, label, capacity, 0, "no threshold to forecast against",
                     points[-1][1], now)
    oldest = now - max(p.history_days, p.window_days) * DAY
    if points[0][0] < oldest:
        points = points[bisect_left(points, oldest, key=_TS):]
    cutoff = now - p.window_days * DAY
    n = len(points)
    w = bisect_left(points, cutoff, key=_TS) if points and points[0][0] < cutoff else 0
    if n - w < p.min_points:
        return _none(host, check, label, capacity, n - w, f"too few points: {n - w} in the last "
                     f"{p.window_days:g} days ({_need(p)})", points[-1][1] if points else None, now)
    if n > p.max_points:
        points = _subsample(points, p.max_points)
        n = len(points)
        w = bisect_left(points, cutoff, key=_TS)
    # Oriented so that up is toward the threshold; diffs: a step down is a positive diff.
    # The readings before the window matter only for cycles, and a series that has not
    # dropped within the window is in none (of up to window_days): those are left out.
    # The size a drop must have (``level``) is set by the window alone (its range and the
    # noise of its steps, the same whatever history is added), so the history is read,
    # and drops looked for, only when the window holds a step that big (most series don't).
    seg = points[w:] if w else points  # two comprehensions: faster than zip(*seg)
    ts, ys = [t for t, _ in seg], [y for _, y in seg]
    u = [-y for y in ys] if capacity.falling else ys
    diffs = list(map(sub, u, u[1:]))
    drop = max(p.drop_frac * (max(u) - min(u)), p.min_drop)
    steps = sorted(diffs)  # at least min_points - 1 of them
    level = trend.level_of(steps, drop)
    stepped = steps[-1] > level
    if w and stepped:
        ts, ys = [t for t, _ in points], [y for _, y in points]
        u = [-y for y in ys] if capacity.falling else ys
        diffs, steps = list(map(sub, u, u[1:])), None
    else:
        n, w = n - w, 0
    current = ys[-1]
    if ts[-1] - ts[w] < p.min_span_days * DAY:
        return _none(host, check, label, capacity, n - w, f"too short: {n - w} points over "
                     f"{(ts[-1] - ts[w]) / DAY:.1f} days ({_need(p)})", current, now)
    return _fit(host, check, label, capacity, p, now, current, ts, u, diffs, steps, n, w, drop, level,
                stepped)


def _subsample(points: list, max_points: int) -> list:
    """The latest quarter kept whole (a new trend shows there first), the rest subsampled."""
    n = len(points)
    keep = max_points // 4
    head = n - keep
    step = -(-head // (max_points - keep))
    return points[(head - 1) % step:head:step] + points[head:]


def _fit(host, check, label, capacity: Capacity, p: ForecastParams, now: float, current: float,
         ts, u, diffs: list, steps: list | None, n: int, w: int, drop: float, level: float,
         stepped: bool) -> Forecast:
    """The forecast from the chosen readings (``u`` oriented, from index ``w``): a cycle if
    the drops repeat, else a line since the last drop or the latest change of trend.
    ``steps``: ``diffs`` sorted (None when the history was added); ``level``: the step a
    drop must exceed; ``stepped``: the window holds one."""
    found = trend.drops(u, diffs, drop, level) if stepped else []
    note, start = "", w
    if len(found) >= 2:
        cyclic = _cyclic(host, check, label, capacity, p, now, ts, u, found, current, level)
        if cyclic is not None:
            return cyclic
        note = "since the last drop: the cycle is broken (overdue or above its peaks)"
    held = bool(found) and found[-1] == n - 1 and n - 1 - max([start, *found[-2:-1]]) >= p.min_points
    if held:
        # A drop on the last reading alone is a cleanup or a bad reading: the forecast stays
        # on the readings before it until the next one confirms it (and then ends).
        ts, u, diffs, n, found = ts[:-1], u[:-1], diffs[:-1], n - 1, found[:-1]
    if found and found[-1] > start:
        start = found[-1]
        note = note or "since the drop"
        if n - start < p.min_points or ts[-1] - ts[start] < p.min_span_days * DAY:
            return _none(host, check, label, capacity, n - start,
                         f"only {n - start} points since the drop on {_day(ts[start])} ({_need(p)})",
                         current, now)
    if start or held:
        ts, u, diffs, steps = ts[start:], u[start:], diffs[start:], None
    fit = trend.robust_line(ts, u, p.max_pairs)
    if fit is None:
        return _none(host, check, label, capacity, len(u), "no time spread", current, now)
    gain = (p.min_drop / 4) ** 2  # a change point must explain this much per point
    # Looked for when the noise is big enough; or when the last three readings are all
    # off the line on one side, a recent rise on a few readings that the robust σ
    # leaves out (and what a change point is for): then the residuals' root mean
    # square is the spread. Not always: a few bad readings inflate it.
    r = trend.rho_from_steps(diffs, fit[2], steps) if fit[2] * fit[2] > gain else None
    if (r is None or r <= p.max_rho) and trend.tail_off(fit[3], fit[1], 2 * fit[2] + sqrt(gain)):
        spread2 = trend.mean_square(fit[3], fit[1])
        if spread2 > gain:
            r = trend.rho_from_steps(diffs, sqrt(spread2), steps)
    if len(u) >= p.min_points + 3 and r is not None and r > p.max_rho:
        j = trend.latest_break(ts, u, min_tail=3, min_tail_days=0.0, min_f=p.break_f, min_gain=gain)
        if j and (len(u) - j < p.min_points or ts[-1] - ts[j] < p.min_tail_days * DAY):
            return _none(host, check, label, capacity, len(u) - j,
                         f"only {len(u) - j} points since the trend changed on {_day(ts[j])} (need "
                         f"{p.min_points} points over {p.min_tail_days:g} days)", current, now)
        if j:
            tail = trend.robust_line(ts[j:], u[j:], p.max_pairs)
            if tail is not None:
                ts, u, fit, note, r = ts[j:], u[j:], tail, "since the trend changed", None
    if held:
        note = f"{note}; {HELD}" if note else HELD
    return _answer(host, check, label, capacity, p, now, current, ts, u, fit, note, rho=r)


def _answer(host, check, label, capacity: Capacity, p: ForecastParams, now: float, current: float,
            ts, u, fit, note: str, reason: str | None = None, unit: str = "readings",
            rho: float | None = None) -> Forecast:
    """The forecast from a line fitted to ``u`` (oriented) over ``ts``; ``note`` and the
    points say which data it rests on. ``reason`` given: no ETA whatever the line."""
    bs, a, sigma = fit[:3]
    m = len(u)
    slope = bs * DAY
    span = (ts[-1] - ts[0]) / DAY
    rise = slope * span
    signal2 = rise * rise / 12.0
    noise2 = sigma * sigma
    confidence = signal2 / (signal2 + noise2) if signal2 + noise2 > 0 else 0.0
    level = a + bs * now
    sign = -1.0 if capacity.falling else 1.0
    threshold = capacity.threshold
    limit, days = sign * threshold, None
    if sign * current >= limit:  # already there
        days, reason = 0.0, None
    elif reason is None:
        min_t = p.min_t
        tstat = rise * sqrt(m / 12.0) / sigma if sigma > 0 else rise * 1e300
        if abs(tstat) >= min_t and sigma > 0 and m >= 10:
            # Correlated noise (a slow wander) has fewer independent readings than points.
            # With a handful of readings the lag-1 estimate says nothing (and a curving
            # rise looks "correlated"), so the discount needs enough of them.
            if rho is None:
                rho = trend.rho(fit[3], a)[0] if m > 4 and fit[3] is not None else 0.0
            r = min(max(rho, 0.0), 0.9)
            tstat *= sqrt((1 - r) / (1 + r))
        if tstat <= -min_t:
            reason = f"{'rising' if capacity.falling else 'falling'}: moving away from {threshold:g}"
        elif slope <= 0 or tstat < min_t:
            reason = "flat: no clear trend"
        elif (limit - level) / slope > p.horizon_days:
            reason = f"no crossing within {p.horizon_days:g} days"
        else:
            days = (limit - level) / slope if limit > level else 0.0
    eta = None if days is None else datetime.fromtimestamp(now + days * DAY, UTC)
    return Forecast(host, check, label, sign * slope, current, threshold, eta, days, confidence, m,
                    reason, capacity, sign * level, now, ts[0], ts[-1], note, unit)


def _cyclic(host, check, label, capacity: Capacity, p: ForecastParams, now: float, ts, u,
            found: list[int], current: float, level: float) -> Forecast | None:
    """A series that dropped back at least twice is judged on its cycle: on the line
    through its peaks (each cycle's highest reading), not on the rise since the last
    drop. None when the pattern is broken, and the caller fits the rise since the
    last drop: the next drop is overdue (``overdue`` x the longest cycle), or this
    cycle's fitted level and last reading are above the highest peak by more than the peaks vary, than
    ``min_drop`` and than half the way from that peak to the threshold."""
    lengths = [ts[b] - ts[a] for a, b in zip(found, found[1:], strict=False)]
    last = found[-1]
    if ts[-1] - ts[last] > p.overdue * max(lengths):  # on readings: a laptop off is not overdue
        return None
    # Each cycle's highest reading, and when (the first cycle may be cut by the history's start).
    typical = trend.median(lengths)
    peaks = trend.cycle_peaks(ts, u, found, level)
    times = [ts[b - 1] for b in found]
    top = max(peaks)
    ct, cu = ts[last:], u[last:]
    fit = trend.robust_line(ct, cu, p.max_pairs) if len(cu) >= 3 else None
    limit = -capacity.threshold if capacity.falling else capacity.threshold
    margin = max(p.min_drop, top - min(peaks), (limit - top) / 2)
    if fit is not None and min(fit[1] + fit[0] * now, cu[-1]) > top + margin:  # line and reading
        return None
    cycle = f"drops back every ~{typical / DAY:.0f} days"
    line = trend.peak_line(times, peaks, p.max_pairs)
    if line is not None and line[0] > 0:
        answer = _answer(host, check, label, capacity, p, now, current, times, peaks, line,
                         f"the peaks of {len(peaks)} cycles; {cycle}", unit="peaks")
        if answer.days_left:
            # A cycle crosses at its peak: the first peak due (every typical cycle from the
            # last drop) at or after the line's crossing.
            due = max(ts[last] + typical, now)
            cross = now + answer.days_left * DAY
            at = due + max(0, ceil((cross - due) / typical)) * typical
            answer.days_left = (at - now) / DAY
            answer.eta = datetime.fromtimestamp(at, UTC)
        if answer.days_left is not None:
            return answer
    shown = -top if capacity.falling else top
    return _answer(host, check, label, capacity, p, now, current, times, peaks,
                   line if line is not None else (0.0, top, 0.0, None), f"the peaks of {len(peaks)} cycles",
                   f"cyclic: {cycle}, peaks up to {_num(shown, capacity.uom)}", unit="peaks")


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


# -- findings ---------------------------------------------------------------------------------

def _num(value: float, uom: str = "") -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return {"%": f"{text}%", "d": f"{text} days", "": text}.get(uom, f"{text} {uom}")


def _subject(f: Forecast) -> str:
    kind = f.capacity.kind if f.capacity else "custom"
    if kind in ("memory", "swap"):
        return kind
    if kind == "days-left":  # "cert", "acme-shop (tls_certs)"
        return f.check if f.label == "days_left" else f"{f.label.removesuffix('_days_left')} ({f.check})"
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
    slope = abs(f.slope_per_day or 0.0)
    rate = f"{_num(slope)} {uom}/day" if uom else f"{_num(slope)}/day"
    # The ETA runs from the fitted line, not the last reading: when the two disagree
    # (a noisy reading, a cycle's peaks), say where the line is, so the numbers add up.
    if f.level is not None and slope > 0:
        by_reading = abs(f.threshold - f.current) / slope
        if abs(by_reading - f.days_left) > max(2.0, 0.25 * f.days_left):
            now = f"trend at {_num(f.level, uom)}{' left' if expires else ''} now, last reading {_num(f.current, uom)}"
    return f"{subject} will {goal} {when} ({'falling' if cap.falling else 'growing'} {rate}; {now})"


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class ForecastEvidence(TypedDict):
    basis: str
    slope_per_day: float | None
    current: float | None
    threshold: float | None
    threshold_source: str | None
    level: float | None
    confidence: float
    points_used: int
    fitted_from: str | None
    now: str | None


class ForecastFinding(TypedDict):
    """A forecast crossing soon, shaped like a finding (JSON values only)."""

    host: str
    check: str
    label: str
    id: str              # "forecast:<check>:<label>"
    kind: Literal["forecast"]
    title: str
    status: Literal["warn", "crit"]
    summary: str
    eta: str | None
    days_left: float
    basis: str
    evidence: ForecastEvidence


def forecast_findings(forecasts: Iterable[Forecast], within_days: float = 14.0,
                      crit_within_days: float = 3.0) -> list[ForecastFinding]:
    """Forecasts crossing within ``within_days`` as findings-like dicts, soonest first;
    status "crit" within ``crit_within_days`` (or already crossed), else "warn"."""
    found: list[ForecastFinding] = [{
        "host": f.host, "check": f.check, "label": f.label, "id": f"forecast:{f.check}:{f.label}",
        "kind": "forecast", "title": f"Forecast: {_subject(f)}",
        "status": "crit" if f.days_left <= crit_within_days else "warn",
        "summary": describe(f), "eta": f.eta.isoformat(timespec="seconds") if f.eta else None,
        "days_left": round(f.days_left, 1), "basis": f.basis,
        "evidence": {"basis": f.basis, "slope_per_day": f.slope_per_day, "current": f.current,
                     "threshold": f.threshold,
                     "threshold_source": f.capacity.source if f.capacity else None,
                     "level": f.level, "confidence": round(f.confidence, 3),
                     "points_used": f.points_used, "fitted_from": _iso(f.fitted_from),
                     "now": _iso(f.now)},
    } for f in forecasts if f.days_left is not None and f.days_left <= within_days]
    found.sort(key=lambda d: (d["days_left"], d["host"], d["check"], d["label"]))
    return found
