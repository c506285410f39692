"""The period a care report covers: a calendar month or dates given by the technician.

Dates are the technician's local calendar days; the period is stored as aware UTC
instants [start, end) so it compares with the store's UTC timestamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from techdesk.core.work import WorkError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    start: datetime  # aware UTC, inclusive
    end: datetime    # aware UTC, exclusive
    label: str       # "November 2026" or "2026-11-03 – 2026-11-20"

    @property
    def start_iso(self) -> str:
        return self.start.isoformat(timespec="seconds")

    @property
    def end_iso(self) -> str:
        return self.end.isoformat(timespec="seconds")

    def days(self) -> list[date]:
        """The local calendar days of the period."""
        first = self.start.astimezone().date()
        last = (self.end - timedelta(seconds=1)).astimezone().date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def as_json(self) -> dict:
        return {"start": self.start_iso, "end": self.end_iso, "label": self.label}


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day).astimezone().astimezone(UTC)


def _month(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period(_local_midnight(first), _local_midnight(following), first.strftime("%B %Y"))


def last_month(now: datetime | None = None) -> Period:
    """The last complete calendar month before `now` (local time)."""
    today = (now or datetime.now(UTC)).astimezone().date()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return _month(year, month)


def _date(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WorkError(f"{flag} wants a date like 2026-11-01, not {text!r}") from None


def parse_period(period: str | None = None, start: str | None = None, end: str | None = None,
                 now: datetime | None = None) -> Period:
    """`month` (the last complete month), `YYYY-MM`, or --from/--to dates (both days included;
    --to defaults to today)."""
    if period and (start or end):
        raise WorkError("give either --period or --from/--to, not both")
    if period:
        if period == "month":
            return last_month(now)
        m = _MONTH.match(period)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise WorkError(f"--period wants 'month' or a month like 2026-11, not {period!r}")
        return _month(int(m.group(1)), int(m.group(2)))
    if not start:
        raise WorkError("a care report needs --period month or --from DATE")
    first = _date(start, "--from")
    last = _date(end, "--to") if end else (now or datetime.now(UTC)).astimezone().date()
    if last < first:
        raise WorkError(f"--to {last} is before --from {first}")
    if (last - first).days > 366:
        raise WorkError("a care report covers at most a year")
    return Period(_local_midnight(first), _local_midnight(last + timedelta(days=1)), f"{first} – {last}")
