"""Files kept with a note: a remote file from the Files tab, a local file, a screenshot.

Stored content-addressed: `<workspace>/attachments/<sha256>` (0600), listed on the note
(name, hash, size, source), shown in the note and the visit report. They travel through
the shared folder as `attachments/<sha256>` next to the note's revisions; a teammate's
blob is checked before it is used (techdesk/sync/format/blobs.py). One cap for all
(core/work.ATTACHMENT_CAP), checked before a byte is read where the size is known.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from techdesk.core.work import (
    ATTACHMENT_CAP,
    Attachment,
    Note,
    WorkError,
    attachment_problem,
    too_big,
)
from techdesk.store import work as repo
from techdesk.sync.format.atomic import UnreadableFile, read_file_limited
from techdesk.sync.format.blobs import BlobError, has_blob, publish_blob, read_blob
from techdesk.terminal.files import TooLarge


class AttachmentService:
    def __init__(self, services) -> None:
        self.services = services
        self.dir = services.workspace.path / "attachments"

    # -- adding -----------------------------------------------------------------------------
    def attach(self, note_id: str, name: str, data: bytes, source: str = "local") -> Note:
        """Keep `data` with the note under `name`. WorkError (one line) when refused."""
        sha = hashlib.sha256(data).hexdigest()
        if problem := attachment_problem(name, sha, len(data)):
            raise WorkError(problem)
        note = self.services.notes.get(note_id)
        self._keep(sha, data)
        if not any(a.sha256 == sha and a.name == name for a in note.attachments):
            note.attachments.append(Attachment(name, sha, len(data), source))
            note.updated = datetime.now(UTC).isoformat()
            repo.save_note(self.services.conn, note)
        return note

    def attach_local(self, note_id: str, path: str | Path) -> Note:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > ATTACHMENT_CAP:
                raise WorkError(too_big(path.name, size))      # said before reading a byte
            data = read_file_limited(str(path), size)
        except UnreadableFile as exc:
            raise WorkError(f"{path.name}: {exc}") from None
        except OSError as exc:
            raise WorkError(f"cannot read {path}: {exc.strerror or exc}") from None
        return self.attach(note_id, path.name, data, "local")

    async def attach_remote(self, note_id: str, files, remote: str, size: int) -> Note:
        """A text file from a Files session (services/files.FileSession) of `files.name`."""
        name = remote.rstrip("/").rsplit("/", 1)[-1]
        if size > 0 and (problem := attachment_problem(name, "0" * 64, size)):
            raise WorkError(problem)
        fd, tmp = tempfile.mkstemp(prefix=".attach-", dir=self.services.workspace.path)
        os.close(fd)
        try:
            try:   # the host's stat, not the listing, and never past the cap
                await files.download(remote, Path(tmp), limit=ATTACHMENT_CAP)
            except TooLarge as exc:
                raise WorkError(too_big(name, exc.size)) from None
            try:
                data = read_file_limited(tmp, ATTACHMENT_CAP)
            except UnreadableFile:
                raise WorkError(too_big(name, os.path.getsize(tmp))) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if b"\0" in data[:65536]:
            raise WorkError(f"{name} is not a text file: only text files are attached from a host")
        return self.attach(note_id, name, data, f"{files.name}:{remote}")

    # -- reading ----------------------------------------------------------------------------
    def data(self, att: Attachment) -> bytes:
        """The bytes, checked against the note's hash: from this workspace, or from the shared
        folder (a teammate's) and then kept here. WorkError (one line) when refused."""
        local = self.dir / att.sha256
        with contextlib.suppress(OSError, UnreadableFile):
            data = read_file_limited(str(local), att.size)
            if hashlib.sha256(data).hexdigest() == att.sha256:
                return data
        shared = self.services.workspace.shared
        if shared is None:
            raise WorkError(f"{att.name}: not on this machine and no shared folder is set")
        try:
            data = read_blob(shared, att.sha256, att.size, att.name)
        except BlobError as exc:
            raise WorkError(str(exc)) from None
        self._keep(att.sha256, data)
        return data

    # -- sync -------------------------------------------------------------------------------
    def unshared(self) -> list[tuple[str, str]]:
        """(sha256, local path) of every note attachment kept here (SQLite: the loop's thread)."""
        shas = {a.sha256 for n in repo.list_notes(self.services.conn) for a in n.attachments}
        return [(s, str(self.dir / s)) for s in sorted(shas) if (self.dir / s).is_file()]

    def _keep(self, sha: str, data: bytes) -> None:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.dir / sha
        if path.is_file() and path.stat().st_size == len(data):
            return
        tmp = self.dir / f".{sha}.tmp-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def publish_blobs(root: str, blobs: list[tuple[str, str]]) -> int:
    """Copy local attachments the shared folder does not have yet (a worker thread: file I/O only)."""
    written = 0
    for sha, path in blobs:
        if has_blob(root, sha):
            continue
        with contextlib.suppress(OSError):
            data = Path(path).read_bytes()
            if hashlib.sha256(data).hexdigest() == sha:
                try:
                    publish_blob(root, data)
                except BlobError:
                    return written   # the blob folder is not usable (a link): none can go
                written += 1
    return written


__all__ = ["AttachmentService", "publish_blobs"]
