"""One sync's local half: store the revisions read from the shared folder, decide per
record (push ours, take theirs, or a conflict), apply to the local tables, and queue
our new revisions in the outbox. Runs inside ONE SQLite transaction held by the
caller, so a crash leaves the store as it was before the sync (docs/sync-format.md,
"Sync engine").
"""

from __future__ import annotations

import inspect
import sqlite3
from collections import defaultdict

from ..format import Revision, SharedFolder, make_revision
from . import records, trash, trust
from . import state as syncstate
from .codec import BodyError, Context, rows
from .roster import check_host, fix_jumps, park_hosts, unpark
from .state import TOMBSTONE_SHA, Head, State, content_sha

# What every reader accepts (SharedFolder's default size limit: 1 MiB in format 1).
MAX_FILE_BYTES = inspect.signature(SharedFolder).parameters["max_file_bytes"].default


class Batch:
    def __init__(self, conn: sqlite3.Connection, author: str, device: str, allow_deletes: bool = False) -> None:
        self.conn, self.author, self.device = conn, author, device
        self.allow_deletes = allow_deletes
        self.ctx = Context(conn)
        self.pulled = 0
        self.applied = 0
        self.queued = 0
        self.problems: list[dict] = []  # incoming revisions that cannot be applied
        self.refused: list[Revision] = []  # not taken on trust: read again (and reported) next time
        self.suspicious: list[dict] = []  # claim this device's id, written elsewhere
        self.held: dict[str, list[str]] = {}  # kind -> ids whose deletion waits for --allow-deletes
        self.not_sent: list[dict] = []  # local records that cannot be pushed
        self.parsed: dict[str, Revision] = {}  # the revisions this batch read, by rev

    def run(self, incoming: list[Revision], full: bool = False) -> None:
        own = syncstate.known_revs(self.conn, [r.rev for r in incoming if r.device == self.device])
        incoming, refused = trust.screen(incoming, self.device, own)
        for rev, reason, suspicious in refused:
            self.refused.append(rev)
            self.problems.append({"path": rev.relpath, "reason": reason})
            if suspicious:
                self.suspicious.append({"path": rev.relpath, "kind": rev.kind, "id": rev.id,
                                        "author": rev.author, "time": rev.time})
        new = syncstate.add_revisions(self.conn, incoming, published=True)
        self.parsed = {r.rev: r for r in new}
        self.pulled = len(new)
        touched: dict[str, set[str]] = defaultdict(set)
        for rev in new:
            touched[rev.kind].add(rev.id)
        for kind in records.KIND_ORDER:
            # Candidates are read per kind, after the kinds before it were applied.
            dirty, fresh, gone = syncstate.candidates(self.conn, kind, full)
            ids, done = touched[kind] | dirty | fresh | gone, set()
            while ids:
                self.process(kind, sorted(ids))
                done |= ids
                # Applying may change other records of this kind (a renamed jump host's users).
                ids = syncstate.dirty_ids(self.conn, kind) - done
            syncstate.clear_dirty(self.conn, kind, done)
            # Still to do next time: records too large to send, deletions held back.
            syncstate.mark_dirty(self.conn, kind, [n["id"] for n in self.not_sent if n["kind"] == kind])
            syncstate.mark_dirty(self.conn, kind, self.held.get(kind, []))

    # ------------------------------------------------------------------ deciding
    def process(self, kind: str, ids: list[str]) -> None:
        conn = self.conn
        states = syncstate.states_of(conn, kind, ids)
        heads = syncstate.heads_of(conn, kind, ids, self.parsed)
        local = records.read_bodies(conn, kind, ids)
        out: dict[str, State] = {}
        plan: list[tuple[str, Head, list[str]]] = []  # (id, head to apply, revs it stands for)
        for rid in ids:
            st, hs, body = states.get(rid), heads.get(rid, []), local.get(rid)
            lsha = content_sha(False, body) if body is not None else None
            base = st.base if st else []
            groups = {h.content for h in hs}
            if st is not None and st.alias is not None:  # merged by name into another local record
                if len(groups) == 1 and {h.rev for h in hs} != set(base):
                    plan.append((rid, hs[-1], [h.rev for h in hs]))
                continue
            if lsha != (st.body_sha if st else None):  # changed locally since the last sync
                self._changed_here(kind, rid, body, lsha, base, hs, out)
            elif len(groups) == 1 and {h.rev for h in hs} != set(base):
                plan.append((rid, hs[-1], [h.rev for h in hs]))
            elif len(groups) > 1 and st is None and body is None:
                # New to us and already forked elsewhere: show the newest version meanwhile.
                live = [h for h in hs if not h.deleted] or hs
                plan.append((rid, live[-1], [live[-1].rev]))
                out[rid] = State([], None, conflict=True)  # completed by _apply
            elif st is not None and st.conflict != (len(groups) > 1):
                out[rid] = State(base, st.body_sha, conflict=len(groups) > 1)
        self._apply(kind, plan, out, heads)
        syncstate.put_states(conn, kind, out)

    def _changed_here(self, kind: str, rid: str, body: dict | None, lsha: str | None, base: list[str],
                      hs: list[Head], out: dict[str, State]) -> None:
        """A record changed locally since the last sync: queue it as a new revision (a
        deletion keeps its last synced body in the trash), unless it is already there."""
        match = [h.rev for h in hs if h.content == (lsha or TOMBSTONE_SHA)]
        if match:  # already there (written by us before a crash, or the same change)
            out[rid] = State(match, lsha, conflict=len({h.content for h in hs}) > 1)
            return
        if body is None and not hs:
            self.conn.execute("DELETE FROM sync_state WHERE kind = ? AND id = ?", (kind, rid))
            return
        if body is None:  # deleted here: its last synced body goes to the trash
            last = [h for h in hs if h.rev in base and not h.deleted]
            if last:
                trash.keep(self.conn, kind, {rid: last[-1].body}, self.author)
        rev = make_revision(kind, rid, body or {}, base, self.author, self.device, deleted=body is None)
        size = len(rev.to_bytes())
        if size > MAX_FILE_BYTES:  # every reader would skip it: keep it here, say so
            self.not_sent.append({"kind": kind, "id": rid, "reason": (
                f"too large for the shared folder ({size} bytes; limit {MAX_FILE_BYTES}): "
                "shorten it to share it")})
            return
        syncstate.add_revisions(self.conn, [rev], published=False)
        self.queued += 1
        after = {h.content for h in hs if h.rev not in base} | {content_sha(rev.deleted, rev.body)}
        out[rid] = State([rev.rev], lsha, conflict=len(after) > 1)

    # ------------------------------------------------------------------ applying
    def _apply(self, kind: str, plan, out: dict[str, State], heads: dict[str, list[Head]]) -> None:
        if not plan:
            return
        plan = self._hold_deletions(kind, plan)
        # Synced text is untrusted text: cleaned like remote output before it is stored.
        clean = {rid: trust.clean(head.body) if trust.needs_cleaning(head.text) else head.body
                 for rid, head, _ in plan if not head.deleted}
        if kind == "host":
            plan = self._valid_hosts(plan, clean)
            parked = park_hosts(self.ctx, {rid: clean[rid] for rid, h, _ in plan if not h.deleted})
        plan.sort(key=lambda item: not item[1].deleted)  # deletions first: they free names
        doomed = records.read_bodies(self.conn, kind, [rid for rid, head, _ in plan if head.deleted]) \
            if kind in trash.KINDS else {}
        settled: dict[str, tuple[list[str], str | None]] = {}  # id -> (base, alias)
        # Notes and visits: every body checked, then written in one statement.
        bulk = records.apply_many(self.ctx, kind, {rid: clean[rid] for rid, head, _ in plan if not head.deleted}) \
            if kind in records.BULK else None
        bad, exact = bulk if bulk is not None else ({}, set())
        for rid, head, revs in plan:
            if bulk is not None and not head.deleted:
                if rid in bad:
                    self._problem(kind, rid, head, bad[rid])
                    out.pop(rid, None)
                else:
                    self.applied += 1
                    settled[rid] = (revs, None)
                continue
            ok, alias = self._apply_one(kind, rid, head, clean.get(rid), doomed)
            if not ok:
                out.pop(rid, None)
                continue
            self.applied += 1
            settled[rid] = (revs, alias)
        if kind == "host":
            unpark(self.ctx, {uid: name for uid, name in parked.items() if uid not in settled})
            fix_jumps(self.ctx, {rid: clean[rid] for rid, head, _ in plan if rid in settled and not head.deleted},
                      {uid: name for uid, name in parked.items() if uid in settled})
        applied = {rid: head for rid, head, _ in plan}
        # The local rows read back (a row written exactly as its head's body is not).
        exact = {rid for rid in exact if clean[rid] is applied[rid].body}
        bodies = records.read_bodies(self.conn, kind, [rid for rid, (_, alias) in settled.items()
                                                       if not alias and rid not in exact])
        for rid, (revs, alias) in settled.items():
            body, head = bodies.get(rid), applied[rid]
            forked = len({h.content for h in heads.get(rid, [])}) > 1
            if rid in exact:
                sha = head.content
            elif alias or body is None:
                sha = None
            else:  # the local row read back: usually exactly the body applied
                sha = head.content if not head.deleted and body == head.body else content_sha(False, body)
            out[rid] = State(revs, sha, alias, conflict=forked)

    def _valid_hosts(self, plan: list, clean: dict[str, dict]) -> list:
        """The plan without host bodies that fail the host rules (each one a problem)."""
        valid = []
        for item in plan:
            try:
                if not item[1].deleted:
                    check_host(clean[item[0]])
                valid.append(item)
            except BodyError as exc:
                self._problem("host", item[0], item[1], str(exc))
        return valid

    def _apply_one(self, kind: str, rid: str, head: Head, body: dict | None,
                   doomed: dict[str, dict]) -> tuple[bool, str | None]:
        """One record written or removed in its own savepoint: (applied, alias). A refused
        one is rolled back and reported as a problem."""
        self.ctx.author = trust.clean(head.author)
        self.conn.execute("SAVEPOINT sync_apply")
        try:
            if head.deleted:
                if rid in doomed:
                    trash.keep(self.conn, kind, {rid: doomed[rid]}, f"{self.ctx.author} (sync)")
                records.remove(self.ctx, kind, rid)
                alias = None
            else:
                alias = records.apply(self.ctx, kind, rid, body)
        except (BodyError, sqlite3.IntegrityError) as exc:
            self.conn.execute("ROLLBACK TO sync_apply")
            self.conn.execute("RELEASE sync_apply")
            self._problem(kind, rid, head, str(exc))
            return False, None
        self.conn.execute("RELEASE sync_apply")
        return True, alias

    def _hold_deletions(self, kind: str, plan: list) -> list:
        """Without --allow-deletes, a batch deleting many local records of a kind applies
        everything else and keeps those records until the technician allows it."""
        if self.allow_deletes:
            return plan
        deleting = [rid for rid, head, _ in plan if head.deleted]
        if not deleting:
            return plan
        table, key, _ = syncstate.LOCAL[kind]
        present = [rid for rid, in rows(self.conn, f"SELECT {key} FROM {table} WHERE {key} IN ({{marks}})",
                                          deleting)]
        total = self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        if not trust.is_mass_deletion(len(present), total):
            return plan
        held = set(present)
        self.held.setdefault(kind, []).extend(sorted(held))
        return [item for item in plan if item[0] not in held]

    def _problem(self, kind: str, rid: str, head: Head, reason: str) -> None:
        self.problems.append({"path": f"{kind}s/{rid}/{head.rev}.json", "reason": f"cannot apply: {reason}"})
