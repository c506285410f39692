"""`techdesk bundles | run | history | audit`: diagnostics from the command line."""

from __future__ import annotations

import sys

from techdesk.cli import UsageError
from techdesk.cli.output import HostProgress, print_json, table, warn
from techdesk.services.context import Services


def register(sub) -> None:
    b = sub.add_parser("bundles", help="diagnostic bundles")
    bs = b.add_subparsers(dest="bundles_cmd", required=True, metavar="COMMAND")
    p = bs.add_parser("list", help="list bundles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bundles_list)
    p = bs.add_parser("show", help="show a bundle's checks")
    p.add_argument("name")
    p.add_argument("--script", action="store_true", help="print the compiled script that would be sent")
    p.set_defaults(func=cmd_bundles_show)

    p = sub.add_parser("run", help="run a bundle on hosts")
    p.add_argument("bundle")
    p.add_argument("hosts", nargs="*", metavar="HOST")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--client")
    group.add_argument("--site")
    group.add_argument("--tag")
    group.add_argument("--all", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--concurrency", type=int, default=None, metavar="N")
    p.add_argument("--accept-new-hostkeys", action="store_true",
                   help="trust and remember host keys seen for the first time (never a changed key)")
    p.add_argument("--progress", action="store_true", help="per-host progress on stderr even when not a terminal")
    p.add_argument("--any-os", action="store_true",
                   help="run even on hosts whose OS is not the bundle's (refused otherwise)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("history", help="a host's runs and a metric over time")
    p.add_argument("host")
    p.add_argument("--check", metavar="ID")
    p.add_argument("--metric", metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_history)

    runs = sub.add_parser("runs", help="a past run as text; two runs of a host compared")
    rs = runs.add_subparsers(dest="runs_cmd", required=True, metavar="COMMAND")
    p = rs.add_parser("show", help="a whole run as text: every host, check, summary and output")
    p.add_argument("run_id", metavar="RUN")
    p.add_argument("--host", action="append", metavar="HOST", help="only this host (repeatable)")
    p.set_defaults(func=cmd_runs_show)
    p = rs.add_parser("compare", help="what changed on a host between two runs (OLD then NEW)")
    p.add_argument("host")
    p.add_argument("older", metavar="OLD")
    p.add_argument("newer", metavar="NEW")
    p.add_argument("--all", action="store_true", help="list unchanged checks too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs_compare)

    p = sub.add_parser("audit", help="the audit log of commands sent to client machines, verified")
    p.add_argument("--host")
    p.add_argument("--limit", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)


def cmd_bundles_list(svc: Services, args) -> int:
    bundles = svc.bundles.all()
    for problem in svc.bundles.problems:
        warn(problem)
    if args.json:
        print_json([{"name": b.name, "title": b.title, "os": b.os, "version": b.version,
                     "checks": len(b.checks), "source": b.source, "description": b.description}
                    for b in bundles.values()])
        return 0
    print(table([[b.name, b.os, len(b.checks), b.title] for b in bundles.values()],
                ["NAME", "OS", "CHECKS", "TITLE"]))
    return 0


def cmd_bundles_show(svc: Services, args) -> int:
    bundle = svc.bundles.get(args.name)
    if args.script:
        from techdesk.diagnostics.compile import compile_script

        sys.stdout.write(compile_script(bundle, "0" * 32).text)
        return 0
    print(f"{bundle.title} ({bundle.name} v{bundle.version}, {bundle.os})")
    if bundle.description:
        print(bundle.description)
    print(f"source: {bundle.source}\n")
    print(table([[c.id, c.timeout, c.title] for c in bundle.checks], ["CHECK", "TIMEOUT", "TITLE"]))
    return 0


def _targets(svc: Services, args) -> list:
    if args.hosts and (args.client or args.site or args.tag or args.all):
        raise UsageError("give host names or one of --client/--site/--tag/--all, not both")
    if args.hosts:
        return svc.runner.resolve_targets(args.hosts)
    if not (args.client or args.site or args.tag or args.all):
        raise UsageError("name the hosts to run on, or use --client, --site, --tag or --all")
    hosts = svc.roster.hosts(client=args.client, site=args.site, tag=args.tag)
    if not hosts:
        raise UsageError("no hosts match")
    return hosts


def cmd_run(svc: Services, args) -> int:
    import asyncio  # only a run needs the event loop (~20 ms): not bundles, history, audit

    from techdesk.core.findings import run_exit_code
    from techdesk.services.runner import DEFAULT_CONCURRENCY

    bundle = svc.bundles.get(args.bundle)
    hosts = _targets(svc, args)
    concurrency = args.concurrency or svc.workspace.settings.concurrency or DEFAULT_CONCURRENCY
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    show = args.progress or sys.stderr.isatty()
    progress = HostProgress(len(hosts)) if show else None

    async def run_and_record():
        report = await svc.runner.run(bundle, hosts, concurrency=concurrency,
                                      accept_new_hostkeys=args.accept_new_hostkeys,
                                      on_event=progress.event if progress else None,
                                      any_os=args.any_os)
        # A run by hand feeds alert state like a sweep's (and sends new alerts the same way).
        recorded = await svc.monitor.record_run(report)
        for error in recorded["errors"]:
            warn(error)
        return report

    report = asyncio.run(run_and_record())
    if args.json:
        print_json(report.as_json())
    else:
        _print_report(report)
    return run_exit_code(report.results)


def _print_report(report) -> None:
    for r in report.results:
        head = f"{r.host}: {r.status.value.upper()}  ({r.duration_s:.1f}s)"
        print(head)
        if r.error:
            print(f"  error ({r.error.kind}): {r.error.message}")
        for c in r.checks:
            print(f"  {c.status.value.upper():8} {c.id:16} {c.summary}")
    print(f"run {report.run_id}: {len(report.results)} hosts")


def cmd_history(svc: Services, args) -> int:
    svc.roster.get(args.host)
    hist = svc.history
    series = hist.metric_series(args.host, args.check, args.metric) if (args.metric or args.json) else []
    runs = hist.host_runs(args.host)
    checks = hist.check_history(args.host, args.check) if args.check else []
    if args.json:
        print_json({"host": args.host, "runs": [r.as_json() for r in runs],
                    "check": checks if args.check else None, "metrics": series})
        return 0
    if args.metric:
        print(table([[m["ts"], m["check_id"], m["label"], f"{m['value']:g}{m['uom']}",
                      _fmt(m["warn"]), _fmt(m["crit"])] for m in series],
                    ["TIME", "CHECK", "METRIC", "VALUE", "WARN", "CRIT"]))
    elif args.check:
        print(table([[c["started"], c["status"].upper(), c["summary"]] for c in checks],
                    ["TIME", "STATUS", "SUMMARY"]))
    else:
        print(table([[r.started, r.bundle, r.status.upper(), f"{r.duration_s:.1f}s",
                      r.error_message or ""] for r in runs],
                    ["TIME", "BUNDLE", "STATUS", "TOOK", "ERROR"]))
    return 0


def _fmt(value) -> str:
    return "" if value is None else f"{value:g}"


def cmd_audit(svc: Services, args) -> int:
    entries = svc.history.audit_entries(args.host, args.limit)
    problems = svc.history.audit_verify()
    if args.json:
        from techdesk.store.audit import as_json

        print_json({"entries": [as_json(e) for e in entries], "verified": not problems, "problems": problems})
    else:
        print(table([[e.seq, e.ts, e.technician, e.host or "", e.action, e.outcome or "",
                      (e.script_sha256 or "")[:12], e.detail] for e in entries],
                    ["#", "TIME", "WHO", "HOST", "ACTION", "OUTCOME", "SCRIPT", "DETAIL"]))
        print("chain verified: intact" if not problems else "chain verification FAILED:")
    for problem in problems:
        print(f"techdesk: audit: {problem}", file=sys.stderr)
    return 0 if not problems else 1




def cmd_runs_show(svc: Services, args) -> int:
    from techdesk.services.run_views import run_text

    sys.stdout.write(run_text(svc.history, args.run_id, args.host))
    return 0


def cmd_runs_compare(svc: Services, args) -> int:
    from techdesk.services.run_views import compare

    changes = compare(svc.history, args.host, args.older, args.newer)
    if args.json:
        print_json([c.as_json() for c in changes])
        return 0
    shown = [c for c in changes if args.all or c.change != "same"]
    if not shown:
        print("nothing changed")
        return 0
    print(table([[c.change.upper(), c.check, (c.before or "-").upper(), (c.after or "-").upper(), c.after_summary]
                 for c in shown], ["CHANGE", "CHECK", "BEFORE", "AFTER", "NOW"]))
    return 0
