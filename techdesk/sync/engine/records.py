"""Every record kind that travels, and how each is read from and applied to the local
tables (docs/sync-format.md, "Sync engine"). Reading builds the canonical body of a
local record; applying writes an untrusted body (checked field by field).

Kinds are applied in KIND_ORDER: a host's client and site before it, runs after the
hosts they name.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from techdesk.core.schedule import MAX_INTERVAL, MIN_INTERVAL, ScheduleError, Target, Window
from techdesk.store import fields

from . import roster, runs
from .codec import (
    BodyError,
    Context,
    check_flat,
    delete_flat,
    read_flat,
    write_flat,
    write_flat_many,
)

KIND_ORDER = ("client", "site", "host", "note", "visit", "run", "schedule")


def _flat(kind: fields.Kind, check=None):
    def read(conn, ids):
        return read_flat(conn, kind, ids)

    def apply(ctx: Context, record_id: str, body: dict) -> None:
        values = check_flat(kind, body)
        if check is not None:
            check(values, {f.key: f for f in kind.fields})
        write_flat(ctx, kind, record_id, values)

    def remove(ctx: Context, record_id: str) -> bool:
        return delete_flat(ctx, kind, record_id)

    return read, apply, remove


def _check_schedule(values: dict, by_key: dict) -> None:
    """Target, interval and windows must parse (the bundle may be one this device does
    not have: the sweep then skips it and says so)."""
    interval = values[by_key["interval_s"]]
    if not MIN_INTERVAL <= timedelta(seconds=interval) <= MAX_INTERVAL:
        raise BodyError("interval_s must be a whole number of seconds from 1 minute to 365 days")
    try:
        values[by_key["target"]] = str(Target.parse(values[by_key["target"]]))
        values[by_key["windows"]] = [str(Window.parse(w)) for w in values[by_key["windows"]]]
    except ScheduleError as exc:
        raise BodyError(str(exc)) from None
    roster.check_name(values[by_key["bundle"]], "bundle")


def _remove_schedule(ctx: Context, uid: str) -> bool:
    delete_flat(ctx, fields.SCHEDULE, uid)
    ctx.conn.execute("DELETE FROM schedule_hosts WHERE schedule_uid = ?", (uid,))
    return True


_read_s, _apply_s, _ = _flat(fields.SCHEDULE, _check_schedule)

# kind -> (read bodies, apply a body, apply a deletion)
HANDLERS = {
    "client": (roster.read_clients, roster.apply_client, roster.remove_client),
    "site": (roster.read_sites, roster.apply_site, roster.remove_site),
    "host": (roster.read_hosts, roster.apply_host, roster.remove_host),
    "note": _flat(fields.NOTE),
    "visit": _flat(fields.VISIT),
    "run": (runs.read_runs, runs.apply_run, runs.remove_run),
    "schedule": (_read_s, _apply_s, _remove_schedule),
}


# Kinds applied many records at a time (a first sync brings thousands of notes).
BULK = {"note": fields.NOTE, "visit": fields.VISIT}


def apply_many(ctx: Context, kind: str, bodies: dict[str, dict]) -> tuple[dict[str, str], set[str]] | None:
    """Upsert many records of a BULK kind in one statement. Returns ({id: why} for the
    bodies that do not fit, the ids whose row now reads back exactly as their body), or
    None when the database refused the batch (nothing written: apply them one by one)."""
    spec, good, bad, exact = BULK[kind], [], {}, set()
    for rid, body in bodies.items():
        try:
            values = check_flat(spec, body)
        except BodyError as exc:
            bad[rid] = str(exc)
            continue
        good.append((rid, values))
        if len(body) == len(values) and all(body.get(f.key) == v for f, v in values.items()):
            exact.add(rid)
    ctx.conn.execute("SAVEPOINT sync_bulk")
    try:
        write_flat_many(ctx, spec, good)
    except sqlite3.IntegrityError:
        ctx.conn.execute("ROLLBACK TO sync_bulk")
        ctx.conn.execute("RELEASE sync_bulk")
        return None
    ctx.conn.execute("RELEASE sync_bulk")
    return bad, exact


def read_bodies(conn, kind: str, ids) -> dict[str, dict]:
    return HANDLERS[kind][0](conn, list(ids)) if ids else {}


def apply(ctx: Context, kind: str, record_id: str, body: dict) -> str | None:
    """Upsert a record from a body; returns the local uid it was merged into, if any."""
    if not isinstance(body, dict):
        raise BodyError("body is not an object")
    return HANDLERS[kind][1](ctx, record_id, body)


def remove(ctx: Context, kind: str, record_id: str) -> bool:
    """Apply a deletion; False when the record is kept (a client or site still in use)."""
    return HANDLERS[kind][2](ctx, record_id)


def title(kind: str, body: dict, deleted: bool = False) -> str:
    if deleted:
        return "(deleted)"
    b = body if isinstance(body, dict) else {}
    if kind == "note":
        return str(b.get("title", ""))
    if kind == "site":
        return f"{b.get('client_name', '?')} / {b.get('name', '?')}"
    if kind == "visit":
        return f"visit at {b.get('client', '?')} {str(b.get('started', ''))[:16]}"
    if kind == "run":
        return f"{b.get('bundle', '?')} run {b.get('started', '')}"
    if kind == "schedule":
        return f"{b.get('bundle', '?')} on {b.get('target', '?')}"
    return str(b.get("name", ""))
