"""Record revisions: the JSON document, its content hash, parsing, heads and merges.

A revision is immutable and named by the SHA-256 of its canonical JSON (every field
except "rev"). Parsing treats its input as untrusted and reports every problem as an
`InvalidRevision` with a short, human-readable reason. See docs/sync-format.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from .names import KIND_RE, is_valid_record_id

FORMAT = 1
DEFAULT_KINDS: tuple[str, ...] = ("note", "visit", "host", "client", "site", "run")
FIELDS = ("format", "kind", "id", "rev", "parents", "author", "device", "time", "deleted", "body")
_FIELD_SET = frozenset(FIELDS)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|\+00:00)")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
MAX_IDENTITY_CHARS = 200


class InvalidRevision(ValueError):
    """A document that is not a valid revision; `reason` says why in one short line."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Revision:
    kind: str
    id: str
    rev: str
    parents: list[str]
    author: str
    device: str
    time: str
    deleted: bool
    body: dict

    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "kind": self.kind, "id": self.id, "rev": self.rev,
            "parents": list(self.parents), "author": self.author, "device": self.device,
            "time": self.time, "deleted": self.deleted, "body": self.body,
        }

    def to_bytes(self) -> bytes:
        """The file content: canonical JSON (with "rev") and a newline. Deterministic."""
        return canonical_json(self.to_dict()) + b"\n"

    @property
    def relpath(self) -> str:
        """Where the revision lives, relative to the shared folder root (POSIX separators)."""
        return f"{self.kind}s/{self.id}/{self.rev}.json"

    def compute_rev(self) -> str:
        return compute_rev(self.to_dict())


def canonical_json(obj: object) -> bytes:
    """sort_keys, no whitespace, UTF-8 (not \\u escapes), no NaN/Infinity."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_rev(doc: Mapping) -> str:
    """Hex SHA-256 of the canonical JSON of every field but "rev"."""
    return hashlib.sha256(canonical_json({k: v for k, v in doc.items() if k != "rev"})).hexdigest()


def format_time(moment: datetime) -> str:
    """ISO-8601 UTC with microseconds and "Z": sorts lexically in time order."""
    if moment.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    if not isinstance(text, str) or not _TIME_RE.fullmatch(text):
        raise ValueError(f"not an ISO-8601 UTC time: {text!r}")
    return datetime.fromisoformat(text)


def _check_identity(field: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRevision(f"{field} must be a non-empty string")
    if len(value) > MAX_IDENTITY_CHARS or _CONTROL.search(value):
        raise InvalidRevision(f"{field} is too long or has control characters")
    return value


def _check_parents(parents: object) -> list[str]:
    if not isinstance(parents, list) or not all(
        isinstance(p, str) and _HEX64.fullmatch(p) for p in parents
    ):
        raise InvalidRevision("parents must be a list of 64-digit lowercase hex revisions")
    if len(set(parents)) != len(parents):
        raise InvalidRevision("parents lists a revision twice")
    return parents


def _normalize_body(body: object) -> dict:
    if not isinstance(body, Mapping):
        raise ValueError("body must be a JSON object (dict)")
    try:
        return json.loads(canonical_json(dict(body)))
    except (TypeError, ValueError) as exc:  # sets, datetimes, NaN, unpaired surrogates...
        raise ValueError(f"body is not representable as JSON: {exc}") from None


def make_revision(
    kind: str,
    record_id: str,
    body: Mapping,
    parents: Iterable[str],
    author: str,
    device: str,
    deleted: bool = False,
    time: datetime | str | None = None,
) -> Revision:
    """A new revision with its rev computed. Parents are deduplicated and sorted (so two
    identical merges hash the same); the body is normalized through JSON; time defaults to
    now and is stored as `YYYY-MM-DDTHH:MM:SS.ffffffZ`. Raises ValueError on bad input."""
    if not isinstance(kind, str) or not KIND_RE.fullmatch(kind):
        raise ValueError(f"invalid kind {kind!r}")
    if not is_valid_record_id(record_id):
        raise ValueError(f"invalid record id {record_id!r}")
    parent_list = sorted(set(parents))
    _check_parents(parent_list)
    _check_identity("author", author)
    _check_identity("device", device)
    if time is None:
        time_text = format_time(datetime.now(UTC))
    elif isinstance(time, datetime):
        time_text = format_time(time)
    else:
        time_text = format_time(parse_time(time))
    doc = {
        "format": FORMAT, "kind": kind, "id": record_id, "parents": parent_list,
        "author": author, "device": device, "time": time_text, "deleted": bool(deleted),
        "body": _normalize_body(body),
    }
    return Revision(rev=compute_rev(doc), **{k: v for k, v in doc.items() if k != "format"})


def merge_revision(
    kind: str,
    record_id: str,
    heads: list[Revision],
    body: Mapping,
    author: str,
    device: str,
    *,
    deleted: bool = False,
    time: datetime | str | None = None,
) -> Revision:
    """A revision of (kind, record_id) whose parents are all the given heads: it resolves
    the conflict. `deleted=True` resolves it as a deletion (tombstone)."""
    if not heads:
        raise ValueError("merge_revision needs at least one head")
    for head in heads:
        if (head.kind, head.id) != (kind, record_id):
            raise ValueError(f"head {head.rev} belongs to {head.kind}/{head.id}")
    return make_revision(kind, record_id, body, [h.rev for h in heads], author, device,
                         deleted=deleted, time=time)


def _order_key(rev: Revision) -> tuple[datetime, str]:
    try:
        return (parse_time(rev.time), rev.rev)
    except ValueError:
        return (datetime.min.replace(tzinfo=UTC), rev.rev)


def heads(revisions: Iterable[Revision]) -> dict[tuple[str, str], list[Revision]]:
    """Per record, the revisions no other revision of the same record names as a parent,
    oldest first (by time, then rev). One head: no conflict (a tombstone head means the
    record is deleted); two or more: a conflict. Duplicate revs count once."""
    by_record: dict[tuple[str, str], dict[str, Revision]] = {}
    for rev in revisions:
        by_record.setdefault((rev.kind, rev.id), {}).setdefault(rev.rev, rev)
    result: dict[tuple[str, str], list[Revision]] = {}
    for key, revs in by_record.items():
        named = {p for r in revs.values() for p in r.parents}
        result[key] = sorted((r for r in revs.values() if r.rev not in named), key=_order_key)
    return result


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed")


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key in object")
    return result


# What may be left of a literal, number or escape cut short at the end of a file.
_CUT_TAIL = re.compile(
    r"t(?:r(?:ue?)?)?|f(?:a(?:l(?:se?)?)?)?|n(?:u(?:ll?)?)?|-?\d*(?:\.\d*)?(?:[eE][-+]?\d*)?"
    r"|\\?u[0-9a-fA-F]{0,4}")


def _looks_truncated(text: str, exc: json.JSONDecodeError) -> bool:
    """A prefix of a valid document (a torn write) rather than a malformed one."""
    end = len(text.rstrip())
    if exc.pos >= end or exc.msg.startswith("Unterminated string"):
        return True
    return end - exc.pos <= 6 and _CUT_TAIL.fullmatch(text[exc.pos:end]) is not None


def _decode(data: bytes) -> object:
    if not data.strip():
        raise InvalidRevision("empty file (incomplete write)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end >= len(data):
            raise InvalidRevision("truncated JSON (torn or incomplete write)") from None
        raise InvalidRevision("not valid UTF-8") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if _looks_truncated(text, exc):
            raise InvalidRevision("truncated JSON (torn or incomplete write)") from None
        raise InvalidRevision(f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise InvalidRevision("invalid JSON (nested too deeply)") from None
    except ValueError as exc:  # duplicate keys, NaN, huge integers
        raise InvalidRevision(f"invalid JSON ({exc})") from None


def _hash_matches_canonical(data: bytes, rev: str) -> bool:
    """Fast path for a file as techdesk writes it (canonical JSON and a newline): its
    bytes without the `"rev"` member hash to `rev`. Whatever does not match this way
    (other spacing, key order, escapes) is hashed the long way, so nothing valid is
    refused; a match is a preimage of `rev`, so nothing forged is accepted."""
    member = b',"rev":"' + rev.encode("ascii") + b'"'
    if not data.endswith(b"}\n") or data.count(member) != 1 or b"\\ud" in data or b"\\uD" in data:
        return False  # (canonical JSON never escapes a surrogate: the long way refuses lone ones)
    return hashlib.sha256(data[:-1].replace(member, b"", 1)).hexdigest() == rev


def revision_from_bytes(data: bytes, kinds: Iterable[str] = DEFAULT_KINDS) -> Revision:
    """Parse and fully validate an untrusted revision file. Raises InvalidRevision."""
    doc = _decode(data)
    _check_envelope(doc)
    kind, record_id, rev = doc["kind"], doc["id"], doc["rev"]
    if not isinstance(kind, str) or kind not in set(kinds):
        raise InvalidRevision(f"unknown kind {str(kind)[:40]!r}")
    if not is_valid_record_id(record_id):
        raise InvalidRevision("invalid record id")
    if not isinstance(rev, str) or not _HEX64.fullmatch(rev):
        raise InvalidRevision("rev is not a 64-digit lowercase hex string")
    parents = _check_parents(doc["parents"])
    if rev in parents:
        raise InvalidRevision("revision names itself as a parent")
    author = _check_identity("author", doc["author"])
    device = _check_identity("device", doc["device"])
    try:
        parse_time(doc["time"])
    except ValueError:
        raise InvalidRevision("time is not an ISO-8601 UTC time") from None
    if type(doc["deleted"]) is not bool:
        raise InvalidRevision("deleted must be true or false")
    if not isinstance(doc["body"], dict):
        raise InvalidRevision("body must be a JSON object")
    _check_hash(data, doc, rev)
    return Revision(kind=kind, id=record_id, rev=rev, parents=parents, author=author,
                    device=device, time=doc["time"], deleted=doc["deleted"], body=doc["body"])


def _check_envelope(doc) -> None:
    """A JSON object of a format this techdesk reads, with exactly the known fields."""
    if not isinstance(doc, dict):
        raise InvalidRevision("not a JSON object")
    fmt = doc.get("format")
    if type(fmt) is not int:
        raise InvalidRevision("missing or non-integer format")
    if fmt > FORMAT:
        raise InvalidRevision(f"written by a newer techdesk (format {fmt}; this one reads {FORMAT})")
    if fmt < 1:
        raise InvalidRevision(f"invalid format {fmt}")
    missing = [f for f in FIELDS if f not in doc]
    if missing:
        raise InvalidRevision(f"missing field {missing[0]!r}")
    extra = sorted(set(doc) - _FIELD_SET)
    if extra:
        raise InvalidRevision(f"unexpected field {extra[0][:40]!r}")


def _check_hash(data: bytes, doc: dict, rev: str) -> None:
    """The content hashes to its `rev` (the fast path first, _hash_matches_canonical)."""
    if not _hash_matches_canonical(data, rev):
        try:
            actual = compute_rev(doc)
        except UnicodeEncodeError:
            raise InvalidRevision("text with an unpaired surrogate") from None
    else:
        actual = rev
    if actual != rev:
        raise InvalidRevision("content does not match its hash (rev)")

