"""Roster service: the one API the CLI and the GUI use to change the roster.

Roster operations are small local SQLite transactions, so they are plain
synchronous methods; they are safe to call from the GUI thread.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from techdesk import secrets as keyring_secrets
from techdesk.core.roster import (
    Client,
    Defaults,
    Host,
    HostSpec,
    RosterError,
    Site,
    check_text,
    endpoint_of,
    parse_port,
    validate_spec,
)
from techdesk.store import roster as repo
from techdesk.store.db import transaction
from techdesk.store.snapshot import StoreSnapshots

EDITABLE = ("address", "port", "user", "client", "site", "tags", "os", "jump", "key")


def _holder_name(name: str, what: str) -> str:
    """A client or site name: not empty, no control characters, no "/" (a schedule names a
    site as CLIENT/SITE)."""
    name = (name or "").strip()
    if not name:
        raise RosterError(f"a {what} needs a name")
    if "/" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise RosterError(f"{what} name {name!r} may not contain '/' or control characters")
    return name


class RosterService:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._listeners: list = []
        self._snapshots = StoreSnapshots(conn)

    # Views (GUI models) subscribe to hear that the roster changed.
    def subscribe(self, callback) -> None:
        self._listeners.append(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    # -- queries -------------------------------------------------------------
    def get(self, name: str) -> Host:
        return repo.get_host(self.conn, name)

    def hosts(self, client: str | None = None, site: str | None = None, tag: str | None = None) -> list[Host]:
        if client is None and site is None and tag is None:
            # The whole roster, read once for the readers of one moment (tree, dashboard).
            return list(self._snapshots.get("hosts", lambda: repo.list_hosts(self.conn)))
        return repo.list_hosts(self.conn, client=client, site=site, tag=tag)

    def clients(self) -> list[Client]:
        return repo.list_clients(self.conn)

    def sites(self, client: str | None = None) -> list[Site]:
        return repo.list_sites(self.conn, client)

    def exists(self, name: str) -> bool:
        return repo.host_exists(self.conn, name)

    # -- changes -------------------------------------------------------------
    def add(self, spec: HostSpec) -> Host:
        validate_spec(spec)
        with transaction(self.conn):
            repo.insert_host(self.conn, spec)
            self._check_jumps([spec.name])
        self._changed()
        return self.get(spec.name)

    def edit(self, name: str, /, **changes) -> Host:
        """Change some fields of a host; a value of "" clears an optional field."""
        current = self.get(name).spec
        unknown = set(changes) - set(EDITABLE) - {"name"}
        if unknown:
            raise RosterError(f"cannot edit {', '.join(sorted(unknown))}")
        values = {k: (None if v == "" else v) for k, v in changes.items()}
        if "tags" in values and values["tags"] is None:
            values["tags"] = []
        spec = validate_spec(dataclasses.replace(current, **values))
        with transaction(self.conn):
            repo.update_host(self.conn, name, spec)
            self._check_jumps([spec.name])
        self._changed()
        return self.get(spec.name)

    def remove(self, name: str) -> None:
        with transaction(self.conn):
            repo.delete_host(self.conn, name)
        self._changed()

    def set_defaults(self, client: str, site: str | None = None, **values) -> None:
        """Connection defaults (user, port, jump, key) for a client or a site."""
        if values.get("port") not in (None, ""):
            values["port"] = parse_port(values["port"])
        for what, value in (("client", client), ("site", site),
                            *((k, v) for k, v in values.items() if isinstance(v, str))):
            check_text(what, value)
        holder = next((s for s in self.sites(client) if s.name == site), None) if site else \
            next((c for c in self.clients() if c.name == client), None)
        current = holder.defaults if holder else Defaults()
        # Only the values given change; "" clears one.
        merged = {k: getattr(current, k) for k in ("user", "port", "jump", "key")}
        merged.update({k: (v or None) for k, v in values.items() if v is not None})
        defaults = Defaults(**merged)
        with transaction(self.conn):
            repo.set_defaults(self.conn, client, site, defaults)
        self._changed()

    # -- clients and sites ---------------------------------------------------
    def hosts_of(self, client: str, site: str | None = None) -> list[str]:
        """The hosts a client (or one of its sites) holds: what a removal would touch."""
        self._holder(client, site)
        return [h.name for h in self.hosts(client=client, site=site)]

    def _holder(self, client: str, site: str | None) -> None:
        if client not in {c.name for c in self.clients()}:
            raise RosterError(f"no client named {client!r}")
        if site is not None and site not in {s.name for s in self.sites(client)}:
            raise RosterError(f"client {client!r} has no site named {site!r}")

    def rename(self, client: str, new: str, site: str | None = None) -> None:
        """Rename a client (or one of its sites); notes, visits and schedules follow."""
        self._holder(client, site)
        new = _holder_name(new, "site" if site else "client")
        taken = {s.name for s in self.sites(client)} if site else {c.name for c in self.clients()}
        if new != (site or client) and new in taken:
            raise RosterError(f"{'site' if site else 'client'} {new!r} already exists"
                              + (f" at {client}" if site else ""))
        with transaction(self.conn):
            if site:
                repo.rename_site(self.conn, client, site, new)
            else:
                repo.rename_client(self.conn, client, new)
        self._changed()

    def remove_holder(self, client: str, site: str | None = None, keep_hosts: bool = False) -> dict:
        """Remove a client (or a site) with its hosts, or keep the hosts (without that
        client or site). All or nothing. Notes and visits stay (they are the record of
        the work); schedules aimed at it go. Returns {"hosts": [...], "kept": bool,
        "schedules": [uids removed]}."""
        hosts = self.hosts_of(client, site)
        with transaction(self.conn):
            if keep_hosts:
                repo.detach_hosts(self.conn, hosts, keep_client=site is not None)
            else:
                repo.delete_hosts(self.conn, hosts)
            gone = repo.delete_site(self.conn, client, site) if site else repo.delete_client(self.conn, client)
        self._changed()
        return {"hosts": hosts, "kept": keep_hosts, "schedules": gone}

    def import_hosts(self, specs: list[HostSpec], client: str | None = None, site: str | None = None,
                     update: bool = False) -> dict:
        """Add hosts all-or-nothing. Existing names are an error unless update=True (merge)."""
        added, updated = [], []
        with transaction(self.conn):
            for spec in specs:
                if client and not spec.client:
                    spec.client = client
                if site and not spec.site:
                    spec.site = site
                validate_spec(spec)
                if repo.host_exists(self.conn, spec.name):
                    if not update:
                        raise RosterError(
                            f"host {spec.name!r} already exists; nothing was imported "
                            "(use --update to merge into existing hosts)")
                    merged = self._merge(repo.get_host(self.conn, spec.name).spec, spec)
                    repo.update_host(self.conn, spec.name, merged)
                    updated.append(spec.name)
                else:
                    repo.insert_host(self.conn, spec)
                    added.append(spec.name)
            self._check_jumps(added + updated)
        self._changed()
        return {"added": added, "updated": updated}

    def import_file(self, path: Path, fmt: str, client: str | None = None, site: str | None = None,
                    update: bool = False) -> dict:
        return self.import_hosts(self.read_file(path, fmt), client=client, site=site, update=update)

    @staticmethod
    def read_file(path: Path, fmt: str) -> list[HostSpec]:
        """Parse an import file; touches no store, so the window runs it off the GUI thread."""
        from techdesk.roster_io import parse_file

        return parse_file(Path(path), fmt)

    def export(self, fmt: str) -> str:
        from techdesk.roster_io import export_ansible_ini, export_csv

        specs = [self._effective_spec(h) for h in self.hosts()]
        if fmt == "csv":
            return export_csv(specs)
        if fmt == "ansible":
            return export_ansible_ini(specs)
        raise RosterError(f"unknown export format {fmt!r} (csv or ansible)")

    # -- jump hosts ----------------------------------------------------------
    def jump_chain(self, name: str) -> list[Host]:
        """The hosts to go through to reach `name`, outermost first, ending with the host itself."""
        chain: list[Host] = []
        seen: set[str] = set()
        current: str | None = name
        while current is not None:
            if current in seen:
                path = " -> ".join([h.name for h in chain] + [current])
                raise RosterError(f"jump hosts form a loop: {path}")
            seen.add(current)
            try:
                host = self.get(current)
            except RosterError:
                if not chain:  # the host itself is gone (removed while a connection to it was warm)
                    raise
                raise RosterError(f"jump host {current!r} of {chain[-1].name!r} is not in the roster") from None
            chain.append(host)
            current = host.jump
        return list(reversed(chain))

    def endpoint(self, name: str) -> str:
        """Where the host's stored secrets may be sent (techdesk.secrets): user, address,
        port and jump route."""
        self.get(name)  # an unknown host: one clear line
        return endpoint_of(self.jump_chain(name))

    def endpoint_changes(self, name: str) -> list[tuple[str, str]]:
        """[(secret kind, endpoint it was stored for)] where the host has moved since."""
        return keyring_secrets.changed_endpoints(name, self.endpoint(name))

    def confirm_endpoint(self, name: str) -> tuple[str, list[str]]:
        """Accept the host's current endpoint for its stored secrets: (endpoint, kinds)."""
        endpoint = self.endpoint(name)
        return endpoint, keyring_secrets.confirm_endpoint(name, endpoint)

    def _check_jumps(self, names: list[str]) -> None:
        for name in names:
            self.jump_chain(name)

    # -- helpers -------------------------------------------------------------
    @staticmethod
    def _merge(current: HostSpec, new: HostSpec) -> HostSpec:
        values = {k: v for k, v in new.as_dict().items() if v not in (None, [], "")}
        if new.tags:
            values["tags"] = sorted(set(current.tags) | set(new.tags))
        return validate_spec(dataclasses.replace(current, **values))

    @staticmethod
    def _effective_spec(host: Host) -> HostSpec:
        # Exports carry effective values so the file stands on its own.
        s = host.spec
        port = host.port if host.sources.get("port") != "default" else None
        return HostSpec(name=s.name, address=s.address, port=port, user=host.user, client=s.client,
                        site=s.site, tags=list(s.tags), os=s.os, jump=host.jump, key=host.key)
