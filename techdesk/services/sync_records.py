"""Sync records: local rows <-> revision bodies, for every kind (docs/sync-format.md,
"Sync engine"). Reading builds the canonical body of a local record; applying writes a
body (untrusted: every field is type-checked) into the local tables.

Bodies carry no secret: the tables hold none (key *file paths* only; passwords and
passphrases live in the OS keyring and never reach a body).
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from techdesk.core.work import AttachedRun
from techdesk.store import syncstate

KIND_ORDER = ("client", "site", "host", "note", "visit", "run", "schedule")
_RUN_FIELDS = set(AttachedRun.__dataclass_fields__)


class BodyError(ValueError):
    """A body that cannot be applied (wrong type, missing field): skipped and reported."""


@dataclass
class Context:
    conn: sqlite3.Connection
    author: str = "?"  # of the revision being applied: names a renamed host
    renamed: list[dict] = field(default_factory=list)
    aliased: list[dict] = field(default_factory=list)

    def free_name(self, kind: str, uid: str, name: str, exists_sql: str, extra: tuple) -> str:
        base = f"{name} (from {self.author})"
        candidate, n = base, 2
        while self.conn.execute(exists_sql, (candidate, *extra)).fetchone():
            candidate, n = f"{base} {n}", n + 1
        self.renamed.append({"kind": kind, "id": uid, "name": name, "as": candidate})
        return candidate


# ------------------------------------------------------------------ field checks
def req_str(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise BodyError(f"{key} must be a string")
    return value


def opt_str(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BodyError(f"{key} must be a string or null")
    return value


def opt_int(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value is not None and type(value) is not int:
        raise BodyError(f"{key} must be an integer or null")
    return value


def num(obj: dict, key: str, optional: bool = True) -> float | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if type(value) not in (int, float) or not math.isfinite(value):
        raise BodyError(f"{key} must be a number")
    return float(value)


def iso_time(body: dict, key: str, optional: bool = False) -> str | None:
    value = opt_str(body, key) if optional else req_str(body, key)
    if value is not None:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise BodyError(f"{key} is not an ISO-8601 time") from None
    return value


def items(body: dict, key: str, check) -> list:
    value = body.get(key)
    if not isinstance(value, list) or not all(check(v) for v in value):
        raise BodyError(f"{key} has an unexpected shape")
    return value


def _text_done(item) -> bool:
    return isinstance(item, dict) and set(item) == {"text", "done"} and isinstance(item["text"], str) \
        and isinstance(item["done"], bool)


def _text_done_list(body: dict, key: str) -> list[dict]:
    """Follow-ups and checklist items, stored in the field order the app writes."""
    return [{"text": i["text"], "done": i["done"]} for i in items(body, key, _text_done)]


def _attached(item) -> bool:
    return isinstance(item, dict) and {"run_id", "host", "bundle", "started", "status"} <= set(item) <= _RUN_FIELDS \
        and all(isinstance(item[k], str) for k in ("run_id", "host", "bundle", "started", "status")) \
        and isinstance(item.get("findings", []), list) and isinstance(item.get("error"), dict | None)


def _attached_list(body: dict) -> list[dict]:
    order = list(AttachedRun.__dataclass_fields__)
    return [{k: item[k] for k in order if k in item} for item in items(body, "runs", _attached)]


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def rows(conn, sql: str, ids: list[str]):
    for part in syncstate.chunks(ids):
        yield from conn.execute(sql.format(marks=",".join("?" * len(part))), part)


# ------------------------------------------------------------------ notes
_NOTE_SQL = ("SELECT id, title, body, author, created, updated, status, host, client, site, followups, runs,"
             " visit_id, pinned FROM notes WHERE id IN ({marks})")


def read_notes(conn, ids: list[str]) -> dict[str, dict]:
    return {r[0]: {"title": r[1], "body": r[2], "author": r[3], "created": r[4], "updated": r[5],
                   "status": r[6], "host": r[7], "client": r[8], "site": r[9],
                   "followups": json.loads(r[10]), "runs": json.loads(r[11]), "visit": r[12],
                   "pinned": bool(r[13])}
            for r in rows(conn, _NOTE_SQL, ids)}


def apply_note(ctx: Context, record_id: str, b: dict) -> None:
    row = (record_id, req_str(b, "title"), req_str(b, "body"), req_str(b, "author"), iso_time(b, "created"),
           iso_time(b, "updated"), req_str(b, "status"), opt_str(b, "host"), opt_str(b, "client"),
           opt_str(b, "site"), _dumps(_text_done_list(b, "followups")), _dumps(_attached_list(b)),
           opt_str(b, "visit"), int(b.get("pinned") is True))  # older revisions have no "pinned"
    ctx.conn.execute("INSERT OR REPLACE INTO notes (id, title, body, author, created, updated, status, host, client,"
                     " site, followups, runs, visit_id, pinned) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row)


# ------------------------------------------------------------------ visits
_VISIT_SQL = ("SELECT id, client, site, technician, started, stopped, summary, checklist, hosts, runs,"
              " billable_minutes FROM visits WHERE id IN ({marks})")


def read_visits(conn, ids: list[str]) -> dict[str, dict]:
    return {r[0]: {"client": r[1], "site": r[2], "technician": r[3], "started": r[4], "stopped": r[5],
                   "summary": r[6], "checklist": json.loads(r[7]), "hosts": json.loads(r[8]),
                   "runs": json.loads(r[9]), "billable_minutes": r[10]}
            for r in rows(conn, _VISIT_SQL, ids)}


def apply_visit(ctx: Context, record_id: str, b: dict) -> None:
    def is_str(v):
        return isinstance(v, str)

    row = (record_id, req_str(b, "client"), opt_str(b, "site"), req_str(b, "technician"), iso_time(b, "started"),
           iso_time(b, "stopped", optional=True), req_str(b, "summary"), _dumps(_text_done_list(b, "checklist")),
           _dumps(items(b, "hosts", is_str)), _dumps(items(b, "runs", is_str)), opt_int(b, "billable_minutes"))
    ctx.conn.execute("INSERT OR REPLACE INTO visits (id, client, site, technician, started, stopped, summary,"
                     " checklist, hosts, runs, billable_minutes) VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)


# ------------------------------------------------------------------ dispatch
def _delete(table: str, key: str):
    def remove(ctx: Context, record_id: str) -> bool:
        ctx.conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (record_id,))
        return True
    return remove


def _registry() -> dict:
    from . import sync_roster as r
    from .sync_runs import apply_run, read_runs

    return {
        "client": (r.read_clients, r.apply_client, r.remove_client),
        "site": (r.read_sites, r.apply_site, r.remove_site),
        "host": (r.read_hosts, r.apply_host, r.remove_host),
        "note": (read_notes, apply_note, _delete("notes", "id")),
        "visit": (read_visits, apply_visit, _delete("visits", "id")),
        "run": (read_runs, apply_run, _delete("runs", "id")),
        "schedule": (r.read_schedules, r.apply_schedule, r.remove_schedule),
    }


_REGISTRY: dict | None = None


def handlers(kind: str):
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _registry()
    return _REGISTRY[kind]


def read_bodies(conn, kind: str, ids) -> dict[str, dict]:
    return handlers(kind)[0](conn, list(ids)) if ids else {}


def apply(ctx: Context, kind: str, record_id: str, body: dict) -> str | None:
    """Upsert a record from a body; returns the local uid it was merged into, if any."""
    if not isinstance(body, dict):
        raise BodyError("body is not an object")
    return handlers(kind)[1](ctx, record_id, body)


def remove(ctx: Context, kind: str, record_id: str) -> bool:
    """Apply a deletion; False when the record is kept (a client or site still in use)."""
    return handlers(kind)[2](ctx, record_id)


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
