"""The service container: one per workspace, shared by the CLI and the GUI."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from techdesk.services.roster import RosterService
from techdesk.workspace import Workspace


class Services:
    """Builds each service on first use, so a command pays only for what it needs."""

    def __init__(self, workspace: Workspace, clock=None) -> None:
        self.workspace = workspace
        self.conn = workspace.open_db()
        self.clock = clock  # None: the real time; a callable returning an aware datetime replays history

    @cached_property
    def roster(self) -> RosterService:
        return RosterService(self.conn)

    @cached_property
    def trust(self):
        from techdesk.ssh.knownhosts import TrustStore

        user_file = Path.home() / ".ssh" / "known_hosts"
        return TrustStore(self.workspace.known_hosts_path, user_file if user_file.is_file() else None)

    @cached_property
    def hostkeys(self):
        from techdesk.services.hostkeys import HostKeyService

        return HostKeyService(self.trust, self.roster)

    @cached_property
    def bundles(self):
        from techdesk.services.bundles import BundleService

        return BundleService([self.workspace.bundles_dir])

    @cached_property
    def runner(self):
        from techdesk.services.runner import RunService

        return RunService(self.conn, self.roster, self.trust, self.workspace.technician,
                          self.workspace.settings.device_id, clock=self.clock)

    @cached_property
    def history(self):
        from techdesk.services.history import HistoryService

        return HistoryService(self.conn)

    @cached_property
    def notes(self):
        from techdesk.services.work import NotesService

        return NotesService(self.conn, self.roster, self.workspace.technician)

    @cached_property
    def visits(self):
        from techdesk.services.work import VisitService

        ws = self.workspace
        return VisitService(self.conn, self.roster, ws.technician, ws.path, ws.settings.billing_round_minutes)

    @cached_property
    def sync(self):
        from techdesk.services.sync import SyncService

        return SyncService(self)

    @cached_property
    def reports(self):
        from techdesk.services.reports import ReportService

        return ReportService(self)

    @cached_property
    def monitor(self):
        from techdesk.services.monitor import MonitorService

        return MonitorService(self)

    def settings_changed(self) -> None:
        """Rebuild the services that captured a setting (technician name, rounding)."""
        for name in ("runner", "notes", "visits", "sync"):
            self.__dict__.pop(name, None)

    def close(self) -> None:
        self.conn.close()
