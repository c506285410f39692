"""Alerts: one per (host, check) until it resolves. A pure state machine.

``evaluate(state, observation, config, now) -> (state, events)`` is called once
per run for every check of a host (and once for the host itself, check
``HOST_CHECK``). The rules (docs/proactive.md):

* A check that is WARNING or worse for ``open_after`` consecutive runs (2), or
  CRITICAL for ``open_after_crit`` (1), opens an alert. Later failing runs update
  it: the severity may rise (escalated) or fall (deescalated), never a second
  alert. ``resolve_after`` consecutive OK runs (1) resolve it.
* UNKNOWN and "host not reached" are neutral for a check: they neither count
  toward nor break a streak, never open (unless ``unknown_opens``) and never
  resolve. A host whose connection fails ``unreachable_after`` runs in a row (3)
  gets its own alert, kind "host-unreachable", severity UNKNOWN.
* In a maintenance window the state is tracked but nothing is announced. After
  it, the first run outside announces the difference: an alert still open is
  announced ("opened") if that run still fails; one announced before and
  resolved meanwhile is announced as resolved; a changed severity as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from techdesk.core.findings import HostResult
from techdesk.core.severity import Status

HOST_CHECK = "host-unreachable"  # the check name of a host's own reachability alert
EVENTS = ("opened", "escalated", "deescalated", "resolved")


@dataclass(frozen=True)
class AlertConfig:
    open_after: int = 2  # consecutive WARNING-or-worse runs that open an alert
    open_after_crit: int = 1  # consecutive CRITICAL runs that open one
    resolve_after: int = 1  # consecutive OK runs that resolve it
    unreachable_after: int = 3  # consecutive failed connections: host-unreachable
    unknown_opens: bool = False  # count UNKNOWN as failing (severity UNKNOWN)


@dataclass(frozen=True)
class Observation:
    """One run's result for one check of a host. status None: the host was not reached."""

    host: str
    check: str
    status: Status | None
    summary: str = ""
    title: str = ""
    in_maintenance: bool = False


@dataclass(frozen=True)
class AlertState:
    host: str
    check: str
    failing: int = 0  # consecutive failing runs (neutral runs skipped)
    critical: int = 0  # consecutive CRITICAL runs
    passing: int = 0  # consecutive OK runs
    severity: Status | None = None  # of the open alert; None: no alert open
    opened_at: datetime | None = None
    notified: Status | None = None  # severity last announced; None: nothing open announced
    summary: str = ""
    title: str = ""
    # A technician's hand on an open alert (docs/proactive.md "Acknowledge and snooze"):
    # both end when the alert resolves or gets worse.
    acked_by: str = ""
    acked_at: datetime | None = None
    snoozed_until: datetime | None = None

    @property
    def open(self) -> bool:
        return self.severity is not None

    @property
    def kind(self) -> str:
        return "host-unreachable" if self.check == HOST_CHECK else "check"

    def as_json(self) -> dict:
        return {"host": self.host, "check": self.check, "failing": self.failing,
                "critical": self.critical, "passing": self.passing,
                "severity": self.severity.value if self.severity else None,
                "opened_at": self.opened_at.isoformat() if self.opened_at else None,
                "notified": self.notified.value if self.notified else None,
                "summary": self.summary, "title": self.title, "acked_by": self.acked_by,
                "acked_at": _iso(self.acked_at), "snoozed_until": _iso(self.snoozed_until)}

    @classmethod
    def from_json(cls, data: Mapping) -> AlertState:
        def status(value):
            return Status(value) if value else None
        def when(key):
            value = data.get(key)
            return datetime.fromisoformat(value) if value else None
        return cls(data["host"], data["check"], int(data.get("failing", 0)),
                   int(data.get("critical", 0)), int(data.get("passing", 0)),
                   status(data.get("severity")), when("opened_at"),
                   status(data.get("notified")), data.get("summary", ""), data.get("title", ""),
                   data.get("acked_by") or "", when("acked_at"), when("snoozed_until"))

    def snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > now


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def acknowledge(state: AlertState, by: str, now: datetime) -> AlertState:
    """Someone is on it: shown as acknowledged until it resolves or gets worse."""
    if not state.open:
        raise ValueError(f"no open alert for {state.host} {state.check}")
    return replace(state, acked_by=by, acked_at=now)


def snooze(state: AlertState, until: datetime | None) -> AlertState:
    """Out of the open list until ``until`` (None: back now), or until it gets worse."""
    if not state.open and until is not None:
        raise ValueError(f"no open alert for {state.host} {state.check}")
    return replace(state, snoozed_until=until)


_HAND_OFF = {"acked_by": "", "acked_at": None, "snoozed_until": None}


@dataclass(frozen=True)
class AlertEvent:
    event: str  # opened | escalated | deescalated | resolved
    host: str
    check: str
    kind: str  # check | host-unreachable
    severity: Status  # the alert's severity now; OK when resolved
    message: str
    at: datetime
    opened_at: datetime | None = None

    def as_json(self) -> dict:
        return {"event": self.event, "host": self.host, "check": self.check, "kind": self.kind,
                "severity": self.severity.value, "message": self.message,
                "at": self.at.isoformat(), "opened_at": self.opened_at.isoformat()
                if self.opened_at else None}


def _duration(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _message(event: str, s: AlertState, now: datetime) -> str:
    what = s.title or s.check
    tail = f": {s.summary}" if s.summary else ""
    if s.kind == "host-unreachable":
        if event == "resolved":
            return f"{s.host} is reachable again after {_duration((now - s.opened_at).total_seconds())}" \
                if s.opened_at else f"{s.host} is reachable again"
        return f"{s.host} unreachable for {s.failing} runs{tail}"
    if event == "opened":
        count = s.critical if s.severity is Status.CRIT else s.failing
        runs = f" for {count} runs" if count > 1 else ""
        return f"{s.host}: {what} {s.severity.word}{runs}{tail}"
    if event in ("escalated", "deescalated"):
        verb = "rose" if event == "escalated" else "fell"
        return f"{s.host}: {what} {verb} to {s.severity.word}{tail}"
    since = f" after {_duration((now - s.opened_at).total_seconds())}" if s.opened_at else ""
    return f"{s.host}: {what} OK again{since}{tail}"


def evaluate(state: AlertState | None, observation: Observation, config: AlertConfig,
             now: datetime) -> tuple[AlertState, list[AlertEvent]]:
    """Fold one observation into the (host, check) state; return it and what to announce."""
    obs = observation
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    s = state or AlertState(obs.host, obs.check)
    title, summary = obs.title or s.title, obs.summary if obs.summary else s.summary
    if obs.check == HOST_CHECK:
        outcome = "fail" if obs.status is None else "ok"
        severity = Status.UNKNOWN
    elif obs.status is None or (obs.status is Status.UNKNOWN and not config.unknown_opens):
        outcome, severity = "neutral", None
    else:
        outcome = "ok" if obs.status is Status.OK else "fail"
        severity = obs.status
    if outcome == "fail":
        failing = s.failing + 1
        critical = s.critical + 1 if severity is Status.CRIT else 0
        opens = (failing >= config.unreachable_after if obs.check == HOST_CHECK
                 else failing >= config.open_after or critical >= config.open_after_crit)
        current, opened_at = s.severity, s.opened_at
        if current is not None:
            current = severity
        elif opens:  # a new alert, unless one announced earlier is still out there
            current = severity
            opened_at = s.opened_at if s.notified is not None and s.opened_at else now
        s = replace(s, failing=failing, critical=critical, passing=0, severity=current,
                    opened_at=opened_at, summary=summary, title=title)
    elif outcome == "ok":
        passing = s.passing + 1
        if s.open and passing >= config.resolve_after:
            s = replace(s, failing=0, critical=0, passing=passing, severity=None, summary=summary,
                        title=title, **_HAND_OFF)
        else:
            s = replace(s, failing=0, critical=0, passing=passing, summary=summary, title=title)
    if obs.in_maintenance:
        return s, []
    return _announce(s, outcome, now)


def _announce(s: AlertState, outcome: str, now: datetime) -> tuple[AlertState, list[AlertEvent]]:
    """Events for the difference between what was announced and the state now."""
    event = None
    if s.open and s.notified is None:
        if outcome == "fail":
            event = "opened"
    elif s.open and s.notified != s.severity:
        event = "escalated" if s.severity.rank > s.notified.rank else "deescalated"
    elif not s.open and s.notified is not None:
        event = "resolved"
    if event is None:
        return s, []
    opened_at = s.opened_at
    message = _message(event, s, now)
    if event == "resolved":
        s = replace(s, notified=None, opened_at=None)
    elif event == "escalated":  # worse than what was acknowledged or snoozed: fresh eyes
        s = replace(s, notified=s.severity, **_HAND_OFF)
    else:
        s = replace(s, notified=s.severity)
    return s, [AlertEvent(event, s.host, s.check, s.kind, s.severity or Status.OK, message, now,
                          opened_at)]


def observations(result: HostResult, in_maintenance: bool = False) -> list[Observation]:
    """The observations of one host's run: one per check, and the host's own."""
    found = [Observation(result.host, c.id, c.status, c.summary, c.title, in_maintenance)
             for c in result.checks]
    error = result.error
    found.append(Observation(result.host, HOST_CHECK, None if error else Status.OK,
                             f"{error.kind}: {error.message}" if error else "", "", in_maintenance))
    return found


def evaluate_all(states: Mapping[tuple[str, str], AlertState], observed: Iterable[Observation],
                 config: AlertConfig, now: datetime
                 ) -> tuple[dict[tuple[str, str], AlertState], list[AlertEvent]]:
    """evaluate() over many observations; returns the updated states (a new dict) and events."""
    new, events = dict(states), []
    for obs in observed:
        key = (obs.host, obs.check)
        new[key], found = evaluate(new.get(key), obs, config, now)
        events.extend(found)
    return new, events
