"""Roster repository: clients, sites and hosts in the local store."""

from __future__ import annotations

import json
import sqlite3
import uuid

from techdesk.core.roster import Client, Defaults, Host, HostSpec, RosterError, Site, resolve
from techdesk.store.db import now_iso

_HOST_SELECT = """
SELECT h.id, h.name, h.address, h.port, h.user, h.tags, h.os, h.jump, h.key,
       c.name AS client, s.name AS site,
       s.user AS s_user, s.port AS s_port, s.jump AS s_jump, s.key AS s_key,
       c.user AS c_user, c.port AS c_port, c.jump AS c_jump, c.key AS c_key
FROM hosts h
LEFT JOIN clients c ON c.id = h.client_id
LEFT JOIN sites s ON s.id = h.site_id
"""


def _host_from_row(row: sqlite3.Row) -> Host:
    spec = HostSpec(
        name=row["name"], address=row["address"], port=row["port"], user=row["user"],
        client=row["client"], site=row["site"], tags=json.loads(row["tags"]),
        os=row["os"], jump=row["jump"], key=row["key"],
    )
    site = Defaults(row["s_user"], row["s_port"], row["s_jump"], row["s_key"]) if row["site"] else None
    client = Defaults(row["c_user"], row["c_port"], row["c_jump"], row["c_key"]) if row["client"] else None
    effective, sources = resolve(spec, site, client)
    return Host(spec=spec, effective=effective, sources=sources, id=row["id"])


def client_id(conn: sqlite3.Connection, name: str, create: bool = True) -> int:
    row = conn.execute("SELECT id FROM clients WHERE name = ?", (name,)).fetchone()
    if row:
        return row[0]
    if not create:
        raise RosterError(f"no client named {name!r}")
    cur = conn.execute(
        "INSERT INTO clients (uid, name, updated) VALUES (?, ?, ?)", (uuid.uuid4().hex, name, now_iso())
    )
    return cur.lastrowid


def site_id(conn: sqlite3.Connection, client: str, name: str, create: bool = True) -> int:
    cid = client_id(conn, client, create)
    row = conn.execute("SELECT id FROM sites WHERE client_id = ? AND name = ?", (cid, name)).fetchone()
    if row:
        return row[0]
    if not create:
        raise RosterError(f"client {client!r} has no site named {name!r}")
    cur = conn.execute(
        "INSERT INTO sites (uid, client_id, name, updated) VALUES (?, ?, ?, ?)",
        (uuid.uuid4().hex, cid, name, now_iso()),
    )
    return cur.lastrowid


def _placement(conn: sqlite3.Connection, spec: HostSpec) -> tuple[int | None, int | None]:
    cid = client_id(conn, spec.client) if spec.client else None
    sid = site_id(conn, spec.client, spec.site) if spec.client and spec.site else None
    return cid, sid


def insert_host(conn: sqlite3.Connection, spec: HostSpec) -> None:
    if host_exists(conn, spec.name):
        raise RosterError(f"a host named {spec.name!r} already exists (use edit, or import --update)")
    cid, sid = _placement(conn, spec)
    ts = now_iso()
    conn.execute(
        "INSERT INTO hosts (uid, name, address, port, user, client_id, site_id, tags, os, jump, key,"
        " created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (uuid.uuid4().hex, spec.name, spec.address, spec.port, spec.user, cid, sid,
         json.dumps(spec.tags, ensure_ascii=False), spec.os, spec.jump, spec.key, ts, ts),
    )


def update_host(conn: sqlite3.Connection, name: str, spec: HostSpec) -> None:
    """Replace the stored fields of host `name` with `spec` (which may rename it)."""
    if spec.name != name and host_exists(conn, spec.name):
        raise RosterError(f"a host named {spec.name!r} already exists")
    cid, sid = _placement(conn, spec)
    cur = conn.execute(
        "UPDATE hosts SET name=?, address=?, port=?, user=?, client_id=?, site_id=?, tags=?, os=?,"
        " jump=?, key=?, updated=? WHERE name=?",
        (spec.name, spec.address, spec.port, spec.user, cid, sid,
         json.dumps(spec.tags, ensure_ascii=False), spec.os, spec.jump, spec.key, now_iso(), name),
    )
    if cur.rowcount == 0:
        raise RosterError(f"no host named {name!r}")
    if spec.name != name:
        conn.execute("UPDATE hosts SET jump=? WHERE jump=?", (spec.name, name))


def delete_host(conn: sqlite3.Connection, name: str) -> None:
    users = [r[0] for r in conn.execute("SELECT name FROM hosts WHERE jump = ?", (name,))]
    if users:
        raise RosterError(f"host {name!r} is the jump host of {', '.join(users)}; change those first")
    cur = conn.execute("DELETE FROM hosts WHERE name = ?", (name,))
    if cur.rowcount == 0:
        raise RosterError(f"no host named {name!r}")


def host_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM hosts WHERE name = ?", (name,)).fetchone() is not None


def get_host(conn: sqlite3.Connection, name: str) -> Host:
    row = conn.execute(_HOST_SELECT + " WHERE h.name = ?", (name,)).fetchone()
    if row is None:
        raise RosterError(f"no host named {name!r}")
    return _host_from_row(row)


def list_hosts(conn: sqlite3.Connection, client: str | None = None, site: str | None = None,
               tag: str | None = None) -> list[Host]:
    where, args = [], []
    if client is not None:
        where.append("c.name = ?")
        args.append(client)
    if site is not None:
        where.append("s.name = ?")
        args.append(site)
    sql = _HOST_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY h.name"
    hosts = [_host_from_row(r) for r in conn.execute(sql, args)]
    if tag is not None:
        hosts = [h for h in hosts if tag in h.spec.tags]
    return hosts


def list_clients(conn: sqlite3.Connection) -> list[Client]:
    return [
        Client(name=r["name"], defaults=Defaults(r["user"], r["port"], r["jump"], r["key"]), id=r["id"])
        for r in conn.execute("SELECT * FROM clients ORDER BY name")
    ]


def list_sites(conn: sqlite3.Connection, client: str | None = None) -> list[Site]:
    sql = ("SELECT s.*, c.name AS client FROM sites s JOIN clients c ON c.id = s.client_id"
           + (" WHERE c.name = ?" if client else "") + " ORDER BY c.name, s.name")
    return [
        Site(name=r["name"], client=r["client"], defaults=Defaults(r["user"], r["port"], r["jump"], r["key"]),
             id=r["id"])
        for r in conn.execute(sql, (client,) if client else ())
    ]


def set_defaults(conn: sqlite3.Connection, client: str, site: str | None, defaults: Defaults) -> None:
    """Set the connection defaults of a client, or of one of its sites."""
    table, row_id = ("sites", site_id(conn, client, site)) if site else ("clients", client_id(conn, client))
    conn.execute(
        f"UPDATE {table} SET user=?, port=?, jump=?, key=?, updated=? WHERE id=?",
        (defaults.user, defaults.port, defaults.jump, defaults.key, now_iso(), row_id),
    )


# -- renaming and removing clients and sites (in the caller's transaction) -------------------
# Notes, visits and schedule targets name clients and sites by name: a rename carries them
# along, so nothing points at a name that no longer exists.

def rename_client(conn: sqlite3.Connection, old: str, new: str) -> None:
    conn.execute("UPDATE clients SET name = ?, updated = ? WHERE name = ?", (new, now_iso(), old))
    conn.execute("UPDATE notes SET client = ? WHERE client = ?", (new, old))
    conn.execute("UPDATE visits SET client = ? WHERE client = ?", (new, old))
    conn.execute("UPDATE schedules SET target = ?, updated = ? WHERE target = ?", (f"client:{new}", now_iso(),
                                                                                 f"client:{old}"))
    for uid, target in conn.execute("SELECT uid, target FROM schedules WHERE target LIKE 'site:%'").fetchall():
        client, _, site = target[5:].partition("/")
        if client == old:
            conn.execute("UPDATE schedules SET target = ?, updated = ? WHERE uid = ?",
                         (f"site:{new}/{site}", now_iso(), uid))


def rename_site(conn: sqlite3.Connection, client: str, old: str, new: str) -> None:
    conn.execute("UPDATE sites SET name = ?, updated = ? WHERE id = ?", (new, now_iso(), site_id(conn, client, old,
                                                                                             create=False)))
    conn.execute("UPDATE notes SET site = ? WHERE client = ? AND site = ?", (new, client, old))
    conn.execute("UPDATE visits SET site = ? WHERE client = ? AND site = ?", (new, client, old))
    conn.execute("UPDATE schedules SET target = ?, updated = ? WHERE target = ?",
                 (f"site:{client}/{new}", now_iso(), f"site:{client}/{old}"))


def detach_hosts(conn: sqlite3.Connection, names: list[str], keep_client: bool) -> None:
    """Take hosts off their site (``keep_client``) or off their client and site."""
    sql = "UPDATE hosts SET site_id = NULL, updated = ? WHERE name = ?" if keep_client else \
        "UPDATE hosts SET client_id = NULL, site_id = NULL, updated = ? WHERE name = ?"
    conn.executemany(sql, [(now_iso(), n) for n in names])


def delete_site(conn: sqlite3.Connection, client: str, site: str) -> list[str]:
    """Delete an empty site and the schedules aimed at it; returns those schedules' uids."""
    sid = site_id(conn, client, site, create=False)
    target = f"site:{client}/{site}"
    gone = [r[0] for r in conn.execute("SELECT uid FROM schedules WHERE target = ?", (target,))]
    conn.execute("DELETE FROM schedules WHERE target = ?", (target,))
    conn.execute("DELETE FROM sites WHERE id = ?", (sid,))
    return gone


def delete_client(conn: sqlite3.Connection, client: str) -> list[str]:
    """Delete an empty client, its sites and the schedules aimed at them; returns the
    schedules' uids."""
    gone = []
    for site in list_sites(conn, client):
        gone += delete_site(conn, client, site.name)
    target = f"client:{client}"
    gone += [r[0] for r in conn.execute("SELECT uid FROM schedules WHERE target = ?", (target,))]
    conn.execute("DELETE FROM schedules WHERE target = ?", (target,))
    conn.execute("DELETE FROM clients WHERE id = ?", (client_id(conn, client, create=False),))
    return gone


def delete_hosts(conn: sqlite3.Connection, names: list[str]) -> None:
    """Delete several hosts; jumps among them do not block, a host outside that jumps
    through one of them does (RosterError)."""
    conn.executemany("UPDATE hosts SET jump = NULL WHERE name = ?", [(n,) for n in names])
    for name in names:
        delete_host(conn, name)
