"""The numeric pieces of a forecast: a robust line, drops, cycles and the latest change point.

Pure Python on short series (at most ForecastParams.max_points points). Values are
*oriented*: up is toward the threshold (core.forecast flips low-is-bad metrics), so a
"drop" is a cleanup, a purge, a restart or a renewal. docs/proactive.md explains the
rules in words; the names below say which is which.
"""

from __future__ import annotations

from itertools import accumulate, compress, repeat
from math import dist
from operator import mul, sub, truediv

DAY = 86400.0


def robust_line(ts, u, max_pairs: int) -> tuple[float, float, float, list[float]] | None:
    """(slope per second, intercept, noise σ, detrended values) by Theil–Sen on the pairs
    half the series apart (at most ``max_pairs``), their interquartile mean; None without
    a time spread. The detrended values (u - slope t) are for ``rho``."""
    m = len(u)
    h = m // 2
    pairs = m - h
    step = -(-pairs // max_pairs) if pairs > max_pairs else 1
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
            return None
    k = len(slopes)
    q = k // 4 if k >= 4 else (k - 1) // 2  # interquartile mean (median when k < 4)
    bs = sum(slopes[q:k - q]) / (k - 2 * q)
    detrended = list(map(sub, u, map(mul, ts, repeat(bs))))
    resid = sorted(detrended)
    q = m // 4
    a = sum(resid[q:m - q]) / (m - 2 * q)
    sigma = (resid[(3 * m) // 4] - resid[m // 4]) / 1.349
    return bs, a, sigma, detrended


def median(values) -> float:
    s = sorted(values)
    k = len(s)
    return s[k // 2] if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2


def step_level(diffs: list[float], drop: float) -> float:
    """How big a step between neighbours must be to count: ``drop``, and four times
    the noise of the steps (their interquartile spread)."""
    return level_of(sorted(diffs), drop)


def level_of(steps: list[float], drop: float) -> float:
    """``step_level`` from the steps already sorted."""
    k = len(steps)
    return max(drop, 4 * (steps[(3 * k) // 4] - steps[k // 4]) / (1.349 * 1.4142))


def drops(u, diffs: list[float], drop: float, level: float | None = None) -> list[int]:
    """Indices where a segment starts after a significant, lasting drop, oldest first.

    A step ``u[i-1] - u[i]`` counts when it exceeds ``level`` (default: ``step_level``
    of these diffs; core.forecast passes the window's), the two points before
    it are both above the two from ``i``, and the median of the three before is half of
    ``step_level`` above the three from ``i``, once the series' usual rise over the three
    readings between them is added back (noise is not a drop); not when the point
    before it jumped up as much and it falls back to where it was (a spike; a purge
    right after a bad reading falls further and counts), nor when the
    point after it climbs back more than half of it (a dip, a bad reading). A drop at the last reading is found at once
    (core.forecast decides what one unconfirmed reading means).
    A drop over several steps is followed to its bottom.
    """
    steps = sorted(diffs)
    if level is None:
        level = level_of(steps, drop)
    n, found, after = len(u), [], -1
    # The two medians sit three readings apart: a series rising steadily toward the
    # threshold (a sawtooth refilling fast after its purge) rises that much between them
    # anyway. Only a clear rise counts (its median step above half the steps' noise).
    rise = 0.0
    if len(diffs) >= 8:
        k = len(steps)
        r = -steps[k // 2]
        if r > (steps[(3 * k) // 4] - steps[k // 4]) / 1.349 / 2:
            rise = 3 * r
    for j in compress(range(len(diffs)), map(level.__lt__, diffs)):
        if j < after:  # inside a drop already followed
            continue
        i = j + 1
        fall = u[i - 1] - u[i]
        if i >= 2 and u[i - 1] - u[i - 2] > level and u[i] - u[i - 2] < (u[i - 1] - u[i - 2]) / 2 \
                and u[i - 2] - u[i] <= level:
            continue  # a spike: up as much just before, and back down to where it was
        if i + 1 < n and u[i + 1] - u[i] > max(level, fall / 2):
            continue  # a dip: back up by more than half of it right after
        if min(u[max(0, i - 2):i]) > max(u[i:i + 2]) and \
                median(u[max(0, i - 3):i]) - median(u[i:i + 3]) + rise > level / 2:
            while i + 1 < n and u[i] - u[i + 1] > drop / 2:
                i += 1
            found.append(i)
            after = i
    return found


def cycle_peaks(ts, u, found: list[int], level: float) -> list[float]:
    """Each cycle's highest reading (cycles end where ``found`` drops start; the first may
    be cut by the history's start). A top reading more than ``level`` above its
    neighbours within a day is a bad reading, not the peak: the next highest counts."""
    peaks = []
    for a, b in zip([0, *found[:-1]], found, strict=True):
        seg = u[a:b]
        top = max(seg)
        i = a + seg.index(top)
        near = [u[j] for j in (i - 1, i + 1) if a <= j < b and abs(ts[j] - ts[i]) < DAY]
        if near and top - max(near) > level:
            top = max(u[j] for j in range(a, b) if j != i)
        peaks.append(top)
    return peaks


def rho_from_steps(steps: list[float], sigma: float, ordered: list[float] | None = None) -> float:
    """The residuals' lag-one autocorrelation, estimated cheaply from the spread of the
    steps between neighbours (the line's slope is nearly constant per step): for
    residuals of spread σ and correlation ρ the steps spread σ√(2(1-ρ))."""
    if sigma <= 0 or len(steps) < 4:
        return 0.0
    d = ordered or sorted(steps)  # ``ordered``: the same steps, already sorted
    k = len(d)
    spread = (d[(3 * k) // 4] - d[k // 4]) / 1.349
    return 1.0 - spread * spread / (2 * sigma * sigma)


def mean_square(detrended: list[float], a: float) -> float:
    """The residuals' (``detrended`` - a) mean square."""
    m = len(detrended)
    return dist(detrended, [a] * m) ** 2 / m


def tail_off(detrended: list[float], a: float, by: float) -> bool:
    """True when the last three residuals (``detrended`` - a) are all beyond ``by`` on
    the same side of the line."""
    tail = detrended[-3:]
    return min(tail) - a > by or a - max(tail) > by


def rho(detrended: list[float], a: float) -> tuple[float, float]:
    """(lag-one autocorrelation, sum of squares) of the residuals (``detrended`` - a):
    the first near 0 when a line explains the data, near 1 when something (a step, a
    bend, a slow wave) is left over."""
    # In C, by distances: sum r[i] r[i+1] = (sum r[i]² + sum r[i+1]² - sum (r[i+1]-r[i])²) / 2.
    total = dist(detrended, [a] * len(detrended)) ** 2
    if total <= 0:
        return 0.0, total
    first, last = detrended[0] - a, detrended[-1] - a
    steps = dist(detrended[1:], detrended[:-1]) ** 2
    return (2 * total - first * first - last * last - steps) / 2 / total, total


def latest_break(ts, u, *, min_tail: int, min_tail_days: float, min_f: float,
                 min_gain: float, max_candidates: int = 16) -> int:
    """Where the latest regime starts (0: one line fits): the split into two separate
    lines (a step, a bend, or both) that lowers the squared error most, when that gain
    is ``min_f`` times the noise (an F statistic on 2 extra parameters) and at least
    ``min_gain`` per point. A median of three first (the ends too), so one bad reading is
    no regime, not even the last one."""
    n = len(u)
    if n < min_tail + 3:
        return 0
    y = [median(u[:3]), *(b if a <= b <= c or c <= b <= a else a if b <= a <= c or c <= a <= b else c
                          for a, b, c in zip(u, u[1:], u[2:], strict=False)), median(u[-3:])]
    t0 = ts[0]
    x = [(t - t0) / DAY for t in ts]
    sx = list(accumulate(x, initial=0.0))
    sy = list(accumulate(y, initial=0.0))
    sxx = list(accumulate(map(mul, x, x), initial=0.0))
    sxy = list(accumulate(map(mul, x, y), initial=0.0))
    syy = list(accumulate(map(mul, y, y), initial=0.0))

    def sse(i: int, j: int) -> float:
        k = j - i
        mx, my = sx[j] - sx[i], sy[j] - sy[i]
        vx = sxx[j] - sxx[i] - mx * mx / k
        vy = syy[j] - syy[i] - my * my / k
        if vx <= 0:
            return max(vy, 0.0)
        cxy = sxy[j] - sxy[i] - mx * my / k
        return max(vy - cxy * cxy / vx, 0.0)

    last = x[-1] - min_tail_days
    top = n - min_tail
    while top > 3 and x[top] > last:
        top -= 1
    if top < 3:
        return 0
    stride = -(-(top - 2) // max_candidates)
    one = sse(0, n)
    best, at = one, 0
    for j in range(3, top + 1, stride):
        two = sse(0, j) + sse(j, n)
        if two < best:
            best, at = two, j
    if at and stride > 1:  # then every split near the best: a step is placed on its reading
        for j in range(max(3, at - stride + 1), min(top, at + stride - 1) + 1):
            two = sse(0, j) + sse(j, n)
            if two < best:
                best, at = two, j
    if not at or one - best < min_gain * n:
        return 0
    if best > 0:
        # Correlated noise makes any split look good: discount F by the two lines' residual
        # autocorrelation, as for the trend test (docs/proactive.md).
        r = []
        for i, j in ((0, at), (at, n)):
            k = j - i
            mx, my = (sx[j] - sx[i]) / k, (sy[j] - sy[i]) / k
            vx = sxx[j] - sxx[i] - k * mx * mx
            b = (sxy[j] - sxy[i] - k * mx * my) / vx if vx > 0 else 0.0
            r += [y[q] - my - b * (x[q] - mx) for q in range(i, j)]
        total = sum(map(mul, r, r))
        rho = min(max(sum(map(mul, r, r[1:])) / total, 0.0), 0.9) if total > 0 else 0.0
        if (one - best) / 2 / (best / (n - 4)) * (1 - rho) / (1 + rho) < min_f:
            return 0
    return at


def peak_line(times, peaks, max_pairs: int) -> tuple[float, float, float, list[float]] | None:
    """The robust line through the cycles' peaks (three at least). Its noise is the larger
    of the robust σ and the residuals' root mean square: with a handful of peaks the
    interquartile range alone can be nearly zero."""
    if len(peaks) < 3:
        return None
    fit = robust_line(times, peaks, max_pairs)
    if fit is None:
        return None
    bs, a, sigma, detrended = fit
    r = [e - a for e in detrended]
    return bs, a, max(sigma, (sum(map(mul, r, r)) / (len(r) - 2)) ** 0.5), detrended
