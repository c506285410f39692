"""File primitives: create a file atomically (never replacing one); read a bounded file
or a revision file without trusting it.

The content goes to a hidden temporary name in the same directory, is fsynced, and is
then published under its final name with a hard link (POSIX; it fails if the name is
taken, so an existing file is never replaced) or a rename (Windows, where a rename onto
an existing name fails too; and POSIX filesystems without hard links). The directory
is fsynced afterwards. A crash at any moment leaves either nothing, a temporary file
(ignored by readers), or the complete final file: never a partial final file.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from . import names
from .revisions import InvalidRevision, Revision, revision_from_bytes

T = TypeVar("T")

_NO_HARDLINK_ERRNOS = frozenset(
    getattr(errno, name) for name in ("EPERM", "ENOTSUP", "EOPNOTSUPP", "EMLINK", "EXDEV", "ENOSYS")
    if hasattr(errno, name)
)
_DIR_FSYNC_UNSUPPORTED = frozenset(
    getattr(errno, name) for name in ("EINVAL", "ENOTSUP", "EOPNOTSUPP", "EBADF", "EISDIR", "EACCES")
    if hasattr(errno, name)
)
_O_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) \
    | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0) \
    | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


# Windows reparse tags that redirect elsewhere: symbolic links and junctions. Other
# reparse points (OneDrive/Dropbox cloud placeholders) are ordinary files to us.
_LINK_REPARSE_TAGS = frozenset((0xA000000C, 0xA0000003))


def is_link(st: os.stat_result) -> bool:
    """True for an lstat result of a symlink, or of a Windows junction."""
    return stat.S_ISLNK(st.st_mode) or getattr(st, "st_reparse_tag", 0) in _LINK_REPARSE_TAGS


def entry_is_link(entry: os.DirEntry) -> bool:
    """DirEntry.is_symlink(), plus junctions on Windows (where the stat is free)."""
    if entry.is_symlink():
        return True
    return os.name == "nt" and is_link(entry.stat(follow_symlinks=False))


class UnreadableFile(Exception):
    """A file that cannot be read as a revision before parsing (too large, not regular)."""


def read_file_limited(path: str, limit: int) -> bytes:
    """Read a regular file of at most `limit` bytes without following a symlink or
    blocking on a FIFO; reads at most limit + 1 bytes. Raises UnreadableFile or OSError."""
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile("not a regular file")
        if st.st_size > limit:
            raise UnreadableFile(f"file too large ({st.st_size} bytes; limit {limit})")
        chunks, remaining = [], limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 262_144))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise UnreadableFile(f"file too large (more than {limit} bytes)")
    return data


def retry_on_permission_error(
    op: Callable[[], T],
    *,
    tries: int = 10,
    first_delay: float = 0.05,
    max_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `op`; on PermissionError (Windows: another program such as an antivirus or a
    sync client holds the file) wait and retry: 50 ms doubling up to 1 s, `tries` calls
    in all (about 5.5 s). The last PermissionError propagates."""
    delay = first_delay
    for attempt in range(1, tries + 1):
        try:
            return op()
        except PermissionError:
            if attempt == tries:
                raise
            sleep(delay)
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")


def fsync_dir(path: str) -> None:
    """Make a directory's new entries durable (POSIX). Filesystems that cannot fsync a
    directory (some network filesystems) and Windows are skipped."""
    if os.name == "nt":
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _DIR_FSYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def temp_name(final_name: str, tag: str) -> str:
    """`.<final>.tmp-<tag><random>`: hidden, so readers and sync tools skip it."""
    return f".{final_name}.tmp-{tag}{secrets.token_hex(4)}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def create_file_atomic(
    directory: str,
    final_name: str,
    data: bytes,
    tag: str,
    *,
    windows: bool = os.name == "nt",
    rename: Callable[[str, str], None] = os.rename,
    link: Callable[[str, str], None] = os.link,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Create `directory/final_name` with `data`. True if created; False if the name
    already existed (it is left untouched). OSError on failure (nothing final written)."""
    final = os.path.join(directory, final_name)
    tmp = os.path.join(directory, temp_name(final_name, tag))
    fd = os.open(tmp, _O_FLAGS, 0o644)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        created = _publish(tmp, final, windows=windows, rename=rename, link=link, sleep=sleep)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        except OSError:
            pass  # a leftover temporary file is harmless: readers ignore it
    if created:
        fsync_dir(directory)
    return created


def _publish(tmp: str, final: str, *, windows: bool, rename, link, sleep) -> bool:
    if windows:
        try:
            retry_on_permission_error(lambda: rename(tmp, final), sleep=sleep)
        except FileExistsError:
            return False
        except PermissionError:
            if os.path.lexists(final):
                return False
            raise
        return True
    try:
        link(tmp, final)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARDLINK_ERRNOS:
            raise
        # No hard links here (FAT, some SMB/FUSE mounts): rename, which could replace a
        # file that appeared since this check; it would hold the same content (same name
        # = same hash), so nothing is lost.
        if os.path.lexists(final):
            return False
        rename(tmp, final)
    return True


def read_revision_file(
    path: str, kind: str, record_id: str, name_rev: str, is_copy: bool,
    kinds: Iterable[str], max_bytes: int,
) -> tuple[Revision | None, str | None, bool]:
    """Read and check a revision file found at `<kind>s/<record_id>/<name>`: returns
    (revision, None, True), (None, reason, cacheable) or (None, None, False) if it vanished.
    A file named `<rev>.json` must hold that rev; a copy (is_copy) may hold any valid one."""
    try:
        data = read_file_limited(path, max_bytes)
    except FileNotFoundError:
        return None, None, False
    except UnreadableFile as exc:
        return None, str(exc), True
    except OSError as exc:  # permissions, I/O error: try again next time
        return None, f"cannot read file ({exc.strerror or exc})", False
    try:
        rev = revision_from_bytes(data, kinds)
        if rev.kind != kind:
            raise InvalidRevision("kind does not match its directory")
        if rev.id.lower() != record_id.lower():
            raise InvalidRevision("record id does not match its directory")
        if not is_copy and rev.rev != name_rev:
            raise InvalidRevision("rev does not match the file name")
    except InvalidRevision as exc:
        reason = f"conflict copy with invalid content: {exc.reason}" if is_copy else exc.reason
        return None, reason, True
    return rev, None, True


def valid_copy_exists(record_dir: str, rev: Revision, kinds: Iterable[str], max_bytes: int) -> bool:
    """Whether `record_dir` holds a valid file (final name or copy) of this revision."""
    try:
        listing = [e.name for e in os.scandir(record_dir)]
    except OSError:
        return False
    for name in listing:
        verdict, named = names.classify_file(name)
        if verdict in (names.REVISION, names.COPY) and named == rev.rev:
            got, _, _ = read_revision_file(os.path.join(record_dir, name), rev.kind, rev.id,
                                           named, verdict == names.COPY, kinds, max_bytes)
            if got is not None and got.rev == rev.rev:
                return True
    return False
