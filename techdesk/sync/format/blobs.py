"""Note attachments in the shared folder: `attachments/<sha256>`, one immutable file per
content, written like a revision (temporary name, fsync, no-replace rename).

A blob is untrusted when read: the name must be a SHA-256, the file a regular file (a
symlink or junction is refused, never followed), its size the one the note declares and
within the cap, its content hash its name. A refusal is a BlobError with one line for
the technician; nothing is copied anywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat

from techdesk.core.work import ATTACHMENT_CAP

from .atomic import UnreadableFile, create_file_atomic, is_link, read_file_limited

BLOB_DIR = "attachments"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobError(Exception):
    """A shared attachment that is refused or missing (one line)."""


def _path(root: str | os.PathLike, sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):   # the name is the only path part: no traversal
        raise BlobError(f"not an attachment hash: {sha256[:70]!r}")
    return os.path.join(os.fspath(root), BLOB_DIR, sha256)


def _plain_dir(directory: str) -> None:
    """`attachments/` itself must be a plain directory: a teammate who makes it a link would
    have this machine's files written to (and read from) a folder of their choosing."""
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        return
    if is_link(st) or not stat.S_ISDIR(st.st_mode):
        raise BlobError(f"the shared folder's {BLOB_DIR} is a link or a file, not a folder: not used")


def publish_blob(root: str | os.PathLike, data: bytes, tag: str = "") -> str:
    """Put `data` in the shared folder (if not there yet); its SHA-256."""
    sha = hashlib.sha256(data).hexdigest()
    directory = os.path.dirname(_path(root, sha))
    _plain_dir(directory)
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory)
    _plain_dir(directory)
    create_file_atomic(directory, sha, data, tag)
    return sha


def has_blob(root: str | os.PathLike, sha256: str) -> bool:
    return os.path.lexists(_path(root, sha256))


def read_blob(root: str | os.PathLike, sha256: str, size: int, name: str = "attachment") -> bytes:
    """The bytes of a teammate's attachment, checked. BlobError (one line) when refused."""
    path = _path(root, sha256)
    try:
        _plain_dir(os.path.dirname(path))
    except BlobError as exc:
        raise BlobError(f"{name} refused: {exc}") from None
    try:
        data = read_file_limited(path, min(size, ATTACHMENT_CAP))
    except FileNotFoundError:
        raise BlobError(f"{name}: not in the shared folder yet (it arrives with the next sync)") from None
    except UnreadableFile as exc:
        what = f"larger than the note says ({size} bytes)" if "too large" in str(exc) else str(exc)
        raise BlobError(f"{name} refused: the shared file is {what}") from None
    except OSError as exc:   # ELOOP: a symlink, never followed
        what = "a link" if os.path.islink(path) else (exc.strerror or str(exc))
        raise BlobError(f"{name} refused: the shared file is {what}") from None
    if len(data) != size:
        raise BlobError(f"{name} refused: the shared file has {len(data)} bytes, the note says {size}")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BlobError(f"{name} refused: the shared file's content does not match its hash")
    return data
