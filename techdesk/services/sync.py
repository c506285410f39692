"""Team sync: the one API the CLI and the window use (docs/sync-format.md, "Sync engine").

    svc = services.sync
    report = svc.sync()             # SyncReport; SharedFolderError: folder missing/unusable
    svc.pending()                   # records waiting in the outbox (cheap: status bar)
    svc.conflicts()                 # [Conflict]; svc.conflict_ids("note") -> set of ids
    svc.resolve("3fa2", keep="9c1e") / svc.resolve("3fa2", merge=True)

`sync()` is blocking (a scan of the folder, one local transaction, then file writes);
`sync_async()` runs the folder I/O in a worker thread and the SQLite work on the
calling loop's thread (a sqlite3 connection belongs to one thread).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field

from techdesk.core.work import WorkError
from techdesk.store.db import transaction
from techdesk.sync.engine import records, trash, trust
from techdesk.sync.engine import state as syncstate
from techdesk.sync.engine.batch import Batch
from techdesk.sync.engine.merge import merge_body
from techdesk.sync.format import (
    MARKER_NAME,
    Revision,
    SharedFolder,
    SharedFolderError,
    merge_revision,
)
from techdesk.sync.format.folder import forget_seen

PUBLISH_BATCH = 100


class NoSharedFolder(SharedFolderError):
    """No shared folder is configured."""


@dataclass
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    skipped: list[dict] = field(default_factory=list)
    applied: int = 0
    renamed: list[dict] = field(default_factory=list)
    merged_by_name: list[dict] = field(default_factory=list)
    not_sent: list[dict] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)  # kind -> deletions waiting for --allow-deletes
    suspicious: list[dict] = field(default_factory=list)
    republished: int = 0
    pending: int = 0
    folder: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict:
        return dict(self.__dict__)

    def held_line(self) -> str:
        """One line: what was held back and how to approve it."""
        what = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(self.held.items()))
        return (f"held back the deletion of {what} from the shared folder (more than "
                f"{trust.MASS_DELETE_COUNT} records and {trust.MASS_DELETE_SHARE:.0%} of them here); everything "
                "else was synced. Check `techdesk trash` after approving with `techdesk sync --allow-deletes`")


@dataclass
class Conflict:
    kind: str
    id: str
    title: str
    heads: list[dict]
    local: list[str]

    def as_json(self) -> dict:
        return dict(self.__dict__)


class SyncService:
    def __init__(self, services) -> None:
        self.services = services
        self.workspace = services.workspace
        self.conn = services.conn

    @property
    def technician(self) -> str:
        return self.workspace.technician

    @property
    def device(self) -> str:
        return self.workspace.settings.device_id

    # ------------------------------------------------------------------ the folder
    def folder(self) -> SharedFolder:
        root = self.workspace.shared
        if root is None:
            raise NoSharedFolder(
                "no shared folder is configured: give --shared DIR or set TECHDESK_SHARED (set up a new, "
                "empty one with `techdesk --shared DIR sync --init`; it is then remembered in the settings)")
        return SharedFolder(root, kinds=records.KIND_ORDER, device=self.device)

    def init_folder(self, folder: SharedFolder) -> None:
        """First use: create the marker in a new or empty folder (hidden files allowed)."""
        root = folder.root
        if root.is_dir() and not (root / MARKER_NAME).exists():
            try:
                visible = sorted(n for n in os.listdir(root) if not n.startswith("."))
            except OSError as exc:
                raise SharedFolderError(f"shared folder {root} is not usable ({exc.strerror})") from None
            if visible:
                raise SharedFolderError(
                    f"shared folder {root} is not empty and has no {MARKER_NAME} (it holds {visible[0]!r}"
                    f"{' and more' if len(visible) > 1 else ''}): refusing to set it up there; choose an empty "
                    f"folder, or copy {MARKER_NAME} from a device that syncs this folder")
        folder.open(create=True)
        if not self.workspace.settings.shared:
            self.workspace.settings.shared = os.path.abspath(root)
            self.workspace.save_settings()

    # ------------------------------------------------------------------ sync
    def sync(self, *, init: bool = False, full: bool = False, allow_deletes: bool = False) -> SyncReport:
        """Push local changes, pull the team's. SharedFolderError: nothing local changed.
        A sync that would delete many local records holds those deletions (report.held)
        unless `allow_deletes`."""
        return _drive(self._steps(init, full, allow_deletes))

    async def sync_async(self, *, init: bool = False, full: bool = False,
                         allow_deletes: bool = False) -> SyncReport:
        """The same steps; the folder I/O runs in a worker thread, the SQLite work on the
        calling loop's thread (a sqlite3 connection belongs to one thread)."""
        loop = asyncio.get_running_loop()
        steps = self._steps(init, full, allow_deletes)
        result = None
        try:
            while True:
                fn, args = steps.send(result)
                result = await loop.run_in_executor(None, fn, *args)
        except StopIteration as done:
            return done.value

    def _steps(self, init: bool, full: bool, allow_deletes: bool):
        """One sync as a generator: it yields each piece of folder I/O as (function, args)
        for the driver to run (inline, or in a worker thread) and receives its result.
        Everything that touches SQLite runs here, on the caller's thread."""
        started = time.perf_counter()
        folder = self.folder()
        if init:
            yield self.init_folder, (folder,)
        seen = syncstate.load_seen(self.conn)
        scan = yield folder.scan, (seen, full)  # raises SharedFolderError before anything changes
        report = self._commit(folder, scan, seen, full, allow_deletes)
        yield from self._publish_steps(folder, report)
        from techdesk.services.attachments import publish_blobs

        # notes' files go next to their revisions (after them: a reader may see a note first)
        yield publish_blobs, (str(folder.root), self.services.attachments.unshared())
        return self._finish(report, folder, started)

    def _publish_steps(self, folder: SharedFolder, report: SyncReport | None):
        """Write the outbox. Progress is recorded every PUBLISH_BATCH files: a kill loses
        at most that much bookkeeping (the files themselves are found again, unchanged)."""
        outbox = syncstate.outbox(self.conn)
        for start in range(0, len(outbox), PUBLISH_BATCH):
            written, error = yield _write_all, (folder, outbox[start:start + PUBLISH_BATCH])
            self._mark_published(written, report)
            if error is not None:
                raise error

    def _commit(self, folder: SharedFolder, scan, seen: set[str], full: bool, allow_deletes: bool) -> SyncReport:
        identity = _identity(folder)
        with transaction(self.conn):
            known = syncstate.get_meta(self.conn, "folder")
            republished = 0
            if known is not None and identity is not None and known != identity:
                # A new folder (or one set up again after it was emptied): send every
                # current version again, so nothing exists only in local stores.
                republished = self.conn.execute("UPDATE sync_revs SET published = 0 WHERE head = 1").rowcount
            if identity is not None:
                syncstate.set_meta(self.conn, "folder", identity)
            batch = Batch(self.conn, self.technician, self.device, allow_deletes=allow_deletes)
            batch.run(scan.revisions, full=full)
            # Refused revisions are read (and reported) again by the next sync.
            syncstate.save_seen(self.conn, seen, forget_seen(scan.seen, {r.relpath for r in batch.refused}))
            syncstate.set_meta(self.conn, "last_sync", _now())
        return SyncReport(pulled=batch.pulled, applied=batch.applied, renamed=batch.ctx.renamed,
                          merged_by_name=batch.ctx.aliased, not_sent=batch.not_sent, republished=republished,
                          held={k: len(v) for k, v in batch.held.items() if v}, suspicious=batch.suspicious,
                          skipped=[{"path": s.path, "reason": s.reason} for s in scan.skipped] + batch.problems)

    def _mark_published(self, written: list[Revision], report: SyncReport | None) -> None:
        if written:
            with transaction(self.conn):
                syncstate.mark_published(self.conn, [r.rev for r in written])
                syncstate.add_seen(self.conn, [r.relpath for r in written])
        if report is not None:
            report.pushed += len(written)

    def _finish(self, report: SyncReport, folder: SharedFolder, started: float) -> SyncReport:
        report.conflicts = len(syncstate.conflict_records(self.conn))
        report.pending = self.pending()
        report.folder = str(folder.root)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    # ------------------------------------------------------------------ status
    def pending(self) -> int:
        """Records whose local version is not in the shared folder yet: changed since the
        last sync, new, deleted, or written but not published. Work is proportional to
        what changed (a few ms with 10,000 notes and nothing changed)."""
        keys = set(syncstate.unpublished_records(self.conn))
        for kind in records.KIND_ORDER:
            dirty, new, gone = syncstate.candidates(self.conn, kind)
            keys.update((kind, i) for i in new | gone)
            if dirty:
                states = syncstate.states_of(self.conn, kind, sorted(dirty))
                bodies = records.read_bodies(self.conn, kind, sorted(dirty))
                for rid in dirty:
                    st, body = states.get(rid), bodies.get(rid)
                    sha = syncstate.content_sha(False, body) if body is not None else None
                    if st is None or (st.alias is None and sha != st.body_sha):
                        keys.add((kind, rid))
        return len(keys)

    def status(self) -> dict:
        root = self.workspace.shared
        return {"folder": str(root) if root else None, "pending": self.pending(),
                "conflicts": len(syncstate.conflict_records(self.conn)),
                "last_sync": syncstate.get_meta(self.conn, "last_sync")}

    def conflict_ids(self, kind: str | None = None) -> set[str]:
        return {rid for _, rid in syncstate.conflict_records(self.conn, kind)}

    def conflicts(self) -> list[Conflict]:
        out = []
        for kind, rid in syncstate.conflict_records(self.conn):
            heads = syncstate.heads_of(self.conn, kind, [rid]).get(rid, [])
            local = records.read_bodies(self.conn, kind, [rid]).get(rid)
            state = syncstate.states_of(self.conn, kind, [rid]).get(rid)
            title = records.title(kind, local) if local is not None else \
                records.title(kind, heads[-1].body, heads[-1].deleted) if heads else ""
            out.append(Conflict(kind, rid, title, [
                {"rev": h.rev, "author": h.author, "device": h.device, "time": h.time, "deleted": h.deleted,
                 "title": records.title(kind, h.body, h.deleted)} for h in heads],
                state.base if state else []))
        return out

    def conflict_versions(self, kind: str, record_id: str) -> list[dict]:
        """Each head of a conflicted record with its readable text, for a side-by-side view."""
        heads = syncstate.heads_of(self.conn, kind, [record_id]).get(record_id, [])
        return [{"rev": h.rev, "author": h.author, "device": h.device, "time": h.time, "deleted": h.deleted,
                 "title": records.title(kind, h.body, h.deleted), "text": _readable(kind, h.body, h.deleted)}
                for h in heads]

    # ------------------------------------------------------------------ trash
    def trash(self) -> list[dict]:
        """Deleted notes, visits and hosts whose last body is kept here, newest first."""
        return trash.entries(self.conn)

    def restore(self, record_id: str) -> dict:
        """Bring a deleted record back; the next sync publishes it as a new revision."""
        kind, rid = _unique("deleted record", record_id, trash.find(self.conn, record_id), lambda k: k[1],
                            hint=" (see `techdesk trash`)")
        with transaction(self.conn):
            title, renamed = trash.restore(self.conn, kind, rid, self.technician)
        return {"kind": kind, "id": rid, "title": title, "renamed": renamed}

    # ------------------------------------------------------------------ resolving
    def resolve(self, record_id: str, *, keep: str | None = None, merge: bool = False) -> dict:
        """Write a revision whose parents are all the heads (the kept head's body, or a
        merge of them), apply it locally, and publish it if the folder is reachable."""
        if bool(keep) == bool(merge):
            raise WorkError("say how to resolve: --keep REV or --merge")
        kind, rid = _unique("conflict", record_id, syncstate.conflict_records(self.conn), lambda k: k[1])
        heads = syncstate.heads_of(self.conn, kind, [rid]).get(rid, [])
        state = syncstate.states_of(self.conn, kind, [rid]).get(rid)
        local = records.read_bodies(self.conn, kind, [rid]).get(rid)
        if state is not None and state.alias is None and \
                (syncstate.content_sha(False, local) if local is not None else None) != state.body_sha:
            raise WorkError(f"{kind} {rid[:12]} was changed here since the last sync: run `techdesk sync` "
                            "first (your change becomes one of the versions to choose from)")
        if keep:
            chosen = _unique("version", keep, heads, lambda h: h.rev)
            body, deleted = chosen.body, chosen.deleted
        else:
            body, deleted = merge_body(kind, heads), False
        rev = merge_revision(kind, rid, [h.as_revision() for h in heads], body, self.technician, self.device,
                             deleted=deleted)
        with transaction(self.conn):
            batch = Batch(self.conn, self.technician, self.device)
            syncstate.add_revisions(self.conn, [rev], published=False)
            syncstate.put_states(self.conn, kind, {rid: syncstate.State(state.base if state else [],
                                                                         state.body_sha if state else None)})
            batch.process(kind, [rid])  # one head now, local unchanged: applies it
            syncstate.clear_dirty(self.conn, kind, [rid])
            if batch.problems:
                raise WorkError(batch.problems[0]["reason"])
        published = False
        try:
            _drive(self._publish_steps(self.folder(), None))
            published = True
        except SharedFolderError:
            pass
        return {"kind": kind, "id": rid, "rev": rev.rev, "deleted": deleted, "published": published,
                "renamed": batch.ctx.renamed}


def _drive(steps):
    """Run a step generator inline (see SyncService._steps)."""
    result = None
    try:
        while True:
            fn, args = steps.send(result)
            result = fn(*args)
    except StopIteration as done:
        return done.value


def _write_all(folder: SharedFolder, revisions: list[Revision]):
    written = []
    try:
        for rev in revisions:
            folder.write(rev)
            written.append(rev)
    except SharedFolderError as exc:
        return written, exc
    return written, None


def _identity(folder: SharedFolder) -> str | None:
    """The folder's marker as created (never rewritten): a new value means a new folder."""
    try:
        marker = json.loads((folder.root / MARKER_NAME).read_bytes()[:65_536])
        return f"{marker['format']}:{marker['created']}" if isinstance(marker, dict) else None
    except (OSError, ValueError, KeyError):
        return None


def _unique(what: str, prefix: str, items, key, hint: str = ""):
    exact = [i for i in items if key(i) == prefix]
    found = exact or [i for i in items if key(i).startswith(prefix.lower())]
    if not found:
        raise WorkError(f"no {what} with id {prefix!r}" + (" (see `techdesk conflicts`)" if what == "conflict" else hint))
    if len(found) > 1:
        raise WorkError(f"{what} id {prefix!r} is ambiguous: {', '.join(key(i)[:12] for i in found[:5])}")
    return found[0]


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


__all__ = ["Conflict", "NoSharedFolder", "SyncReport", "SyncService"]


def _readable(kind: str, body: dict | None, deleted: bool) -> str:
    if deleted or body is None:
        return "(deleted)"
    if kind == "note":
        lines = [body.get("title", ""), "", body.get("body", "")]
        followups = body.get("followups") or []
        if followups:
            lines += ["", "Follow-ups:"] + [f"[{'x' if f.get('done') else ' '}] {f.get('text', '')}" for f in followups]
        return "\n".join(lines)
    import json

    return json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True)
