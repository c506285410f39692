"""Unsaved note text, kept on this device until it is saved or discarded.

The note editor writes a draft a moment after each change and when the technician
moves to another host or note, so switching hosts, a crash or a power cut loses
nothing; the draft comes back when its note (or its host's new note) is opened.
Drafts never travel with sync: they are not notes yet.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from techdesk.workspace import atomic_write_text


class DraftStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._drafts: dict[str, dict] | None = None

    def _all(self) -> dict[str, dict]:
        if self._drafts is None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._drafts = {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) \
                    else {}
            except (OSError, ValueError):
                self._drafts = {}  # no file yet, or unreadable: start empty rather than fail the editor
        return self._drafts

    def get(self, key: str) -> dict | None:
        return self._all().get(key)

    def put(self, key: str, values: dict) -> None:
        drafts = self._all()
        drafts[key] = {**values, "saved_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self._write()

    def drop(self, key: str) -> None:
        if self._all().pop(key, None) is not None:
            self._write()

    def _write(self) -> None:
        atomic_write_text(self.path, json.dumps(self._all(), ensure_ascii=False, indent=1) + "\n")


def draft_key(note_id: str | None, host: str | None, client: str | None) -> str:
    """'note:<id>' for an existing note; 'new:host:<name>' / 'new:client:<name>' for a new one."""
    if note_id:
        return f"note:{note_id}"
    return f"new:host:{host}" if host else f"new:client:{client}"
