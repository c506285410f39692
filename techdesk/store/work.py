"""Notes and visits in the local store."""

from __future__ import annotations

import json
import sqlite3

from techdesk.core.work import (
    AttachedRun,
    Attachment,
    ChecklistItem,
    Followup,
    Note,
    Visit,
    WorkError,
)
from techdesk.store import fields
from techdesk.store.db import transaction

_NOTE_COLS = fields.NOTE.columns
_VISIT_COLS = fields.VISIT.columns


def _note_row(note: Note) -> tuple:
    return fields.row_of(fields.NOTE, note)


def note_from_row(row: sqlite3.Row) -> Note:
    return Note(
        id=row["id"], title=row["title"], body=row["body"], author=row["author"], created=row["created"],
        updated=row["updated"], status=row["status"], host=row["host"], client=row["client"],
        site=row["site"], followups=[Followup(**f) for f in json.loads(row["followups"])],
        runs=[AttachedRun(**r) for r in json.loads(row["runs"])], visit_id=row["visit_id"],
        pinned=bool(row["pinned"]), attachments=[Attachment(**a) for a in json.loads(row["attachments"])],
    )


def save_note(conn: sqlite3.Connection, note: Note) -> None:
    placeholders = ",".join("?" * len(_NOTE_COLS))
    with transaction(conn):
        conn.execute(f"INSERT OR REPLACE INTO notes ({','.join(_NOTE_COLS)}) VALUES ({placeholders})",
                     _note_row(note))


def _row_by_id(conn: sqlite3.Connection, table: str, ident: str) -> sqlite3.Row | None:
    """The row with this id, or with this unique id prefix (ids are long; like git, 4+ chars)."""
    row = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (ident,)).fetchone()
    if row is None and len(ident) >= 4:
        rows = conn.execute(f"SELECT * FROM {table} WHERE substr(id, 1, ?) = ? LIMIT 2",
                            (len(ident), ident)).fetchall()
        row = rows[0] if len(rows) == 1 else None
    return row


def get_note(conn: sqlite3.Connection, note_id: str) -> Note:
    row = _row_by_id(conn, "notes", note_id)
    if row is None:
        raise WorkError(f"no note with id {note_id!r}")
    return note_from_row(row)


def list_notes(conn: sqlite3.Connection, host: str | None = None, client: str | None = None,
               visit: str | None = None) -> list[Note]:
    where, args = [], []
    if host is not None:
        where.append("host = ?")
        args.append(host)
    if client is not None:
        where.append("(client = ? OR host IN (SELECT h.name FROM hosts h JOIN clients c ON c.id = h.client_id"
                     " WHERE c.name = ?))")
        args += [client, client]
    if visit is not None:
        where.append("visit_id = ?")
        args.append(visit)
    sql = "SELECT * FROM notes" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY updated DESC"
    return [note_from_row(r) for r in conn.execute(sql, args)]


def note_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT host, COUNT(*) FROM notes WHERE host IS NOT NULL GROUP BY host").fetchall())


def _visit_row(v: Visit) -> tuple:
    return fields.row_of(fields.VISIT, v)


def visit_from_row(row: sqlite3.Row) -> Visit:
    return Visit(
        id=row["id"], client=row["client"], site=row["site"], technician=row["technician"],
        started=row["started"], stopped=row["stopped"], summary=row["summary"],
        checklist=[ChecklistItem(**c) for c in json.loads(row["checklist"])],
        hosts=json.loads(row["hosts"]), runs=json.loads(row["runs"]), billable_minutes=row["billable_minutes"],
    )


def save_visit(conn: sqlite3.Connection, visit: Visit) -> None:
    placeholders = ",".join("?" * len(_VISIT_COLS))
    with transaction(conn):
        conn.execute(f"INSERT OR REPLACE INTO visits ({','.join(_VISIT_COLS)}) VALUES ({placeholders})",
                     _visit_row(visit))


def get_visit(conn: sqlite3.Connection, visit_id: str) -> Visit:
    row = _row_by_id(conn, "visits", visit_id)
    if row is None:
        raise WorkError(f"no visit with id {visit_id!r}")
    return visit_from_row(row)


def list_visits(conn: sqlite3.Connection, client: str | None = None, running: bool | None = None) -> list[Visit]:
    where, args = [], []
    if client is not None:
        where.append("client = ?")
        args.append(client)
    if running is not None:
        where.append("stopped IS NULL" if running else "stopped IS NOT NULL")
    sql = "SELECT * FROM visits" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY started DESC"
    return [visit_from_row(r) for r in conn.execute(sql, args)]
