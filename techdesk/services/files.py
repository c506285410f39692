"""Files on a host (the SFTP panel): browse, transfer, rename, new folder, delete — audited.

Runs on the host's pooled connection (services/sessions.py opens it). Blocking SFTP
work runs in worker threads; every method here is awaited on the loop that owns the
store, so audit entries are written there. Progress callbacks are called on the loop,
at most every PROGRESS_S seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path

from techdesk.terminal import files as sftp
from techdesk.terminal.files import RemoteEntry, TransferCancelled, TransferError

PROGRESS_S = 0.1


class FileSession:
    def __init__(self, service, name: str, conn, release: Callable[[], None]) -> None:
        self.service = service
        self.name = name
        self.conn = conn
        self._release = release
        self.remote = sftp.RemoteFiles(conn.transport)   # blocking: built in a worker

    async def _run(self, func, *args):
        try:
            return await asyncio.get_running_loop().run_in_executor(None, func, *args)
        except TransferError:
            raise
        except (OSError, EOFError) as exc:
            raise TransferError(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__) from None
        except Exception as exc:  # paramiko.SSHException: one line, never a traceback
            raise TransferError(f"{type(exc).__name__}: {exc}") from None

    async def home(self) -> str:
        return await self._run(self.remote.home)

    async def normalize(self, path: str) -> str:
        return await self._run(self.remote.normalize, path)

    async def list(self, folder: str) -> list[RemoteEntry]:
        return await self._run(self.remote.list, folder)

    async def mkdir(self, path: str) -> None:
        await self._audited("file-mkdir", path, self.remote.mkdir, path)

    async def rename(self, old: str, new: str) -> None:
        await self._audited("file-rename", f"{old} -> {new}", self.remote.rename, old, new)

    async def delete(self, path: str) -> int:
        return await self._audited("file-delete", path, self.remote.delete, path)

    async def download(self, remote: str, local: Path, *, progress=None,
                       cancel: threading.Event | None = None, limit: int | None = None) -> int:
        func = sftp.download if limit is None else functools.partial(sftp.download, limit=limit)
        return await self._transfer("download", f"{remote} -> {local}", func, remote, local,
                                    progress, cancel)

    async def upload(self, local: Path, remote: str, *, progress=None,
                     cancel: threading.Event | None = None) -> int:
        return await self._transfer("upload", f"{local} -> {remote}", sftp.upload, local, remote,
                                    progress, cancel)

    async def _transfer(self, action: str, what: str, func, src, dst, progress, cancel) -> int:
        loop = asyncio.get_running_loop()
        moved = [0]
        last = [0.0]

        def report(done: int, total: int) -> None:  # worker thread
            moved[0] = done
            now = time.monotonic()
            if progress is not None and (now - last[0] >= PROGRESS_S or done == total):
                last[0] = now
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(progress, done, total)

        self.service._audit(self.name, action, what, "started")
        try:
            done = await self._run(lambda: func(self.conn.transport, src, dst, progress=report, cancel=cancel))
        except TransferCancelled:
            self.service._audit(self.name, f"{action}-result", f"{what}: {moved[0]} bytes, cancelled", "cancelled")
            raise
        except TransferError as exc:
            self.service._audit(self.name, f"{action}-result", f"{what}: {moved[0]} bytes, {exc}", "failed")
            raise
        self.service._audit(self.name, f"{action}-result", f"{what}: {done} bytes", "done")
        return done

    async def _audited(self, action: str, detail: str, func, *args):
        try:
            result = await self._run(func, *args)
        except TransferError as exc:
            self.service._audit(self.name, action, f"{detail}: {exc}", "failed")
            raise
        self.service._audit(self.name, action, detail, "done")
        return result

    def close(self) -> None:
        self.remote.close()
        release, self._release = self._release, None
        if release is not None:
            release()
