"""The audit log: every command sent to a client machine, chained by hash.

Each entry's hash covers its fields and the previous entry's hash, so editing or
deleting an entry breaks the chain from there on; `verify()` finds it. Deleting
entries from the END (or all of them) leaves an intact but shorter chain: the
anchor row (how many entries, the last one's seq and hash), written in the same
transaction as each entry, is what shows it. Script texts are stored once per
SHA-256 (a sweep sends the same script to many hosts) and checked against their
hash; an entry whose script is gone is reported too. Someone who can rewrite the
database at will can rewrite all of this consistently: the chain and the anchor
catch deletions and edits made with ordinary tools, not a forger of SHA-256 chains.
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
        conn.execute(
            "INSERT INTO audit_anchor (id, entries, last_seq, last_hash) VALUES (1, 1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET entries = entries + 1, last_seq = excluded.last_seq,"
            " last_hash = excluded.last_hash", (entry.seq, entry.hash))
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
    scripts = {sha: text for sha, text in conn.execute("SELECT sha256, text FROM audit_scripts")}
    chain = entries(conn)
    for entry in chain:
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq}: does not follow the previous entry (one was removed or edited)")
        if _entry_hash(entry, entry.prev_hash) != entry.hash:
            problems.append(f"entry {entry.seq}: its content does not match its hash (edited)")
        if entry.script_sha256 and entry.script_sha256 not in scripts:
            problems.append(f"entry {entry.seq}: the script it sent ({entry.script_sha256[:12]}) "
                            "is missing from the stored scripts (deleted)")
        prev = entry.hash
    for sha, text in scripts.items():
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha:
            problems.append(f"script {sha[:12]}: its text does not match its hash (edited)")
    problems += _check_anchor(conn, chain)
    return problems


def _check_anchor(conn: sqlite3.Connection, chain: list[AuditEntry]) -> list[str]:
    row = conn.execute("SELECT entries, last_seq, last_hash FROM audit_anchor WHERE id = 1").fetchone()
    if row is None:
        return ["the audit anchor is missing (it records how many entries there are; deleted)"]
    count, last_seq, last_hash = row
    have = len(chain)
    if count == have and (have == 0 or (chain[-1].seq == last_seq and chain[-1].hash == last_hash)):
        return []
    if have == 0:
        return [f"all {count} entries were removed (entries up to {last_seq})"]
    if have < count:
        newest = chain[-1].seq
        missing = count - have
        if last_seq > newest:
            return [f"{missing} entr{'y was' if missing == 1 else 'ies were'} removed: the log "
                    f"ends at entry {newest} but entry {last_seq} was written"]
        return [f"{missing} entr{'y was' if missing == 1 else 'ies were'} removed"]
    return [f"the log has {have} entries ending at {chain[-1].seq}, but the anchor says "
            f"{count} ending at {last_seq} (entries or the anchor were changed)"]


def as_json(entry: AuditEntry) -> dict:
    return asdict(entry)
