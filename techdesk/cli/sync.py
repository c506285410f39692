"""`techdesk sync` and `techdesk conflicts [resolve]`: team sync through the shared folder.

Exit status of `sync`: 0 done, 1 done with conflicts waiting, 3 the shared folder is
missing, unusable or of a newer format (nothing local changed; the outbox waits), or
the sync held back many deletions (everything else was applied; `--allow-deletes`).
`trash` and `restore ID`: deleted notes, visits and hosts, kept here.
"""

from __future__ import annotations

import sys

from techdesk.cli.output import print_json, table, warn
from techdesk.diagnostics.sanitize import clean_text
from techdesk.services.context import Services
from techdesk.sync import SharedFolderError

EX_FOLDER = 3


def register(sub) -> None:
    p = sub.add_parser("sync", help="push local changes to the shared folder and pull the team's")
    p.add_argument("--json", action="store_true")
    p.add_argument("--init", action="store_true",
                   help="first use: set up a new or empty shared folder (and remember it in the settings)")
    p.add_argument("--full", action="store_true",
                   help="compare every local record with its last synced version, not only those changed")
    p.add_argument("--allow-deletes", action="store_true",
                   help="apply deletions even when a sync would delete many records (held back otherwise)")
    p.set_defaults(func=cmd_sync)

    t = sub.add_parser("trash", help="deleted notes, visits and hosts whose last version is kept here")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_trash)
    r = sub.add_parser("restore", help="bring back a deleted note, visit or host (published by the next sync)")
    r.add_argument("id", help="the record id from `techdesk trash` (a unique prefix is enough)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_restore)

    c = sub.add_parser("conflicts", help="records changed in two places: list them, resolve one")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_conflicts)
    cs = c.add_subparsers(dest="conflicts_cmd", metavar="COMMAND")
    r = cs.add_parser("resolve", help="resolve a conflict: keep one version, or merge them (notes, visits)")
    r.add_argument("id", help="the record id (a unique prefix is enough)")
    how = r.add_mutually_exclusive_group(required=True)
    how.add_argument("--keep", metavar="REV", help="keep this version (a unique prefix of its rev)")
    how.add_argument("--merge", action="store_true", help="keep every version's text in one")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_resolve)


def _folder_error(exc: SharedFolderError) -> int:
    print(f"techdesk: error: {exc}", file=sys.stderr)
    return EX_FOLDER


def cmd_sync(svc: Services, args) -> int:
    try:
        report = svc.sync.sync(init=args.init, full=args.full, allow_deletes=args.allow_deletes)
    except SharedFolderError as exc:
        return _folder_error(exc)
    if args.json:
        print_json(report.as_json())
    else:
        for item in report.skipped:
            warn(clean_text(f"skipped {item['path']}: {item['reason']}"))
        for item in report.renamed:
            warn(clean_text(f"{item['kind']} {item['name']!r} from the shared folder is kept as {item['as']!r} "
                            f"(a different {item['kind']} here has that name)"))
        for item in report.not_sent:
            warn(f"{item['kind']} {item['id']} was not sent: {item['reason']}")
        line = f"pushed {report.pushed}, pulled {report.pulled}, applied {report.applied}"
        if report.pending:
            line += f", {report.pending} still pending"
        print(line)
        if report.conflicts:
            print(f"{report.conflicts} conflict{'s' if report.conflicts != 1 else ''} waiting: "
                  "see `techdesk conflicts`")
    if report.held:
        print(f"techdesk: error: {report.held_line()}", file=sys.stderr)
        return EX_FOLDER
    return 1 if report.conflicts else 0


def cmd_trash(svc: Services, args) -> int:
    entries = svc.sync.trash()
    if args.json:
        print_json(entries)
        return 0
    if not entries:
        print("the trash is empty")
        return 0
    print(table([[e["id"][:12], e["kind"], clean_text(e["title"]), e["deleted_at"].replace("T", " ")[:19],
                  clean_text(e["deleted_by"])] for e in entries],
                ["ID", "KIND", "TITLE", "DELETED (UTC)", "BY"]))
    print("\nbring one back with: techdesk restore ID")
    return 0


def cmd_restore(svc: Services, args) -> int:
    result = svc.sync.restore(args.id)
    if args.json:
        print_json(result)
        return 0
    for item in result["renamed"]:
        warn(clean_text(f"{item['kind']} {item['name']!r} is restored as {item['as']!r} (the name is taken)"))
    print(clean_text(f"{result['kind']} {result['id']} restored: {result['title']} (the next sync shares it)"))
    return 0


def cmd_conflicts(svc: Services, args) -> int:
    conflicts = svc.sync.conflicts()
    if args.json:
        print_json([c.as_json() for c in conflicts])
        return 0
    if not conflicts:
        print("no conflicts")
        return 0
    rows = []
    for c in conflicts:
        for n, h in enumerate(c.heads):
            rows.append([c.id[:12] if n == 0 else "", c.kind if n == 0 else "", c.title if n == 0 else "",
                         h["rev"][:12], h["author"], h["time"][:19].replace("T", " "), h["device"],
                         "(deleted)" if h["deleted"] else h["title"]])
    print(table(rows, ["ID", "KIND", "TITLE", "VERSION", "AUTHOR", "TIME (UTC)", "DEVICE", "ITS TITLE"]))
    print("\nresolve with: techdesk conflicts resolve ID (--keep VERSION | --merge)")
    return 0


def cmd_resolve(svc: Services, args) -> int:
    result = svc.sync.resolve(args.id, keep=args.keep, merge=args.merge)
    if args.json:
        print_json(result)
        return 0
    where = "published to the shared folder" if result["published"] else \
        "waiting in the outbox (the shared folder is not reachable; run `techdesk sync` later)"
    print(f"{result['kind']} {result['id']} resolved as {result['rev'][:12]}, {where}")
    return 0
