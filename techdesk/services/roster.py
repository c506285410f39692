"""Roster service: the one API the CLI and the GUI use to change the roster.

Roster operations are small local SQLite transactions, so they are plain
synchronous methods; they are safe to call from the GUI thread.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from techdesk.core.roster import (
    Client,
    Defaults,
    Host,
    HostSpec,
    RosterError,
    Site,
    check_text,
    parse_port,
    validate_spec,
)
from techdesk.store import roster as repo
from techdesk.store.db import transaction

EDITABLE = ("address", "port", "user", "client", "site", "tags", "os", "jump", "key")


class RosterService:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._listeners: list = []

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
                raise RosterError(f"jump host {current!r} of {chain[-1].name!r} is not in the roster") from None
            chain.append(host)
            current = host.jump
        return list(reversed(chain))

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
