"""The audit log: every command sent to a client machine, chained by hash.

Each entry's hash covers its fields and the previous entry's hash, so editing or
deleting an entry breaks the chain from there on; `verify()` finds it. Script
texts are stored once per SHA-256 (a sweep sends the same script to many hosts)
and checked against their hash too.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass

from techdesk.store.db import now_iso, transaction

GENESIS = "0" * 64
_FIELDS = ("ts", "technician", "device", "host", "action", "detail", "script_sha256", "outcome")


@dataclass
class AuditEntry:
    ts: str
    technician: str
    device: str
    host: str | None
    action: str
    detail: str = ""
    script_sha256: str | None = None
    outcome: str | None = None
    seq: int | None = None
    prev_hash: str = GENESIS
    hash: str = ""


def _entry_hash(entry: AuditEntry, prev_hash: str) -> str:
    payload = json.dumps({k: getattr(entry, k) for k in _FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, *, technician: str, device: str, host: str | None, action: str,
           detail: str = "", script: str | None = None, outcome: str | None = None) -> AuditEntry:
    sha = hashlib.sha256(script.encode("utf-8")).hexdigest() if script is not None else None
    entry = AuditEntry(ts=now_iso(), technician=technician, device=device, host=host, action=action,
                       detail=detail, script_sha256=sha, outcome=outcome)
    with transaction(conn):
        if script is not None:
            conn.execute("INSERT OR IGNORE INTO audit_scripts (sha256, text) VALUES (?, ?)", (sha, script))
        row = conn.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        entry.prev_hash = row[0] if row else GENESIS
        entry.hash = _entry_hash(entry, entry.prev_hash)
        cur = conn.execute(
            "INSERT INTO audit (ts, technician, device, host, action, detail, script_sha256, outcome,"
            " prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (entry.ts, technician, device, host, action, detail, sha, outcome, entry.prev_hash, entry.hash),
        )
        entry.seq = cur.lastrowid
    return entry


def entries(conn: sqlite3.Connection, host: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Entries oldest first; with `limit`, the newest `limit` of them."""
    where, args = (" WHERE host = ?", [host]) if host else ("", [])
    if limit:
        rows = conn.execute(f"SELECT * FROM audit{where} ORDER BY seq DESC LIMIT ?", [*args, int(limit)]).fetchall()
        rows.reverse()
    else:
        rows = conn.execute(f"SELECT * FROM audit{where} ORDER BY seq", args).fetchall()
    return [AuditEntry(**dict(zip(r.keys(), r, strict=True))) for r in rows]


def verify(conn: sqlite3.Connection) -> list[str]:
    """Problems found in the chain (empty list = intact)."""
    problems: list[str] = []
    prev = GENESIS
    for entry in entries(conn):
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq}: does not follow the previous entry (one was removed or edited)")
        if _entry_hash(entry, entry.prev_hash) != entry.hash:
            problems.append(f"entry {entry.seq}: its content does not match its hash (edited)")
        prev = entry.hash
    for sha, text in conn.execute("SELECT sha256, text FROM audit_scripts"):
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha:
            problems.append(f"script {sha[:12]}: its text does not match its hash (edited)")
    return problems


def as_json(entry: AuditEntry) -> dict:
    return asdict(entry)
