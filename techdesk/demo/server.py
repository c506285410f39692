"""The embedded demo SSH server: paramiko in server mode, threads, 127.0.0.1 only.

One listening socket per demo host (random free port), one throwaway Ed25519 host key
for the whole server, auth by the demo client key or the password "demo". Only exec
requests: the command runs as ``/bin/sh -c COMMAND`` with the host's environment (its
persona: stubs first on PATH, TECHDESK_ROOT), stdin/stdout/stderr pumped through the
channel. A closed channel or a stopping server kills the command and everything it
started. An "unreachable" host gets a port that is bound but never listens, so a
connection to it is refused at once.

    with DemoServer({"web1": env, "off": None}, client_key=pub, user="anna") as server:
        server.ports["web1"]
"""

from __future__ import annotations

import contextlib
import getpass
import hmac
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import paramiko

log = logging.getLogger(__name__)
# The server side's transport noise ("Socket exception: Connection reset by peer" when a
# client hangs up): the client side reports every failure that matters.
TRANSPORT_LOG = "techdesk.demo.sshd"
logging.getLogger(TRANSPORT_LOG).setLevel(logging.CRITICAL)
ADDRESS = "127.0.0.1"
SHELL = "/bin/sh"
READ_CHUNK = 32768
OUTPUT_DRAIN_S = 2.0   # after the command exits, wait this long for leftovers' output


class DemoError(Exception):
    """The demo cannot run here (no POSIX shell) or could not start."""


def new_ed25519_key() -> tuple[paramiko.Ed25519Key, str]:
    """A fresh Ed25519 key: (the key, its private key in OpenSSH format). In memory only."""
    import io

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption()).decode("ascii")
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem)), pem


class DemoServer:
    """SSH server for the demo hosts. `hosts`: name -> environment, or None = unreachable."""

    def __init__(self, hosts: Mapping[str, Mapping[str, str] | None], *, client_key: paramiko.PKey,
                 user: str | None = None, password: str | None = "demo",
                 host_key: paramiko.PKey | None = None) -> None:
        if os.name != "posix" or not os.path.exists(SHELL):
            raise DemoError(f"the demo SSH server runs {SHELL}: it works on Linux and macOS only")
        self.hosts = {name: (dict(env) if env is not None else None) for name, env in hosts.items()}
        self.client_key = client_key
        self.user = user or getpass.getuser()
        self.password = password
        self.host_key = host_key or new_ed25519_key()[0]
        self.ports: dict[str, int] = {}
        self._sockets: dict[socket.socket, str] = {}
        self._lock = threading.Lock()
        self._transports: list[paramiko.Transport] = []
        self._sessions: set[_Session] = set()
        self._closing = threading.Event()
        self._closed = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> DemoServer:
        try:
            for name, env in self.hosts.items():
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                # Inherited by accepted sockets: one still closing never blocks a new server.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((ADDRESS, 0))
                if env is not None:
                    sock.listen(32)
                    sock.setblocking(False)
                # else: bound but not listening: the port is ours, connections are refused
                self._sockets[sock] = name
                self.ports[name] = sock.getsockname()[1]
        except OSError as exc:
            self.close()
            raise DemoError(f"the demo SSH server cannot listen on {ADDRESS}: {exc}") from exc
        self._thread = threading.Thread(target=self._accept_loop, name="techdesk-demo-sshd",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening, drop every connection, kill every command. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._closing.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(5)
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets.clear()
        with self._lock:
            sessions, transports = list(self._sessions), list(self._transports)
            self._transports.clear()
        # Each session sees _closing within 50 ms and kills its command itself (the thread
        # that reaps a process is the only one that signals it: no pid reuse races).
        for session in sessions:
            session.join(5)
        for transport in transports:
            with contextlib.suppress(Exception):
                # shutdown first: it ends the connection even while a thread sits in recv()
                # on it (a plain close would wait for that call to return).
                transport.sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                transport.close()
        deadline = time.monotonic() + 2
        for transport in transports:
            transport.join(max(0.0, deadline - time.monotonic()))
        for sock in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                sock.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> DemoServer:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections --------------------------------------------------------------------
    def _accept_loop(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._wake_r, selectors.EVENT_READ)
            for sock, name in self._sockets.items():
                if self.hosts[name] is not None:
                    selector.register(sock, selectors.EVENT_READ, name)
            while not self._closing.is_set():
                for key, _ in selector.select(timeout=1.0):
                    if key.data is None or self._closing.is_set():
                        continue
                    try:
                        conn, peer = key.fileobj.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        if self._closing.is_set():
                            return
                        raise
                    self._start_transport(conn, peer, key.data)
        except Exception:
            log.exception("demo SSH server: accept loop failed")
        finally:
            selector.close()

    def _start_transport(self, conn: socket.socket, peer: tuple, host: str) -> None:
        port = self.ports[host]
        uid = _peer_uid(peer[1], port)
        if uid is not None and uid != os.getuid():
            # The password is no secret: only the user who started the demo may log in.
            log.warning("demo SSH server: refused a connection from another user (uid %s)", uid)
            conn.close()
            return
        conn.setblocking(True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = paramiko.Transport(conn)
        transport.local_version = "SSH-2.0-techdesk_demo"
        transport.set_log_channel(TRANSPORT_LOG)
        transport.add_server_key(self.host_key)
        env = dict(self.hosts[host] or {})
        env["SSH_CONNECTION"] = f"{peer[0]} {peer[1]} {ADDRESS} {port}"
        env["SSH_CLIENT"] = f"{peer[0]} {peer[1]} {port}"
        with self._lock:
            self._transports = [t for t in self._transports if t.is_alive()]
            self._transports.append(transport)
        try:
            transport.start_server(event=threading.Event(), server=_Interface(self, env))
        except Exception:
            log.exception("demo SSH server: cannot start a session for %s", host)
            transport.close()

    def _add_session(self, session: _Session) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._sessions.add(session)
            return True

    def _drop_session(self, session: _Session) -> None:
        with self._lock:
            self._sessions.discard(session)


class _Interface(paramiko.ServerInterface):
    def __init__(self, server: DemoServer, env: dict[str, str]) -> None:
        self.server = server
        self.env = env
        self.started: set[int] = set()

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,password" if self.server.password else "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = username == self.server.user and key.asbytes() == self.server.client_key.asbytes()
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        expected = self.server.password
        ok = (expected is not None and username == self.server.user
              and hmac.compare_digest(password.encode(), expected.encode()))
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        if channel.get_id() in self.started:
            return False  # one command per session, like sshd
        self.started.add(channel.get_id())
        session = _Session(self.server, channel, os.fsdecode(command), self.env)
        if not self.server._add_session(session):
            return False
        session.start()
        return True

    # Everything else is refused: no shell, no pty, no forwarding, no subsystems.
    def check_channel_shell_request(self, channel) -> bool:
        return False

    def check_channel_pty_request(self, *args) -> bool:
        return False

    def check_port_forward_request(self, address, port) -> bool:
        return False

    def check_channel_direct_tcpip_request(self, chanid, origin, destination) -> int:
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_global_request(self, kind, msg) -> bool:
        return False


class _Session:
    """One exec request: a /bin/sh -c process wired to the channel."""

    def __init__(self, server: DemoServer, channel: paramiko.Channel, command: str,
                 env: dict[str, str]) -> None:
        self.server = server
        self.channel = channel
        self.command = command
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, name="techdesk-demo-session", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        chan = self.channel
        try:
            try:
                self.proc = subprocess.Popen(
                    [SHELL, "-c", self.command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=self.env, cwd=self.env.get("HOME") or "/",
                    start_new_session=True, close_fds=True)
            except OSError as exc:
                with contextlib.suppress(Exception):
                    chan.sendall_stderr(f"techdesk demo: cannot run {SHELL}: {exc}\n".encode())
                    chan.send_exit_status(127)
                return
            proc = self.proc
            pumps = [threading.Thread(target=self._pump_in, daemon=True),
                     threading.Thread(target=self._pump_out, args=(proc.stdout, chan.sendall),
                                      daemon=True),
                     threading.Thread(target=self._pump_out, args=(proc.stderr, chan.sendall_stderr),
                                      daemon=True)]
            for pump in pumps:
                pump.start()
            while proc.poll() is None:
                if self._gone():
                    self.kill()
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(0.05)
            code = proc.wait()
            deadline = time.monotonic() + OUTPUT_DRAIN_S
            for pump in pumps[1:]:
                pump.join(max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # leftovers in its process group
            if not self._gone():
                with contextlib.suppress(Exception):
                    chan.send_exit_status(code if code >= 0 else 128 - code)
        except Exception:
            log.exception("demo SSH server: session failed")
        finally:
            with contextlib.suppress(Exception):
                chan.close()
            if self.proc is not None:
                for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                    with contextlib.suppress(OSError):
                        pipe.close()
            self.server._drop_session(self)

    def _gone(self) -> bool:
        transport = self.channel.get_transport()
        return (self.channel.closed or transport is None or not transport.is_active()
                or self.server._closing.is_set())

    def _pump_in(self) -> None:
        proc, chan = self.proc, self.channel
        writable = True
        try:
            while True:
                data = chan.recv(READ_CHUNK)
                if not data:
                    break
                if writable:
                    try:
                        proc.stdin.write(data)
                        proc.stdin.flush()
                    except (BrokenPipeError, OSError, ValueError):
                        writable = False  # it stopped reading: drop the rest
        except Exception:
            pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()

    @staticmethod
    def _pump_out(pipe, send) -> None:
        fd = pipe.fileno()
        sending = True
        while True:
            try:
                data = os.read(fd, READ_CHUNK)
            except (OSError, ValueError):
                return
            if not data:
                return
            if sending:
                try:
                    send(data)
                except Exception:
                    sending = False  # channel gone: keep draining so the command never blocks

    def kill(self) -> None:
        """Kill the command and everything it started (each check runs in a session of its
        own, so its process group is not enough). Only called by the session's own thread."""
        if self.proc is not None and self.proc.poll() is None:
            kill_tree(self.proc.pid)


def kill_tree(pid: int) -> None:
    """SIGSTOP `pid` and all its descendants (so none forks or is re-parented while we
    look), then SIGKILL them all, and the process group of `pid`."""
    stopped: list[int] = []
    frontier = [pid]
    for _ in range(50):
        for p in frontier:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p, signal.SIGSTOP)
            stopped.append(p)
        time.sleep(0.005)  # let the stops land before the next look
        tree = _children()
        frontier = [c for p in stopped for c in tree.get(p, ()) if c not in stopped]
        if not frontier:
            break
    for p in reversed(stopped):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _children() -> dict[int, list[int]]:
    """ppid -> child pids, from /proc (Linux) or ps (macOS)."""
    tree: dict[int, list[int]] = {}
    proc = Path("/proc")
    if (proc / "self" / "stat").exists():
        for entry in os.scandir(proc):
            if entry.name.isdigit():
                try:
                    with open(f"/proc/{entry.name}/stat", "rb") as fh:
                        stat = fh.read()
                    ppid = int(stat.rsplit(b")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                tree.setdefault(ppid, []).append(int(entry.name))
        return tree
    try:
        out = subprocess.run(["ps", "-A", "-o", "pid=,ppid="], capture_output=True, text=True,
                             timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return tree
    for line in out.splitlines():
        with contextlib.suppress(ValueError):
            pid, ppid = (int(x) for x in line.split())
            tree.setdefault(ppid, []).append(pid)
    return tree


def _peer_uid(peer_port: int, our_port: int) -> int | None:
    """The uid owning the client end of a 127.0.0.1 connection (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    local, remote = f"0100007F:{peer_port:04X}", f"0100007F:{our_port:04X}"
    try:
        with open("/proc/net/tcp", encoding="ascii") as fh:
            next(fh, None)
            for line in fh:
                fields = line.split()
                if len(fields) > 7 and fields[1] == local and fields[2] == remote:
                    return int(fields[7])
    except (OSError, ValueError):
        return None
    return None
