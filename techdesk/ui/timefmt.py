"""Times for people: stored times are UTC ISO strings; the window shows them in the
local time zone, in a short readable form (never raw ISO)."""

from __future__ import annotations

from datetime import UTC, datetime

from techdesk.core.host_state import parse_time


def local_time(text: str | None, now: datetime | None = None) -> str:
    """'today 14:32', 'yesterday 09:10', 'Tue 28 Nov 14:32', '3 Nov 2025 14:32'; '—' for none."""
    if not text:
        return "—"
    when = parse_time(text)
    if when is None:
        return str(text)
    when = when.astimezone()
    now = (now or datetime.now(UTC)).astimezone()
    days = (now.date() - when.date()).days
    clock = when.strftime("%H:%M")
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    if 0 < days < 7:
        return f"{when.strftime('%a')} {when.day} {when.strftime('%b')} {clock}"
    if when.year == now.year:
        return f"{when.day} {when.strftime('%b')} {clock}"
    return f"{when.day} {when.strftime('%b %Y')} {clock}"


def ago(text: str | None, now: datetime | None = None) -> str:
    """'5 min ago', '3 h ago', '2 days ago' (for stale marks)."""
    if not text:
        return "never"
    when = parse_time(text)
    if when is None:
        return str(text)
    seconds = max(0.0, ((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 3600:
        return f"{round(seconds / 60)} min ago"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"
