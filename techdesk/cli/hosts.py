"""`techdesk hosts ...`: the roster from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from techdesk.cli.output import print_json, table
from techdesk.core.roster import OS_CHOICES, HostSpec, RosterError
from techdesk.services.context import Services
from techdesk.workspace import atomic_write_text


def _host_options(p: argparse.ArgumentParser, edit: bool = False) -> None:
    if edit:
        p.add_argument("--name", dest="new_name", help="rename the host")
    p.add_argument("--address", required=not edit, help="DNS name or IP address")
    p.add_argument("--port", help="SSH port (default: inherited, else 22)")
    p.add_argument("--user", help="login name (default: inherited)")
    p.add_argument("--client")
    p.add_argument("--site")
    p.add_argument("--tag", action="append", dest="tags", metavar="T",
                   help="a tag; repeat for several" + ("; replaces the tags" if edit else ""))
    p.add_argument("--key", help="private key file")
    p.add_argument("--jump", metavar="HOST", help="reach this host through another roster host")
    p.add_argument("--os", choices=OS_CHOICES)


def register(sub) -> None:
    hosts = sub.add_parser("hosts", help="the roster of client machines")
    hs = hosts.add_subparsers(dest="hosts_cmd", required=True, metavar="COMMAND")

    p = hs.add_parser("add", help="add a host")
    p.add_argument("name")
    _host_options(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_add)

    p = hs.add_parser("list", help="list hosts")
    p.add_argument("--client")
    p.add_argument("--site")
    p.add_argument("--tag")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = hs.add_parser("show", help="show one host and where each value comes from")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = hs.add_parser("edit", help="change a host (an empty value clears a field)")
    p.add_argument("name")
    _host_options(p, edit=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_edit)

    p = hs.add_parser("remove", help="remove a host")
    p.add_argument("name")
    p.set_defaults(func=cmd_remove)

    p = hs.add_parser("confirm", help="accept a host's changed address, port, user or jump route for its "
                                      "stored password or passphrase")
    p.add_argument("name")
    p.set_defaults(func=cmd_confirm)

    p = hs.add_parser("import", help="import hosts (all or nothing)")
    p.add_argument("file", type=Path)
    p.add_argument("--format", required=True, choices=("ssh-config", "csv", "ansible"))
    p.add_argument("--client", help="client for hosts the file does not place")
    p.add_argument("--site", help="site for hosts the file does not place")
    p.add_argument("--update", action="store_true",
                   help="merge into hosts that already exist (default: an existing name is an error)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = hs.add_parser("export", help="export the roster")
    p.add_argument("--format", required=True, choices=("csv", "ansible"))
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = hs.add_parser("defaults", help="connection defaults of a client or site (inherited by its hosts)")
    p.add_argument("--client", required=True)
    p.add_argument("--site")
    p.add_argument("--user")
    p.add_argument("--port")
    p.add_argument("--jump", metavar="HOST")
    p.add_argument("--key")
    p.set_defaults(func=cmd_defaults)

    clients = sub.add_parser("clients", help="rename or remove a client or site")
    cs = clients.add_subparsers(dest="clients_cmd", required=True, metavar="COMMAND")
    p = cs.add_parser("rename", help="rename a client (or --site of it); notes, visits, schedules follow")
    p.add_argument("client")
    p.add_argument("new_name")
    p.add_argument("--site")
    p.set_defaults(func=cmd_clients_rename)
    p = cs.add_parser("remove", help="remove a client (or --site of it) with its hosts, or --keep-hosts")
    p.add_argument("client")
    p.add_argument("--site")
    p.add_argument("--keep-hosts", action="store_true", help="keep the hosts, without that client or site")
    p.add_argument("--yes", action="store_true", help="do it (without --yes: only list what would go)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clients_remove)


def _spec_from_args(args) -> HostSpec:
    return HostSpec(name=args.name, address=args.address, port=args.port, user=args.user,
                    client=args.client, site=args.site, tags=args.tags or [], os=args.os,
                    jump=args.jump, key=args.key)


def cmd_add(svc: Services, args) -> int:
    host = svc.roster.add(_spec_from_args(args))
    if args.json:
        print_json(host.as_json())
    else:
        print(f"added {host.name}")
    return 0


def cmd_list(svc: Services, args) -> int:
    hosts = svc.roster.hosts(client=args.client, site=args.site, tag=args.tag)
    if args.json:
        print_json([h.as_json() for h in hosts])
        return 0
    rows = [[h.name, h.address, h.port, h.user or "", h.spec.client or "", h.spec.site or "",
             ",".join(h.spec.tags), h.os, h.jump or ""] for h in hosts]
    print(table(rows, ["NAME", "ADDRESS", "PORT", "USER", "CLIENT", "SITE", "TAGS", "OS", "JUMP"]))
    return 0


def cmd_show(svc: Services, args) -> int:
    host = svc.roster.get(args.name)
    data = host.as_json()
    if args.json:
        print_json(data)
        return 0
    for field in ("name", "address", "port", "user", "client", "site", "tags", "os", "jump", "key"):
        value = data[field]
        if field == "tags":
            value = ", ".join(value)
        source = host.sources.get(field)
        origin = ""
        if source in ("site", "client"):
            origin = f"  (from {source} {data[source]})"
        elif source == "default":
            origin = "  (default)"
        print(f"{field + ':':9} {'' if value is None else value}{origin}")
    return 0


def cmd_edit(svc: Services, args) -> int:
    changes = {k: getattr(args, k) for k in ("address", "port", "user", "client", "site", "os", "jump", "key")
               if getattr(args, k) is not None}
    if args.tags is not None:
        changes["tags"] = [t for t in args.tags if t]
    if args.new_name:
        changes["name"] = args.new_name
    if not changes:
        raise RosterError("nothing to change: give at least one option")
    host = svc.roster.edit(args.name, **changes)
    if args.json:
        print_json(host.as_json())
    else:
        print(f"updated {host.name}")
    return 0


def cmd_remove(svc: Services, args) -> int:
    svc.roster.remove(args.name)
    print(f"removed {args.name}")
    return 0


def cmd_confirm(svc: Services, args) -> int:
    changes = svc.roster.endpoint_changes(args.name)
    endpoint, kinds = svc.roster.confirm_endpoint(args.name)
    if not kinds:
        print(f"{args.name}: nothing to confirm (its stored secrets already belong to {endpoint})")
        return 0
    for kind, was in changes:
        print(f"{args.name}: the stored {kind} now belongs to {endpoint} (was {was})")
    return 0


def cmd_import(svc: Services, args) -> int:
    result = svc.roster.import_file(args.file, args.format, client=args.client, site=args.site,
                                    update=args.update)
    if args.json:
        print_json(result)
    else:
        print(f"imported {len(result['added'])} new, {len(result['updated'])} updated from {args.file}")
    return 0


def cmd_export(svc: Services, args) -> int:
    text = svc.roster.export(args.format)
    if args.output:
        atomic_write_text(args.output, text, mode=0o644)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_defaults(svc: Services, args) -> int:
    svc.roster.set_defaults(args.client, args.site, user=args.user, port=args.port, jump=args.jump,
                            key=args.key)
    print(f"defaults set for {args.client}{' / ' + args.site if args.site else ''}")
    return 0


def cmd_clients_rename(svc: Services, args) -> int:
    svc.roster.rename(args.client, args.new_name, args.site)
    print(f"renamed {'site ' + args.site + ' of ' + args.client if args.site else args.client} to "
          f"{args.new_name.strip()}")
    return 0


def cmd_clients_remove(svc: Services, args) -> int:
    what = f"site {args.site} of {args.client}" if args.site else f"client {args.client}"
    if not args.yes:
        hosts = svc.roster.hosts_of(args.client, args.site)
        fate = "kept" if args.keep_hosts else "removed"
        print(f"{what} holds {len(hosts)} host(s), which would be {fate}: {', '.join(hosts) or 'none'}")
        print("nothing changed: add --yes to remove it")
        return 1
    done = svc.roster.remove_holder(args.client, args.site, keep_hosts=args.keep_hosts)
    if args.json:
        print_json(done)
    else:
        print(f"removed {what}; {len(done['hosts'])} host(s) {'kept' if done['kept'] else 'removed'}"
              + (f", {len(done['schedules'])} schedule(s) removed" if done["schedules"] else ""))
    return 0
