"""Proactive monitoring in the local store (tables of migration 4).

- schedules: a bundle on a target every N seconds with maintenance windows. Synced with
  the roster (kind "schedule", keyed by ``uid``), so it holds nothing device-specific.
- schedule_hosts: when each schedule last ran each host (this device's own sweeps).
- host_health: per host, the last attempt and success of a scheduled run, the count of
  consecutive failed connections and when the host may be tried again (backoff).
- alert_states: the core.alerts.AlertState of each (host, check), as JSON.
- alert_events: append-only log of what was announced (opened, escalated,
  deescalated, resolved) and whether it was sent to the configured channels.
- forecast_cache: the fit of each capacity series, so the fleet's health does not
  refit 10,000 hosts' history every time (monitor_meta says up to which metrics row).

Times are ISO-8601 UTC strings to the second. Plain functions, no domain rules: those
are in techdesk/core/{schedule,alerts}.py and techdesk/services/monitor.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from techdesk.core.alerts import AlertEvent, AlertState
from techdesk.store import fields
from techdesk.store.db import transaction

_SCHEDULE_COLS = ", ".join(fields.SCHEDULE.columns)


def iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(text)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


# ------------------------------------------------------------------ schedules
def _schedule(row) -> dict:
    return {"uid": row[0], "bundle": row[1], "target": row[2], "interval_s": row[3],
            "windows": row[4], "enabled": bool(row[5]), "created": row[6], "updated": row[7]}


def insert_schedule(conn: sqlite3.Connection, uid: str, bundle: str, target: str, interval_s: int,
                    windows: str, created: str, enabled: bool = True) -> None:
    with transaction(conn):
        conn.execute(f"INSERT INTO schedules ({_SCHEDULE_COLS}) VALUES (?,?,?,?,?,?,?,?)",
                     (uid, bundle, target, interval_s, windows, int(enabled), created, created))


def list_schedules(conn: sqlite3.Connection) -> list[dict]:
    return [_schedule(r) for r in conn.execute(
        f"SELECT {_SCHEDULE_COLS} FROM schedules ORDER BY created, id")]


def find_schedules(conn: sqlite3.Connection, prefix: str) -> list[dict]:
    """The schedule with this uid, or every schedule whose uid starts with it."""
    exact = conn.execute(f"SELECT {_SCHEDULE_COLS} FROM schedules WHERE uid = ?", (prefix,)).fetchall()
    if exact:
        return [_schedule(r) for r in exact]
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [_schedule(r) for r in conn.execute(
        f"SELECT {_SCHEDULE_COLS} FROM schedules WHERE uid LIKE ? ESCAPE '\\' ORDER BY uid LIMIT 10",
        (escaped + "%",))]


def delete_schedule(conn: sqlite3.Connection, uid: str) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM schedules WHERE uid = ?", (uid,))
        conn.execute("DELETE FROM schedule_hosts WHERE schedule_uid = ?", (uid,))


def update_schedule(conn: sqlite3.Connection, uid: str, bundle: str, target: str, interval_s: int,
                    windows: str, updated: str) -> None:
    """Change what a schedule runs, where and when; its last runs per host are kept."""
    with transaction(conn):
        conn.execute("UPDATE schedules SET bundle = ?, target = ?, interval_s = ?, windows = ?, updated = ?"
                     " WHERE uid = ?", (bundle, target, interval_s, windows, updated, uid))


def set_enabled(conn: sqlite3.Connection, uid: str, enabled: bool, updated: str) -> None:
    with transaction(conn):
        conn.execute("UPDATE schedules SET enabled = ?, updated = ? WHERE uid = ?",
                     (int(enabled), updated, uid))


# ------------------------------------------------------------------ last run per schedule and host
def last_runs(conn: sqlite3.Connection) -> dict[tuple[str, str], datetime]:
    return {(r[0], r[1]): parse_iso(r[2])
            for r in conn.execute("SELECT schedule_uid, host, last_run FROM schedule_hosts")}


def mark_runs(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str | None]]) -> None:
    """(schedule uid, host, last run ISO, run id) rows, upserted in one transaction."""
    with transaction(conn):
        conn.executemany("INSERT OR REPLACE INTO schedule_hosts (schedule_uid, host, last_run, run_id)"
                         " VALUES (?,?,?,?)", list(rows))


# ------------------------------------------------------------------ host health
_HEALTH_COLS = "host, last_attempt, last_success, consecutive_failures, next_retry, last_error"


def health(conn: sqlite3.Connection) -> dict[str, dict]:
    return {r[0]: {"host": r[0], "last_attempt": parse_iso(r[1]), "last_success": parse_iso(r[2]),
                   "failures": r[3], "next_retry": parse_iso(r[4]), "last_error": r[5]}
            for r in conn.execute(f"SELECT {_HEALTH_COLS} FROM host_health")}


def save_health(conn: sqlite3.Connection, rows: Iterable[dict]) -> None:
    with transaction(conn):
        conn.executemany(
            f"INSERT OR REPLACE INTO host_health ({_HEALTH_COLS}) VALUES (?,?,?,?,?,?)",
            [(r["host"], iso(r["last_attempt"]), iso(r["last_success"]), r["failures"],
              iso(r["next_retry"]), r["last_error"]) for r in rows])


# ------------------------------------------------------------------ alerts
def alert_states(conn: sqlite3.Connection, hosts: Iterable[str] | None = None,
                 open_only: bool = False) -> dict[tuple[str, str], AlertState]:
    sql = "SELECT state FROM alert_states" + (" WHERE open = 1" if open_only else "")
    if hosts is None:
        return _states(conn.execute(sql))
    names, out = sorted(set(hosts)), {}
    for i in range(0, len(names), 500):
        part = names[i:i + 500]
        joiner = " AND " if open_only else " WHERE "
        out.update(_states(conn.execute(f"{sql}{joiner}host IN ({','.join('?' * len(part))})", part)))
    return out


def _states(rows) -> dict[tuple[str, str], AlertState]:
    out = {}
    for (text,) in rows:
        state = AlertState.from_json(json.loads(text))
        out[(state.host, state.check)] = state
    return out


def save_alerts(conn: sqlite3.Connection, states: dict[tuple[str, str], AlertState],
                events: list[AlertEvent], updated: str) -> list[int]:
    """Upsert states and append events, in one transaction; returns the events' seq."""
    seqs = []
    with transaction(conn):
        conn.executemany(
            "INSERT OR REPLACE INTO alert_states (host, check_id, state, open, updated) VALUES (?,?,?,?,?)",
            [(s.host, s.check, json.dumps(s.as_json(), ensure_ascii=False), int(s.open), updated)
             for s in states.values()])
        for e in events:
            cur = conn.execute(
                "INSERT INTO alert_events (at, event, host, check_id, kind, severity, message, opened_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (iso(e.at), e.event, e.host, e.check, e.kind, e.severity.value, e.message, iso(e.opened_at)))
            seqs.append(cur.lastrowid)
    return seqs


_EVENT_COLS = "seq, at, event, host, check_id, kind, severity, message, opened_at, notified, attempts"


def _event(row) -> dict:
    return {"seq": row[0], "at": row[1], "event": row[2], "host": row[3], "check": row[4], "kind": row[5],
            "severity": row[6], "message": row[7], "opened_at": row[8], "notified": bool(row[9]),
            "attempts": row[10]}


def events(conn: sqlite3.Connection, seqs: Iterable[int] | None = None, open_only: bool = False,
           limit: int | None = None) -> list[dict]:
    """Events in the order they happened: the given ones, those of open alerts, or all
    (the newest ``limit``)."""
    if seqs is not None:
        wanted, out = sorted(set(seqs)), []
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            out += [_event(r) for r in conn.execute(
                f"SELECT {_EVENT_COLS} FROM alert_events WHERE seq IN ({','.join('?' * len(part))})", part)]
        return sorted(out, key=lambda e: e["seq"])
    if open_only:
        rows = conn.execute(
            f"SELECT {', '.join('e.' + c.strip() for c in _EVENT_COLS.split(','))} FROM alert_events e"
            " JOIN alert_states s ON s.host = e.host AND s.check_id = e.check_id"
            " WHERE s.open = 1 ORDER BY e.seq")
        return [_event(r) for r in rows]
    sql = f"SELECT {_EVENT_COLS} FROM alert_events ORDER BY seq DESC"
    rows = conn.execute(sql + " LIMIT ?", (limit,)) if limit else conn.execute(sql)
    return [_event(r) for r in reversed(rows.fetchall())]


def unsent_events(conn: sqlite3.Connection, since: str, max_attempts: int) -> list[dict]:
    """Events tried before but not delivered, newer than ``since``: retried by the next sweep."""
    return [_event(r) for r in conn.execute(
        f"SELECT {_EVENT_COLS} FROM alert_events WHERE notified = 0 AND attempts BETWEEN 1 AND ?"
        " AND at >= ? ORDER BY seq", (max_attempts - 1, since))]


def mark_notified(conn: sqlite3.Connection, seqs: Iterable[int], delivered: bool) -> None:
    with transaction(conn):
        conn.executemany("UPDATE alert_events SET attempts = attempts + 1, notified = ? WHERE seq = ?",
                         [(int(delivered), s) for s in seqs])


# ------------------------------------------------------------------ forecast cache
def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM monitor_meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def cached_forecasts(conn: sqlite3.Connection, now: float, within_days: float, oldest: float):
    """(host, check, label, fit JSON) of the cached series whose crossing, carried on
    to ``now`` (epoch), is within ``within_days``, and with a point since ``oldest``."""
    return conn.execute(
        "SELECT host, check_id, label, forecast FROM forecast_cache WHERE days_left IS NOT NULL"
        " AND days_left - (? - computed) / 86400.0 <= ? AND last_ts >= ?", (now, within_days, oldest))


def replace_forecasts(conn: sqlite3.Connection, hosts: Iterable[str] | None,
                      rows: list[tuple[str, str, str, float, float, float | None, str]],
                      meta: dict[str, str]) -> None:
    """Replace the cached series of ``hosts`` (None: all) by ``rows``, and set meta."""
    with transaction(conn):
        if hosts is None:
            conn.execute("DELETE FROM forecast_cache")
        else:
            conn.executemany("DELETE FROM forecast_cache WHERE host = ?", [(h,) for h in hosts])
        conn.executemany("INSERT OR REPLACE INTO forecast_cache (host, check_id, label, last_ts, computed,"
                         " days_left, forecast) VALUES (?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT OR REPLACE INTO monitor_meta (key, value) VALUES (?, ?)", list(meta.items()))
