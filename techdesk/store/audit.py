"""The audit log: every command sent to a client machine, chained by hash.

Each entry's hash covers its fields and the previous entry's hash, so editing or
deleting an entry breaks the chain from there on; `verify()` finds it. Deleting
entries from the END (or all of them) leaves an intact but shorter chain: the
anchor row (how many entries, the last one's seq and hash), written in the same
transaction as each entry, is what shows it. Script texts are stored once per
SHA-256 (a sweep sends the same script to many hosts) and checked against their
hash; an entry whose script is gone is reported too. A compiled bundle differs
from run to run only in its nonce (and, for PowerShell, its tokens): given those
"fills", it is kept as one template per bundle version plus the fills per run,
and rebuilt exactly (checked against the sent hash) when verified. Someone who can rewrite the
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


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _slot(i: int) -> str:
    return f"\x00{i}\x00"  # scripts never hold NUL (checked), so slots are unambiguous


def _fill(template: str, fills: list[str]) -> str:
    for i, value in enumerate(fills):
        template = template.replace(_slot(i), value)
    return template


def _template(script: str, fills: tuple[str, ...]) -> str | None:
    """`script` with each fill replaced by its slot, if that rebuilds it exactly."""
    if "\x00" in script or any(len(f) < 16 or f not in script for f in fills):
        return None
    template = script
    for i, value in enumerate(fills):
        template = template.replace(value, _slot(i))
    return template if _fill(template, list(fills)) == script else None


def _store_script(conn: sqlite3.Connection, sha: str, script: str, fills: tuple[str, ...]) -> None:
    template = _template(script, fills) if fills else None
    if template is None:
        conn.execute("INSERT OR IGNORE INTO audit_scripts (sha256, text) VALUES (?, ?)", (sha, script))
        return
    template_sha = _sha(template)
    conn.execute("INSERT OR IGNORE INTO audit_templates (sha256, text) VALUES (?, ?)", (template_sha, template))
    conn.execute("INSERT OR IGNORE INTO audit_script_fills (sha256, template_sha256, fills) VALUES (?, ?, ?)",
                 (sha, template_sha, json.dumps(list(fills))))


def append(conn: sqlite3.Connection, *, technician: str, device: str, host: str | None, action: str,
           detail: str = "", script: str | None = None, outcome: str | None = None,
           script_fills: tuple[str, ...] = ()) -> AuditEntry:
    """script_fills: the parts of `script` that change from run to run (a nonce, tokens):
    the script is then stored as a shared template plus these."""
    sha = _sha(script) if script is not None else None
    entry = AuditEntry(ts=now_iso(), technician=technician, device=device, host=host, action=action,
                       detail=detail, script_sha256=sha, outcome=outcome)
    with transaction(conn):
        if script is not None and sha is not None:
            _store_script(conn, sha, script, script_fills)
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
    scripts = stored_scripts(conn)
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
        if text is None:
            problems.append(f"script {sha[:12]}: the template it was kept with is missing (deleted)")
        elif _sha(text) != sha:
            problems.append(f"script {sha[:12]}: its text does not match its hash (edited)")
    problems += _check_anchor(conn, chain)
    return problems


def stored_scripts(conn: sqlite3.Connection) -> dict[str, str | None]:
    """Every stored script by the SHA-256 it was sent with (None: its template is gone)."""
    scripts: dict[str, str | None] = dict(conn.execute("SELECT sha256, text FROM audit_scripts"))
    templates = dict(conn.execute("SELECT sha256, text FROM audit_templates"))
    for sha, template_sha, fills in conn.execute(
            "SELECT sha256, template_sha256, fills FROM audit_script_fills"):
        template = templates.get(template_sha)
        if template is None:
            scripts[sha] = None
            continue
        try:
            values = [str(v) for v in json.loads(fills)]
        except (ValueError, TypeError):
            values = []  # rebuilt wrong, so reported as edited
        scripts[sha] = _fill(template, values)
    return scripts


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
