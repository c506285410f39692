"""Open SSH connections at the paramiko.Transport level, through jump hosts if asked.

Each hop: TCP (or a direct-tcpip channel of the previous hop), key exchange offering only
pinned host key types, our own host key decision, then auth: key file, ssh-agent, password.
"""

from __future__ import annotations

import dataclasses
import getpass
import logging
import os
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko

from techdesk.ssh.errors import SshError
from techdesk.ssh.execute import Connection
from techdesk.ssh.knownhosts import KnownKey, TrustStore, fingerprint

log = logging.getLogger(__name__)
MAX_AUTH_ATTEMPTS = 6
MAX_KEY_FILE = 64 * 1024  # an OpenSSH private key is a few KiB (RSA 16384: ~13 KiB)


@dataclass
class Target:
    """One hop; `name` is the roster name, used for secrets and messages."""

    name: str
    address: str
    port: int = 22
    user: str | None = None
    key_file: str | None = None

    @property
    def where(self) -> str:
        return f"{self.name} ({self.address}:{self.port})"


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `banner` bounds the server's greeting (the whole handshake gets twice it)."""

    connect: float = 10
    banner: float = 10
    auth: float = 15
    keepalive: int = 15


SecretLookup = Callable[[str, str], str | None]  # (kind, host name) -> secret or None
HostKeyDecision = Callable[[Target, paramiko.PKey], bool]  # True = trust and remember
HostKeyEvent = Callable[[str, Target, paramiko.PKey, list[KnownKey]], None]

# known_hosts key type -> the host key algorithms that prove it
_ALGORITHMS = {
    "ssh-ed25519": ("ssh-ed25519",),
    "ecdsa-sha2-nistp256": ("ecdsa-sha2-nistp256",),
    "ecdsa-sha2-nistp384": ("ecdsa-sha2-nistp384",),
    "ecdsa-sha2-nistp521": ("ecdsa-sha2-nistp521",),
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256"),
}


def connect(
    chain: list[Target],
    trust: TrustStore,
    *,
    secrets: SecretLookup | None = None,
    accept_new: bool | HostKeyDecision = False,
    timeouts: Timeouts = Timeouts(),  # noqa: B008 - frozen, safe as a default
    on_hostkey_event: HostKeyEvent | None = None,
    deadline: float | None = None,
) -> Connection:
    """Connect through `chain` (jump hosts first, target last). Raises SshError.

    on_hostkey_event(event, target, key, pinned) with event "added", "changed" or "revoked".
    deadline (time.monotonic()): every timeout is cut to what is left of it, so a run's
    connect and authentication count against the run's own limit.
    ValueError for an empty chain or one that visits the same address:port twice.
    """
    if not chain:
        raise ValueError("empty connection chain")
    pairs = [(t.address.strip().lower(), int(t.port)) for t in chain]
    if len(set(pairs)) != len(pairs):
        raise ValueError("connection chain visits the same address:port twice")
    for target in chain:  # before any network: a bad key path is refused at once
        if target.key_file and (problem := key_file_problem(Path(target.key_file).expanduser())):
            raise _err("auth", f"{target.where}: {problem}; fix the host's key path", target)
    transports: list[paramiko.Transport] = []
    try:
        for i, target in enumerate(chain):
            timeouts = _within(timeouts, deadline, target)
            if i == 0:
                sock = _tcp_connect(target, timeouts)
            else:
                sock = _tunnel(chain[i - 1], transports[-1], target, timeouts)
            transports.append(
                _open_hop(target, sock, trust, secrets, accept_new, timeouts, on_hostkey_event)
            )
        return Connection(chain, transports, timeouts)
    except BaseException:
        for transport in reversed(transports):
            transport.close()
        raise


def _within(timeouts: Timeouts, deadline: float | None, target: Target) -> Timeouts:
    if deadline is None:
        return timeouts
    left = deadline - time.monotonic()
    if left <= 0.05:
        raise _err("timeout", f"{target.where}: the run's time limit passed before connecting",
                   target)
    return dataclasses.replace(timeouts, connect=min(timeouts.connect, left),
                               banner=min(timeouts.banner, left / 2), auth=min(timeouts.auth, left))


def key_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a private key file (None if it may be one). Checked on the
    open file without blocking: a FIFO, a device, a directory or a huge file from a roster,
    an import or the shared folder must not hang or exhaust a run."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return f"key {path} unreadable ({exc.strerror or exc})"
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if stat.S_ISDIR(info.st_mode):
        return f"key {path} is a directory, not a key file"
    if not stat.S_ISREG(info.st_mode):
        kind = "FIFO" if stat.S_ISFIFO(info.st_mode) else "device or socket"
        return f"key {path} is a {kind}, not a key file"
    if info.st_size > MAX_KEY_FILE:
        return f"key {path} is {info.st_size / 1048576:.1f} MiB, too big for a private key"
    return None


def _tcp_connect(target: Target, timeouts: Timeouts) -> socket.socket:
    address = f"{target.address}:{target.port}"
    try:
        sock = socket.create_connection((target.address, target.port), timeout=timeouts.connect)
    except socket.gaierror as exc:
        raise _err("unreachable", f"cannot resolve {target.address!r}: {exc.strerror}",
                   target) from exc
    except TimeoutError as exc:
        raise _err("timeout", f"no answer from {address} within {timeouts.connect:g} s",
                   target) from exc
    except ConnectionRefusedError as exc:
        raise _err("unreachable", f"connection refused by {address}", target) from exc
    except OSError as exc:
        raise _err("unreachable", f"cannot reach {address}: {exc.strerror or exc}",
                   target) from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _tunnel(jump: Target, via: paramiko.Transport, target: Target,
            timeouts: Timeouts) -> paramiko.Channel:
    dest = f"{target.address}:{target.port}"
    try:
        return via.open_channel("direct-tcpip", (target.address, target.port),
                                ("127.0.0.1", 0), timeout=timeouts.connect)
    except paramiko.ChannelException as exc:
        kind = "unreachable" if exc.code == paramiko.OPEN_FAILED_CONNECT_FAILED else "protocol"
        raise _err(kind, f"jump host {jump.name} cannot open a tunnel to {dest}: {exc.text}",
                   target) from exc
    except (paramiko.SSHException, EOFError, OSError) as exc:
        if not via.is_active():
            raise _err("unreachable", f"connection to jump host {jump.name} was lost",
                       jump) from exc
        if "timeout" in str(exc).lower():
            raise _err("timeout", f"jump host {jump.name} did not reach {dest} within "
                       f"{timeouts.connect:g} s", target) from exc
        raise _err("protocol", f"jump host {jump.name} cannot open a tunnel to {dest}: {exc}",
                   target) from exc


def _open_hop(target: Target, sock: socket.socket | paramiko.Channel, trust: TrustStore,
              secrets: SecretLookup | None, accept_new: bool | HostKeyDecision,
              timeouts: Timeouts, on_event: HostKeyEvent | None) -> paramiko.Transport:
    transport = None
    try:
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.handshake_timeout = timeouts.banner
        transport.auth_timeout = timeouts.auth
        transport.channel_timeout = timeouts.connect + timeouts.banner
        # Offer only pinned key types, so a host with several keys never looks "changed"
        # because we negotiated an unpinned one (paramiko #2411).
        pinned = trust.pinned_key_types(target.address, target.port)
        wanted = {alg for key_type in pinned for alg in _ALGORITHMS.get(key_type, ())}
        options = transport.get_security_options()
        if allowed := [alg for alg in options.key_types if alg in wanted]:
            options.key_types = allowed
        _prefer_fast(options)
        _negotiate(transport, target, timeouts)
        _check_host_key(transport, target, trust, accept_new, on_event)
        _authenticate(transport, target, secrets, timeouts)
        transport.set_keepalive(int(timeouts.keepalive))
        return transport
    except BaseException:
        if transport is not None:
            transport.close()
        sock.close()
        raise


# Offered first, when both sides support them (measured in scripts/bench_run.py): AES-GCM
# needs no separate MAC pass (about a third less client CPU on bulk output than
# aes128-ctr + HMAC); the ML-KEM hybrid stays first for its post-quantum protection.
_FAST_KEX = ("mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org")
_FAST_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
_FAST_MACS = ("hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com")


def _prefer_fast(options: paramiko.SecurityOptions) -> None:
    for field, first in (("kex", _FAST_KEX), ("ciphers", _FAST_CIPHERS), ("digests", _FAST_MACS)):
        current = tuple(getattr(options, field))
        setattr(options, field, tuple(a for a in first if a in current)
                + tuple(a for a in current if a not in first))


def _negotiate(transport: paramiko.Transport, target: Target, timeouts: Timeouts) -> None:
    started = time.monotonic()
    try:
        transport.start_client(timeout=2 * timeouts.banner)
    except Exception as exc:
        slow = time.monotonic() - started >= 0.95 * timeouts.banner
        if _caused_by_timeout(exc) or (isinstance(exc, EOFError) and slow):
            raise _err("timeout", f"{target.where} sent no SSH greeting within "
                       f"{timeouts.banner:g} s", target) from exc
        if isinstance(exc, EOFError):
            raise _err("protocol", f"{target.where} closed the connection during the SSH "
                       "handshake", target) from exc
        if isinstance(exc, OSError):
            raise _err("unreachable", f"connection to {target.where} failed during the SSH "
                       f"handshake: {exc.strerror or exc}", target) from exc
        raise _err("protocol", f"SSH handshake with {target.where} failed: {exc}",
                   target) from exc
    if not transport.is_active() or not transport.initial_kex_done:
        raise _err("timeout", f"SSH handshake with {target.where} did not finish within "
                   f"{2 * timeouts.banner:g} s", target)


def _caused_by_timeout(exc: BaseException | None) -> bool:
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _check_host_key(transport: paramiko.Transport, target: Target, trust: TrustStore,
                    accept_new: bool | HostKeyDecision, on_event: HostKeyEvent | None) -> None:
    key = transport.get_remote_server_key()
    verdict = trust.verify(target.address, target.port, key)
    if verdict == "known":
        return
    presented = f"{key.algorithm_name} {fingerprint(key)}"
    entries = trust.lookup(target.address, target.port)
    if verdict in ("changed", "revoked"):
        transport.close()
        if on_event is not None:
            try:  # the refusal below must happen even if auditing fails
                on_event(verdict, target, key, entries)
            except Exception:
                log.exception("host key event handler failed for %s", target.name)
        if verdict == "revoked":
            raise _err("hostkey-changed", f"host key of {target.where} is REVOKED in "
                       f"known_hosts: {presented}; refusing to connect", target, key)
        pinned = ", ".join(f"{e.pkey().algorithm_name} {fingerprint(e.pkey())} "
                           f"({e.source}:{e.line})" for e in entries if e.marker is None)
        raise _err("hostkey-changed", f"HOST KEY CHANGED for {target.where}: it presented "
                   f"{presented} but the pinned key is {pinned}. This can be an attack or a "
                   "reinstalled machine: check the new fingerprint with the client out of "
                   f"band, then run `techdesk hostkeys forget {target.name}` and connect "
                   "again", target, key)
    accepted = accept_new(target, key) if callable(accept_new) else accept_new is True
    if not accepted:
        transport.close()  # nothing else happens on this connection: no auth, no session
        raise _err("hostkey-unknown", f"unknown host key for {target.where}: {presented}; "
                   "not trusted (check the fingerprint, then accept the key)", target, key)
    if accepted == "once":  # trusted for this connection only, not remembered
        if on_event is not None:
            on_event("accepted-once", target, key, entries)
        return
    trust.add(target.address, target.port, key)
    if on_event is not None:
        on_event("added", target, key, entries)


def _err(kind, message: str, target: Target, key: paramiko.PKey | None = None) -> SshError:
    return SshError(kind, message, target=target.name, key=key)


# -- authentication ------------------------------------------------------------------------

def _authenticate(transport: paramiko.Transport, target: Target,
                  secrets: SecretLookup | None, timeouts: Timeouts) -> None:
    """Key file, then agent keys (Ed25519 first), then the stored password; <= 6 attempts."""
    auth = _Attempts(transport, target, timeouts)
    file_key = _try_key_file(auth, target, secrets)
    if auth.done or _try_agent(auth, file_key) or _try_password(auth, target, secrets):
        return
    why = "" if transport.is_active() else "; the server closed the connection"
    if auth.attempts >= MAX_AUTH_ATTEMPTS:
        why += f"; stopped after {MAX_AUTH_ATTEMPTS} attempts"
    raise _err("auth", f"authentication failed for {auth.user}@{target.where}: tried "
               f"{', '.join(auth.tried)}{why}", target)


class _Attempts:
    """One authentication's budget (attempts, deadline), what the server allows, what was tried."""

    def __init__(self, transport: paramiko.Transport, target: Target, timeouts: Timeouts) -> None:
        self.transport, self.target, self.timeouts = transport, target, timeouts
        self.user = target.user or getpass.getuser()
        self.deadline = time.monotonic() + timeouts.auth
        self.attempts = 0
        self.allowed: list[str] | None = None  # what the server said it accepts, once it said it
        self.tried: list[str] = []
        self.done = False

    def can(self, method: str) -> bool:
        return (self.attempts < MAX_AUTH_ATTEMPTS and self.transport.is_active()
                and (self.allowed is None or method in self.allowed))

    def attempt(self, call: Callable[[], list[str]]) -> bool:
        target, timeouts = self.target, self.timeouts
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _err("timeout", f"authentication to {target.where} did not finish within "
                       f"{timeouts.auth:g} s (tried {', '.join(self.tried) or 'nothing'})", target)
        self.transport.auth_timeout = remaining
        self.attempts += 1
        try:
            self.allowed = call() or self.allowed  # a non-empty list = partial success, go on
        except paramiko.BadAuthenticationType as exc:
            self.allowed = list(exc.allowed_types)
        except paramiko.AuthenticationException as exc:
            if "timeout" in str(exc).lower():
                raise _err("timeout", f"authentication to {target.where} did not finish "
                           f"within {timeouts.auth:g} s", target) from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            # e.g. an agent that cannot sign; a dead transport ends the loop through can()
            log.info("auth attempt on %s failed: %s", target.where, exc)
        self.done = self.transport.is_authenticated()
        return self.done


def _try_key_file(auth: _Attempts, target: Target,
                  secrets: SecretLookup | None) -> paramiko.PKey | None:
    """The host's own key file; returns the key (loaded or not usable: None)."""
    if not target.key_file:
        return None
    file_key, problem = _load_key(Path(target.key_file).expanduser(), target, secrets)
    if file_key is None:
        auth.tried.append(problem)
    elif auth.can("publickey"):
        if auth.attempt(lambda: auth.transport.auth_publickey(auth.user, file_key)):
            return file_key
        auth.tried.append(f"key {target.key_file}")
    return file_key


def _try_agent(auth: _Attempts, file_key: paramiko.PKey | None) -> bool:
    """The agent's keys (Ed25519 first), skipping the key file already tried."""
    agent = None
    try:
        if auth.can("publickey"):
            agent = paramiko.Agent()
            skip = file_key.asbytes() if file_key is not None else None
            keys = [k for k in agent.get_keys() if k.asbytes() != skip]
            keys.sort(key=lambda k: k.get_name() != "ssh-ed25519")
            used = 0
            for k in keys:
                if not auth.can("publickey"):
                    break
                used += 1
                if auth.attempt(lambda k=k: auth.transport.auth_publickey(auth.user, k)):
                    return True
            auth.tried.append(f"{used} agent key{'' if used == 1 else 's'}" if used else "no agent keys")
    except paramiko.SSHException as exc:
        auth.tried.append(f"ssh-agent unusable ({exc})")
    finally:
        if agent is not None:
            agent.close()
    return False


def _try_password(auth: _Attempts, target: Target, secrets: SecretLookup | None) -> bool:
    if auth.allowed is not None and "publickey" not in auth.allowed:
        auth.tried.append("server refuses public keys")
    if auth.can("password"):  # only now: the lookup may ask the technician
        password = secrets("password", target.name) if secrets else None
        if password is None:
            auth.tried.append("no password stored")
        elif auth.attempt(lambda: auth.transport.auth_password(auth.user, password)):
            return True
        else:
            auth.tried.append("stored password")
    elif auth.allowed is not None and "password" not in auth.allowed:
        auth.tried.append("server refuses passwords")
    return False


def _load_key(path: Path, target: Target,
              secrets: SecretLookup | None) -> tuple[paramiko.PKey | None, str]:
    """(key, "") or (None, what went wrong, for the auth error message)."""
    if problem := key_file_problem(path):
        return None, problem
    try:
        return paramiko.PKey.from_path(path), ""
    except TypeError:  # cryptography: encrypted and no password given
        pass
    except OSError as exc:
        return None, f"key {path} unreadable ({exc.strerror or exc})"
    except Exception:
        return None, f"key {path} skipped (not a private key techdesk can use)"
    passphrase = secrets("passphrase", target.name) if secrets else None
    if passphrase is None:
        return None, f"key {path} skipped (encrypted, no passphrase stored)"
    try:  # paramiko 5 hands the password to cryptography as is: it must be bytes
        return paramiko.PKey.from_path(path, password=passphrase.encode()), ""
    except Exception:
        return None, f"key {path} skipped (wrong passphrase)"
