"""`techdesk exec` and `techdesk fix`: acting on hosts from the command line."""

from __future__ import annotations

import asyncio
import sys

from techdesk.cli import UsageError
from techdesk.cli.output import print_json
from techdesk.services.context import Services


def register(sub) -> None:
    p = sub.add_parser("exec", help="run an ad-hoc command on hosts (after --), audited",
                       usage="techdesk exec HOSTS... [--client C | --tag T] (-- COMMAND [ARGS] | --script FILE)")
    p.add_argument("hosts", nargs="*", metavar="HOST")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--client")
    group.add_argument("--tag")
    p.add_argument("--script", metavar="FILE", help="send this sh script instead of a command")
    p.add_argument("--concurrency", type=int, default=None, metavar="N")
    p.add_argument("--timeout", type=int, default=300, metavar="S", help="per host (default 300)")
    p.add_argument("--stop-on-failure", action="store_true", help="start no more hosts after one fails")
    p.add_argument("--note", action="store_true", help="keep each host's output in a note on the host")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_exec, takes_remainder=True)

    p = sub.add_parser("fix", help="run a check's fix on a host, then the check again: before → after",
                       usage="techdesk fix HOST CHECK [FIX] [--yes] [--confirm HOST] [--dry-run]\n"
                             "       techdesk fix (--client C | --tag T) CHECK [FIX] ...")
    p.add_argument("words", nargs="+", metavar="HOST CHECK [FIX]")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--client")
    group.add_argument("--tag")
    p.add_argument("--bundle", help="the bundle whose check to fix (when several have it)")
    p.add_argument("--yes", action="store_true", help="do not ask (a disruptive fix also needs --confirm)")
    p.add_argument("--confirm", action="append", default=[], metavar="HOST",
                   help="the host name, typed: confirms a disruptive fix (repeat for several hosts)")
    p.add_argument("--dry-run", action="store_true", help="show the script and the hosts, run nothing")
    p.add_argument("--concurrency", type=int, default=None, metavar="N")
    p.add_argument("--stop-on-failure", action="store_true", help="start no more hosts after one fails")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fix)


def _hosts(svc: Services, names: list[str], client: str | None, tag: str | None) -> list:
    if names and (client or tag):
        raise UsageError("give host names or --client/--tag, not both")
    if names:
        return svc.runner.resolve_targets(names)
    if not (client or tag):
        raise UsageError("name the hosts, or use --client or --tag")
    hosts = svc.roster.hosts(client=client, tag=tag)
    if not hosts:
        raise UsageError("no hosts match")
    return hosts


def _concurrency(svc: Services, value: int | None) -> int:
    n = value or svc.workspace.settings.concurrency or 8
    if n < 1:
        raise UsageError("--concurrency must be at least 1")
    return n


def cmd_exec(svc: Services, args) -> int:
    import shlex

    words = list(getattr(args, "remainder", None) or [])
    if bool(words) == bool(args.script):
        raise UsageError("give a command after -- or --script FILE (one of them)")
    if args.script:
        try:
            script = open(args.script, encoding="utf-8").read()  # noqa: SIM115 - read at once
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {args.script}: {getattr(exc, 'strerror', None) or exc}") from None
        label = f"script {args.script}"
    else:
        script = " ".join(shlex.quote(w) for w in words) + "\n"
        label = " ".join(words)
    if "\x00" in script:
        raise UsageError("the script contains a NUL character")
    hosts = _hosts(svc, args.hosts, args.client, args.tag)
    results = asyncio.run(svc.actions.execute(
        hosts, {h.name: script for h in hosts}, action="exec", detail=label[:200],
        timeout=args.timeout, concurrency=_concurrency(svc, args.concurrency),
        stop_on_failure=args.stop_on_failure))
    if args.note:
        svc.actions.attach_notes(results, label)
    if args.json:
        print_json([r.as_json() for r in results])
    else:
        for r in results:
            state = f"error ({r.error.kind}): {r.error.message}" if r.error else f"exit {r.exit_code}"
            print(f"== {r.host}: {state} ({r.duration_s:.1f}s)")
            if r.output:
                print(r.output.rstrip())
            if r.truncated:
                print("[output truncated]")
    return 0 if all(r.ok for r in results) else 1


def cmd_fix(svc: Services, args) -> int:
    from techdesk.core.findings import HostResult, run_exit_code

    words = args.words
    bulk = bool(args.client or args.tag)
    if len(words) > (2 if bulk else 3) or len(words) < (1 if bulk else 2):
        raise UsageError("usage: techdesk fix HOST CHECK [FIX] (or --client/--tag CHECK [FIX])")
    names = [] if bulk else [words.pop(0)]
    check_id, fix_id = words[0], (words[1] if len(words) > 1 else None)
    hosts = _hosts(svc, names, args.client, args.tag)
    plan = svc.fixes.plan(hosts, check_id, fix_id, args.bundle)
    if args.dry_run or not args.json:
        _show_plan(plan, sys.stdout if args.dry_run else sys.stderr)
    if args.dry_run:
        return 0
    confirmed = set(args.confirm)
    if plan.needs_typed_confirmation:
        if not (args.yes and confirmed) and sys.stdin.isatty():
            for h in plan.hosts:
                typed = input(f"{plan.fix.id} is disruptive. Type the host name to run it on {h.name}: ")
                if typed.strip() == h.name:
                    confirmed.add(h.name)
        problem = svc.fixes.refusal(plan, confirmed)
        if problem:
            raise UsageError(problem)
    elif not args.yes and not all(plan.refused(h.name) for h in plan.hosts):  # else nothing to ask
        if not sys.stdin.isatty():
            raise UsageError("no terminal to confirm on: add --yes to run the fix; nothing was run")
        if input(f"Run {plan.fix.id} on {len(plan.hosts)} host(s)? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing was run", file=sys.stderr)
            return 1
    outcomes = asyncio.run(svc.fixes.apply(
        plan, confirmed=confirmed, concurrency=_concurrency(svc, args.concurrency),
        stop_on_failure=args.stop_on_failure,
        on_outcome=None if args.json else lambda o: print(o.line, flush=True)))
    if args.json:
        print_json([o.as_json() for o in outcomes])
    after = [HostResult(host=o.host, checks=[o.after] if o.after else [],
                        error=o.action.error if o.after is None else None) for o in outcomes]
    return run_exit_code(after)


def _show_plan(plan, out) -> None:
    print(f"Fix: {plan.describe()}", file=out)
    for h in plan.hosts:
        before = plan.before.get(h.name)
        now = f"{before.word} — {before.summary}" if before else "not checked yet (checked first)"
        if plan.refused(h.name):
            now += " [not trusted: the fix will not run here]"
        print(f"Host: {h.name} ({h.address}): {now}", file=out)
    print("Script (for the first host; the finding's variables differ per host):", file=out)
    for line in plan.script(plan.hosts[0].name).splitlines():
        print(f"  | {line}", file=out)
