"""SFTP on a pooled connection: list, transfer with progress and Cancel, rename, mkdir, delete.

A transfer never leaves a partial file under the final name: it writes NAME.techdesk-part
next to the destination and renames it only when every byte arrived (a local partial is
removed on failure; a remote one is removed when the connection still allows it).
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko

PART = ".techdesk-part"
CHUNK = 256 * 1024
Progress = Callable[[int, int], None]  # (bytes done, total)


class TransferError(Exception):
    """One line for the technician."""


class TransferCancelled(TransferError):
    pass


class TooLarge(TransferError):
    """The remote file is over the caller's limit (nothing kept)."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


@dataclass(frozen=True)
class RemoteEntry:
    name: str
    path: str
    size: int
    mtime: int
    mode: int

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    @property
    def is_link(self) -> bool:
        return stat.S_ISLNK(self.mode)

    @property
    def permissions(self) -> str:
        return stat.filemode(self.mode)


def join(folder: str, name: str) -> str:
    if "/" in name or name in ("", ".", ".."):
        raise TransferError(f"not a file name: {name!r}")
    return folder.rstrip("/") + "/" + name if folder != "/" else "/" + name


def local_target(folder: Path, name: str, seps: tuple[str | None, ...] = (os.sep, os.altsep)) -> Path:
    """`folder` / `name` for a file named by the host, refused (TransferError) when the name
    is not one plain file name *here*: on Windows a host's `..\\..\\x.bat` or `C:x` would
    otherwise land outside the chosen folder."""
    bad = [s for s in seps if s and s in name]
    if bad or name in ("", ".", "..") or (seps[0] == "\\" and ":" in name):
        raise TransferError(f"not a file name on this computer: {name!r}")
    return Path(folder) / name


def parent(path: str) -> str:
    path = path.rstrip("/") or "/"
    head = path.rsplit("/", 1)[0]
    return head or "/"


class RemoteFiles:
    """An SFTP session; every method blocks (run them in a worker)."""

    def __init__(self, transport: paramiko.Transport) -> None:
        self.transport = transport
        self.sftp = paramiko.SFTPClient.from_transport(transport)
        self._lock = threading.Lock()  # one request at a time on this session

    def home(self) -> str:
        with self._lock:
            return self.sftp.normalize(".")

    def normalize(self, path: str) -> str:
        with self._lock:
            return self.sftp.normalize(path)

    def list(self, folder: str) -> list[RemoteEntry]:
        """Folders first, then files, by name. Links are shown as what they point to."""
        with self._lock:
            attrs = self.sftp.listdir_attr(folder)
            entries = []
            for a in attrs:
                mode = a.st_mode or 0
                if a.filename in (".", ".."):
                    continue
                try:
                    path = join(folder, a.filename)
                except TransferError:  # no real server names a file "a/b": one such entry is
                    continue           # left out, it does not hide the whole folder
                if stat.S_ISLNK(mode):
                    with contextlib.suppress(OSError):
                        mode = self.sftp.stat(path).st_mode or mode
                entries.append(RemoteEntry(a.filename, path, a.st_size or 0, a.st_mtime or 0, mode))
        return sorted(entries, key=lambda e: (not e.is_dir, e.name.lower()))

    def mkdir(self, path: str) -> None:
        with self._lock:
            self.sftp.mkdir(path)

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            self.sftp.rename(old, new)  # plain rename: never replaces an existing entry

    def delete(self, path: str) -> int:
        """Remove a file, or a folder with everything in it; the number of entries removed."""
        with self._lock:
            return self._delete(path)

    def _delete(self, path: str) -> int:
        mode = self.sftp.lstat(path).st_mode or 0
        if not stat.S_ISDIR(mode):
            self.sftp.remove(path)
            return 1
        count = 0
        for a in self.sftp.listdir_attr(path):
            count += self._delete(join(path, a.filename))
        self.sftp.rmdir(path)
        return count + 1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sftp.close()


def download(transport: paramiko.Transport, remote: str, local: Path, *, progress: Progress | None = None,
             cancel: threading.Event | None = None, limit: int | None = None) -> int:
    """Copy `remote` to `local` through a fresh SFTP channel; the bytes copied. Never more
    than the size the host stated (a /proc file, /dev/zero or a growing file would stream
    on), nor than `limit`: TooLarge before a byte moves."""
    part = local.with_name(local.name + PART)
    sftp = _open_sftp(transport)
    try:
        size = sftp.stat(remote).st_size or 0
        if limit is not None and size > limit:
            raise TooLarge(f"{remote} is {size} bytes, over the limit of {limit}", size)
        with sftp.open(remote, "rb") as src, open(part, "wb") as dst:
            src.prefetch(size)  # pipelined reads: SFTP's round trips would otherwise bound the speed
            done = 0
            while chunk := src.read(CHUNK):
                _check(cancel)
                if done + len(chunk) > size:
                    raise TransferError(f"{remote} changed size while it was copied (more than {size} bytes)")
                dst.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, size)
            dst.flush()
            os.fsync(dst.fileno())
        if done != size:
            raise TransferError(f"{remote} changed size while it was copied ({done} of {size} bytes)")
        os.replace(part, local)
        return done
    except BaseException as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        raise _translate(exc, transport, f"download of {remote}") from None
    finally:
        with contextlib.suppress(Exception):
            sftp.close()


def upload(transport: paramiko.Transport, local: Path, remote: str, *, progress: Progress | None = None,
           cancel: threading.Event | None = None) -> int:
    """Copy `local` to `remote` through a fresh SFTP channel; the bytes copied."""
    part = remote + PART
    sftp = _open_sftp(transport)
    try:
        size = local.stat().st_size
        with open(local, "rb") as src, sftp.open(part, "wb") as dst:
            dst.set_pipelined(True)
            done = 0
            while chunk := src.read(CHUNK):
                _check(cancel)
                dst.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, size)
        if sftp.stat(part).st_size != done:
            raise TransferError(f"the host stored {part} short")
        _replace(sftp, part, remote)
        return done
    except BaseException as exc:
        if transport.is_active():
            with contextlib.suppress(Exception):
                sftp.remove(part)
        raise _translate(exc, transport, f"upload of {local.name}") from None
    finally:
        with contextlib.suppress(Exception):
            sftp.close()


def _open_sftp(transport: paramiko.Transport) -> paramiko.SFTPClient:
    try:
        return paramiko.SFTPClient.from_transport(transport)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise TransferError(f"the host refused a file transfer session: {exc}") from None


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise TransferCancelled("cancelled by the technician")


def _replace(sftp: paramiko.SFTPClient, part: str, final: str) -> None:
    """Move the finished upload into place; atomic where the server has posix-rename (OpenSSH)."""
    try:
        sftp.posix_rename(part, final)
    except OSError as exc:
        if "unsupported" not in str(exc).lower():
            raise
        with contextlib.suppress(OSError):
            sftp.remove(final)
        sftp.rename(part, final)


def _translate(exc: BaseException, transport: paramiko.Transport, what: str) -> BaseException:
    if isinstance(exc, TransferError | KeyboardInterrupt):
        return exc
    if not transport.is_active() or isinstance(exc, EOFError):
        return TransferError(f"{what} failed: the connection was lost")
    if isinstance(exc, FileNotFoundError | IOError) and getattr(exc, "errno", None) == 2:
        return TransferError(f"{what} failed: no such file")
    if isinstance(exc, PermissionError) or getattr(exc, "errno", None) == 13:
        return TransferError(f"{what} failed: permission denied")
    return TransferError(f"{what} failed: {getattr(exc, 'strerror', None) or exc}")
