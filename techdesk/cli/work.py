"""`techdesk notes ...` and `techdesk visits ...`: the technician's work."""

from __future__ import annotations

import sys
from pathlib import Path

from techdesk.cli import UsageError
from techdesk.cli.output import print_json, table
from techdesk.core.work import Followup
from techdesk.services.context import Services


def register(sub) -> None:
    notes = sub.add_parser("notes", help="service notes")
    ns = notes.add_subparsers(dest="notes_cmd", required=True, metavar="COMMAND")
    p = ns.add_parser("add", help="write a note for a host, or a client and site")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--host")
    target.add_argument("--client")
    p.add_argument("--site")
    p.add_argument("--title", required=True)
    _body_options(p)
    p.add_argument("--run", action="append", dest="runs", metavar="RUN_ID", help="attach a run's findings")
    p.add_argument("--followup", action="append", dest="followups", metavar="TEXT", help="a follow-up item")
    p.add_argument("--pin", action="store_true", help='pin as "know before you go" (shown in the visit briefing)')
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_notes_add)

    p = ns.add_parser("list", help="list notes")
    p.add_argument("--host")
    p.add_argument("--client")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_notes_list)

    p = ns.add_parser("show", help="show a note")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_notes_show)

    p = ns.add_parser("edit", help="change a note")
    p.add_argument("id")
    p.add_argument("--title")
    _body_options(p)
    p.add_argument("--status", choices=("open", "resolved"))
    p.add_argument("--run", action="append", dest="runs", metavar="RUN_ID", help="attach a run's findings")
    p.add_argument("--followup", action="append", dest="followups", metavar="TEXT", help="add a follow-up")
    p.add_argument("--done", action="append", type=int, metavar="N", help="mark follow-up N (1-based) done")
    pin = p.add_mutually_exclusive_group()
    pin.add_argument("--pin", dest="pinned", action="store_const", const=True, help='pin as "know before you go"')
    pin.add_argument("--unpin", dest="pinned", action="store_const", const=False, help="remove the pin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_notes_edit)

    visits = sub.add_parser("visits", help="visits at client sites")
    vs = visits.add_subparsers(dest="visits_cmd", required=True, metavar="COMMAND")
    p = vs.add_parser("start", help="start a visit (the timer runs until stop)")
    p.add_argument("--client", required=True)
    p.add_argument("--site")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_visits_start)
    p = vs.add_parser("stop", help="stop the running visit (or visit ID)")
    p.add_argument("id", nargs="?")
    p.add_argument("--summary", help="a short summary for the report")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_visits_stop)
    p = vs.add_parser("list", help="list visits")
    p.add_argument("--client")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_visits_list)
    p = vs.add_parser("show", help="show a visit")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_visits_show)
    p = vs.add_parser("check", help="tick (or untick) checklist item N of a visit")
    p.add_argument("id")
    p.add_argument("item", type=int, metavar="N")
    p.add_argument("--undo", action="store_true")
    p.set_defaults(func=cmd_visits_check)


def _body_options(p) -> None:
    body = p.add_mutually_exclusive_group()
    body.add_argument("--body", help="Markdown text")
    body.add_argument("--body-file", type=Path, metavar="F", help="read the body from a file (- = stdin)")


def _body(args) -> str | None:
    if args.body is not None:
        return args.body
    if args.body_file is None:
        return None
    if str(args.body_file) == "-":
        return sys.stdin.read()
    try:
        return args.body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {args.body_file}: {exc}") from None


def cmd_notes_add(svc: Services, args) -> int:
    note = svc.notes.add(args.title, _body(args) or "", host=args.host, client=args.client, site=args.site,
                         runs=args.runs, followups=args.followups, pinned=args.pin)
    if args.json:
        print_json(note.as_json())
    else:
        print(f"note {note.id} added")
    return 0


def cmd_notes_list(svc: Services, args) -> int:
    notes = svc.notes.list(host=args.host, client=args.client)
    if args.json:
        conflicts = svc.sync.conflict_ids("note")  # team sync: "conflict": true while two heads
        print_json([dict(n.as_json(), conflict=n.id in conflicts) for n in notes])
        return 0
    print(table([[n.id[:8], n.updated, n.status, n.host or f"{n.client}{' / ' + n.site if n.site else ''}",
                  n.author, n.title] for n in notes], ["ID", "UPDATED", "STATUS", "FOR", "AUTHOR", "TITLE"]))
    return 0


def cmd_notes_show(svc: Services, args) -> int:
    note = svc.notes.get(args.id)
    if args.json:
        print_json(dict(note.as_json(), conflict=note.id in svc.sync.conflict_ids("note")))
        return 0
    print(f"{note.title}\n{'=' * len(note.title)}")
    print(f"id {note.id} · {note.status} · by {note.author} · created {note.created} · updated {note.updated}")
    print(f"for {note.host or note.client}{' / ' + note.site if note.site else ''}\n")
    print(note.body)
    if note.followups:
        print("\nFollow-ups:")
        for i, f in enumerate(note.followups, 1):
            print(f"  {i}. [{'x' if f.done else ' '}] {f.text}")
    for run in note.runs:
        print(f"\nRun {run.run_id} on {run.host} ({run.bundle}, {run.started}): {run.status.upper()}")
        for f in run.findings:
            print(f"  {f['status'].upper():8} {f['title']}: {f['summary']}")
    return 0


def cmd_notes_edit(svc: Services, args) -> int:
    note = svc.notes.get(args.id)
    followups = None
    if args.followups or args.done:
        followups = list(note.followups) + [Followup(t) for t in args.followups or [] if t.strip()]
        for n in args.done or []:
            if not 1 <= n <= len(followups):
                raise UsageError(f"the note has no follow-up {n}")
            followups[n - 1] = Followup(followups[n - 1].text, True)
    if all(v is None for v in (args.title, args.body, args.body_file, args.status, followups, args.runs,
                               args.pinned)):
        raise UsageError("nothing to change: give at least one option")
    note = svc.notes.edit(note.id, title=args.title, body=_body(args), status=args.status, followups=followups,
                          pinned=args.pinned)
    for run_id in args.runs or []:
        note = svc.notes.attach_run(note.id, run_id)
    if args.json:
        print_json(dict(note.as_json(), conflict=note.id in svc.sync.conflict_ids("note")))
    else:
        print(f"note {note.id} updated")
    return 0


def cmd_visits_start(svc: Services, args) -> int:
    visit = svc.visits.start(args.client, args.site)
    if args.json:
        print_json(visit.as_json())
    else:
        print(f"visit {visit.id} started at {visit.client}{' / ' + visit.site if visit.site else ''}")
    return 0


def cmd_visits_stop(svc: Services, args) -> int:
    visit = svc.visits.stop(args.id, summary=args.summary)
    if args.json:
        print_json(visit.as_json([n.id for n in svc.visits.notes(visit)]))
    else:
        print(f"visit {visit.id} stopped: {visit.minutes_on_site():.0f} min on site, "
              f"{visit.billable_minutes} billable")
    return 0


def cmd_visits_list(svc: Services, args) -> int:
    visits = svc.visits.list(args.client)
    if args.json:
        print_json([v.as_json() for v in visits])
        return 0
    print(table([[v.id[:8], v.started, v.stopped or "running", f"{v.minutes_on_site():.0f}",
                  v.billable_minutes if v.billable_minutes is not None else "", v.client, v.site or "",
                  v.technician] for v in visits],
                ["ID", "STARTED", "STOPPED", "MIN", "BILLABLE", "CLIENT", "SITE", "TECHNICIAN"]))
    return 0


def cmd_visits_show(svc: Services, args) -> int:
    visit = svc.visits.get(args.id)
    notes = svc.visits.notes(visit)
    if args.json:
        print_json(visit.as_json([n.id for n in notes]))
        return 0
    print(f"Visit {visit.id} at {visit.client}{' / ' + visit.site if visit.site else ''} by {visit.technician}")
    print(f"{visit.started} → {visit.stopped or 'running'} ({visit.minutes_on_site():.0f} min"
          + (f", {visit.billable_minutes} billable)" if visit.billable_minutes is not None else ")"))
    if visit.summary:
        print(f"\n{visit.summary}")
    print("\nChecklist:")
    for i, item in enumerate(visit.checklist, 1):
        print(f"  {i}. [{'x' if item.done else ' '}] {item.text}")
    print(f"\nHosts: {', '.join(visit.hosts) or '—'}\nRuns: {', '.join(visit.runs) or '—'}")
    print("Notes: " + (", ".join(f"{n.id[:8]} {n.title}" for n in notes) or "—"))
    return 0


def cmd_visits_check(svc: Services, args) -> int:
    visit = svc.visits.update(svc.visits.get(args.id).id, check=(args.item - 1, not args.undo))
    item = visit.checklist[args.item - 1]
    print(f"[{'x' if item.done else ' '}] {item.text}")
    return 0
