"""Which version of each schedule a technician enabled on THIS device (migration 6).

Schedules travel with the roster; approvals never do. A schedule runs here only when its
current version (what it does: bundle, target, interval, windows) is the approved one,
so a schedule written by a teammate, or changed by one, stays inactive until enabled
here (docs/sync-format.md, "Trust model").
"""

from __future__ import annotations

import sqlite3

from techdesk.store.db import now_iso


def version(row: dict) -> str:
    """What a schedule does (its enabled flag and times are not part of it), as migration 6
    writes it in SQL for the schedules that existed before: bundle, target, interval and
    windows joined by the unit separator."""
    return "\x1f".join((row["bundle"], row["target"], str(int(row["interval_s"])), row["windows"]))


def approve(conn: sqlite3.Connection, row: dict) -> None:
    conn.execute("INSERT OR REPLACE INTO schedule_approvals (uid, version, approved_at) VALUES (?, ?, ?)",
                 (row["uid"], version(row), now_iso()))


def approved(conn: sqlite3.Connection) -> dict[str, str]:
    """uid -> the approved version."""
    return dict(conn.execute("SELECT uid, version FROM schedule_approvals"))


def is_approved(row: dict, approvals: dict[str, str]) -> bool:
    return approvals.get(row["uid"]) == version(row)
