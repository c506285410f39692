"""An opt-in transcript of a terminal session: what the host sent, as plain text.

Off unless the technician turns on "terminal_transcript" (Settings → General). Only the
host's output is written, never the keys typed: a password typed at a prompt that does
not echo stays out of the file (what the shell echoes back is in it, as on screen).
Escape sequences, controls and invalid UTF-8 are cleaned with the one rule of
core/text.py; a sequence split across two reads is held back until it ends. The file is
capped (TRANSCRIPT_CAP): past it, a marker line and nothing more, so a flood cannot fill
the disk. Written by the shell's reader thread, never the GUI's.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import threading
import time
from pathlib import Path

from techdesk.core.text import clean_text

TRANSCRIPT_CAP = 10 * 1024 * 1024          # bytes of cleaned text per session
CAPPED_MARK = "\n[… transcript capped at {mb} MB by techdesk; the session went on …]\n"
_HOLD_MAX = 4096                            # an unfinished escape longer than this is dropped text
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def transcript_name(host: str, started: float) -> str:
    """`<host>-<YYYYmmdd-HHMMSS>.txt`, the host's name reduced to safe characters."""
    safe = _UNSAFE.sub("_", host).strip("._") or "host"
    return f"{safe[:80]}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(started))}.txt"


def _unfinished(text: str) -> int:
    """Where a trailing escape sequence that may continue in the next read starts, or -1."""
    esc = max(text.rfind("\x1b"), text.rfind("\x9b"), text.rfind("\x9d"))
    if esc < 0 or len(text) - esc > _HOLD_MAX:
        return -1
    tail = text[esc:]
    if tail in ("\x1b", "\x9b", "\x9d"):
        return esc
    if tail[:2] == "\x1b[" or tail[0] == "\x9b":   # CSI: ends with a final byte @-~
        body = tail[2:] if tail[0] == "\x1b" else tail[1:]
        return esc if re.fullmatch(r"[0-?]*[ -/]*", body) else -1
    if tail[:2] in ("\x1b]", "\x1bP", "\x1bX", "\x1b^", "\x1b_") or tail[0] == "\x9d":  # string: BEL or ST
        return -1 if ("\x07" in tail or "\x1b\\" in tail or "\x9c" in tail) else esc
    return -1


class Transcript:
    """Append-only, cleaned, capped text file for one session (0600, under the workspace)."""

    def __init__(self, path: Path, cap: int = TRANSCRIPT_CAP) -> None:
        self.path = path
        self.cap = cap
        self.written = 0
        self.capped = False
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""
        self._lock = threading.Lock()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        self._file = os.fdopen(fd, "w", encoding="utf-8", newline="\n")

    def write(self, data: bytes) -> None:
        """Bytes from the host (reader thread)."""
        with self._lock:
            if self._file.closed or self.capped:
                return
            text = self._held + self._decoder.decode(data)
            cut = _unfinished(text)
            self._held, text = (text[cut:], text[:cut]) if cut >= 0 else ("", text)
            if not self._held and text.endswith("\r"):   # CR LF split across two reads: one line end
                self._held, text = "\r", text[:-1]
            self._put(clean_text(text))

    def _put(self, text: str) -> None:
        data = text.encode("utf-8")
        room = self.cap - self.written
        if len(data) > room:
            text = data[:room].decode("utf-8", "ignore")
            self.capped = True
        self._file.write(text)
        self.written += len(text.encode("utf-8"))
        if self.capped:
            self._file.write(CAPPED_MARK.format(mb=f"{self.cap / 1048576:g}"))
        self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file.closed:
                return
            if not self.capped:
                self._put(clean_text(self._held + self._decoder.decode(b"", final=True)))
            with contextlib.suppress(OSError):
                self._file.close()
