"""The trash: the last body of every deleted note, visit and host (by a teammate's
sync or here), so a deletion is never the end of a record. Restoring applies the body
again; the next sync publishes it as a new revision whose parent is the tombstone.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from . import records
from .codec import Context

KINDS = ("note", "visit", "host")


def keep(conn: sqlite3.Connection, kind: str, bodies: dict[str, dict], by: str) -> None:
    """Remember the last bodies of records about to be deleted (inside the caller's transaction)."""
    if kind not in KINDS or not bodies:
        return
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.executemany(
        "INSERT OR REPLACE INTO trash (kind, id, title, body, deleted_at, deleted_by) VALUES (?,?,?,?,?,?)",
        [(kind, rid, records.title(kind, body), json.dumps(body, ensure_ascii=False), now, by)
         for rid, body in bodies.items()])


def entries(conn: sqlite3.Connection) -> list[dict]:
    return [{"kind": r[0], "id": r[1], "title": r[2], "deleted_at": r[3], "deleted_by": r[4]}
            for r in conn.execute("SELECT kind, id, title, deleted_at, deleted_by FROM trash"
                                  " ORDER BY deleted_at DESC, kind, id")]


def find(conn: sqlite3.Connection, prefix: str) -> list[tuple[str, str]]:
    """(kind, id) of the entries whose id is `prefix` or starts with it."""
    exact = conn.execute("SELECT kind, id FROM trash WHERE id = ?", (prefix,)).fetchall()
    if exact:
        return [tuple(r) for r in exact]
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [tuple(r) for r in conn.execute(
        "SELECT kind, id FROM trash WHERE id LIKE ? ESCAPE '\\' ORDER BY kind, id LIMIT 10", (escaped + "%",))]


def restore(conn: sqlite3.Connection, kind: str, record_id: str, author: str) -> tuple[str, list[dict]]:
    """Apply the kept body again (inside the caller's transaction); returns (title, renames).
    A host whose name was taken meanwhile comes back as "NAME (from AUTHOR)"."""
    row = conn.execute("SELECT title, body FROM trash WHERE kind = ? AND id = ?", (kind, record_id)).fetchone()
    if row is None:
        raise KeyError(record_id)
    ctx = Context(conn, author=author)
    records.apply(ctx, kind, record_id, json.loads(row[1]))
    conn.execute("DELETE FROM trash WHERE kind = ? AND id = ?", (kind, record_id))
    return row[0], ctx.renamed
