"""Schedules: a bundle on a target every N minutes/hours/days, maintenance windows, backoff.

Pure: no I/O and no clock; every function takes ``now``. Datetimes are aware
(naive ones are taken as UTC). Intervals are absolute time, not wall-clock: a
6 h schedule runs every 6 real hours across DST changes. Maintenance windows are
wall-clock times in a named IANA zone; on DST days (docs/proactive.md):

* a window starts the first time the local clock shows its start and ends the
  last time it shows its end (so on the fall-back day it covers both passes of
  the repeated hour); a time the clock skips (spring forward) counts as the
  moment of the jump;
* it never lasts less than its nominal length: 02:00-03:00 (or 02:30-03:30) on
  the spring-forward day in Berlin is 03:00-04:00 summer time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TARGET_KINDS = ("client", "site", "host", "tag", "all")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIN_INTERVAL = timedelta(minutes=1)
MAX_INTERVAL = timedelta(days=365)
RETRY_FIRST = timedelta(minutes=5)
DEFAULT_STALE_AFTER = timedelta(days=1)
WINDOW_EXAMPLE = "'Sun 02:00-04:00 Europe/Berlin' or 'Mon-Fri 22:00-02:00 UTC alerts'"

_INTERVAL = re.compile(r"\s*(\d{1,6})\s*([mhd])\s*", re.IGNORECASE)
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
T = TypeVar("T")


class ScheduleError(ValueError):
    """Bad schedule input; the message says what is wrong and what is expected."""


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# -- intervals ---------------------------------------------------------------------------------

def parse_interval(text: str) -> timedelta:
    """'15m', '6h', '1d', '2d' -> timedelta (1 minute to 365 days)."""
    match = _INTERVAL.fullmatch(text or "")
    if not match:
        raise ScheduleError(f"bad interval {text!r}: expected a whole number and m, h or d, "
                            "e.g. 15m, 6h, 1d")
    every = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if not MIN_INTERVAL <= every <= MAX_INTERVAL:
        raise ScheduleError(f"bad interval {text!r}: must be from 1m to 365d")
    return every


def format_interval(every: timedelta) -> str:
    """The shortest text form: 90 min -> '90m', 48 h -> '2d'."""
    minutes = int(every.total_seconds() // 60)
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes and minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


# -- targets -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Where a schedule runs: a client, site, host or tag by name, or all hosts."""

    kind: str
    name: str | None = None

    def __post_init__(self):
        if self.kind not in TARGET_KINDS:
            raise ScheduleError(f"bad target kind {self.kind!r}: expected one of "
                                + ", ".join(TARGET_KINDS))
        if (self.kind == "all") != (not self.name):
            raise ScheduleError("a target names a client, site, host or tag, except 'all'")

    @classmethod
    def parse(cls, text: str) -> Target:
        """'all', 'client:Acme', 'site:Acme/HQ', 'host:web01', 'tag:backup'."""
        kind, _, name = (text or "").strip().partition(":")
        try:
            return cls(kind, name.strip() or None)
        except ScheduleError as exc:
            raise ScheduleError(f"bad target {text!r}: {exc}; expected 'all' or KIND:NAME") from None

    def __str__(self) -> str:
        return "all" if self.kind == "all" else f"{self.kind}:{self.name}"

    def matches(self, host: str, client: str | None = None, site: str | None = None,
                tags: Iterable[str] = ()) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "tag":
            return self.name in tags
        return {"client": client, "site": site, "host": host}[self.kind] == self.name


# -- maintenance windows -------------------------------------------------------------------------

def _parse_days(text: str) -> frozenset[int]:
    if text.lower() in ("daily", "*"):
        return frozenset(range(7))
    lookup = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
    days: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.partition("-")
        try:
            a, b = lookup[first.strip().lower()[:3]], lookup[(last if dash else first).strip().lower()[:3]]
        except KeyError:
            raise ScheduleError(f"unknown day in {text!r} (use Mon..Sun, ranges like Mon-Fri, "
                                "or daily)") from None
        days.update((a + k) % 7 for k in range((b - a) % 7 + 1))
    return frozenset(days)


def _parse_clock(text: str, end: bool) -> int:
    match = _CLOCK.fullmatch(text.strip())
    hours, minutes = (int(match.group(1)), int(match.group(2))) if match else (99, 0)
    if minutes > 59 or not (hours < 24 or (end and hours == 24 and minutes == 0)):
        raise ScheduleError(f"bad time {text.strip()!r} (use HH:MM, 00:00 to 23:59; 24:00 as an end)")
    return hours * 60 + minutes


def _instants(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """First and last UTC instant the local clock shows ``wall`` (naive). The
    repeated hour of a fall-back day gives two; a time skipped by a spring-forward
    jump gives the moment of the jump (found by bisection over whole seconds)."""
    first = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first pass
    last = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if last >= first:
        return first, last
    after = first.astimezone(zone).utcoffset()  # skipped: the jump lies in (last, first]
    lo, hi = int(last.timestamp()), int(first.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    jump = datetime.fromtimestamp(hi, UTC)
    return jump, jump


def _format_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "daily"
    parts, ordered = [], sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        run = ordered[i:j + 1]
        parts.append(f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}" if len(run) >= 3
                     else ",".join(DAY_NAMES[d] for d in run))
        i = j + 1
    return ",".join(parts)


@dataclass(frozen=True)
class Window:
    """A weekly maintenance window: DAYS HH:MM-HH:MM ZONE [runs|alerts].

    ``days`` (0 = Monday) are the days it starts on; an end at or before the
    start is on the next day. mode "runs" holds runs (and so alerts); "alerts"
    lets runs go on and holds their alerts.
    """

    days: frozenset[int]
    start: int  # minutes after local midnight, 0..1439
    end: int  # minutes after local midnight, 0..1440
    tz: str
    mode: str = "runs"

    @classmethod
    def parse(cls, text: str) -> Window:
        try:
            words = (text or "").split()
            mode = words.pop() if len(words) == 4 else "runs"
            if len(words) != 3:
                raise ScheduleError("expected DAYS HH:MM-HH:MM ZONE [runs|alerts]")
            if mode not in ("runs", "alerts"):
                raise ScheduleError(f"unknown mode {mode!r} (runs or alerts)")
            start, dash, end = words[1].partition("-")
            if not dash:
                raise ScheduleError(f"bad times {words[1]!r} (use HH:MM-HH:MM)")
            try:
                ZoneInfo(words[2])
            except (ZoneInfoNotFoundError, ValueError):
                raise ScheduleError(f"unknown time zone {words[2]!r} (use an IANA name such as "
                                    "Europe/Berlin or UTC)") from None
            window = cls(_parse_days(words[0]), _parse_clock(start, False), _parse_clock(end, True),
                         words[2], mode)
        except ScheduleError as exc:
            raise ScheduleError(f"bad maintenance window {text!r}: {exc}; e.g. {WINDOW_EXAMPLE}") \
                from None
        if window.start == window.end % 1440 and window.end != 1440:
            raise ScheduleError(f"bad maintenance window {text!r}: it ends when it starts")
        return window

    def __str__(self) -> str:
        clock = f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        text = f"{_format_days(self.days)} {clock} {self.tz}"
        return text if self.mode == "runs" else f"{text} {self.mode}"

    @property
    def length(self) -> timedelta:
        """Nominal length (wall clock): an end at or before the start is the next day."""
        minutes = self.end - self.start
        return timedelta(minutes=minutes if minutes > 0 else minutes + 1440)

    def occurrence(self, day: date) -> tuple[datetime, datetime]:
        """UTC start and end of the window starting on local ``day`` (DST rules above)."""
        zone = ZoneInfo(self.tz)
        start = _instants(datetime.combine(day, time(self.start // 60, self.start % 60)), zone)[0]
        end_day = day + timedelta(days=1 if self.end <= self.start or self.end == 1440 else 0)
        wall = datetime.combine(end_day, time((self.end % 1440) // 60, self.end % 60))
        return start, max(_instants(wall, zone)[1], start + self.length)

    def covering(self, when: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence that contains ``when``, or None."""
        when = _utc(when)
        local_day = when.astimezone(ZoneInfo(self.tz)).date()
        for back in (0, 1, 2):  # a window may have started up to two local days ago
            day = local_day - timedelta(days=back)
            if day.weekday() in self.days:
                start, end = self.occurrence(day)
                if start <= when < end:
                    return start, end
        return None


def parse_windows(text: str) -> tuple[Window, ...]:
    """Several windows separated by ';'. An empty text gives none."""
    return tuple(Window.parse(part) for part in (text or "").split(";") if part.strip())


def in_maintenance(windows: Iterable[Window], when: datetime, runs: bool = False) -> bool:
    """Is ``when`` inside a window? ``runs=True`` counts only windows that hold runs."""
    return any(w.covering(when) for w in windows if not runs or w.mode == "runs")


def maintenance_end(windows: Iterable[Window], when: datetime, runs: bool = False) -> datetime | None:
    """When the windows covering ``when`` (chained, if they overlap) are over; None if none."""
    windows = [w for w in windows if not runs or w.mode == "runs"]
    when, moved = _utc(when), False
    for _ in range(64):
        ends = [c[1] for c in (w.covering(when) for w in windows) if c]
        if not ends:
            break
        when, moved = max(ends), True
    return when if moved else None


# -- schedules ---------------------------------------------------------------------------------

@dataclass
class Schedule:
    bundle: str
    target: Target
    interval: timedelta
    windows: tuple[Window, ...] = ()
    id: str = ""
    last_run: datetime | None = None
    enabled: bool = True

    def as_json(self) -> dict:
        return {"id": self.id, "bundle": self.bundle, "target": str(self.target),
                "every": format_interval(self.interval), "windows": [str(w) for w in self.windows],
                "last_run": self.last_run.isoformat(timespec="seconds") if self.last_run else None,
                "enabled": self.enabled}

    @classmethod
    def from_json(cls, data: dict) -> Schedule:
        try:
            last = data.get("last_run")
            return cls(bundle=str(data["bundle"]), target=Target.parse(data["target"]),
                       interval=parse_interval(data["every"]),
                       windows=tuple(Window.parse(w) for w in data.get("windows", [])),
                       id=str(data.get("id", "")), enabled=bool(data.get("enabled", True)),
                       last_run=_utc(datetime.fromisoformat(last)) if last else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise ScheduleError(f"bad schedule {data.get('id', '?') if isinstance(data, dict) else '?'}:"
                                f" {exc}") from None


def retry_delay(consecutive_failures: int, base: timedelta, first: timedelta = RETRY_FIRST) -> timedelta:
    """Wait after a run: ``base`` normally; after n failures first * 2**(n-1), never above ``base``."""
    if consecutive_failures <= 0:
        return base
    return min(base, first * 2 ** min(consecutive_failures - 1, 30))


def _own_due(schedule: Schedule, last_run: datetime | None, now: datetime, failures: int) -> datetime:
    return now if last_run is None else _utc(last_run) + retry_delay(failures, schedule.interval)


def next_due(schedule: Schedule, last_run: datetime | None, now: datetime,
             failures: int = 0, retry_at: datetime | None = None) -> datetime:
    """When the schedule (for one host: its ``last_run`` and ``failures``) is due next.

    ``last_run + interval`` (or the backoff delay after failures); never run: now.
    ``retry_at``: the host's own next try after failed runs (of any schedule), which
    comes first when later. A time inside a run-holding window moves to the window's
    end. An overdue time is returned as it is (in the past), unless now is inside a
    window. ``due_state`` says why a host is not due; both follow the same rules.
    """
    now = _utc(now)
    due = _own_due(schedule, last_run, now, failures)
    if retry_at is not None:
        due = max(due, _utc(retry_at))
    end = maintenance_end(schedule.windows, max(due, now), runs=True)
    return end if end is not None else due


def due_state(schedule: Schedule, last_run: datetime | None, now: datetime, failures: int = 0,
              retry_at: datetime | None = None) -> str:
    """Why a schedule does or does not run a host at ``now`` (the rules of ``next_due``):
    "due"; "disabled"; "waiting" for its interval (or its backoff after failures);
    "held" by a run-holding maintenance window; "backing-off": the host's ``retry_at``."""
    now = _utc(now)
    if not schedule.enabled:
        return "disabled"
    if _own_due(schedule, last_run, now, failures) > now:
        return "waiting"
    if maintenance_end(schedule.windows, now, runs=True) is not None:
        return "held"
    if retry_at is not None and _utc(retry_at) > now:
        return "backing-off"
    return "due"


def is_due(schedule: Schedule, last_run: datetime | None, now: datetime, failures: int = 0,
           retry_at: datetime | None = None) -> bool:
    return due_state(schedule, last_run, now, failures, retry_at) == "due"


def is_stale(last_success: datetime | None, now: datetime,
             stale_after: timedelta = DEFAULT_STALE_AFTER, since: datetime | None = None) -> bool:
    """No successful run for ``stale_after``. Never reached: stale once ``since``
    (when the host was added) is that long ago, or at once without ``since``."""
    ref = last_success if last_success is not None else since
    return ref is None or _utc(now) - _utc(ref) >= stale_after


def not_running(due: Iterable[T], running: Collection[str],
                host: Callable[[T], str] = lambda item: item) -> list[T]:
    """The due items whose host is not running now, one per host (the first; the
    others stay due for the next sweep), in order: no overlapping runs of a host."""
    seen, kept = set(running), []
    for item in due:
        name = host(item)
        if name not in seen:
            seen.add(name)
            kept.append(item)
    return kept
