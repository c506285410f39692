"""Care reports without a click: at the end of each month the sweep writes each scheduled
client's care report of that month into a folder (for example the shared folder's reports/).

One schedule per client, kept on this device (the folder is a local path). The sweep that
runs first after a month ends writes `care-<client>-<YYYY-MM>.pdf|html`; a month already
written is not written again, and a failure (folder gone, disk full) is reported in the
sweep's errors and retried by the next sweep.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from techdesk.core.roster import RosterError
from techdesk.core.work import WorkError
from techdesk.reports.period import last_month
from techdesk.store.db import transaction

FORMATS = ("pdf", "html")


def _safe(name: str) -> str:
    """A client name as part of a file name on every filesystem."""
    return re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip("-.") or "client"


def add(services, client: str, folder: Path | str, fmt: str = "pdf") -> dict:
    if client not in {c.name for c in services.roster.clients()}:
        raise RosterError(f"no client named {client!r}")
    if fmt not in FORMATS:
        raise WorkError(f"format must be one of {', '.join(FORMATS)}")
    path = Path(folder).expanduser().absolute()
    if not path.is_dir():
        raise WorkError(f"folder {path} does not exist")
    with transaction(services.conn):
        services.conn.execute(
            "INSERT OR REPLACE INTO care_report_schedules (client, folder, format, last_period, created)"
            " VALUES (?,?,?,(SELECT last_period FROM care_report_schedules WHERE client = ?),?)",
            (client, str(path), fmt, client, datetime.now(UTC).isoformat(timespec="seconds")))
    return next(s for s in schedules(services) if s["client"] == client)


def remove(services, client: str) -> None:
    with transaction(services.conn):
        gone = services.conn.execute("DELETE FROM care_report_schedules WHERE client = ?", (client,)).rowcount
    if not gone:
        raise WorkError(f"no care report is scheduled for {client!r}")


def schedules(services) -> list[dict]:
    rows = services.conn.execute("SELECT client, folder, format, last_period, created FROM care_report_schedules"
                                 " ORDER BY client")
    return [{"client": r[0], "folder": r[1], "format": r[2], "last_period": r[3], "created": r[4]} for r in rows]


def produce_due(services, now: datetime | None = None) -> tuple[list[str], list[str]]:
    """Write the care report of the last complete month for every schedule that has not
    had it yet. Returns (files written, errors); never raises for one client."""
    period = last_month(now)
    key = period.start.astimezone().strftime("%Y-%m")
    written, errors = [], []
    for s in schedules(services):
        if s["last_period"] is not None and s["last_period"] >= key:
            continue
        target = Path(s["folder"]) / f"care-{_safe(s['client'])}-{key}.{s['format']}"
        try:
            services.reports.care(s["client"], period, target)
        except (RosterError, WorkError, OSError) as exc:
            errors.append(f"care report of {s['client']} for {key}: {exc}")
            continue
        with transaction(services.conn):
            services.conn.execute("UPDATE care_report_schedules SET last_period = ? WHERE client = ?",
                                  (key, s["client"]))
        written.append(str(target))
    return written, errors
