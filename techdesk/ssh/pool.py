"""Warm connections: one authenticated transport per host, kept open between uses.

The idea of OpenSSH's ControlPersist, inside the process. Runs, fixes, ad-hoc commands
(and later terminals, file transfers and tunnels) lease a host's connection and open
channels on it instead of paying a handshake and authentication again.

Trust rules for reuse (checked on every lease, not just when the connection was made):
- same route: every hop's name, address, port, user and key file (path, size, mtime);
- the key each hop presented is still pinned ("known") in the trust store;
- the host's secrets did not change since (forget_host() on a keyring change);
- nothing that invalidates all of them happened: sleep, network change, exit.
A connection found dead when a command starts (nothing sent yet) is replaced ONCE by a
fresh one; anything that fails after the command was sent is the caller's error, never
retried into a second run.

Blocking code, thread-safe; a daemon "reaper" thread closes idle and dead connections.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import paramiko

from techdesk.ssh.connect import Target, connect
from techdesk.ssh.errors import SshError
from techdesk.ssh.execute import Connection
from techdesk.ssh.knownhosts import TrustStore

log = logging.getLogger(__name__)

DEFAULT_IDLE_S = 300.0
KEEPALIVE_S = 15.0  # an idle connection is probed this often ...
PROBE_TIMEOUT_S = 10.0  # ... and closed when the server does not answer within this
TICK_S = 1.0
SLEEP_JUMP_S = 5.0  # the clocks drifting apart by more than this means the machine slept

Hop = tuple[str, str, int, str | None, str | None, tuple[int, int] | None]


def route_identity(chain: list[Target]) -> tuple[Hop, ...]:
    """What a pooled connection must still match to be reused for `chain`."""
    hops = []
    for t in chain:
        stamp = None
        if t.key_file:
            with contextlib.suppress(OSError):
                st = os.stat(os.path.expanduser(t.key_file))
                stamp = (st.st_size, st.st_mtime_ns)
        hops.append((t.name, t.address.strip().lower(), int(t.port), t.user, t.key_file, stamp))
    return tuple(hops)


@dataclass
class _Entry:
    conn: Connection
    identity: tuple[Hop, ...]
    trust: TrustStore
    users: int = 0
    last_used: float = field(default_factory=time.monotonic)
    last_probe: float = field(default_factory=time.monotonic)
    retired: bool = False  # no new leases; closed when the last user lets go

    @property
    def names(self) -> set[str]:
        return {hop[0] for hop in self.identity}


class ConnectionPool:
    """Warm connections keyed by host name. idle_s = 0: close each one as soon as it is free."""

    def __init__(self, idle_s: float = DEFAULT_IDLE_S, *, keepalive_s: float = KEEPALIVE_S,
                 probe_timeout_s: float = PROBE_TIMEOUT_S,
                 connector: Callable[..., Connection] = connect) -> None:
        self.idle_s = float(idle_s)
        self.keepalive_s = keepalive_s
        self.probe_timeout_s = probe_timeout_s
        self._connect = connector
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._reaper: threading.Thread | None = None
        self._stop = threading.Event()
        self.opened = 0  # connections made; the tests and the benchmark read it

    # -- leasing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def lease(self, chain: list[Target], trust: TrustStore, **connect_kwargs) -> Iterator[Connection]:
        """A connection to chain[-1], warm if one matches; held until the block ends."""
        entry, _ = self._acquire(chain, trust, connect_kwargs)
        try:
            yield entry.conn
        finally:
            self._release(entry)

    def run(self, chain: list[Target], trust: TrustStore, command: str, stdin: bytes,
            on_output: Callable[[bytes], None], *, deadline: float | None = None,
            cancel: threading.Event | None = None, before_send: Callable[[], None] | None = None,
            connect_deadline: float | None = None, **connect_kwargs) -> int:
        """`Connection.run` on a warm or new connection; replaces a dead warm one once.

        before_send() is called once, after the connection is up and before anything is sent.
        connect_deadline bounds a new connection's handshake and authentication. A run that
        ends in anything but its exit status or an SSH error (cancelled, or stopped because
        the host tampered with its results) closes the connection: it is never kept warm.
        """
        if connect_deadline is not None:
            connect_kwargs["deadline"] = connect_deadline
        announced = False
        for attempt in (1, 2):
            entry, reused = self._acquire(chain, trust, connect_kwargs)
            try:
                if not announced and before_send is not None:
                    before_send()
                announced = True
                return entry.conn.run(command, stdin, on_output, deadline=deadline, cancel=cancel)
            except SshError as exc:
                dead = not entry.conn.is_active() or exc.kind == "unreachable"
                if dead:
                    self._discard(entry)
                if attempt == 1 and reused and dead and exc.nothing_sent:
                    log.info("warm connection to %s was dead; connecting again", chain[-1].name)
                    continue
                raise
            except BaseException:
                self._discard(entry)
                raise
            finally:
                self._release(entry)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _acquire(self, chain: list[Target], trust: TrustStore, kwargs: dict) -> tuple[_Entry, bool]:
        name = chain[-1].name
        identity = route_identity(chain)
        with self._lock:
            host_lock = self._host_locks.setdefault(name, threading.Lock())
        with host_lock:  # one handshake per host at a time; the second caller reuses it
            with self._lock:
                entry = self._entries.get(name)
                if entry is not None and self._usable(entry, identity, trust):
                    entry.users += 1
                    entry.last_used = time.monotonic()
                    return entry, True
                if entry is not None:
                    self._retire_locked(entry)
            conn = self._connect(chain, trust, **kwargs)
            entry = _Entry(conn, identity, trust, users=1)
            with self._lock:
                self.opened += 1
                self._entries[name] = entry
                self._start_reaper_locked()
            return entry, False

    def _usable(self, entry: _Entry, identity: tuple[Hop, ...], trust: TrustStore) -> bool:
        if entry.retired or entry.identity != identity or not entry.conn.is_active():
            return False
        return _still_pinned(entry.conn, trust)

    def _release(self, entry: _Entry) -> None:
        with self._lock:
            entry.users -= 1
            entry.last_used = time.monotonic()
            if entry.users <= 0 and (entry.retired or self.idle_s <= 0 or not entry.conn.is_active()
                                     or not _still_pinned(entry.conn, entry.trust)):
                self._retire_locked(entry)  # a key trusted "once" is never kept warm

    def _discard(self, entry: _Entry) -> None:
        with self._lock:
            self._retire_locked(entry)

    def _retire_locked(self, entry: _Entry) -> None:
        """No new leases for `entry`; close it now if nobody uses it (self._lock held)."""
        entry.retired = True
        for name, current in list(self._entries.items()):
            if current is entry:
                del self._entries[name]
        if entry.users <= 0:
            entry.conn.close()

    # -- invalidation ------------------------------------------------------------------
    def forget_host(self, name: str) -> None:
        """Close every connection whose route passes through `name` (edited, secret changed)."""
        with self._lock:
            for entry in list(self._entries.values()):
                if name in entry.names:
                    self._retire_locked(entry)

    def prune(self, still_valid: Callable[[str, tuple[Hop, ...]], bool]) -> None:
        """Close connections for which still_valid(host name, identity) is False."""
        with self._lock:
            items = list(self._entries.items())
        for name, entry in items:
            if not still_valid(name, entry.identity):
                self._discard(entry)

    def close_all(self) -> None:
        with self._lock:
            for entry in list(self._entries.values()):
                self._retire_locked(entry)

    def shutdown(self) -> None:
        """Close everything and stop the reaper (exit)."""
        self._stop.set()
        self.close_all()

    def connected(self) -> list[str]:
        """Host names with an open warm connection, sorted."""
        with self._lock:
            return sorted(n for n, e in self._entries.items() if e.conn.is_active())

    # -- the reaper: idle timeout, keepalive, sleep and network changes ----------------
    def _start_reaper_locked(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._stop.clear()
            self._reaper = threading.Thread(target=self._reap, name="techdesk-ssh-pool", daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        clocks, interfaces = _clock_gap(), _interfaces()
        while not self._stop.wait(TICK_S):
            gap, now_ifaces = _clock_gap(), _interfaces()
            if abs(gap - clocks) > SLEEP_JUMP_S or now_ifaces != interfaces:
                log.info("machine slept or the network changed: closing warm connections")
                self.close_all()
            clocks, interfaces = gap, now_ifaces
            now = time.monotonic()
            with self._lock:
                entries = list(self._entries.values())
                if not entries:
                    self._reaper = None
                    return
            for entry in entries:
                if entry.users > 0:
                    continue
                if not entry.conn.is_active() or now - entry.last_used >= self.idle_s:
                    self._discard(entry)
                elif now - entry.last_probe >= self.keepalive_s:
                    entry.last_probe = now
                    if not _probe(entry.conn, self.probe_timeout_s):
                        log.info("warm connection to %s did not answer a keepalive",
                                 entry.conn.target.name)
                        self._discard(entry)


def _still_pinned(conn: Connection, trust: TrustStore) -> bool:
    """Every hop's presented key is still pinned (a forgotten or replaced pin ends reuse)."""
    for target, transport in zip(conn.chain, conn.transports, strict=True):
        try:
            key = transport.get_remote_server_key()
        except paramiko.SSHException:  # the transport died since is_active() said yes
            return False
        if trust.verify(target.address, target.port, key) != "known":
            return False
    return True


def _probe(conn: Connection, timeout: float) -> bool:
    """Send keepalive@openssh.com wanting a reply; False if none comes within `timeout`."""
    transport = conn.transport
    done = threading.Event()

    def ask() -> None:
        with contextlib.suppress(Exception):
            transport.global_request("keepalive@openssh.com", wait=True)
        done.set()

    threading.Thread(target=ask, name="techdesk-ssh-probe", daemon=True).start()
    return done.wait(timeout) and transport.is_active()


def _clock_gap() -> float:
    """Boot-time minus monotonic clock: grows by the time the machine was suspended."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        return time.clock_gettime(boottime) - time.monotonic()
    return time.time() - time.monotonic()  # macOS/Windows: wall clock also jumps over sleep


def _interfaces() -> frozenset[str]:
    try:
        return frozenset(name for _, name in socket.if_nameindex())
    except OSError:
        return frozenset()
