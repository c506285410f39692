"""The service container: one per workspace, shared by the CLI and the GUI.

Every property is typed; the service modules are imported only when a property is
first used (the imports below are for type checkers only), so a command pays for
what it uses (tests/unit/test_cli_startup.py).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from techdesk.services.roster import RosterService
from techdesk.workspace import Workspace

if TYPE_CHECKING:
    from techdesk.services.actions import ActionService
    from techdesk.services.bundles import BundleService
    from techdesk.services.fix import FixService
    from techdesk.services.history import HistoryService
    from techdesk.services.hostkeys import HostKeyService
    from techdesk.services.monitor import MonitorService
    from techdesk.services.notify_setup import NotifySetup
    from techdesk.services.reports import ReportService
    from techdesk.services.runner import RunService
    from techdesk.services.sessions import SessionService
    from techdesk.services.settings import SettingsService
    from techdesk.services.sync import SyncService
    from techdesk.services.tunnels import TunnelService
    from techdesk.services.work import NotesService, VisitService
    from techdesk.ssh.knownhosts import TrustStore
    from techdesk.ssh.pool import ConnectionPool


class Services:
    """Builds each service on first use, so a command pays only for what it needs."""

    def __init__(self, workspace: Workspace, clock=None) -> None:
        self.workspace = workspace
        self.conn = workspace.open_db()
        self._closed = False
        self.clock = clock  # None: the real time; a callable returning an aware datetime replays history

    @cached_property
    def roster(self) -> RosterService:
        return RosterService(self.conn)

    @cached_property
    def trust(self) -> TrustStore:
        from techdesk.ssh.knownhosts import TrustStore

        user_file = Path.home() / ".ssh" / "known_hosts"
        return TrustStore(self.workspace.known_hosts_path, user_file if user_file.is_file() else None)

    @cached_property
    def hostkeys(self) -> HostKeyService:
        from techdesk.services.hostkeys import HostKeyService

        return HostKeyService(self.trust, self.roster)

    @cached_property
    def bundles(self) -> BundleService:
        from techdesk.services.bundles import BundleService

        return BundleService([self.workspace.bundles_dir])

    @cached_property
    def runner(self) -> RunService:
        from techdesk.services.runner import RunService

        return RunService(self.conn, self.roster, self.trust, self.workspace.technician,
                          self.workspace.settings.device_id, connections=self.connections,
                          clock=self.clock)

    @cached_property
    def connections(self) -> ConnectionPool:
        """Warm SSH connections shared by runs, fixes and commands (closed in close())."""
        from techdesk.services.connections import open_pool

        return open_pool(self)

    @cached_property
    def actions(self) -> ActionService:
        from techdesk.services.actions import ActionService

        return ActionService(self)

    @cached_property
    def fixes(self) -> FixService:
        from techdesk.services.fix import FixService

        return FixService(self)

    @cached_property
    def sessions(self) -> SessionService:
        """Terminal shells and port forwards on the warm connections."""
        from techdesk.services.sessions import SessionService

        return SessionService(self)

    @cached_property
    def tunnels(self) -> TunnelService:
        """Port forwards saved with hosts; started ones run until stopped or closed."""
        from techdesk.services.tunnels import TunnelService

        return TunnelService(self)

    @cached_property
    def history(self) -> HistoryService:
        from techdesk.services.history import HistoryService

        return HistoryService(self.conn)

    @cached_property
    def notes(self) -> NotesService:
        from techdesk.services.work import NotesService

        return NotesService(self.conn, self.roster, self.workspace.technician)

    @cached_property
    def visits(self) -> VisitService:
        from techdesk.services.work import VisitService

        ws = self.workspace
        return VisitService(self.conn, self.roster, ws.technician, ws.path, ws.settings.billing_round_minutes)

    @cached_property
    def sync(self) -> SyncService:
        from techdesk.services.sync import SyncService

        return SyncService(self)

    @cached_property
    def reports(self) -> ReportService:
        from techdesk.services.reports import ReportService

        return ReportService(self)

    @cached_property
    def monitor(self) -> MonitorService:
        from techdesk.services.monitor import MonitorService

        return MonitorService(self)

    @cached_property
    def settings(self) -> SettingsService:
        from techdesk.services.settings import SettingsService

        return SettingsService(self.workspace, self.settings_changed)

    @cached_property
    def notify_setup(self) -> NotifySetup:
        from techdesk.services.notify_setup import NotifySetup

        return NotifySetup(self.settings, self.workspace.technician)

    def settings_changed(self) -> None:
        """Rebuild the services that captured a setting (technician name, rounding)."""
        for name in ("runner", "notes", "visits", "sync", "notify_setup"):
            self.__dict__.pop(name, None)
        if "connections" in self.__dict__:
            from techdesk.services.connections import idle_seconds

            self.connections.idle_s = idle_seconds(self.workspace.settings)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the store; later timers and callbacks check ``closed`` instead of raising."""
        self._closed = True
        if "tunnels" in self.__dict__:
            self.tunnels.stop_all()
        if "connections" in self.__dict__:
            self.connections.shutdown()
        self.conn.close()
