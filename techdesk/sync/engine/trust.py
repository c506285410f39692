"""What the engine does not take on trust from the shared folder (docs/sync-format.md,
"Trust model"). Anyone with write access to the folder can write a valid revision, so:

- a revision that claims this device's id but was not written here is suspicious;
- a time more than SKEW ahead of this device's clock is refused, so a run dated 2099
  can never pass for the newest result of a host;
- every string is cleaned like remote check output before it is stored;
- a sync that would delete many records holds the deletions until they are allowed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from techdesk.diagnostics.sanitize import clean_text
from techdesk.store import fields

from ..format.revisions import Revision

SKEW = timedelta(minutes=10)
# A sync holds its deletions of a kind when they are more than this many records AND
# more than this share of the local records of that kind.
MASS_DELETE_COUNT = 10
MASS_DELETE_SHARE = 0.2

# What clean_text would change (ESC, CR and other controls, bidi): most text needs nothing.
_NEEDS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_ESCAPED = ("\\u00", "\\u007f", "\\b", "\\f", "\\r", "\x7f")

_TIMES = {  # body keys holding times, per kind (the flat kinds' come from store/fields.py)
    **{kind: tuple(f.key for f in spec.fields if f.type.startswith("time")) for kind, spec in fields.FLAT.items()},
    "host": ("created", "updated"), "client": ("updated",), "site": ("updated",),
    "run": ("started", "finished"),
}


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None  # the codec reports malformed times
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _times(kind: str, body: dict):
    for key in _TIMES.get(kind, ()):
        yield key, body.get(key)
    if kind == "run":
        for host in body.get("hosts") or ():
            if isinstance(host, dict):
                yield "hosts.started", host.get("started")
                for check in host.get("checks") or ():
                    for metric in (check.get("metrics") or ()) if isinstance(check, dict) else ():
                        if isinstance(metric, dict):
                            yield "metrics.ts", metric.get("ts")


def future_time(rev: Revision, now: datetime) -> str | None:
    """Why the revision is dated too far ahead of `now`, or None."""
    limit = now + SKEW
    if (_parse(rev.time) or now) > limit:
        return f"dated in the future ({rev.time}; more than {_minutes()} ahead of this device's clock)"
    if rev.deleted or not isinstance(rev.body, dict):
        return None
    for key, value in _times(rev.kind, rev.body):
        moment = _parse(value)
        if moment is not None and moment > limit:
            return f"{key} is in the future ({value}; more than {_minutes()} ahead of this device's clock)"
    return None


def _minutes() -> str:
    return f"{int(SKEW.total_seconds() // 60)} minutes"


def screen(incoming: list[Revision], device: str, own_revs: set[str],
           now: datetime | None = None) -> tuple[list[Revision], list[tuple[Revision, str, bool]]]:
    """(accepted, [(revision, reason, suspicious)]). `own_revs`: the revisions of those
    claiming `device` that this store knows (written here)."""
    now = now or datetime.now(UTC)
    accepted, refused = [], []
    for rev in incoming:
        if rev.device == device and rev.rev not in own_revs:
            refused.append((rev, f"suspicious: claims to come from this device ({device}) but was not "
                                 "written by it; not applied", True))
            continue
        reason = future_time(rev, now)
        if reason:
            refused.append((rev, f"{reason}; not applied", False))
        else:
            accepted.append(rev)
    return accepted, refused


def needs_cleaning(json_text: str) -> bool:
    """Whether a body, given as its canonical JSON, may hold something clean() removes.
    In that JSON a C0 control is an escape (\\u00XX, \\b, \\f, \\r); DEL, C1 and bidi
    controls are themselves. Pure ASCII (known in O(1)) needs a few substring searches
    only; a false alarm (a literal backslash) costs a clean() that changes nothing."""
    if json_text.isascii():
        return any(s in json_text for s in _ESCAPED)
    return any(s in json_text for s in _ESCAPED) or _NEEDS.search(json_text) is not None


def clean(value):
    """Every string in a body cleaned like remote check output (escapes, C0/C1, bidi)."""
    if isinstance(value, str):
        return clean_text(value) if _NEEDS.search(value) else value
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def is_mass_deletion(deleting: int, local: int) -> bool:
    return deleting > MASS_DELETE_COUNT and deleting > MASS_DELETE_SHARE * local

