"""A local port forward: 127.0.0.1:PORT -> (through SSH "direct-tcpip") -> TARGET:PORT.

Only the loopback address is ever bound: a forward must not open a client's network to
whoever shares the technician's LAN. One thread accepts; each accepted connection gets
one pump thread moving bytes both ways between the socket and its SSH channel.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable

import paramiko

BIND = "127.0.0.1"
CHUNK = 65536


class LocalForward:
    def __init__(self, transport: paramiko.Transport, target_host: str, target_port: int,
                 local_port: int = 0) -> None:
        self.transport = transport
        self.target = (target_host, int(target_port))
        self.listener = socket.create_server((BIND, local_port), reuse_port=False)
        self.port: int = self.listener.getsockname()[1]
        self.connections = 0
        self.bytes_out = 0   # local client -> target
        self.bytes_in = 0    # target -> local client
        self.errors: list[str] = []
        self.on_stop: Callable[[LocalForward], None] | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._done = threading.Event()   # stopped, or the SSH connection dropped
        self.dropped = False
        self._pumps: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="techdesk-forward", daemon=True)

    def start(self) -> None:
        self._acceptor.start()

    @property
    def active(self) -> bool:
        return not self._stopped.is_set() and self.transport.is_active()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until stopped or the SSH connection dropped (then True)."""
        return self._done.wait(timeout)

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._done.set()
        # shutdown first: close() alone leaves the socket listening while the acceptor's
        # poll still holds it, so a stopped forward could take one more connection.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.listener.close()
        if self._acceptor.is_alive() and self._acceptor is not threading.current_thread():
            self._acceptor.join(timeout=2)
        for pump in list(self._pumps):
            pump.join(timeout=2)
        callback, self.on_stop = self.on_stop, None
        if callback is not None:
            callback(self)

    def _accept(self) -> None:
        self.listener.settimeout(0.5)
        while not self._stopped.is_set():
            if not self.transport.is_active():
                self.dropped = True   # the owner sees wait() return and calls stop()
                self._done.set()
                return
            try:
                client, peer = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                chan = self.transport.open_channel("direct-tcpip", self.target, peer, timeout=20)
            except (paramiko.SSHException, OSError, EOFError) as exc:
                self.errors.append(f"{self.target[0]}:{self.target[1]} refused: {exc}")
                client.close()
                continue
            with self._lock:
                self.connections += 1
            pump = threading.Thread(target=self._pump, args=(client, chan), name="techdesk-forward-pump",
                                    daemon=True)
            self._pumps = [p for p in self._pumps if p.is_alive()] + [pump]
            pump.start()

    def _pump(self, client: socket.socket, chan: paramiko.Channel) -> None:
        try:
            while not self._stopped.is_set():
                ready, _, _ = select.select([client, chan], [], [], 0.5)
                if client in ready:
                    data = client.recv(CHUNK)
                    if not data:
                        chan.shutdown_write()
                        self._drain(chan, client)  # keep reading the reply until the far side closes
                        return
                    chan.sendall(data)
                    with self._lock:
                        self.bytes_out += len(data)
                if chan in ready and not self._to_client(chan, client):
                    return
        except (OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            chan.close()
            client.close()

    def _drain(self, chan: paramiko.Channel, client: socket.socket) -> None:
        while not self._stopped.is_set():
            ready, _, _ = select.select([chan], [], [], 0.5)
            if ready and not self._to_client(chan, client):
                return

    def _to_client(self, chan: paramiko.Channel, client: socket.socket) -> bool:
        """Copy what the far side sent; False once it has closed."""
        data = chan.recv(CHUNK)
        if not data:
            return False
        client.sendall(data)
        with self._lock:
            self.bytes_in += len(data)
        return True
