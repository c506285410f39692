"""Team sync bookkeeping in the local store (tables of migration 3, change triggers of
migration 5).

- sync_revs: every revision known (read from the shared folder or written here): its
  graph (parents), whether it is a head of its record, whether it still waits in the
  outbox (published = 0), and its body while it is a head or unpublished.
- sync_state: per record, the revisions the local row is based on (`base`, the
  parents of the next local revision), the content hash of the local row at that base
  (`body_sha`, NULL: absent locally), `alias` (a client/site merged by name into another
  local one) and whether its heads disagree (`conflict`).
- sync_dirty: records written locally since the last sync, kept by triggers on the
  local tables (a migration: they are schema), so a sync only looks at what changed (see docs/sync-format.md).
- sync_seen: the opaque `seen` tokens of SharedFolder.scan.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable

from ..format.revisions import Revision, canonical_json
from .codec import chunks


def content_sha(deleted: bool, body: dict | None) -> str:
    """What a record holds: equal for equal bodies, and for every tombstone."""
    doc = {"deleted": True} if deleted else {"deleted": False, "body": body}
    return hashlib.sha256(canonical_json(doc)).hexdigest()


def _content_sha_of(deleted: bool, body_json: bytes) -> str:
    """content_sha() from the canonical JSON of the body (keys sort "body" < "deleted")."""
    if deleted:
        return TOMBSTONE_SHA
    return hashlib.sha256(b'{"body":' + body_json + b',"deleted":false}').hexdigest()


TOMBSTONE_SHA = content_sha(True, None)


# ------------------------------------------------------------------ seen
def load_seen(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT token FROM sync_seen")}


def save_seen(conn: sqlite3.Connection, before: set[str], after: set[str]) -> None:
    """Store the scan's new `seen` set as a difference (inside the caller's transaction)."""
    gone = before - after
    if gone:
        conn.executemany("DELETE FROM sync_seen WHERE token = ?", ((t,) for t in gone))
    conn.executemany("INSERT OR IGNORE INTO sync_seen VALUES (?)", ((t,) for t in after - before))


def add_seen(conn: sqlite3.Connection, tokens: Iterable[str]) -> None:
    conn.executemany("INSERT OR IGNORE INTO sync_seen VALUES (?)", ((t,) for t in tokens))


# ------------------------------------------------------------------ revisions
class Head:
    """A head revision as stored: enough to apply it, show it and merge it."""

    __slots__ = ("rev", "kind", "id", "parents", "author", "device", "time", "deleted", "content", "body", "text")

    def __init__(self, row, parsed: Revision | None = None) -> None:
        (self.rev, self.kind, self.id, parents, self.author, self.device, self.time, deleted,
         self.content, body) = row
        self.deleted = bool(deleted)
        self.text = body or "{}"  # the body's canonical JSON
        if parsed is not None:  # just read from the folder: no need to parse it again
            self.parents, self.body = parsed.parents, parsed.body
        else:
            self.parents = json.loads(parents)
            self.body = json.loads(body) if body is not None else {}

    def as_revision(self) -> Revision:
        return Revision(kind=self.kind, id=self.id, rev=self.rev, parents=self.parents,
                        author=self.author, device=self.device, time=self.time,
                        deleted=self.deleted, body=self.body)


_HEAD_COLS = "rev, kind, id, parents, author, device, time, deleted, content, body"


def known_revs(conn: sqlite3.Connection, revs: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(revs):
        marks = ",".join("?" * len(part))
        found.update(r[0] for r in conn.execute(f"SELECT rev FROM sync_revs WHERE rev IN ({marks})", part))
    return found


def add_revisions(conn: sqlite3.Connection, revisions: list[Revision], published: bool) -> list[Revision]:
    """Store revisions not yet known and keep `head` right. Returns the new ones."""
    fresh = {r.rev: r for r in revisions}
    for rev in known_revs(conn, list(fresh)):
        del fresh[rev]
    by_record: dict[tuple[str, str], list[Revision]] = {}
    for rev in fresh.values():
        by_record.setdefault((rev.kind, rev.id), []).append(rev)
    known: dict[tuple[str, str], list] = {}  # the revisions stored before, per record
    for kind in {k for k, _ in by_record}:
        for part in chunks([rid for k, rid in by_record if k == kind]):
            marks = ",".join("?" * len(part))
            for row in conn.execute(f"SELECT id, rev, parents, head FROM sync_revs WHERE kind = ?"
                                    f" AND id IN ({marks})", [kind, *part]):
                known.setdefault((kind, row[0]), []).append(row[1:])
    rows, superseded = [], []
    for (kind, record_id), new in by_record.items():
        existing = known.get((kind, record_id), [])
        named = {p for r in new for p in r.parents}
        named_before = {p for row in existing for p in json.loads(row[1])}
        superseded += [(row[0],) for row in existing if row[2] and row[0] in named]
        for r in new:
            head = r.rev not in named and r.rev not in named_before
            body = canonical_json(r.body)
            rows.append((r.rev, kind, record_id, canonical_json(r.parents).decode(), r.author, r.device,
                         r.time, int(r.deleted), _content_sha_of(r.deleted, body),
                         body.decode() if head or not published else None, int(head), int(published)))
    if superseded:
        conn.executemany("UPDATE sync_revs SET head = 0, body = CASE WHEN published THEN NULL ELSE body END"
                         " WHERE rev = ?", superseded)
    conn.executemany("INSERT INTO sync_revs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    return list(fresh.values())


def heads_of(conn: sqlite3.Connection, kind: str, ids: list[str],
             parsed: dict[str, Revision] | None = None) -> dict[str, list[Head]]:
    """Heads per record, oldest first (time, then rev), as `techdesk.sync.heads` orders them.
    `parsed`: revisions at hand by rev (their bodies are not parsed again)."""
    out: dict[str, list[Head]] = {}
    parsed = parsed or {}
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        for row in conn.execute(f"SELECT {_HEAD_COLS} FROM sync_revs WHERE kind = ? AND head = 1"
                                f" AND id IN ({marks}) ORDER BY time, rev", [kind, *part]):
            out.setdefault(row[2], []).append(Head(row, parsed.get(row[0])))
    return out


def outbox(conn: sqlite3.Connection) -> list[Revision]:
    rows = conn.execute(f"SELECT {_HEAD_COLS} FROM sync_revs WHERE published = 0 ORDER BY time, rev")
    return [Head(r).as_revision() for r in rows]


def mark_published(conn: sqlite3.Connection, revs: list[str]) -> None:
    conn.executemany("UPDATE sync_revs SET published = 1, body = CASE WHEN head THEN body ELSE NULL END"
                     " WHERE rev = ?", ((r,) for r in revs))


# ------------------------------------------------------------------ per-record state
class State:
    __slots__ = ("base", "body_sha", "alias", "conflict")

    def __init__(self, base: list[str], body_sha: str | None, alias: str | None = None,
                 conflict: bool = False) -> None:
        self.base, self.body_sha, self.alias, self.conflict = base, body_sha, alias, conflict


def states_of(conn: sqlite3.Connection, kind: str, ids: list[str]) -> dict[str, State]:
    out = {}
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        for rid, base, sha, alias, conflict in conn.execute(
                f"SELECT id, base, body_sha, alias, conflict FROM sync_state WHERE kind = ? AND id IN ({marks})",
                [kind, *part]):
            out[rid] = State(json.loads(base), sha, alias, bool(conflict))
    return out


def put_states(conn: sqlite3.Connection, kind: str, states: dict[str, State]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO sync_state (kind, id, base, body_sha, alias, conflict) VALUES (?,?,?,?,?,?)",
        [(kind, rid, json.dumps(sorted(s.base)), s.body_sha, s.alias, int(s.conflict))
         for rid, s in states.items()])


def alias_of(conn: sqlite3.Connection, kind: str, record_id: str) -> str | None:
    row = conn.execute("SELECT alias FROM sync_state WHERE kind = ? AND id = ?", (kind, record_id)).fetchone()
    return row[0] if row else None


def conflict_records(conn: sqlite3.Connection, kind: str | None = None) -> list[tuple[str, str]]:
    sql = "SELECT kind, id FROM sync_state WHERE conflict = 1" + (" AND kind = ?" if kind else "")
    return [tuple(r) for r in conn.execute(sql + " ORDER BY kind, id", (kind,) if kind else ())]


# ------------------------------------------------------------------ what changed locally
# (kind, local table, key column, extra condition on the local rows that travel)
LOCAL = {
    "client": ("clients", "uid", ""),
    "site": ("sites", "uid", ""),
    "host": ("hosts", "uid", ""),
    "note": ("notes", "id", ""),
    "visit": ("visits", "id", ""),
    "run": ("runs", "id", " AND l.finished IS NOT NULL"),  # a run travels once, finished
    "schedule": ("schedules", "uid", ""),
}


def candidates(conn: sqlite3.Connection, kind: str, full: bool = False) -> tuple[set[str], set[str], set[str]]:
    """(dirty, new, gone) ids: written since the last sync; never synced; synced but gone
    locally. `full` treats every synced local record as dirty (a safety net)."""
    table, key, cond = LOCAL[kind]
    dirty = dirty_ids(conn, kind)
    if full and kind != "run":  # runs are immutable: never re-read once synced
        dirty |= {r[0] for r in conn.execute(f"SELECT {key} FROM {table}")}
    new = {r[0] for r in conn.execute(
        f"SELECT l.{key} FROM {table} l WHERE NOT EXISTS (SELECT 1 FROM sync_state s"
        f" WHERE s.kind = ? AND s.id = l.{key}){cond}", (kind,))}
    gone = set() if kind == "run" else {r[0] for r in conn.execute(
        f"SELECT s.id FROM sync_state s WHERE s.kind = ? AND s.body_sha IS NOT NULL AND s.alias IS NULL"
        f" AND NOT EXISTS (SELECT 1 FROM {table} l WHERE l.{key} = s.id)", (kind,))}
    return dirty - new, new, gone


def dirty_ids(conn: sqlite3.Connection, kind: str) -> set[str]:
    return {r[0] for r in conn.execute("SELECT id FROM sync_dirty WHERE kind = ?", (kind,))}


def mark_dirty(conn: sqlite3.Connection, kind: str, ids: Iterable[str]) -> None:
    conn.executemany("INSERT OR IGNORE INTO sync_dirty VALUES (?, ?)", ((kind, i) for i in ids))


def clear_dirty(conn: sqlite3.Connection, kind: str, ids: Iterable[str]) -> None:
    """Forget the change marks of records just processed (the triggers mark what the
    sync applies too); marks of anything else stay for the next sync."""
    conn.executemany("DELETE FROM sync_dirty WHERE kind = ? AND id = ?", ((kind, i) for i in ids))


def unpublished_records(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in conn.execute("SELECT kind, id FROM sync_revs WHERE published = 0")}


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM sync_meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO sync_meta VALUES (?, ?)", (key, value))
