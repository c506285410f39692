"""Sync record mapping for the roster: clients, sites and hosts <-> revision bodies.

Records are keyed by the rows' `uid`. A host body names its client and site and
carries their uids; the uid wins, the name is the fallback (the client's own record
may arrive later, or the same client may have been created on two devices).

Name collisions never lose a record:
- a client (or a site of one client) arriving with the name of a different local one
  is the same client created twice: it is merged into the local one by name (an
  *alias*: hosts naming either uid land on the local row);
- a host arriving with the name of a different local host is kept under a new name,
  "NAME (from AUTHOR)", and reported.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid

from techdesk.core.roster import HostSpec, RosterError, validate_spec
from techdesk.store.db import now_iso

from ..format.names import is_valid_record_id
from . import state as syncstate
from .codec import BodyError, Context, chunks, opt_int, opt_str, req_str

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _defaults(body: dict) -> tuple:
    values = (opt_str(body, "user"), opt_int(body, "port"), opt_str(body, "jump"), opt_str(body, "key"))
    if values[1] is not None and not 1 <= values[1] <= 65535:
        raise BodyError("port is out of range")
    return values


def _uid(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not is_valid_record_id(value):
        raise BodyError(f"{key} is not a valid record id")
    return value


def check_name(value: str, key: str = "name") -> str:
    if not value.strip() or _CONTROL.search(value):  # the roster's own rule (core.roster)
        raise BodyError(f"{key} is empty or has control characters")
    return value


def _name(body: dict, key: str = "name") -> str:
    return check_name(req_str(body, key), key)


# ------------------------------------------------------------------ reading
def read_clients(conn: sqlite3.Connection, ids: list[str]) -> dict[str, dict]:
    out = {}
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        for r in conn.execute(f"SELECT uid, name, user, port, jump, key, updated FROM clients"
                              f" WHERE uid IN ({marks})", part):
            out[r[0]] = {"name": r[1], "user": r[2], "port": r[3], "jump": r[4], "key": r[5], "updated": r[6]}
    return out


def read_sites(conn: sqlite3.Connection, ids: list[str]) -> dict[str, dict]:
    out = {}
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        for r in conn.execute(
                f"SELECT s.uid, s.name, s.user, s.port, s.jump, s.key, s.updated, c.uid, c.name FROM sites s"
                f" JOIN clients c ON c.id = s.client_id WHERE s.uid IN ({marks})", part):
            out[r[0]] = {"name": r[1], "user": r[2], "port": r[3], "jump": r[4], "key": r[5], "updated": r[6],
                         "client": r[7], "client_name": r[8]}
    return out


def read_hosts(conn: sqlite3.Connection, ids: list[str]) -> dict[str, dict]:
    out = {}
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        for r in conn.execute(
                f"SELECT h.uid, h.name, h.address, h.port, h.user, h.tags, h.os, h.jump, h.key, h.created,"
                f" h.updated, c.uid, c.name, s.uid, s.name, j.uid FROM hosts h"
                f" LEFT JOIN clients c ON c.id = h.client_id LEFT JOIN sites s ON s.id = h.site_id"
                f" LEFT JOIN hosts j ON j.name = h.jump WHERE h.uid IN ({marks})", part):
            out[r[0]] = {"name": r[1], "address": r[2], "port": r[3], "user": r[4], "tags": json.loads(r[5]),
                         "os": r[6], "jump": r[7], "key": r[8], "created": r[9], "updated": r[10],
                         "client_uid": r[11], "client": r[12], "site_uid": r[13], "site": r[14],
                         "jump_uid": r[15]}
    return out


# ------------------------------------------------------------------ resolving references
def _implicit(ctx: Context, kind: str, uid: str) -> None:
    """A client/site created because a host named it before its own record arrived:
    recorded as synced, so it is not sent back as a new record of ours."""
    body = (read_clients if kind == "client" else read_sites)(ctx.conn, [uid])[uid]
    state = syncstate.states_of(ctx.conn, kind, [uid]).get(uid) or syncstate.State([], None)
    state.body_sha, state.alias = syncstate.content_sha(False, body), None
    syncstate.put_states(ctx.conn, kind, {uid: state})


def _alias(ctx: Context, kind: str, uid: str, local_uid: str, name: str) -> None:
    state = syncstate.states_of(ctx.conn, kind, [uid]).get(uid) or syncstate.State([], None)
    if state.alias != local_uid:
        state.alias, state.body_sha = local_uid, None
        syncstate.put_states(ctx.conn, kind, {uid: state})
        ctx.aliased.append({"kind": kind, "id": uid, "name": name, "into": local_uid})


def client_row(ctx: Context, uid: str | None, name: str) -> int:
    """The local clients.id for a client named by uid (or alias), else by name; created if new."""
    conn = ctx.conn
    for candidate in (uid, syncstate.alias_of(conn, "client", uid) if uid else None):
        if candidate:
            row = conn.execute("SELECT id FROM clients WHERE uid = ?", (candidate,)).fetchone()
            if row:
                return row[0]
    row = conn.execute("SELECT id, uid FROM clients WHERE name = ?", (name,)).fetchone()
    if row:
        if uid:
            _alias(ctx, "client", uid, row[1], name)
        return row[0]
    new_uid = uid or uuid.uuid4().hex
    cur = conn.execute("INSERT INTO clients (uid, name, updated) VALUES (?, ?, ?)", (new_uid, name, now_iso()))
    if uid:
        _implicit(ctx, "client", uid)
    return cur.lastrowid


def site_row(ctx: Context, uid: str | None, name: str, client_id: int) -> int:
    conn = ctx.conn
    for candidate in (uid, syncstate.alias_of(conn, "site", uid) if uid else None):
        if candidate:
            row = conn.execute("SELECT id FROM sites WHERE uid = ?", (candidate,)).fetchone()
            if row:
                return row[0]
    row = conn.execute("SELECT id, uid FROM sites WHERE client_id = ? AND name = ?", (client_id, name)).fetchone()
    if row:
        if uid:
            _alias(ctx, "site", uid, row[1], name)
        return row[0]
    new_uid = uid or uuid.uuid4().hex
    cur = conn.execute("INSERT INTO sites (uid, client_id, name, updated) VALUES (?, ?, ?, ?)",
                       (new_uid, client_id, name, now_iso()))
    if uid:
        _implicit(ctx, "site", uid)
    return cur.lastrowid


# ------------------------------------------------------------------ applying
def apply_client(ctx: Context, uid: str, body: dict) -> str | None:
    """Upsert; returns the local uid it was merged into when it is an alias."""
    name, values, updated = _name(body), _defaults(body), req_str(body, "updated")
    conn = ctx.conn
    other = conn.execute("SELECT uid FROM clients WHERE name = ? AND uid != ?", (name, uid)).fetchone()
    mine = conn.execute("SELECT id FROM clients WHERE uid = ?", (uid,)).fetchone()
    if mine is None and other is not None:
        _alias(ctx, "client", uid, other[0], name)
        return other[0]
    if other is not None:
        name = ctx.free_name("client", uid, name, "SELECT 1 FROM clients WHERE name = ?", ())
    if mine is None:
        conn.execute("INSERT INTO clients (uid, name, user, port, jump, key, updated) VALUES (?,?,?,?,?,?,?)",
                     (uid, name, *values, updated))
    else:
        conn.execute("UPDATE clients SET name=?, user=?, port=?, jump=?, key=?, updated=? WHERE uid=?",
                     (name, *values, updated, uid))
    return None


def apply_site(ctx: Context, uid: str, body: dict) -> str | None:
    name, values, updated = _name(body), _defaults(body), req_str(body, "updated")
    cid = client_row(ctx, _uid(body, "client"), _name(body, "client_name"))
    conn = ctx.conn
    other = conn.execute("SELECT uid FROM sites WHERE client_id = ? AND name = ? AND uid != ?",
                         (cid, name, uid)).fetchone()
    mine = conn.execute("SELECT id FROM sites WHERE uid = ?", (uid,)).fetchone()
    if mine is None and other is not None:
        _alias(ctx, "site", uid, other[0], name)
        return other[0]
    if other is not None:
        name = ctx.free_name("site", uid, name, "SELECT 1 FROM sites WHERE name = ? AND client_id = ?", (cid,))
    if mine is None:
        conn.execute("INSERT INTO sites (uid, client_id, name, user, port, jump, key, updated)"
                     " VALUES (?,?,?,?,?,?,?,?)", (uid, cid, name, *values, updated))
    else:
        conn.execute("UPDATE sites SET client_id=?, name=?, user=?, port=?, jump=?, key=?, updated=? WHERE uid=?",
                     (cid, name, *values, updated, uid))
    return None


def host_spec(body: dict) -> HostSpec:
    tags = body.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise BodyError("tags must be a list of strings")
    spec = HostSpec(name=_name(body), address=opt_str(body, "address"), port=opt_int(body, "port"),
                    user=opt_str(body, "user"), client=opt_str(body, "client"), site=opt_str(body, "site"),
                    tags=list(tags), os=opt_str(body, "os"), jump=opt_str(body, "jump"), key=opt_str(body, "key"))
    try:
        return validate_spec(spec)
    except RosterError as exc:
        raise BodyError(str(exc)) from None


def check_host(body: dict) -> None:
    host_spec(body)
    req_str(body, "created"), req_str(body, "updated"), _uid(body, "client_uid"), _uid(body, "site_uid")
    _uid(body, "jump_uid")


def fix_jumps(ctx: Context, bodies: dict[str, dict], parked: dict[str, str]) -> None:
    """After a batch of hosts: a jump host is named, but its uid decides (a name may now
    belong to a different host, after a collision rename). Local hosts outside the
    batch that jumped through a host renamed by the batch follow the new name."""
    conn = ctx.conn
    for uid, body in bodies.items():
        jump_uid = body.get("jump_uid")
        row = conn.execute("SELECT name FROM hosts WHERE uid = ?", (jump_uid,)).fetchone() if jump_uid else None
        if row:
            conn.execute("UPDATE hosts SET jump = ? WHERE uid = ? AND jump IS NOT ?", (row[0], uid, row[0]))
    for uid, old in parked.items():
        row = conn.execute("SELECT name FROM hosts WHERE uid = ?", (uid,)).fetchone()
        if row and row[0] != old and not conn.execute("SELECT 1 FROM hosts WHERE name = ?", (old,)).fetchone():
            marks = ",".join("?" * len(bodies))
            conn.execute(f"UPDATE hosts SET jump = ? WHERE jump = ? AND uid NOT IN ({marks})",
                         (row[0], old, *bodies))


def park_hosts(ctx: Context, bodies: dict[str, dict]) -> dict[str, str]:
    """Before a batch of host upserts, move hosts whose name changes out of the way so
    that renames and swaps within one batch never collide with each other. Returns
    {uid: old name} for unpark()."""
    parked = {}
    for uid, body in bodies.items():
        row = ctx.conn.execute("SELECT name FROM hosts WHERE uid = ?", (uid,)).fetchone()
        if row and row[0] != body.get("name"):
            ctx.conn.execute("UPDATE hosts SET name = ? WHERE uid = ?", (f"\x00sync {uid}", uid))
            parked[uid] = row[0]
    return parked


def unpark(ctx: Context, parked: dict[str, str]) -> None:
    """Give a parked host whose update failed its old name back (or a free one)."""
    for uid, name in parked.items():
        if ctx.conn.execute("SELECT 1 FROM hosts WHERE uid = ? AND name = ?", (uid, f"\x00sync {uid}")).fetchone():
            if ctx.conn.execute("SELECT 1 FROM hosts WHERE name = ?", (name,)).fetchone():
                name = ctx.free_name("host", uid, name, "SELECT 1 FROM hosts WHERE name = ?", ())
            ctx.conn.execute("UPDATE hosts SET name = ? WHERE uid = ?", (name, uid))


def apply_host(ctx: Context, uid: str, body: dict) -> str | None:
    spec = host_spec(body)
    created, updated = req_str(body, "created"), req_str(body, "updated")
    cid = client_row(ctx, _uid(body, "client_uid"), spec.client) if spec.client else None
    sid = site_row(ctx, _uid(body, "site_uid"), spec.site, cid) if spec.site and cid else None
    name = spec.name
    if ctx.conn.execute("SELECT 1 FROM hosts WHERE name = ? AND uid != ?", (name, uid)).fetchone():
        name = ctx.free_name("host", uid, name, "SELECT 1 FROM hosts WHERE name = ?", ())
    values = (name, spec.address, spec.port, spec.user, cid, sid, json.dumps(spec.tags, ensure_ascii=False),
              spec.os, spec.jump, spec.key)
    if ctx.conn.execute("SELECT 1 FROM hosts WHERE uid = ?", (uid,)).fetchone():
        ctx.conn.execute("UPDATE hosts SET name=?, address=?, port=?, user=?, client_id=?, site_id=?, tags=?,"
                         " os=?, jump=?, key=?, created=?, updated=? WHERE uid=?", (*values, created, updated, uid))
    else:
        ctx.conn.execute("INSERT INTO hosts (name, address, port, user, client_id, site_id, tags, os, jump, key,"
                         " created, updated, uid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (*values, created, updated, uid))
    return None


def remove_client(ctx: Context, uid: str) -> bool:
    """Delete unless hosts still use it (then it is kept: nothing is lost)."""
    used = ctx.conn.execute("SELECT 1 FROM hosts h JOIN clients c ON c.id = h.client_id WHERE c.uid = ?",
                            (uid,)).fetchone()
    if used:
        return False
    ctx.conn.execute("DELETE FROM clients WHERE uid = ?", (uid,))
    return True


def remove_site(ctx: Context, uid: str) -> bool:
    used = ctx.conn.execute("SELECT 1 FROM hosts h JOIN sites s ON s.id = h.site_id WHERE s.uid = ?",
                            (uid,)).fetchone()
    if used:
        return False
    ctx.conn.execute("DELETE FROM sites WHERE uid = ?", (uid,))
    return True


def remove_host(ctx: Context, uid: str) -> bool:
    ctx.conn.execute("DELETE FROM hosts WHERE uid = ?", (uid,))
    return True
