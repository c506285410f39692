"""Run history and the audit log, for the CLI and the window."""

from __future__ import annotations

from datetime import datetime, timedelta

from techdesk.core.host_state import HostState, as_utc, host_state, parse_time
from techdesk.store import audit
from techdesk.store import runs as runs_repo


class HistoryService:
    def __init__(self, conn) -> None:
        self.conn = conn

    def host_runs(self, host: str, limit: int = 50):
        return runs_repo.host_runs(self.conn, host, limit)

    def host_result(self, run_id: str, host: str):
        return runs_repo.host_result(self.conn, run_id, host)

    def latest(self, host: str):
        return runs_repo.latest_result(self.conn, host)

    def host_states(self, stale_after: timedelta, hosts: list[str] | None = None,
                    now: datetime | None = None, until: str | None = None) -> dict[str, HostState]:
        """The status of each host in the roster (or of ``hosts``) by the one rule in
        core/host_state.py: what the roster, host page, dashboard, health and reports show.
        ``until`` (an ISO time): only what was known then (health --at replays the past)."""
        now = as_utc(now or datetime.now().astimezone())
        checks = runs_repo.current_checks(self.conn, hosts, until)
        roster = runs_repo.host_attempts(self.conn, hosts, until)
        return {name: host_state(name, checks.get(name, []), attempt, now, stale_after, created,
                                 parse_time(success))
                for name, (created, success, attempt) in roster.items()}

    def current_results(self, host: str):
        """[(CheckResult, at, bundle)]: the current state of each check of ``host``."""
        return runs_repo.current_results(self.conn, host)

    def metric_series(self, host: str, check: str | None = None, metric: str | None = None) -> list[dict]:
        return runs_repo.metric_series(self.conn, host, check, metric)

    def check_history(self, host: str, check: str, limit: int = 50) -> list[dict]:
        return runs_repo.check_history(self.conn, host, check, limit)

    def audit_entries(self, host: str | None = None, limit: int | None = None):
        return audit.entries(self.conn, host, limit)

    def audit_verify(self) -> list[str]:
        return audit.verify(self.conn)
