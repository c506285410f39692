"""Run history and the audit log, for the CLI and the window."""

from __future__ import annotations

from datetime import datetime, timedelta

from techdesk.core.host_state import HostState, as_utc, host_state, parse_time
from techdesk.store import audit
from techdesk.store import runs as runs_repo
from techdesk.store.snapshot import TTL_S, StoreSnapshots


class HistoryService:
    def __init__(self, conn, device_id: str = "") -> None:
        self.conn = conn
        self.device_id = device_id  # this device's id in the shared folder (settings)
        self._snapshots = StoreSnapshots(conn)

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
        real = datetime.now().astimezone()
        now = as_utc(now or real)
        compute = lambda: self._host_states(stale_after, hosts, now, until)  # noqa: E731
        if hosts is not None or until is not None or abs((now - real).total_seconds()) >= TTL_S:
            return compute()  # a few hosts (a run's batch), or a replay of another moment: not shared
        # The roster tree and the dashboard read the same moment: one read while the store is unchanged.
        return dict(self._snapshots.get(("host_states", stale_after), compute))

    def _host_states(self, stale_after, hosts, now, until) -> dict[str, HostState]:
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

    def received_runs(self, run_ids: list[str]) -> set[str]:
        """Which of these runs came from another device through the shared folder."""
        return runs_repo.received_runs(self.conn, run_ids, self.device_id)

    def check_history(self, host: str, check: str, limit: int = 50) -> list[dict]:
        return runs_repo.check_history(self.conn, host, check, limit)

    def audit_entries(self, host: str | None = None, limit: int | None = None):
        return audit.entries(self.conn, host, limit)

    def audit_verify(self) -> list[str]:
        return audit.verify(self.conn)
