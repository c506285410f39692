"""Service notes and visits: the technician's work, as the client will see it."""

from __future__ import annotations

import math
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

    def as_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "body": self.body, "author": self.author,
            "created": self.created, "updated": self.updated, "status": self.status,
            "host": self.host, "client": self.client, "site": self.site,
            "followups": [f.__dict__ for f in self.followups],
            "runs": [r.__dict__ for r in self.runs], "visit": self.visit_id, "conflict": self.conflict,
            "pinned": self.pinned,
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
