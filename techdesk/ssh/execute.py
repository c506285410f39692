"""Run one command in ONE SSH session: stdin in, stdout+stderr streamed out, exit status back.

Sending stdin and reading output are interleaved in one loop, so neither a big script nor
a chatty command can deadlock on SSH flow control. Nothing here blocks forever when a
deadline or a cancel event is given: a watchdog closes the transport if paramiko itself
gets stuck past them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import paramiko

from techdesk.ssh.errors import Cancelled, SshError

if TYPE_CHECKING:
    from techdesk.ssh.connect import Target, Timeouts

SEND_CHUNK = 32768
READ_CHUNK = 65536
POLL = 0.2  # how often cancel and the deadline are looked at
GRACE = 2.0  # how long past a deadline/cancel before the watchdog closes the transport


class StdinFeed(Protocol):
    """stdin that is not all known up front (a conversation with the command)."""

    def take(self) -> bytes:
        """What to send now (b"" if nothing yet)."""

    @property
    def closed(self) -> bool:
        """True once take() will never return more: stdin is then closed."""


LINGER_S = 5.0  # how long a session that has answered may take to end on its own
# At most this many linger when a run opens a session (the oldest are closed first): a
# host that leaves a holder in every run must not use up its server's MaxSessions (10
# by default for OpenSSH), or the next run there is refused a session.
MAX_LINGERING = 2
CLOSE_GRACE_S = 0.25  # close(): how long a session that just answered may take to end


def _server_closed(transport: paramiko.Transport, chan: paramiko.Channel) -> bool:
    """The server has answered our close of `chan` (paramiko then drops it from the
    transport's channels; without that private map, assume it has)."""
    channels = getattr(transport, "_channels", None)
    return channels is None or channels.get(chan.chanid) is not chan


def _answered(feed: StdinFeed | None) -> bool:
    """A feed may say the command has answered all it was asked (``complete``: every
    check of a bundle has its END). The run then returns at once, without waiting for
    the shell to exit or for a process it left holding the output: exit status -1."""
    return feed is not None and bool(getattr(feed, "complete", False))


class Connection:
    """An authenticated connection to the last target of a chain; a context manager."""

    def __init__(self, chain: list[Target], transports: list[paramiko.Transport],
                 timeouts: Timeouts) -> None:
        self.chain = list(chain)
        self.target = self.chain[-1]
        self.transports = list(transports)
        self.transport: paramiko.Transport = self.transports[-1]
        self.host_key: paramiko.PKey = self.transport.get_remote_server_key()
        self.timeouts = timeouts
        self._lock = threading.Lock()
        self._closed = False
        # Sessions that answered and are ending on the server's side: (since, channel).
        self._lingering: list[tuple[float, paramiko.Channel]] = []

    def run(self, command: str, stdin: bytes | StdinFeed, on_output: Callable[[bytes], None], *,
            deadline: float | None = None, cancel: threading.Event | None = None) -> int:
        """Exit status of `command` (-1 if the server sent none); output goes to on_output.

        deadline: a time.monotonic() value. Raises SshError ("timeout", "unreachable",
        "protocol") or Cancelled.
        """
        if self._closed:
            raise SshError("protocol", f"connection to {self.target.name} is closed",
                           target=self.target.name)
        self._end_lingering(time.monotonic() - LINGER_S, keep=MAX_LINGERING)
        return run_command(self.transport, command, stdin, on_output, deadline=deadline,
                           cancel=cancel, where=self.target.name,
                           open_timeout=self.timeouts.connect + self.timeouts.banner,
                           linger=self._linger)

    def _linger(self, chan: paramiko.Channel) -> None:
        """Keep a session that answered until the server ends it (paramiko then closes
        it): no wait for the shell's exit on the run's path."""
        with self._lock:
            self._lingering.append((time.monotonic(), chan))

    def _end_lingering(self, before: float, keep: int) -> None:
        """Close lingering sessions that started lingering before `before` (a process
        left holding their output) and all but the newest `keep`; forget those the
        server has ended."""
        with self._lock:
            last = len(self._lingering) - keep
            stale = [c for i, (since, c) in enumerate(self._lingering)
                     if since < before or c.closed or i < last]
            self._lingering = [(since, c) for since, c in self._lingering if c not in stale]
        for chan in stale:
            with contextlib.suppress(Exception):
                chan.close()
        # The server frees a session only once it has handled our close: a session opened
        # right away could still find it counted against MaxSessions and be refused.
        until = time.monotonic() + CLOSE_GRACE_S
        while (any(not _server_closed(self.transport, c) for c in stale)
               and self.transport.is_active() and time.monotonic() < until):
            time.sleep(0.002)

    def is_active(self) -> bool:
        return not self._closed and all(t.is_active() for t in self.transports)

    def close(self) -> None:
        """Close every hop, innermost first. Idempotent. A session that answered less
        than a second ago is most likely its shell exiting: it gets up to CLOSE_GRACE_S
        to end, so the server sees a clean close, not a reset. Older ones are held by a
        process left behind and are not waited for (the pool closes under its lock,
        on the window's thread too)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            now = time.monotonic()
            ending = [c for since, c in self._lingering if now - since < 1.0 and not c.closed]
            self._lingering = []
        until = now + CLOSE_GRACE_S
        while any(not c.closed for c in ending) and self.transport.is_active() and time.monotonic() < until:
            time.sleep(0.005)
        for transport in reversed(self.transports):
            transport.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        route = " -> ".join(t.name for t in self.chain)
        return f"<Connection {route}{' (closed)' if self._closed else ''}>"


def run_command(transport: paramiko.Transport, command: str, stdin: bytes | StdinFeed,
                on_output: Callable[[bytes], None], *, deadline: float | None = None,
                cancel: threading.Event | None = None, where: str = "host",
                open_timeout: float = 20.0,
                linger: Callable[[paramiko.Channel], None] | None = None) -> int:
    """`Connection.run` on a bare authenticated transport. With `linger`, a session whose
    feed has answered is handed to it instead of being closed (see _answered)."""
    run = _Run(transport, where, deadline, cancel)
    run.early = linger is not None
    run.check()
    watchdog = _Watchdog(transport, deadline, cancel) if deadline or cancel else None
    try:
        run.open(command, open_timeout)
        return run.pump(stdin, on_output)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        error = run.failure(exc)
        if isinstance(error, SshError):
            error.nothing_sent = run.chan is None  # no session: the command never left us
        raise error from exc
    finally:
        if watchdog is not None:
            watchdog.stop()
        if run.answered and linger is not None and run.chan is not None:
            linger(run.chan)
        else:
            run.close_channel()


class _Run:
    def __init__(self, transport: paramiko.Transport, where: str, deadline: float | None,
                 cancel: threading.Event | None) -> None:
        self.transport = transport
        self.where = where
        self.deadline = deadline
        self.cancel = cancel
        self.chan: paramiko.Channel | None = None
        self.early = False     # may return once the feed has answered (_answered)
        self.answered = False  # did, leaving the session to end on its own

    def check(self) -> None:
        """Raise Cancelled / timeout when it is time to stop."""
        if self.cancel is not None and self.cancel.is_set():
            self.close_channel()
            raise Cancelled(f"run on {self.where} cancelled")
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.close_channel()
            raise SshError("timeout", f"command on {self.where} passed its deadline and was "
                           "stopped", target=self.where)

    def failure(self, exc: BaseException) -> BaseException:
        """Translate a paramiko/socket error (the watchdog may have caused it)."""
        try:
            self.check()
        except (Cancelled, SshError) as stop:
            return stop
        if not self.transport.is_active() or isinstance(exc, EOFError):
            return SshError("unreachable", f"connection lost during run on {self.where}",
                            target=self.where)
        if isinstance(exc, paramiko.ChannelException):
            return SshError("protocol", f"{self.where} refused a session: {exc.text}",
                            target=self.where)
        if "timeout" in str(exc).lower():
            return SshError("timeout", f"{self.where} did not open a session in time",
                            target=self.where)
        return SshError("protocol", f"running a command on {self.where} failed: {exc}",
                        target=self.where)

    def open(self, command: str, open_timeout: float) -> None:
        if self.deadline is not None:
            open_timeout = max(0.1, min(open_timeout, self.deadline - time.monotonic()))
        self.chan = self.transport.open_session(timeout=open_timeout)
        self.chan.set_combine_stderr(True)  # one stream: a chatty stderr cannot deadlock us
        self.chan.exec_command(command)

    def pump(self, stdin: bytes | StdinFeed, on_output: Callable[[bytes], None]) -> int:
        chan = self.chan
        assert chan is not None
        feed = None if isinstance(stdin, bytes | bytearray) else stdin
        data = bytes(stdin) if feed is None else b""
        pos, eof_sent = 0, False
        while True:
            self.check()
            if feed is not None and not eof_sent:
                data = data[pos:] + feed.take()  # what on_output asked us to send
                pos = 0
            if not eof_sent:
                try:
                    while pos < len(data) and chan.send_ready():
                        sent = chan.send(data[pos:pos + SEND_CHUNK])
                        if sent == 0:  # channel closed: the command stopped reading
                            pos = len(data)
                        pos += sent
                    if pos >= len(data) and (feed is None or feed.closed):
                        chan.shutdown_write()
                        eof_sent = True
                except OSError:  # "Socket is closed": same, unless the transport died
                    if not self.transport.is_active():
                        raise
                    eof_sent = True
            # Short naps while stdin waits for window; a feed gets more only from on_output.
            wait = POLL if eof_sent or pos >= len(data) else 0.02
            if self.deadline is not None:
                wait = max(0.001, min(wait, self.deadline - time.monotonic()))
            chan.settimeout(wait)
            try:
                chunk = chan.recv(READ_CHUNK)
            except TimeoutError:
                continue
            if not chunk:
                break
            on_output(chunk)
            if self.early and _answered(feed):
                self.answered = True
                return -1
        while not chan.status_event.wait(POLL):
            self.check()
            if not self.transport.is_active():
                break
        return self.exit_status()

    def exit_status(self) -> int:
        chan = self.chan
        assert chan is not None
        status = chan.exit_status if chan.exit_status_ready() else -1
        if status == -1:
            # No status: a command killed by a signal, or a connection that died. paramiko
            # closes channels before marking the transport dead, so give it a moment.
            self.transport.join(0.5)
            died = isinstance(self.transport.saved_exception, EOFError | OSError)
            if not self.transport.is_active() or died:
                self.check()
                raise SshError("unreachable", f"connection lost during run on {self.where}",
                               target=self.where)
        return status

    def close_channel(self) -> None:
        if self.chan is not None:
            with contextlib.suppress(Exception):  # the transport may already be gone
                self.chan.close()


class _Watchdog:
    """Closes the transport if the run is still stuck GRACE s after its deadline/cancel."""

    def __init__(self, transport: paramiko.Transport, deadline: float | None,
                 cancel: threading.Event | None) -> None:
        self._transport = transport
        self._deadline = deadline
        self._cancel = cancel
        self._done = threading.Event()
        self.fired = False
        threading.Thread(target=self._watch, name="techdesk-ssh-watchdog", daemon=True).start()

    def _watch(self) -> None:
        cancelled_at = None
        while not self._done.wait(POLL):
            now = time.monotonic()
            if cancelled_at is None and self._cancel is not None and self._cancel.is_set():
                cancelled_at = now
            late = self._deadline is not None and now > self._deadline + GRACE
            if late or (cancelled_at is not None and now > cancelled_at + GRACE):
                self.fired = True
                self._transport.close()
                return

    def stop(self) -> None:
        self._done.set()
