"""The shared folder: open (format marker), write revisions, scan for new ones.

Layout: `<root>/techdesk-shared.json` and `<root>/<kind>s/<record id>/<rev>.json`.
Nothing here modifies or deletes a file in the shared folder, with one opt-in
exception: a SharedFolder given `device=` removes that device's own temporary files
older than an hour (left by a crash) when a scan comes across them.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import atomic, names
from .atomic import UnreadableFile, read_file_limited, read_revision_file
from .revisions import (
    DEFAULT_KINDS,
    FORMAT,
    InvalidRevision,
    Revision,
    canonical_json,
    format_time,
    revision_from_bytes,
)

MARKER_NAME = "techdesk-shared.json"
MAX_MARKER_BYTES = 65_536
STALE_TEMP_SECONDS = 3600
DIR_SETTLE_NS = 5_000_000_000  # a directory listing is remembered once it is this old
_WAITS = "nothing was changed, your changes wait in the outbox"
_SYMLINK = "symbolic link (not followed)"


class SharedFolderError(Exception):
    """The shared folder is missing, unmounted, unusable or of a newer format. One line."""


@dataclass(frozen=True)
class Skipped:
    path: str  # relative to the root, POSIX separators, printable
    reason: str


@dataclass
class ScanResult:
    revisions: list[Revision] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


class SharedFolder:
    def __init__(self, root: Path, kinds: Iterable[str] = DEFAULT_KINDS,
                 max_file_bytes: int = 1_048_576, device: str | None = None):
        self.root = Path(root)
        self.kinds = tuple(dict.fromkeys(kinds))
        bad = [k for k in self.kinds if not names.KIND_RE.fullmatch(k)]
        if bad or not self.kinds:
            raise ValueError(f"invalid kinds {bad or self.kinds!r}")
        self.max_file_bytes = int(max_file_bytes)
        self.device = device
        self._opened = False
        # File operations, replaceable by tests (e.g. Windows rename semantics).
        self._io = {"windows": os.name == "nt", "rename": os.rename, "link": os.link,
                    "sleep": time.sleep}
        kinds_hash = hashlib.sha256(",".join(sorted(self.kinds)).encode()).hexdigest()[:8]
        # A cached "skipped" verdict is reused only under the same rules.
        self._rules = f"f{FORMAT}.m{self.max_file_bytes}.k{kinds_hash}"

    # ---------------------------------------------------------------- open / marker
    def _error(self, detail: str = "is missing or not mounted") -> SharedFolderError:
        return SharedFolderError(f"shared folder {self.root} {detail}; {_WAITS}")

    def open(self, create: bool = False) -> None:
        """Check the folder is there and speaks our format. `create=True` (explicit setup
        only) creates the root directory (not its parents) and the marker if missing."""
        self._opened = False
        try:
            st = os.stat(self.root)  # the root is user configuration: it may be a symlink
        except FileNotFoundError:
            if not create:
                raise self._error() from None
            try:
                os.mkdir(self.root)
                st = os.stat(self.root)
            except OSError as exc:
                raise self._error(f"cannot be created ({exc.strerror})") from None
        except OSError as exc:
            raise self._error(f"is not usable ({exc.strerror})") from None
        if not stat.S_ISDIR(st.st_mode):
            raise self._error("is not a directory")
        marker = self._read_marker()
        if marker is None and create:
            data = canonical_json({"format": FORMAT, "created": format_time(datetime.now(UTC))})
            try:
                atomic.create_file_atomic(str(self.root), MARKER_NAME, data + b"\n", self._tag(),
                                          **self._io)
            except OSError as exc:
                raise self._error(f"cannot be set up ({exc.strerror})") from None
            marker = self._read_marker()
        if marker is None:
            raise self._error(f"is missing or not mounted (no {MARKER_NAME} in it)")
        fmt = marker.get("format")
        if type(fmt) is not int or fmt < 1:
            raise self._error(f"has an unreadable {MARKER_NAME} (no valid format)")
        if fmt > FORMAT:
            raise SharedFolderError(
                f"shared folder {self.root} was written by a newer techdesk (format {fmt}; this "
                f"version understands {FORMAT}); it was left untouched: update techdesk to sync")
        self._opened = True

    def _read_marker(self) -> dict | None:
        """The marker's JSON object, None if absent; SharedFolderError if unusable."""
        try:
            data = read_file_limited(os.path.join(self.root, MARKER_NAME), MAX_MARKER_BYTES)
            doc = json.loads(data.decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnreadableFile, ValueError, RecursionError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise self._error(f"has an unreadable {MARKER_NAME} ({why})") from None
        if not isinstance(doc, dict):
            raise self._error(f"has an unreadable {MARKER_NAME} (not a JSON object)")
        return doc

    def _require_usable(self) -> None:
        if not self._opened:
            self.open()
        elif not os.path.isfile(os.path.join(self.root, MARKER_NAME)):
            self._opened = False
            raise self._error()

    def _tag(self, rev: Revision | None = None) -> str:
        """8 hex digits naming the device in our temporary file names."""
        who = self.device or (rev.device if rev else "") or "unknown"
        return hashlib.sha256(who.encode("utf-8")).hexdigest()[:8]

    # ---------------------------------------------------------------- write
    def write(self, rev: Revision) -> bool:
        """Publish a revision atomically. False if it was already there (nothing done)."""
        self._require_usable()
        if rev.kind not in self.kinds:
            raise ValueError(f"kind {rev.kind!r} is not registered for this shared folder")
        data, name = rev.to_bytes(), f"{rev.rev}.json"
        try:  # exactly what readers will check: ids, hash, schema
            revision_from_bytes(data, self.kinds)
        except InvalidRevision as exc:
            raise ValueError(f"not a valid revision: {exc.reason}") from None
        try:
            record_dir = self._ensure_dir(self._ensure_dir(str(self.root), f"{rev.kind}s"), rev.id)
            try:
                st = os.lstat(os.path.join(record_dir, name))
            except FileNotFoundError:
                st = None
            if st is not None:
                if stat.S_ISREG(st.st_mode) and st.st_size == len(data):
                    return False
                if atomic.valid_copy_exists(record_dir, rev, self.kinds, self.max_file_bytes):
                    return False
                # The final name holds something else (a torn or foreign file): never touch
                # it; publish ours beside it under a copy name that readers accept.
                name = f"{rev.rev}.copy-{secrets.token_hex(4)}.json"
            return atomic.create_file_atomic(record_dir, name, data, self._tag(rev), **self._io)
        except OSError as exc:
            self._require_usable()  # a vanished folder says so
            raise self._error(f"cannot be written ({rev.relpath}: {exc.strerror or exc})") from None

    def _ensure_dir(self, parent: str, name: str) -> str:
        """parent/name as a plain directory (created if missing); never through a symlink."""
        path = os.path.join(parent, name)
        for _ in range(2):
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                try:
                    os.mkdir(path)
                except FileExistsError:
                    continue
                except OSError as exc:
                    raise self._error(f"cannot be written ({exc.strerror})") from None
                atomic.fsync_dir(parent)
                return path
            if stat.S_ISDIR(st.st_mode) and not atomic.is_link(st):
                return path
            break
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        raise self._error(f"holds {rel} as a symbolic link or file, not a directory; "
                          f"refusing to write through it")

    # ---------------------------------------------------------------- scan
    def scan(self, seen: set[str] | None = None, relist: bool = False) -> ScanResult:
        """Read the revisions not in `seen`. Never raises for a bad file (it is skipped
        with a reason); raises SharedFolderError if the folder itself is gone or unusable.

        `seen` holds opaque tokens; persist them as given. A file read successfully is
        its relative path (content-addressed: never re-read). A file skipped after being
        read is "path TAB size:mtime_ns:rules TAB reason": reported again from the token,
        re-read only once its size or mtime changes (a torn write later completed).
        Files skipped by their name or type are re-judged from the listing alone.

        A record directory whose files were all accepted is "path TAB mtime_ns": it is
        not listed again while its mtime stays the same (adding or renaming a file into
        a directory changes it). Only a listing made DIR_SETTLE_NS after the directory's
        last change is remembered, so a change within the same mtime tick is never
        missed (git's "racy" rule); `relist=True` lists every directory anyway."""
        self.open()  # re-reads the marker: another device may have upgraded the folder
        state = _ScanState()
        for token in seen or ():
            parts = token.split("\t", 2)
            if len(parts) == 3:
                state.cached[parts[0]] = (parts[1], parts[2])
            elif len(parts) == 2:
                if not relist:
                    state.dirs[parts[0]] = token
                continue
            else:
                state.accepted.add(token)
            state.by_dir.setdefault(parts[0].rpartition("/")[0], []).append(token)
        for kind in self.kinds:
            self._scan_kind(kind, state)
        if not os.path.isfile(os.path.join(self.root, MARKER_NAME)):
            self._opened = False
            raise self._error("disappeared during the scan")
        revisions = sorted(state.found.values(), key=lambda r: (r.kind, r.id, r.time, r.rev))
        skipped = [Skipped(p, r) for p, r in sorted(state.skipped)]
        return ScanResult(revisions=revisions, skipped=skipped, seen=state.seen)

    def _scan_kind(self, kind: str, state: _ScanState) -> None:
        kind_rel = f"{kind}s"
        kind_dir = os.path.join(self.root, kind_rel)
        try:
            st = os.lstat(kind_dir)
            if atomic.is_link(st) or not stat.S_ISDIR(st.st_mode):
                state.skipped.append((kind_rel, _SYMLINK if atomic.is_link(st)
                                      else "not a directory"))
                return
            with os.scandir(kind_dir) as it:
                entries = list(it)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._error(f"is not usable ({kind_rel}: {exc.strerror})") from None
        dirs, seen, by_dir = state.dirs, state.seen, state.by_dir
        for entry in entries:
            rel = f"{kind_rel}/{entry.name}"
            token = dirs.get(rel)
            if token is not None:  # a record directory listed before: unchanged?
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # vanished since the listing
                if token == f"{rel}\t{st.st_mtime_ns}" and stat.S_ISDIR(st.st_mode) and not atomic.is_link(st):
                    seen.add(token)
                    seen.update(by_dir.get(rel, ()))
                    continue
            verdict, detail = names.classify_record_dir(entry.name)
            if verdict == names.IGNORED:
                continue
            rel = f"{kind_rel}/{names.display(entry.name)}"
            if verdict != names.REVISION:
                state.skipped.append((rel, detail))
            elif atomic.entry_is_link(entry):
                state.skipped.append((rel, _SYMLINK))
            elif not entry.is_dir(follow_symlinks=False):
                state.skipped.append((rel, "not a directory (records are directories)"))
            else:
                self._scan_dir(kind, entry, rel, state)

    def _scan_dir(self, kind: str, entry: os.DirEntry, rel: str, state: _ScanState) -> None:
        """A record directory: listed, and remembered as unchanged if the listing settles."""
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime_ns
        except OSError:
            return  # vanished since the listing
        token = f"{rel}\t{mtime}"
        listed_at = time.time_ns()
        skipped_before = len(state.skipped)
        self._scan_record(kind, entry.name, rel, entry.path, state)
        if len(state.skipped) == skipped_before and listed_at - mtime >= DIR_SETTLE_NS:
            state.seen.add(token)

    def _scan_record(self, kind: str, record_id: str, rec_rel: str, path: str,
                     state: _ScanState) -> None:
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except FileNotFoundError:
            return
        except OSError as exc:
            state.skipped.append((rec_rel, f"cannot list directory ({exc.strerror})"))
            return
        accepted, seen, skipped = state.accepted, state.seen, state.skipped
        classify, rev_class, copy_class = names.classify_file, names.REVISION, names.COPY
        is_link = atomic.entry_is_link
        for entry in entries:
            name = entry.name
            verdict, detail = classify(name)
            if verdict != rev_class and verdict != copy_class:
                if verdict != names.IGNORED:
                    skipped.append((f"{rec_rel}/{names.display(name)}", detail))
                elif self.device is not None and name.startswith("."):
                    self._remove_stale_temp(entry)
                continue
            rel = f"{rec_rel}/{name}"
            if is_link(entry) or not entry.is_file(follow_symlinks=False):
                skipped.append((rel, _SYMLINK if is_link(entry) else "not a regular file"))
                continue
            if rel in accepted:
                seen.add(rel)
                continue
            judged = self._judge_file(entry, rel, kind, record_id, detail, verdict == copy_class, state)
            if judged is None:
                continue  # vanished since the listing
            meta, rev, reason, cacheable = judged
            if rev is not None:
                seen.add(rel)
                canonical = f"{rec_rel}/{rev.rev}.json"
                if canonical == rel or canonical not in accepted:  # a copy of a known one
                    state.found.setdefault(rev.rev, rev)
            elif reason is not None:
                skipped.append((rel, reason))
                if cacheable:
                    seen.add(f"{rel}\t{meta}\t{reason}")

    def _judge_file(self, entry: os.DirEntry, rel: str, kind: str, record_id: str, name_rev: str,
                    is_copy: bool, state: _ScanState) -> tuple[str, Revision | None, str | None, bool] | None:
        """(meta, revision or None, reason or None, cacheable) for one listed file, from the
        cache when its size, time and rules are unchanged; None if it vanished."""
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            return None
        meta = f"{st.st_size}:{st.st_mtime_ns}:{self._rules}"
        previous = state.cached.get(rel)
        if previous is not None and previous[0] == meta:
            return meta, None, previous[1], True
        if st.st_size > self.max_file_bytes:  # judged from the listing: never opened
            return meta, None, f"file too large ({st.st_size} bytes; limit {self.max_file_bytes})", True
        return (meta, *read_revision_file(entry.path, kind, record_id, name_rev, is_copy, self.kinds,
                                          self.max_file_bytes))

    def _remove_stale_temp(self, entry: os.DirEntry) -> None:
        """Remove one of this device's own temporary files once it is an hour old."""
        match = names.OWN_TEMP_RE.fullmatch(entry.name)
        if not match or match.group(2) != self._tag():
            return
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and time.time() - st.st_mtime > STALE_TEMP_SECONDS:
                os.unlink(entry.path)
        except OSError:
            pass


def forget_seen(seen: set[str], relpaths: set[str]) -> set[str]:
    """`seen` without these files and their directories' tokens: the next scan reads them again."""
    if not relpaths:
        return seen
    dirs = {p.rpartition("/")[0] for p in relpaths}
    return {t for t in seen if t not in relpaths and t.split("\t", 1)[0] not in dirs}


@dataclass
class _ScanState:
    accepted: set[str] = field(default_factory=set)
    dirs: dict[str, str] = field(default_factory=dict)  # record dir -> its "unchanged" token
    by_dir: dict[str, list[str]] = field(default_factory=dict)  # record dir -> its files' tokens
    cached: dict[str, tuple[str, str]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    found: dict[str, Revision] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
