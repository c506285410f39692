"""Service notes and visits: the technician's work, as the client will see it."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

NOTE_STATUSES = ("open", "resolved")


class WorkError(ValueError):
    """Bad input for a note or visit."""


@dataclass
class Followup:
    text: str
    done: bool = False


@dataclass
class AttachedRun:
    """A run's findings copied into a note as they were: later runs never change them."""

    run_id: str
    host: str
    bundle: str
    started: str
    status: str
    findings: list[dict] = field(default_factory=list)  # CheckResult.as_json() without output
    error: dict | None = None


ATTACHMENT_CAP = 2 * 1024 * 1024   # bytes per attached file: logs and screenshots, not disk images
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Windows devices (any extension): "Save a copy" of "CON.txt" would write to the device.
_DEVICE = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?", re.IGNORECASE)


@dataclass
class Attachment:
    """A file kept with a note, stored by the SHA-256 of its content (content-addressed)."""

    name: str       # shown to the technician; a plain file name, never a path
    sha256: str
    size: int
    source: str = ""   # where it came from: "host:/var/log/x.log" or "local"


def attachment_problem(name, sha256, size) -> str | None:
    """Why these are not a valid attachment (one line), or None. The one rule for a name
    typed here, a remote file's name and a teammate's synced record."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        return "the name must be 1 to 200 characters"
    # The name is shown and saved under as it is: no path, no control or invisible/bidi
    # character (U+202E shows "x\u202efdp.exe" as "xexe.pdf"), and a name every teammate's
    # system can save (Windows: no device, no <>:"|?*, no trailing dot or space).
    if name in (".", "..") or any(c in name for c in '/\\:<>"|?*') or name[-1] in ". " \
            or _DEVICE.fullmatch(name) or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        return f"the name {name[:60]!r} is not a plain file name"
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        return "the hash is not a SHA-256 in lower-case hex"
    if type(size) is not int or size < 0:
        return "the size is not a whole number of bytes"
    if size > ATTACHMENT_CAP:
        return too_big(name, size)
    return None


def too_big(name: str, size: int) -> str:
    return (f"{name} is {size / 1048576:.1f} MB; a note's attachments are capped at "
            f"{ATTACHMENT_CAP // 1048576} MB each")


@dataclass
class Note:
    id: str
    title: str
    body: str
    author: str
    created: str
    updated: str
    status: str = "open"
    host: str | None = None
    client: str | None = None
    site: str | None = None
    followups: list[Followup] = field(default_factory=list)
    runs: list[AttachedRun] = field(default_factory=list)
    visit_id: str | None = None
    conflict: bool = False
    pinned: bool = False  # "know before you go": first in the visit briefing
    attachments: list[Attachment] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "body": self.body, "author": self.author,
            "created": self.created, "updated": self.updated, "status": self.status,
            "host": self.host, "client": self.client, "site": self.site,
            "followups": [f.__dict__ for f in self.followups],
            "runs": [r.__dict__ for r in self.runs], "visit": self.visit_id, "conflict": self.conflict,
            "pinned": self.pinned, "attachments": [a.__dict__ for a in self.attachments],
        }


@dataclass
class ChecklistItem:
    text: str
    done: bool = False


@dataclass
class Visit:
    id: str
    client: str
    site: str | None
    technician: str
    started: str
    stopped: str | None = None
    summary: str = ""
    checklist: list[ChecklistItem] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    billable_minutes: int | None = None

    @property
    def running(self) -> bool:
        return self.stopped is None

    def minutes_on_site(self, now: datetime | None = None) -> float:
        start = datetime.fromisoformat(self.started)
        end = datetime.fromisoformat(self.stopped) if self.stopped else (now or datetime.now(start.tzinfo))
        return max(0.0, (end - start).total_seconds() / 60)

    def as_json(self, notes: list[str] | None = None) -> dict:
        return {
            "id": self.id, "client": self.client, "site": self.site, "technician": self.technician,
            "started": self.started, "stopped": self.stopped, "running": self.running,
            "minutes": round(self.minutes_on_site(), 1), "billable_minutes": self.billable_minutes,
            "summary": self.summary, "checklist": [c.__dict__ for c in self.checklist],
            "hosts": list(self.hosts), "runs": list(self.runs), "notes": notes or [],
        }


def billable(minutes: float, round_to: int) -> int:
    """Billable minutes, rounded UP to the next block (a started quarter hour counts)."""
    if round_to <= 1:
        return math.ceil(minutes)
    return int(math.ceil(minutes / round_to) * round_to) if minutes > 0 else 0
