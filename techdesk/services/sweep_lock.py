"""A sweep never overlaps itself: cron and the open window share one lock file."""


from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from pathlib import Path

from techdesk.store.db import now_iso

log = logging.getLogger(__name__)




def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SweepLock:
    """``sweep.lock`` in the workspace, created with O_EXCL: one sweep at a time per
    workspace, whoever starts it (cron, a systemd timer, the window).

    The file holds the owner's PID, host name and start time. A lock whose process is
    gone (or older than ``stale_after``: a PID reused after a crash) is stale and taken
    over; the takeover renames the file away first and checks it took the stale one,
    so two sweeps that both find it stale cannot both win.
    """

    def __init__(self, path: Path, stale_after: timedelta = timedelta(hours=12)) -> None:
        self.path = Path(path)
        self.stale_after = stale_after
        self.held = False
        self._token = ""

    def acquire(self) -> str | None:
        """None when acquired; otherwise why not (another sweep is running)."""
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                busy, raw = self._busy()
                if busy:
                    return busy
                self._break(raw)
                continue
            self._token = uuid.uuid4().hex
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": now_iso(),
                           "token": self._token}, fh)
            self.held = True
            return None
        return f"could not take the sweep lock {self.path}"

    def _busy(self) -> tuple[str | None, bytes | None]:
        try:
            raw = self.path.read_bytes()
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None, None
        try:
            info = json.loads(raw)
            pid, host, started = int(info["pid"]), str(info.get("host", "")), str(info.get("started", ""))
        except (ValueError, KeyError, TypeError):
            # Being written right now, or garbage: give a writer a few seconds.
            return ("another sweep is starting" if age < 10 else None), raw
        if age > self.stale_after.total_seconds():
            return None, raw
        if host and host != socket.gethostname():
            return f"another sweep is running on {host} (pid {pid}, since {started})", raw
        if _pid_alive(pid):
            return f"another sweep is running (pid {pid}, since {started})", raw
        return None, raw

    def _break(self, raw: bytes | None) -> None:
        """Remove a stale lock, only if it is still the stale one we read."""
        if raw is None:
            return
        aside = self.path.with_name(f"{self.path.name}.stale-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        try:
            if aside.read_bytes() != raw:  # a fresh lock taken meanwhile: put it back
                with contextlib.suppress(OSError):
                    os.link(aside, self.path)
        finally:
            with contextlib.suppress(OSError):
                aside.unlink()
        log.warning("removed a stale sweep lock %s", self.path)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.path.read_bytes()).get("token") == self._token:
                self.path.unlink()

    def __enter__(self) -> SweepLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------------------- planning
