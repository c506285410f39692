"""Notes and visits: the one API the CLI and the window use for the technician's work."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from pathlib import Path

from techdesk.core.roster import RosterError
from techdesk.core.work import (
    NOTE_STATUSES,
    AttachedRun,
    ChecklistItem,
    Followup,
    Note,
    Visit,
    WorkError,
    billable,
)
from techdesk.resources import resource
from techdesk.store import runs as runs_repo
from techdesk.store import work as repo


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_id() -> str:
    return uuid.uuid4().hex  # lowercase: safe as a folder name on every filesystem


class NotesService:
    def __init__(self, conn, roster, technician: str) -> None:
        self.conn = conn
        self.roster = roster
        self.technician = technician

    def add(self, title: str, body: str = "", *, host: str | None = None, client: str | None = None,
            site: str | None = None, runs: list[str] | None = None, followups: list[str] | None = None,
            visit_id: str | None = None, pinned: bool = False) -> Note:
        if not title or not title.strip():
            raise WorkError("a note needs a title")
        if host and (client or site):
            raise WorkError("a note belongs to a host, or to a client (and site): not both")
        if not host and not client:
            raise WorkError("a note belongs to a host (--host) or a client (--client)")
        if host:
            self.roster.get(host)
        elif client not in {c.name for c in self.roster.clients()}:
            raise RosterError(f"no client named {client!r}")
        if site and not client:
            raise WorkError("a site belongs to a client: give the client too")
        ts = _now()
        note = Note(id=_new_id(), title=title.strip(), body=body, author=self.technician, created=ts,
                    updated=ts, host=host, client=client, site=site,
                    followups=[Followup(t) for t in followups or [] if t.strip()], pinned=pinned)
        note.visit_id = visit_id or self._running_visit_for(host, client)
        for run_id in runs or []:
            note.runs.extend(self._copy_run(run_id, host, client))
        repo.save_note(self.conn, note)
        return note

    def get(self, note_id: str) -> Note:
        return repo.get_note(self.conn, note_id)

    def list(self, host: str | None = None, client: str | None = None, visit: str | None = None) -> list[Note]:
        return repo.list_notes(self.conn, host, client, visit)

    def edit(self, note_id: str, *, title: str | None = None, body: str | None = None,
             status: str | None = None, followups: list[Followup] | None = None,
             pinned: bool | None = None) -> Note:
        note = self.get(note_id)
        if title is not None:
            if not title.strip():
                raise WorkError("a note needs a title")
            note.title = title.strip()
        if body is not None:
            note.body = body
        if status is not None:
            if status not in NOTE_STATUSES:
                raise WorkError(f"status must be one of {', '.join(NOTE_STATUSES)}")
            note.status = status
        if followups is not None:
            note.followups = followups
        if pinned is not None:
            note.pinned = pinned
        note.updated = _now()
        repo.save_note(self.conn, note)
        return note

    def attach_run(self, note_id: str, run_id: str) -> Note:
        note = self.get(note_id)
        if any(r.run_id == run_id for r in note.runs):
            return note
        note.runs.extend(self._copy_run(run_id, note.host, note.client))
        note.updated = _now()
        repo.save_note(self.conn, note)
        return note

    def attach_findings(self, note_id: str, run_id: str, host: str,
                        check_ids: list[str] | None = None) -> tuple[Note, int]:
        """Attach findings of one host's run to a note: the checks named, or every one
        that is not OK (None). A finding already attached (same run, host and check) is
        not added twice. Returns the note and the number of findings added."""
        note = self.get(note_id)
        [copied] = self._copy_run(run_id, host, None)
        if check_ids is None:
            wanted = [f for f in copied.findings if f["status"] != "ok"]
            if not wanted and copied.error is None:
                raise WorkError(f"every check of {host} was OK in that run: select the findings to attach")
        else:
            unknown = set(check_ids) - {f["id"] for f in copied.findings}
            if unknown:
                raise WorkError(f"run {run_id} has no check {sorted(unknown)[0]!r} on {host}")
            wanted = [f for f in copied.findings if f["id"] in set(check_ids)]
        existing = next((r for r in note.runs if (r.run_id, r.host) == (run_id, host)), None)
        if existing is None:
            copied.findings = wanted
            note.runs.append(copied)
            added = len(wanted)
        else:
            have = {f["id"] for f in existing.findings}
            new = [f for f in wanted if f["id"] not in have]
            existing.findings.extend(new)
            added = len(new)
        if added or existing is None:
            note.updated = _now()
            repo.save_note(self.conn, note)
        return note, added

    def counts(self) -> dict[str, int]:
        return repo.note_counts(self.conn)

    def _copy_run(self, run_id: str, host: str | None, client: str | None) -> list[AttachedRun]:
        found = runs_repo.run_hosts(self.conn, run_id)
        if found is None:
            raise WorkError(f"no run with id {run_id!r}")
        bundle, starts = found
        hosts = list(starts)
        if host:
            hosts = [h for h in hosts if h == host]
            if not hosts:
                raise WorkError(f"run {run_id} did not include host {host!r}")
        elif client:
            mine = {h.name for h in self.roster.hosts(client=client)}
            hosts = [h for h in hosts if h in mine] or hosts
        attached = []
        for name in hosts:
            result = runs_repo.host_result(self.conn, run_id, name)
            findings = []
            for check in result.checks:
                data = check.as_json()
                data.pop("output", None)  # the note keeps findings; raw output stays in history
                findings.append(data)
            attached.append(AttachedRun(run_id=run_id, host=name, bundle=bundle, started=starts[name],
                                        status=result.status.value, findings=findings,
                                        error=result.error.as_json() if result.error else None))
        return attached

    def _running_visit_for(self, host: str | None, client: str | None) -> str | None:
        if host:
            client = self.roster.get(host).spec.client
        if not client:
            return None
        running = repo.list_visits(self.conn, client=client, running=True)
        return running[0].id if running else None


class VisitService:
    def __init__(self, conn, roster, technician: str, workspace_path: Path, round_minutes: int) -> None:
        self.conn = conn
        self.roster = roster
        self.technician = technician
        self.workspace_path = workspace_path
        self.round_minutes = round_minutes

    def checklist_template(self) -> list[str]:
        own = self.workspace_path / "checklist.txt"
        text = own.read_text(encoding="utf-8") if own.is_file() else \
            resource("checklists", "default.txt").read_text(encoding="utf-8")
        return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]

    def start(self, client: str, site: str | None = None) -> Visit:
        if client not in {c.name for c in self.roster.clients()}:
            raise RosterError(f"no client named {client!r}")
        if site and site not in {s.name for s in self.roster.sites(client)}:
            raise RosterError(f"client {client!r} has no site named {site!r}")
        running = [v for v in repo.list_visits(self.conn, running=True) if v.technician == self.technician]
        if running:
            raise WorkError(f"visit {running[0].id[:8]} at {running[0].client} is still running; stop it first")
        visit = Visit(id=_new_id(), client=client, site=site, technician=self.technician, started=_now(),
                      checklist=[ChecklistItem(t) for t in self.checklist_template()])
        repo.save_visit(self.conn, visit)
        return visit

    def stop(self, visit_id: str | None = None, summary: str | None = None) -> Visit:
        visit = self.get(visit_id) if visit_id else self.current()
        if visit is None:
            raise WorkError("no visit is running")
        if not visit.running:
            raise WorkError(f"visit {visit.id[:8]} was already stopped at {visit.stopped}")
        visit.stopped = _now()
        if summary is not None:
            visit.summary = summary
        self._collect(visit)
        visit.billable_minutes = billable(visit.minutes_on_site(), self.round_minutes)
        repo.save_visit(self.conn, visit)
        return visit

    def current(self) -> Visit | None:
        running = [v for v in repo.list_visits(self.conn, running=True) if v.technician == self.technician]
        return running[0] if running else None

    def get(self, visit_id: str) -> Visit:
        visit = repo.get_visit(self.conn, visit_id)
        if visit.running:
            self._collect(visit)
        return visit

    def list(self, client: str | None = None) -> list[Visit]:
        return repo.list_visits(self.conn, client=client)

    def update(self, visit_id: str, *, summary: str | None = None, check: tuple[int, bool] | None = None) -> Visit:
        visit = repo.get_visit(self.conn, visit_id)
        if summary is not None:
            visit.summary = summary
        if check is not None:
            index, done = check
            if not 0 <= index < len(visit.checklist):
                raise WorkError(f"the checklist has no item {index + 1}")
            visit.checklist[index] = dataclasses.replace(visit.checklist[index], done=done)
        repo.save_visit(self.conn, visit)
        return visit

    def notes(self, visit: Visit) -> list[Note]:
        return repo.list_notes(self.conn, visit=visit.id)

    def _collect(self, visit: Visit) -> None:
        """The hosts touched and runs made at this client's machines during the visit."""
        hosts = {h.name for h in self.roster.hosts(client=visit.client, site=visit.site)}
        end = visit.stopped or _now()
        rows = runs_repo.runs_between(self.conn, visit.started, end)
        touched = [r[1] for r in rows if r[1] in hosts]
        visit.hosts = list(dict.fromkeys(visit.hosts + touched))
        visit.runs = list(dict.fromkeys(visit.runs + [r[0] for r in rows if r[1] in hosts]))
        for note in self.notes(visit):
            if note.host and note.host not in visit.hosts:
                visit.hosts.append(note.host)
