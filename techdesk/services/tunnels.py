"""Port forwards saved with a host, started and stopped from the window or the CLI.

A saved tunnel is a host's `[LOCAL_PORT:]TARGET_HOST:TARGET_PORT` with a label ("RDP to
the reception PC"); it lives in the host's row family (deleted with the host). Starting
one is services.sessions.open_forward: 127.0.0.1 only, the pooled transport, audited
with the bytes moved. "Open" is launch_plan(): the system's RDP client or browser on the
forwarded port where the target port says what is behind it.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass

from techdesk.core.roster import RosterError
from techdesk.services.sessions import ForwardSpec, Prompts, SessionError, parse_forward
from techdesk.terminal.forward import LocalForward

RDP_PORTS = frozenset({3389})
HTTPS_PORTS = frozenset({443, 8443, 9443, 10443})
HTTP_PORTS = frozenset({80, 8000, 8080, 8081, 8888, 3000, 5000, 9000, 9090})
MAX_LABEL = 80


@dataclass(frozen=True)
class SavedTunnel:
    id: int
    host: str
    label: str
    spec: ForwardSpec

    def as_json(self) -> dict:
        return {"id": self.id, "host": self.host, "label": self.label, "local_port": self.spec.local_port,
                "target_host": self.spec.target_host, "target_port": self.spec.target_port}


@dataclass(frozen=True)
class Launch:
    """How to open a forwarded port: a URL for the desktop, or a program to run."""

    what: str                     # "browser" or "rdp"
    url: str | None = None
    argv: tuple[str, ...] = ()


def launch_plan(target_port: int, local_port: int, platform: str = sys.platform,
                which=shutil.which) -> Launch | None:
    """What "Open" does for a forward to target_port, now on 127.0.0.1:local_port; None when
    the port says nothing we know how to open."""
    where = f"127.0.0.1:{local_port}"
    if target_port in HTTPS_PORTS:
        return Launch("browser", url=f"https://{where}/")
    if target_port in HTTP_PORTS:
        return Launch("browser", url=f"http://{where}/")
    if target_port in RDP_PORTS:
        if platform == "win32":
            return Launch("rdp", argv=("mstsc", f"/v:{where}"))
        if platform == "darwin":  # Microsoft Remote Desktop registers rdp: URLs
            return Launch("rdp", url=f"rdp://full%20address=s:{where}")
        for program, argv in (("xfreerdp3", ("xfreerdp3", f"/v:{where}")), ("xfreerdp", ("xfreerdp", f"/v:{where}")),
                              ("remmina", ("remmina", "-c", f"rdp://{where}"))):
            if which(program):
                return Launch("rdp", argv=argv)
        return None
    return None


class TunnelService:
    def __init__(self, services) -> None:
        self.services = services
        self.running: dict[int, LocalForward] = {}   # saved tunnel id -> its live forward

    # -- saved with the host ---------------------------------------------------------------
    def saved(self, host: str) -> list[SavedTunnel]:
        rows = self.services.conn.execute(
            "SELECT t.id, h.name, t.label, t.local_port, t.target_host, t.target_port FROM tunnels t"
            " JOIN hosts h ON h.id = t.host_id WHERE h.name = ? ORDER BY t.id", (host,)).fetchall()
        return [SavedTunnel(r[0], r[1], r[2], ForwardSpec(r[3], r[4], r[5])) for r in rows]

    def get(self, tunnel_id: int) -> SavedTunnel:
        row = self.services.conn.execute(
            "SELECT t.id, h.name, t.label, t.local_port, t.target_host, t.target_port FROM tunnels t"
            " JOIN hosts h ON h.id = t.host_id WHERE t.id = ?", (tunnel_id,)).fetchone()
        if row is None:
            raise SessionError(f"no saved tunnel {tunnel_id}")
        return SavedTunnel(row[0], row[1], row[2], ForwardSpec(row[3], row[4], row[5]))

    def find(self, host: str, label_or_spec: str) -> SavedTunnel | None:
        for t in self.saved(host):
            if t.label == label_or_spec or str(t.spec) == label_or_spec:
                return t
        return None

    def save(self, host: str, spec: str | ForwardSpec, label: str = "") -> SavedTunnel:
        """Save a forward with the host. Raises SessionError (bad spec) or RosterError."""
        spec = parse_forward(spec) if isinstance(spec, str) else parse_forward(str(spec))
        label = " ".join(label.split())[:MAX_LABEL] or str(spec)
        host_id = self.services.roster.get(host).id
        if host_id is None:
            raise RosterError(f"unknown host: {host}")
        if self.find(host, label) is not None:
            raise SessionError(f"{host} already has a tunnel called {label!r}")
        with self.services.conn:
            cur = self.services.conn.execute(
                "INSERT INTO tunnels (host_id, label, local_port, target_host, target_port) VALUES (?,?,?,?,?)",
                (host_id, label, spec.local_port, spec.target_host, spec.target_port))
        return self.get(cur.lastrowid)

    def remove(self, tunnel_id: int) -> None:
        self.stop(tunnel_id)
        with self.services.conn:
            self.services.conn.execute("DELETE FROM tunnels WHERE id = ?", (tunnel_id,))

    # -- running ---------------------------------------------------------------------------
    async def start(self, tunnel_id: int, prompts: Prompts | None = None) -> LocalForward:
        """Start a saved tunnel (already running: the running one). Raises SessionError."""
        forward = self.running.get(tunnel_id)
        if forward is not None and forward.active:
            return forward
        t = self.get(tunnel_id)
        forward = await self.services.sessions.open_forward(t.host, t.spec.target_host, t.spec.target_port,
                                                            t.spec.local_port, prompts)
        self.running[tunnel_id] = forward
        return forward

    def stop(self, tunnel_id: int) -> None:
        forward = self.running.pop(tunnel_id, None)
        if forward is not None:
            forward.stop()   # writes the audit entry with the bytes moved

    def stop_all(self) -> None:
        for tunnel_id in list(self.running):
            self.stop(tunnel_id)

    def launch(self, tunnel_id: int) -> Launch | None:
        forward = self.running.get(tunnel_id)
        if forward is None or not forward.active:
            return None
        return launch_plan(self.get(tunnel_id).spec.target_port, forward.port)
