"""The shapes of fleet health and of a sweep's summary, declared once.

They are TypedDicts, not dataclasses, on purpose: the service returns them, the CLI's
`--json` prints them as they are (they hold only JSON values: str, numbers, bool,
None, lists and dicts), and the dashboard, the CLI tables and the tests read the same
keys. So the type is the JSON and there is nothing to convert (docs/architecture.md).
"""

# No `from __future__ import annotations`: Python 3.11's TypedDict sees NotRequired
# only in evaluated annotations.
from typing import Literal, NotRequired, TypedDict

from techdesk.core.forecast import ForecastFinding

Status = Literal["ok", "warn", "crit", "unknown", "never"]


# ------------------------------------------------------------------ health
class Counts(TypedDict):
    """Hosts by status; ``stale``: of those, how many are not confirmed by the latest attempt."""

    hosts: int
    ok: int
    warn: int
    crit: int
    unknown: int
    never: int
    stale: int


class ClientCounts(Counts):
    client: str  # "" for hosts without a client


class HostError(TypedDict):
    kind: str
    message: str


class HostRow(TypedDict):
    host: str
    client: str
    site: str
    status: Status
    checked: str | None       # ISO time of the newest current result
    stale: bool
    error: HostError | None   # the latest attempt failed
    last_attempt: str | None


class AttentionRow(TypedDict):
    """A finding: a check not OK, a host not reached, or a forecast crossing soon."""

    host: str
    client: str
    kind: Literal["check", "host", "forecast"]
    status: str
    check: str
    title: str
    summary: str
    since: str | None
    eta: str | None
    days_left: float | None
    evidence: dict | None
    label: NotRequired[str]    # forecasts: the metric
    stale: NotRequired[bool]   # checks: the host is stale


class StaleRow(TypedDict):
    host: str
    client: str
    last_success: str | None
    last_attempt: str | None
    failures: int
    next_retry: str | None
    last_error: str | None


class FleetForecast(ForecastFinding):
    client: str


class HealthReport(TypedDict):
    """HealthService.health(): `techdesk health --json`, the dashboard."""

    now: str
    within_days: float
    stale_after_hours: float
    totals: Counts
    clients: list[ClientCounts]
    hosts: list[HostRow]
    attention: list[AttentionRow]   # severity first, then soonest
    stale: list[StaleRow]           # longest without a success first
    forecasts: list[FleetForecast]
    alerts: list[dict]              # open alerts, as MonitorService.alerts()


# ------------------------------------------------------------------ the sweep
class Skipped(TypedDict):
    schedule: str | None   # None: the whole sweep (another one holds the lock)
    host: str | None       # None: a note about the schedule's hosts
    reason: str


class SweptHost(TypedDict):
    host: str
    bundle: str
    run_id: str
    status: str
    error: HostError | None  # core.findings.HostError.as_json()


class AlertEvent(TypedDict):
    seq: int
    event: str
    host: str
    check: str
    kind: str
    severity: str
    message: str
    at: str
    opened_at: str | None
    notified: bool


class SweepResult(TypedDict):
    """MonitorService.sweep(): `techdesk sweep --json`, the window's sweep."""

    ran: int                 # hosts run
    runs: list[str]          # run ids
    skipped: list[Skipped]
    alerts: list[AlertEvent]  # events announced
    errors: list[str]
    hosts: list[SweptHost]
    started: str
    finished: str | None
    locked: bool             # another sweep was running: this one did nothing
    care_reports: list[str]  # care report files written
