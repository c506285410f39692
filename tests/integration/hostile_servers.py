"""Machines on 127.0.0.1 that misbehave before SSH even starts: one that accepts and
says nothing, one that greets with whatever bytes it is given."""

from __future__ import annotations

import contextlib
import socket
import threading


class FakeServer:
    """Accepts on 127.0.0.1:<free port>; sends ``greeting`` (if any) and holds the
    connection until closed. A context manager."""

    def __init__(self, greeting: bytes = b"") -> None:
        self.greeting = greeting
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)
            if self.greeting:
                with contextlib.suppress(OSError):
                    conn.sendall(self.greeting)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for conn in self.held:
            conn.close()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
