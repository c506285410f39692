"""A remote shell on a PTY channel, read by a thread of its own.

The reader thread only moves bytes into a bounded buffer and says "there is data" when
the buffer stops being empty; the GUI takes bytes at its own pace (take()). When the GUI
falls behind, the buffer fills, the reader waits, and SSH flow control slows the host
down: a flood of output can use neither unbounded memory nor the GUI thread's time.
Writes (keys, pastes) go through a writer thread so a full SSH window never blocks the GUI.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable

import paramiko

MAX_PENDING = 4 * 1024 * 1024
DROP_STEP = 256 * 1024      # at most this much of a flood is scanned and dropped per GUI step (~1 ms)
READ_CHUNK = 65536
TERM = "xterm-256color"


class ShellChannel:
    def __init__(self, chan: paramiko.Channel, on_close: Callable[[ShellChannel], None] | None = None) -> None:
        self.chan = chan
        self.bytes_in = 0
        self.bytes_skipped = 0   # a flood's head that scrolled away unparsed (drop_scrolled_away)
        self.bytes_out = 0
        self.ended = False          # the host closed the shell or the connection dropped
        self.exit_status: int | None = None
        self.on_data: Callable[[], None] = lambda: None  # called from the reader thread
        self.tap: Callable[[bytes], None] | None = None  # a copy of the host's bytes (transcript), reader thread
        self.transcript_path: str | None = None   # where this session's transcript goes, when one is kept
        self._on_close = on_close
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._closed = False
        self._out: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="techdesk-shell-read", daemon=True)
        self._writer = threading.Thread(target=self._write, name="techdesk-shell-write", daemon=True)

    @classmethod
    def open(cls, transport: paramiko.Transport, columns: int, lines: int, *, timeout: float = 20.0,
             on_close: Callable[[ShellChannel], None] | None = None) -> ShellChannel:
        """A login shell on a new PTY session of `transport` (blocking)."""
        chan = transport.open_session(timeout=timeout)
        try:
            chan.get_pty(term=TERM, width=columns, height=lines)
            chan.invoke_shell()
        except BaseException:
            chan.close()
            raise
        return cls(chan, on_close)

    def start(self) -> None:
        self._reader.start()
        self._writer.start()

    # -- reading (reader thread) ----------------------------------------------------------
    def _read(self) -> None:
        try:
            while True:
                data = self.chan.recv(READ_CHUNK)
                if not data:
                    break
                if self.tap is not None:
                    self.tap(data)
                with self._cond:
                    while len(self._buf) >= MAX_PENDING and not self._closed:
                        self._cond.wait(0.5)
                    if self._closed:
                        break
                    was_empty = not self._buf
                    self._buf += data
                    self.bytes_in += len(data)
                if was_empty:
                    self.on_data()
        except (OSError, EOFError, paramiko.SSHException):
            pass
        if self.chan.exit_status_ready():
            self.exit_status = self.chan.recv_exit_status()
        with self._cond:
            self.ended = True
        self.on_data()  # the GUI drains what is left and then sees `ended`
        self._release()

    def pending(self) -> int:
        with self._cond:
            return len(self._buf)

    def drop_scrolled_away(self, keep_lines: int) -> int:
        """Drop the head of a flood of plain lines that would scroll out of the scrollback
        unseen (emulator.scrolled_away); the count goes to bytes_skipped (GUI thread)."""
        from techdesk.terminal.emulator import scrolled_away

        with self._cond:
            n = scrolled_away(self._buf, keep_lines, DROP_STEP)
            if n:
                del self._buf[:n]
                self.bytes_skipped += n
                self._cond.notify_all()
        return n

    def take(self, limit: int) -> bytes:
        """Up to `limit` bytes the host sent, oldest first (GUI thread)."""
        with self._cond:
            chunk = bytes(self._buf[:limit])
            del self._buf[:limit]
            self._cond.notify_all()
        return chunk

    # -- writing --------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if data and not self._closed and not self.ended:
            self._out.put(data)

    def _write(self) -> None:
        while (data := self._out.get()) is not None:
            try:
                self.chan.sendall(data)
                self.bytes_out += len(data)
            except (OSError, EOFError, paramiko.SSHException):
                return

    def resize(self, columns: int, lines: int) -> None:
        """Tell the host the window's new size (SIGWINCH for the remote program)."""
        if not self._closed and not self.ended:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                self.chan.resize_pty(width=columns, height=lines)

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._out.put(None)
        self.chan.close()
        if not self._reader.is_alive():
            self._release()

    def _release(self) -> None:
        callback, self._on_close = self._on_close, None
        if callback is not None:
            callback(self)
