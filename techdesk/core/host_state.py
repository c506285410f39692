"""One definition of a host's status, for the roster, the host page, the dashboard,
`techdesk health` and the reports.

A check's *current state* is its latest **completed** result: an END frame with an
exit code, or the check's own timeout. An attempt that produced nothing for a check
(cancelled, unreachable, a run cut short, a bundle that could not start) never
replaces it; the attempt is kept apart as the host's *last attempt*: a failed last
attempt marks the host (hollow badge, "last attempt failed") instead of turning it
Unknown. *Stale* is about age: no completed result for ``stale_after``.

A host's status is the worst current state over all its checks, from any bundle.
Without a single completed result it is "never", or "unknown" when the last attempt
really failed (unreachable, auth, host key): a host we cannot reach is a finding,
a run the technician cancelled is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from techdesk.core.severity import Status

# The runner's messages for a cancelled host (kind "protocol"): an attempt, not a finding.
CANCELLED_BY_TECHNICIAN = "cancelled by the technician"
CANCELLED_BEFORE_START = "cancelled"
CANCELLED_MESSAGES = (CANCELLED_BY_TECHNICIAN, CANCELLED_BEFORE_START)

def is_cancel(error) -> bool:
    """A HostError (or anything with kind and message) that says the run was cancelled."""
    return error is not None and error.kind == "protocol" and error.message in CANCELLED_MESSAGES


STATUS_WORDS = {"ok": "OK", "warn": "Warning", "crit": "Critical", "unknown": "Unknown", "never": "Never checked"}


# slots, not frozen: a roster of 10,000 hosts builds these at start-up (treat them as read-only).
@dataclass(slots=True)
class CheckState:
    """The latest completed result of one check on one host."""

    check_id: str
    title: str
    status: str
    summary: str
    at: str          # ISO time of the run that produced it
    run_id: str


@dataclass(slots=True)
class Attempt:
    """The host's latest run, whatever came of it."""

    at: str
    error_kind: str | None = None
    error_message: str | None = None

    @property
    def failed(self) -> bool:
        return self.error_kind is not None

    @property
    def cancelled(self) -> bool:
        return is_cancel(self)

    @property
    def kind(self) -> str | None:
        return self.error_kind

    @property
    def message(self) -> str | None:
        return self.error_message

    @property
    def text(self) -> str:
        """'cancelled' / 'unreachable: connection refused' / 'completed'."""
        if not self.failed:
            return "completed"
        if self.cancelled:
            return "cancelled"
        return f"{self.error_kind}: {self.error_message}"


@dataclass(slots=True)
class HostState:
    host: str
    status: str                                   # ok | warn | crit | unknown | never
    checks: dict[str, CheckState] = field(default_factory=dict)
    checked: str | None = None                    # when the newest current result was obtained
    attempt: Attempt | None = None                # the latest attempt
    stale: bool = False                           # no completed result for stale_after

    @property
    def marked(self) -> bool:
        """Not confirmed by the latest attempt, or old: the views draw a hollow badge."""
        return self.status != "never" and (self.stale or self.attempt_failed)

    @property
    def attempt_failed(self) -> bool:
        """The latest attempt failed after (or without) the newest completed result."""
        return self.attempt is not None and self.attempt.failed and \
            (self.checked is None or self.attempt.at >= self.checked)

    @property
    def label(self) -> str:
        """'Critical', 'Critical · stale', 'Critical · last attempt cancelled': the status in words."""
        return self._words(short=False)

    @property
    def short_label(self) -> str:
        """For a narrow column: 'Critical · stale', 'Critical · cancelled', 'Critical · unreached'."""
        return self._words(short=True)

    def _words(self, short: bool) -> str:
        word = STATUS_WORDS[self.status]
        if self.status == "never":
            return word
        if self.stale:
            return f"{word} · stale"
        if self.attempt_failed:
            what = "cancelled" if self.attempt.cancelled else ("unreached" if short else "failed")
            return f"{word} · {what}" if short else f"{word} · last attempt {what}"
        return word

    def problems(self) -> list[CheckState]:
        """Current states that are not OK, worst first."""
        bad = [c for c in self.checks.values() if c.status != "ok"]
        return sorted(bad, key=lambda c: (-Status(c.status).rank, c.title.casefold()))


def host_state(host: str, checks: list[CheckState] | dict[str, CheckState], attempt: Attempt | None,
               now: datetime, stale_after: timedelta, created: datetime | str | None = None,
               last_success: datetime | None = None) -> HostState:
    """The rule. ``stale``: no completed result (nor a success the sweeps recorded,
    ``last_success``) for ``stale_after``; counted from ``created`` for a host never
    checked, at once without it."""
    by_id = checks if isinstance(checks, dict) else {c.check_id: c for c in checks}
    checked = None
    if by_id:
        status = max((Status(c.status) for c in by_id.values()), key=lambda s: s.rank).value
        checked = max(c.at for c in by_id.values())
    elif attempt is not None and attempt.failed and not attempt.cancelled:
        status = "unknown"
    else:
        status = "never"
    reference = max(filter(None, [parse_time(checked), last_success]), default=None) \
        or (parse_time(created) if isinstance(created, str) else created)
    old = reference is None or as_utc(now) - as_utc(reference) >= stale_after
    return HostState(host, status, by_id, checked, attempt, old)


def parse_time(text: str | None) -> datetime | None:
    """A stored time as aware UTC (naive means UTC); None when it is none or not one."""
    if not text:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return None


def as_utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
