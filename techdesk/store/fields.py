"""The fields of each record kind that travels: one place, used by the store and by the
sync codec (techdesk/sync/engine/codec.py), so adding a field is a change to this file
(and a migration for its column).

A field names its column, its key in a sync revision body, and its type:

    str / str?      text (? = may be null)        time / time?  ISO-8601 text
    int?            integer or null               bool          stored as 0/1
    flag            bool added later: a revision without it (or with anything but true) is false
    checklist       JSON list of {"text", "done"}  strs          JSON list of strings
    attached        JSON list of AttachedRun dicts windows       "; "-joined list of windows
    attachments     JSON list of Attachment dicts (added later: a revision without it has none)

Roster records (clients, sites, hosts) are relational (a host names its client and
site by uid and name): their codec is techdesk/sync/engine/roster.py; runs, with their
per-host rows, are techdesk/sync/engine/runs.py.
"""

from __future__ import annotations

import json
from typing import NamedTuple


class Field(NamedTuple):
    column: str
    key: str
    type: str


class Kind(NamedTuple):
    table: str
    id_column: str
    fields: tuple[Field, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The id column, then every field's column: the order rows are written in."""
        return (self.id_column, *(f.column for f in self.fields))


NOTE = Kind("notes", "id", (
    Field("title", "title", "str"),
    Field("body", "body", "str"),
    Field("author", "author", "str"),
    Field("created", "created", "time"),
    Field("updated", "updated", "time"),
    Field("status", "status", "str"),
    Field("host", "host", "str?"),
    Field("client", "client", "str?"),
    Field("site", "site", "str?"),
    Field("followups", "followups", "checklist"),
    Field("runs", "runs", "attached"),
    Field("visit_id", "visit", "str?"),
    Field("pinned", "pinned", "flag"),
    Field("attachments", "attachments", "attachments"),
))

VISIT = Kind("visits", "id", (
    Field("client", "client", "str"),
    Field("site", "site", "str?"),
    Field("technician", "technician", "str"),
    Field("started", "started", "time"),
    Field("stopped", "stopped", "time?"),
    Field("summary", "summary", "str"),
    Field("checklist", "checklist", "checklist"),
    Field("hosts", "hosts", "strs"),
    Field("runs", "runs", "strs"),
    Field("billable_minutes", "billable_minutes", "int?"),
))

SCHEDULE = Kind("schedules", "uid", (
    Field("bundle", "bundle", "str"),
    Field("target", "target", "str"),
    Field("interval_s", "interval_s", "int"),
    Field("windows", "windows", "windows"),
    Field("enabled", "enabled", "bool"),
    Field("created", "created", "time"),
    Field("updated", "updated", "time"),
))

FLAT = {"note": NOTE, "visit": VISIT, "schedule": SCHEDULE}

JSON_TYPES = frozenset(("checklist", "attached", "strs", "attachments"))


def to_column(field: Field, value):
    """A field's value (domain object attribute or body value) as stored in its column."""
    if field.type in JSON_TYPES:
        return json.dumps([getattr(v, "__dict__", v) for v in value], ensure_ascii=False)
    if field.type in ("bool", "flag"):
        return int(value)
    if field.type == "windows":
        return "; ".join(value) if isinstance(value, list) else value
    return value


def from_column(field: Field, value):
    """A column's value as it travels in a sync body."""
    if field.type in JSON_TYPES:
        return json.loads(value)
    if field.type in ("bool", "flag"):
        return bool(value)
    if field.type == "windows":
        return [w.strip() for w in value.split(";") if w.strip()]
    return value


def row_of(kind: Kind, obj) -> tuple:
    """The row of a domain object whose attributes are named like the columns."""
    return (getattr(obj, kind.id_column), *(to_column(f, getattr(obj, f.column)) for f in kind.fields))
