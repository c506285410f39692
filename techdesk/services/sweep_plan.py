"""The sweep's planning rules for MonitorService: which schedule covers which host,
why a schedule is held or skipped, and the exit status of a sweep. Pure functions over
the store's rows and the core rules (techdesk/core/schedule.py); no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from techdesk.core.roster import Host
from techdesk.core.schedule import (
    Schedule,
    ScheduleError,
    Target,
    format_interval,
    maintenance_end,
    parse_windows,
)
from techdesk.reports.data import plural
from techdesk.services.monitor_types import SweepResult
from techdesk.store.monitor import iso

BUSY_INTERVAL = timedelta(minutes=15)


def check_busy(target: Target, interval: timedelta, confirmed: bool) -> None:
    """Every host, more often than every 15 minutes: only when the technician says so."""
    if target.kind == "all" and interval < BUSY_INTERVAL and not confirmed:
        raise ScheduleError(f"a schedule on all hosts more often than every {format_interval(BUSY_INTERVAL)} "
                            "connects to every machine each time: confirm it (CLI: --yes)")


def schedule_json(row: dict) -> dict:
    every = timedelta(seconds=row["interval_s"])
    return {"id": row["uid"], "bundle": row["bundle"], "target": row["target"],
            "every": format_interval(every), "interval_s": row["interval_s"],
            "windows": [w.strip() for w in row["windows"].split(";") if w.strip()],
            "enabled": row["enabled"], "created": row["created"], "updated": row["updated"]}


def core_of(row: dict) -> Schedule:
    return Schedule(bundle=row["bundle"], target=Target.parse(row["target"]),
                    interval=timedelta(seconds=row["interval_s"]),
                    windows=parse_windows(row["windows"]), id=row["uid"], enabled=row["enabled"])


def backoff(health: dict | None) -> tuple[int, datetime | None]:
    """(consecutive failures, the host's next try) from its health row, for core.schedule."""
    if not health or not health["failures"]:
        return 0, None
    return health["failures"], health["next_retry"]


def site_key(host: Host) -> str | None:
    return f"{host.spec.client}/{host.spec.site}" if host.spec.client and host.spec.site else None


def matches(target: Target, host: Host) -> bool:
    return target.matches(host.name, host.spec.client, site_key(host), host.spec.tags)


# ---------------------------------------------------------------------------- the sweep lock
@dataclass
class Item:
    """One host to run one bundle on, for one or more schedules (the first leads)."""

    bundle: str
    host: str
    schedules: list[str] = field(default_factory=list)
    interval: timedelta = timedelta(days=365)
    windows: list = field(default_factory=list)


    def add(self, uid: str, core: Schedule) -> None:
        self.schedules.append(uid)
        self.interval = min(self.interval, core.interval)
        self.windows.extend(core.windows)


def backing_off(health: dict) -> str:
    return (f"backing off after {plural(health['failures'], 'failed connection')}: "
            f"next try at {iso(health['next_retry'])}")


def schedule_notes(core: Schedule, bundle, held: int, wrong_os: list[str], now: datetime) -> list[str]:
    """Why some matching hosts of one schedule are not run by this sweep."""
    notes = []
    if held:
        notes.append(f"{plural(held, 'host')} held by a maintenance window until "
                     f"{iso(maintenance_end(core.windows, now, runs=True))}")
    if wrong_os:
        shown = ", ".join(wrong_os[:5]) + (f" and {len(wrong_os) - 5} more" if len(wrong_os) > 5 else "")
        notes.append(f"bundle {bundle.name} is for {bundle.os}: not run on {shown}")
    return notes


@dataclass
class Plan:
    items: list[Item]
    skipped: list[dict]
    schedules: dict[str, dict]
    hosts: dict[str, Host]


def sweep_exit_code(result: SweepResult) -> int:
    """`techdesk sweep`: 2 a CRITICAL finding, else 3 a host failed (or a check was
    UNKNOWN), else 1 a warning or an alert opened/escalated, else 0 (like `run`)."""
    statuses = {h["status"] for h in result.get("hosts", [])}
    if "crit" in statuses:
        return 2
    if "unknown" in statuses or any(h.get("error") for h in result.get("hosts", [])):
        return 3
    if "warn" in statuses or any(e["event"] in ("opened", "escalated") for e in result.get("alerts", [])):
        return 1
    return 0
