"""Run history and the audit log, for the CLI and the window."""

from __future__ import annotations

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

    def latest_statuses(self) -> dict[str, tuple[str, str]]:
        return runs_repo.latest_statuses(self.conn)

    def metric_series(self, host: str, check: str | None = None, metric: str | None = None) -> list[dict]:
        return runs_repo.metric_series(self.conn, host, check, metric)

    def check_history(self, host: str, check: str, limit: int = 50) -> list[dict]:
        return runs_repo.check_history(self.conn, host, check, limit)

    def audit_entries(self, host: str | None = None, limit: int | None = None):
        return audit.entries(self.conn, host, limit)

    def audit_verify(self) -> list[str]:
        return audit.verify(self.conn)
