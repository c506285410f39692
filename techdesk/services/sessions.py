"""Interactive work on a host over the warm connection pool: terminal shells and port forwards.

The same connection layer as runs: a pooled, host-key-checked, keyring-authenticated
transport (jump chains included); the same host-key and password questions (the
prompts are the run's, passed in by the window); and audit entries when a session or a
forward starts and when it ends, with the bytes moved. A session holds its lease on the
pooled connection until it closes, so the pool never reaps a connection in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from techdesk.core.roster import RosterError
from techdesk.services.runner import EndpointPrompt, Route, plan_route, secret_lookup
from techdesk.ssh.connect import Target, Timeouts
from techdesk.ssh.errors import SshError
from techdesk.ssh.knownhosts import pin_name
from techdesk.store import audit
from techdesk.terminal.forward import LocalForward
from techdesk.terminal.shell import ShellChannel
from techdesk.terminal.transcript import Transcript, transcript_name

HostKeyPrompt = Callable[[Target, object], Awaitable[bool | str]]
SecretPrompt = Callable[[str, str], Awaitable[str | None]]


class SessionError(Exception):
    """A shell or forward could not start: one line for the technician."""


@dataclass
class Prompts:
    """How to ask the technician (the window's dialogs); None = never ask."""

    hostkey: HostKeyPrompt | None = None
    secret: SecretPrompt | None = None
    endpoint: EndpointPrompt | None = None   # a stored secret's host moved: send it anyway?
    accept_new: bool = False


@dataclass(frozen=True)
class ForwardSpec:
    local_port: int          # 0 = any free port
    target_host: str
    target_port: int

    def __str__(self) -> str:
        host = f"[{self.target_host}]" if ":" in self.target_host else self.target_host
        return f"{self.local_port}:{host}:{self.target_port}" if self.local_port else f"{host}:{self.target_port}"


def parse_forward(text: str) -> ForwardSpec:
    """`[LOCAL_PORT:]TARGET_HOST:TARGET_PORT` (an IPv6 target in brackets). Raises SessionError."""
    local, rest = 0, text.strip()
    head, sep, tail = rest.partition(":")
    if sep and head.isdigit() and (tail.count(":") >= 1 or tail.startswith("[")):
        local, rest = int(head), tail
    if rest.startswith("["):
        host, close, port = rest[1:].partition("]")
        if not close or not port.startswith(":"):
            raise SessionError(f"not a forward: {text!r} (expected [LOCAL_PORT:]TARGET_HOST:TARGET_PORT)")
        port = port[1:]
    else:
        host, sep, port = rest.rpartition(":")
        if not sep or ":" in host:
            raise SessionError(f"not a forward: {text!r} (expected [LOCAL_PORT:]TARGET_HOST:TARGET_PORT)")
    if not port.isdigit() or not 0 < int(port) <= 65535 or not 0 <= local <= 65535:
        raise SessionError(f"not a forward: {text!r} (ports are numbers from 1 to 65535)")
    if not host or any(c.isspace() or c in "/@[]" for c in host):
        raise SessionError(f"not a target host: {host!r}")
    return ForwardSpec(local, host, int(port))


@dataclass(frozen=True)
class QuickTarget:
    """`user@host[:port]` typed in the filter bar: a host not (yet) in the roster."""

    user: str
    address: str
    port: int

    def __str__(self) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.user}@{address}" + (f":{self.port}" if self.port != 22 else "")


def parse_quick(text: str) -> QuickTarget | None:
    """`user@host[:port]` (an IPv6 address in brackets), or None when the text is no such
    thing (then it is a filter). Nothing that could be an option or a path: `-`, `/`, spaces."""
    user, at, rest = text.strip().partition("@")
    if not at or not user or not rest or any(c.isspace() or c in "/\\@" for c in user + rest):
        return None
    if user.startswith("-") or rest.startswith("-"):
        return None
    port = "22"
    if rest.startswith("["):
        address, close, tail = rest[1:].partition("]")
        if not close or (tail and not tail.startswith(":")):
            return None
        port = tail[1:] or port
    elif rest.count(":") == 1:
        address, _, port = rest.partition(":")
    elif ":" in rest:
        return None
    else:
        address = rest
    if not address or not port.isdigit() or not 0 < int(port) <= 65535:
        return None
    return QuickTarget(user, address, int(port))


class SessionService:
    def __init__(self, services) -> None:
        self.services = services

    # -- shells ---------------------------------------------------------------------------
    async def open_shell(self, name: str | QuickTarget, columns: int, lines: int,
                         prompts: Prompts | None = None) -> ShellChannel:
        """A started login shell on roster host `name`, or on a quick-connect target (its
        host key is checked and pinned like any host's; nothing is stored in the keyring
        for it), on an xterm-256color PTY. Raises SessionError."""
        loop = asyncio.get_running_loop()
        route = self._route(name) if isinstance(name, str) else self._quick_route(name)
        name = str(name)
        self._audit(name, "terminal", "interactive shell (PTY)", "opening")

        def opened(lease):
            conn = lease.__enter__()
            try:
                return ShellChannel.open(conn.transport, columns, lines,
                                         timeout=conn.timeouts.connect + conn.timeouts.banner)
            except BaseException:
                lease.__exit__(None, None, None)
                raise

        lease = self._lease(route, loop, prompts)
        try:
            shell = await loop.run_in_executor(None, opened, lease)
        except (SshError, OSError, EOFError) as exc:
            message = exc.message if isinstance(exc, SshError) else f"could not open a shell on {name}: {exc}"
            self._audit(name, "terminal-result", message, getattr(exc, "kind", "protocol"))
            raise SessionError(message) from None
        except Exception as exc:  # paramiko.SSHException and kin: one line, never a traceback
            message = f"could not open a shell on {name}: {exc}"
            self._audit(name, "terminal-result", message, "protocol")
            raise SessionError(message) from None

        transcript = self._transcript(name, shell)

        def closed(ch: ShellChannel) -> None:  # reader thread or GUI thread
            with contextlib.suppress(Exception):
                lease.__exit__(None, None, None)
            detail = f"{ch.bytes_in} bytes from the host, {ch.bytes_out} bytes typed"
            if transcript is not None:
                transcript.close()
                detail += f"; transcript {transcript.path}" + (" (capped)" if transcript.capped else "")
            with contextlib.suppress(RuntimeError):  # the loop is gone at exit: nothing to record into
                loop.call_soon_threadsafe(self._audit, name, "terminal-result", detail, "closed")

        shell._on_close = closed
        shell.start()
        return shell

    def _transcript(self, name: str, shell: ShellChannel) -> Transcript | None:
        """The session's transcript when the technician turned them on (Settings), else None.
        A file that cannot be made is said in the audit log; the shell opens all the same."""
        ws = self.services.workspace
        if not ws.settings.terminal_transcript:
            return None
        try:
            transcript = Transcript(ws.transcripts_dir / transcript_name(name, time.time()))
        except OSError as exc:
            self._audit(name, "terminal", f"transcript not written: {exc.strerror or exc}", "error")
            return None
        shell.tap = transcript.write
        shell.transcript_path = str(transcript.path)
        return transcript

    # -- port forwards --------------------------------------------------------------------
    async def open_forward(self, name: str, target_host: str, target_port: int, local_port: int = 0,
                           prompts: Prompts | None = None) -> LocalForward:
        """Listen on 127.0.0.1:local_port (0 = any free port) and carry each connection to
        target_host:target_port as seen from `name`. Raises SessionError."""
        parse_forward(str(ForwardSpec(local_port, target_host, target_port)))  # the same checks
        loop = asyncio.get_running_loop()
        lease, conn = await self._enter(name, loop, prompts)
        what = f"127.0.0.1:{{port}} -> {target_host}:{target_port}"
        try:
            forward = LocalForward(conn.transport, target_host, target_port, local_port)
        except OSError as exc:
            lease.__exit__(None, None, None)
            raise SessionError(f"cannot listen on 127.0.0.1:{local_port}: {exc.strerror or exc}") from None
        self._audit(name, "tunnel", what.format(port=forward.port), "started")

        def stopped(fw: LocalForward) -> None:
            with contextlib.suppress(Exception):
                lease.__exit__(None, None, None)
            detail = (f"{what.format(port=fw.port)}: {fw.connections} connections, "
                      f"{fw.bytes_out} bytes sent, {fw.bytes_in} bytes received")
            outcome = "dropped" if fw.dropped else "stopped"
            if threading.current_thread() is threading.main_thread():  # the store's thread
                self._audit(name, "tunnel-result", detail, outcome)
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._audit, name, "tunnel-result", detail, outcome)

        forward.on_stop = stopped
        forward.start()
        return forward

    # -- files ---------------------------------------------------------------------------
    async def open_files(self, name: str, prompts: Prompts | None = None):
        """An SFTP session on `name` (see services/files.py). Raises SessionError."""
        from techdesk.services.files import FileSession

        loop = asyncio.get_running_loop()
        lease, conn = await self._enter(name, loop, prompts)
        try:
            return await loop.run_in_executor(None, FileSession, self, name, conn,
                                              lambda: lease.__exit__(None, None, None))
        except Exception as exc:
            lease.__exit__(None, None, None)
            raise SessionError(f"{name} refused a file transfer session: {exc}") from None

    # -- shared -------------------------------------------------------------------------
    def _route(self, name: str) -> Route:
        try:
            return plan_route(self.services.roster, self.services.trust, name)
        except RosterError as exc:
            raise SessionError(str(exc)) from None

    def _quick_route(self, quick: QuickTarget) -> Route:
        target = Target(name=str(quick), address=quick.address, port=quick.port, user=quick.user)
        pin = pin_name([(quick.address, quick.port)])
        return Route(chain=[target], endpoints={}, trust=self.services.trust.route({(quick.address, quick.port): pin}))

    async def _enter(self, name: str, loop: asyncio.AbstractEventLoop, prompts: Prompts | None):
        """(lease, connection) on roster host `name`, entered in a worker. Raises SessionError."""
        lease = self._lease(self._route(name), loop, prompts)
        try:
            return lease, await loop.run_in_executor(None, lease.__enter__)
        except SshError as exc:
            raise SessionError(exc.message) from None

    def _lease(self, route: Route, loop: asyncio.AbstractEventLoop, prompts: Prompts | None):
        """A lease on a pooled connection, entered in a worker: the same host-key pins per
        route, endpoint-bound secrets and questions (asked on the loop) as a run."""
        prompts = prompts or Prompts()
        runner = self.services.runner

        def on_hostkey(event: str, target: Target, key, known) -> None:
            asyncio.run_coroutine_threadsafe(runner._audit_hostkey(event, target, key, known), loop).result(30)

        decide = prompts.accept_new
        if prompts.hostkey is not None and not prompts.accept_new:
            def decide(target, key):  # noqa: E306 - runs in a worker, asks on the loop
                return asyncio.run_coroutine_threadsafe(prompts.hostkey(target, key), loop).result()

        return self.services.connections.lease(
            route.chain, route.trust, secrets=secret_lookup(loop, route.endpoints, prompts.secret, prompts.endpoint),
            accept_new=decide, timeouts=Timeouts(), on_hostkey_event=on_hostkey)

    def _audit(self, host: str, action: str, detail: str, outcome: str) -> None:
        ws = self.services.workspace
        audit.append(self.services.conn, technician=ws.technician, device=ws.settings.device_id,
                     host=host, action=action, detail=detail, outcome=outcome)
