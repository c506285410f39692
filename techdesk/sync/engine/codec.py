"""Revision bodies <-> local rows: the field checks every kind uses, and the generic codec
of the flat kinds (notes, visits, schedules) driven by techdesk/store/fields.py.

Bodies are untrusted: every field is type-checked before anything is written, and a
body that does not fit is a BodyError (skipped and reported, never fatal). Bodies carry
no secret: the tables hold none (key *file paths* only; passwords and passphrases live
in the OS keyring and never reach a body).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from techdesk.core.work import AttachedRun
from techdesk.store.fields import Field, Kind, from_column, to_column

CHUNK = 500
_RUN_FIELDS = set(AttachedRun.__dataclass_fields__)


class BodyError(ValueError):
    """A body that cannot be applied (wrong type, missing field): skipped and reported."""


@dataclass
class Context:
    conn: sqlite3.Connection
    author: str = "?"  # of the revision being applied: names a renamed host
    renamed: list[dict] = field(default_factory=list)
    aliased: list[dict] = field(default_factory=list)

    def free_name(self, kind: str, uid: str, name: str, exists_sql: str, extra: tuple) -> str:
        base = f"{name} (from {self.author})"
        candidate, n = base, 2
        while self.conn.execute(exists_sql, (candidate, *extra)).fetchone():
            candidate, n = f"{base} {n}", n + 1
        self.renamed.append({"kind": kind, "id": uid, "name": name, "as": candidate})
        return candidate


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def rows(conn, sql: str, ids: list[str]):
    """`sql` with `{marks}` for the ids, run in chunks (SQLite limits bound parameters)."""
    for part in chunks(ids):
        yield from conn.execute(sql.format(marks=",".join("?" * len(part))), part)


# ------------------------------------------------------------------ field checks
def req_str(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise BodyError(f"{key} must be a string")
    return value


def opt_str(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BodyError(f"{key} must be a string or null")
    return value


def opt_int(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value is not None and type(value) is not int:
        raise BodyError(f"{key} must be an integer or null")
    return value


def req_int(body: dict, key: str) -> int:
    value = body.get(key)
    if type(value) is not int:
        raise BodyError(f"{key} must be an integer")
    return value


def req_bool(body: dict, key: str) -> bool:
    value = body.get(key)
    if type(value) is not bool:
        raise BodyError(f"{key} must be true or false")
    return value


def num(obj: dict, key: str, optional: bool = True) -> float | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if type(value) not in (int, float) or not math.isfinite(value):
        raise BodyError(f"{key} must be a number")
    return float(value)


def iso_time(body: dict, key: str, optional: bool = False) -> str | None:
    """The time as this store writes it (UTC, `+00:00`). The store orders times as text,
    so a peer's `+14:00` offset, basic format or missing zone must not sort a past
    result after a newer local one; a time without a zone is taken as UTC."""
    value = opt_str(body, key) if optional else req_str(body, key)
    if value is not None:
        try:
            moment = datetime.fromisoformat(value)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise BodyError(f"{key} is not an ISO-8601 time") from None
        value = moment.isoformat()
    return value


def items(body: dict, key: str, check) -> list:
    value = body.get(key)
    if not isinstance(value, list) or not all(check(v) for v in value):
        raise BodyError(f"{key} has an unexpected shape")
    return value


def _text_done(item) -> bool:
    return isinstance(item, dict) and set(item) == {"text", "done"} and isinstance(item["text"], str) \
        and isinstance(item["done"], bool)


def _checklist(body: dict, key: str) -> list[dict]:
    """Follow-ups and checklist items, in the field order the app writes."""
    return [{"text": i["text"], "done": i["done"]} for i in items(body, key, _text_done)]


def _attached(item) -> bool:
    return isinstance(item, dict) and {"run_id", "host", "bundle", "started", "status"} <= set(item) <= _RUN_FIELDS \
        and all(isinstance(item[k], str) for k in ("run_id", "host", "bundle", "started", "status")) \
        and isinstance(item.get("findings", []), list) and isinstance(item.get("error"), dict | None)


def _attached_list(body: dict, key: str) -> list[dict]:
    order = list(AttachedRun.__dataclass_fields__)
    return [{k: item[k] for k in order if k in item} for item in items(body, key, _attached)]


def _strs(body: dict, key: str) -> list[str]:
    return items(body, key, lambda v: isinstance(v, str))


def _windows(body: dict, key: str) -> list[str]:
    return items(body, key, lambda v: isinstance(v, str))


CHECKS: dict[str, Callable[[dict, str], object]] = {
    "str": req_str, "str?": opt_str, "int?": opt_int, "int": req_int, "bool": req_bool,
    "flag": lambda b, k: b.get(k) is True,  # added after the first release: older revisions lack it
    "time": iso_time, "time?": lambda b, k: iso_time(b, k, optional=True),
    "checklist": _checklist, "attached": _attached_list, "strs": _strs, "windows": _windows,
}


# ------------------------------------------------------------------ flat kinds
def read_flat(conn, kind: Kind, ids: list[str]) -> dict[str, dict]:
    sql = f"SELECT {', '.join(kind.columns)} FROM {kind.table} WHERE {kind.id_column} IN ({{marks}})"
    fields = kind.fields
    return {r[0]: {f.key: from_column(f, v) for f, v in zip(fields, r[1:], strict=True)}
            for r in rows(conn, sql, ids)}


def check_flat(kind: Kind, body: dict) -> dict[Field, object]:
    """Every field of the body checked: {field: value as it travels}. BodyError if one does not fit."""
    return {f: CHECKS[f.type](body, f.key) for f in kind.fields}


def write_flat(ctx: Context, kind: Kind, record_id: str, values: dict[Field, object]) -> None:
    """Insert or replace the row. A table keyed by its own text primary key (notes, visits)
    takes INSERT OR REPLACE: one statement. Others (schedules: an integer rowid and a
    unique uid) are updated in place: their row id must not change."""
    row = [to_column(f, v) for f, v in values.items()]
    marks = ",".join("?" * len(kind.columns))
    if kind.id_column == "id":
        ctx.conn.execute(f"INSERT OR REPLACE INTO {kind.table} ({', '.join(kind.columns)}) VALUES ({marks})",
                         (record_id, *row))
        return
    cur = ctx.conn.execute(f"UPDATE {kind.table} SET {', '.join(f.column + ' = ?' for f in kind.fields)}"
                           f" WHERE {kind.id_column} = ?", (*row, record_id))
    if cur.rowcount == 0:
        ctx.conn.execute(f"INSERT INTO {kind.table} ({', '.join(kind.columns)}) VALUES ({marks})",
                         (record_id, *row))


def write_flat_many(ctx: Context, kind: Kind, items: list[tuple[str, dict[Field, object]]]) -> None:
    """Many rows of a kind keyed by its own text primary key, in one statement."""
    assert kind.id_column == "id", "only tables keyed by their own text id are written in bulk"
    marks = ",".join("?" * len(kind.columns))
    ctx.conn.executemany(f"INSERT OR REPLACE INTO {kind.table} ({', '.join(kind.columns)}) VALUES ({marks})",
                         [(rid, *(to_column(f, v) for f, v in values.items())) for rid, values in items])


def delete_flat(ctx: Context, kind: Kind, record_id: str) -> bool:
    ctx.conn.execute(f"DELETE FROM {kind.table} WHERE {kind.id_column} = ?", (record_id,))
    return True


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
