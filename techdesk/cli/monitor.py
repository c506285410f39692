"""`techdesk schedule | sweep | health | alerts | notify`: proactive monitoring.

Exit status of `sweep` (like `run`): 0 all OK, 1 a warning (or an alert opened or
escalated), 2 a CRITICAL finding, 3 a host failed or a check was UNKNOWN. A sweep that
finds another one running skips at once: exit 0, the reason on stderr (and in --json).
Bad input (interval, window, target, unknown bundle/client/site/host): one line, 64.
"""

from __future__ import annotations

import asyncio
import functools
import getpass
import sys
from datetime import UTC, datetime

from techdesk.cli import UsageError
from techdesk.cli.output import HostProgress, print_json, table, warn
from techdesk.core.schedule import ScheduleError
from techdesk.services.context import Services
from techdesk.services.os_scheduler import SWEEP_EVERY_MIN


def _usage(func):
    """ScheduleError (bad interval, window, target, id) is bad input: exit 64."""
    @functools.wraps(func)
    def wrapper(svc, args):
        try:
            return func(svc, args)
        except ScheduleError as exc:
            raise UsageError(str(exc)) from None
    return wrapper


def register(sub) -> None:
    s = sub.add_parser("schedule", help="scheduled diagnostics: add, list, remove, install the OS timer")
    ss = s.add_subparsers(dest="schedule_cmd", required=True, metavar="COMMAND")
    p = ss.add_parser("add", help="run a bundle on a client, site, host, tag or all hosts every N m/h/d")
    p.add_argument("bundle")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--client")
    target.add_argument("--site", help="CLIENT/SITE (or a site name used by one client only)")
    target.add_argument("--host")
    target.add_argument("--tag")
    target.add_argument("--all", action="store_true")
    p.add_argument("--every", required=True, metavar="INTERVAL", help="15m, 6h, 1d ... (1m to 365d)")
    p.add_argument("--window", action="append", default=[], metavar="WINDOW",
                   help="maintenance window, e.g. 'Sun 02:00-04:00 Europe/Berlin' (runs held) or "
                        "'Mon-Fri 22:00-02:00 UTC alerts' (alerts held); repeatable")
    p.add_argument("--yes", action="store_true",
                   help="confirm a schedule on all hosts more often than every 15 minutes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_schedule_add)
    p = ss.add_parser("list", help="list schedules")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_schedule_list)
    p = ss.add_parser("remove", help="remove a schedule (a unique prefix of its id is enough)")
    p.add_argument("id")
    p.set_defaults(func=cmd_schedule_remove)
    for name, enabled in (("enable", True), ("disable", False)):
        p = ss.add_parser(name, help=f"{name} a schedule" + (
            " (also how a schedule from a teammate, or changed by one, becomes active here)" if enabled else ""))
        p.add_argument("id")
        if enabled:
            p.add_argument("--yes", action="store_true",
                           help="confirm a schedule on all hosts more often than every 15 minutes")
        p.set_defaults(func=cmd_schedule_enable, enabled=enabled)
    p = ss.add_parser("install", help=f"the OS timer that runs `techdesk sweep` every {SWEEP_EVERY_MIN} minutes")
    p.add_argument("--print", action="store_true", dest="print_only",
                   help="only print the entry (never writes anything)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_schedule_install)

    p = ss.add_parser("care-report", help="write a client's care report into a folder at the end of each month")
    cs = p.add_subparsers(dest="care_cmd", required=True, metavar="COMMAND")
    c = cs.add_parser("add", help="the sweep after each month's end writes care-CLIENT-YYYY-MM.pdf into DIR")
    c.add_argument("--client", required=True)
    c.add_argument("--to", required=True, dest="folder", metavar="DIR", help="for example SHARED/reports")
    c.add_argument("--format", choices=("pdf", "html"), default="pdf")
    c.set_defaults(func=cmd_care_schedule_add)
    c = cs.add_parser("list", help="clients whose care report is written each month")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_care_schedule_list)
    c = cs.add_parser("remove", help="stop writing a client's monthly care report")
    c.add_argument("--client", required=True)
    c.set_defaults(func=cmd_care_schedule_remove)

    p = sub.add_parser("sweep", help="run every schedule that is due, then exit (for cron and timers)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--concurrency", type=int, default=None, metavar="N")
    p.add_argument("--progress", action="store_true", help="per-host lines on stderr even when not a terminal")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("health", help="fleet status, attention list, stale hosts, forecasts, open alerts")
    p.add_argument("--json", action="store_true")
    p.add_argument("--days", type=float, default=None, metavar="N",
                   help="forecasts crossing within N days are findings (default: settings, 14)")
    p.add_argument("--at", metavar="TIME", type=_at_time, default=None,
                   help="the fleet as of TIME (ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:00; "
                        "no zone: local time); only data up to TIME is read")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("alerts", help="open alerts (--all: resolved ones too)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true")
    p.add_argument("--limit", type=int, default=500, metavar="N", help="with --all: the last N events")
    p.add_argument("--snoozed", action="store_true", help="list snoozed open alerts too")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--ack", nargs=2, metavar=("HOST", "CHECK"), help="acknowledge an open alert")
    act.add_argument("--snooze", nargs=2, metavar=("HOST", "CHECK"),
                     help="hide an open alert for --for INTERVAL (back at once if it gets worse)")
    act.add_argument("--wake", nargs=2, metavar=("HOST", "CHECK"), help="end a snooze now")
    p.add_argument("--for", dest="snooze_for", default="4h", metavar="INTERVAL", help="with --snooze: 1h, 4h, 1d …")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("notify", help="where alerts are sent: a webhook, e-mail (SMTP); --test")
    p.add_argument("--webhook", metavar="URL", help="POST alerts as JSON here ('' turns it off)")
    p.add_argument("--smtp-host", metavar="HOST", help="mail server ('' turns e-mail off)")
    p.add_argument("--smtp-port", type=int, metavar="PORT")
    p.add_argument("--smtp-security", choices=("starttls", "ssl", "none"))
    p.add_argument("--smtp-user", metavar="USER")
    p.add_argument("--smtp-from", metavar="ADDRESS")
    p.add_argument("--smtp-to", metavar="ADDRESSES", help="comma-separated")
    p.add_argument("--smtp-password", action="store_true",
                   help="store the SMTP password in the system keyring (read from stdin, or asked)")
    p.add_argument("--test", action="store_true", help="send a test alert through every configured channel")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_notify)


# ---------------------------------------------------------------------------- schedule
def _target(args) -> str:
    for kind in ("client", "site", "host", "tag"):
        value = getattr(args, kind)
        if value is not None:
            if not value.strip():
                raise UsageError(f"--{kind} needs a name")
            return f"{kind}:{value}"
    return "all"


@_usage
def cmd_schedule_add(svc: Services, args) -> int:
    schedule = svc.monitor.add_schedule(args.bundle, _target(args), args.every, "; ".join(args.window) or None,
                                        confirmed=args.yes)
    if schedule["hosts"] == 0:
        warn(f"no host matches {schedule['target']} yet: the schedule runs once hosts do")
    if args.json:
        print_json(schedule)
        return 0
    windows = f", windows: {'; '.join(schedule['windows'])}" if schedule["windows"] else ""
    print(f"schedule {schedule['id'][:8]}: {schedule['bundle']} on {schedule['target']} every "
          f"{schedule['every']}{windows} ({schedule['hosts']} host{'s' if schedule['hosts'] != 1 else ''} now)")
    return 0


def cmd_schedule_list(svc: Services, args) -> int:
    schedules = svc.monitor.schedules()
    if args.json:
        print_json(schedules)
        return 0
    if not schedules:
        print("no schedules (add one with `techdesk schedule add BUNDLE --all --every 6h`)")
        return 0
    print(table([[s["id"][:8], s["bundle"], s["target"], s["every"], s["hosts"],
                  ("yes" if s["enabled_here"] else "not here (`schedule enable ID`)") if s["enabled"] else "no",
                  _short(s["last_run"]), _short(s["next_due"]),
                  "; ".join(s["windows"])] for s in schedules],
                ["ID", "BUNDLE", "TARGET", "EVERY", "HOSTS", "ENABLED", "LAST RUN", "NEXT DUE", "WINDOWS"]))
    return 0


@_usage
def cmd_schedule_remove(svc: Services, args) -> int:
    s = svc.monitor.remove_schedule(args.id)
    print(f"removed schedule {s['id'][:8]} ({s['bundle']} on {s['target']} every {s['every']})")
    return 0


@_usage
def cmd_schedule_enable(svc: Services, args) -> int:
    s = svc.monitor.enable_schedule(args.id, args.enabled, confirmed=getattr(args, "yes", False))
    print(f"schedule {s['id'][:8]} ({s['bundle']} on {s['target']}) {'enabled' if s['enabled'] else 'disabled'}")
    return 0


def _short(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------- install
def cmd_schedule_install(svc: Services, args) -> int:
    from techdesk.services import os_scheduler

    result = os_scheduler.install(svc.workspace.path, print_only=args.print_only)
    if args.json:
        print_json(result.as_json())
        return 0
    *body, note = result.describe().split("\n")
    if body:
        print("\n".join(body))
    print(note, file=sys.stdout if result.installed else sys.stderr)
    return 0


# ---------------------------------------------------------------------------- sweep
def cmd_sweep(svc: Services, args) -> int:
    from techdesk.services.monitor import sweep_exit_code

    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    progress = HostProgress() if args.progress or sys.stderr.isatty() else None
    result = asyncio.run(svc.monitor.sweep(on_event=progress.event if progress else None,
                                           concurrency=args.concurrency))
    if result["locked"]:
        warn(result["skipped"][0]["reason"])
    if args.json:
        print_json(result)
    else:
        _print_sweep(result)
    for error in result["errors"]:
        warn(error)
    return 0 if result["locked"] else sweep_exit_code(result)


def _print_sweep(result: dict) -> None:
    for h in result["hosts"]:
        error = f"  {h['error']['kind']}: {h['error']['message']}" if h["error"] else ""
        print(f"{h['status'].upper():8} {h['host']:24} {h['bundle']}{error}")
    for e in result["alerts"]:
        print(f"ALERT {e['event']:11} {e['severity'].upper():8} {e['message']}")
    for s in result["skipped"]:
        if result["locked"]:
            continue
        who = " ".join(x for x in ((s["schedule"] or "")[:8], s["host"] or "") if x)
        print(f"skipped {who + ': ' if who else ''}{s['reason']}")
    if not result["locked"]:
        runs = len(result["runs"])
        print(f"swept {result['ran']} host{'s' if result['ran'] != 1 else ''} in {runs} run{'s' if runs != 1 else ''}"
              + (f", {len(result['alerts'])} alert event{'s' if len(result['alerts']) != 1 else ''}"
                 if result["alerts"] else "") if result["ran"] else "nothing was due")


# ---------------------------------------------------------------------------- health
def _at_time(text: str) -> datetime:
    """``--at``: an ISO 8601 date or time; without a zone, the local time."""
    import argparse

    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (expected ISO 8601, e.g. 2026-03-01T09:00)") \
            from None
    return (when.astimezone() if when.tzinfo is None else when).astimezone(UTC)


def cmd_health(svc: Services, args) -> int:
    at = getattr(args, "at", None)
    report = svc.monitor.health(now=at, within_days=args.days)
    if at is not None and not args.json:
        print(f"As of {_short(report['now'])} (only data up to then)")
    if args.json:
        print_json(report)
        return 0
    t = report["totals"]
    print(f"Fleet: {t['hosts']} hosts — {t['crit']} critical, {t['warn']} warning, {t['unknown']} unknown, "
          f"{t['ok']} OK, {t['never']} never checked; {t['stale']} stale")
    if report["clients"]:
        print()
        print(table([[c["client"] or "(no client)", c["hosts"], c["crit"], c["warn"], c["unknown"], c["ok"],
                      c["never"], c["stale"]] for c in report["clients"]],
                    ["CLIENT", "HOSTS", "CRIT", "WARN", "UNKNOWN", "OK", "NEVER", "STALE"]))
    if report["attention"]:
        print("\nNeeds attention:")
        print(table([[a["status"].upper(), a["host"], a["title"], a["summary"]] for a in report["attention"]],
                    ["STATUS", "HOST", "WHAT", "DETAIL"]))
    if report["forecasts"]:
        print(f"\nForecasts (crossing within {report['within_days']:g} days):")
        for f in report["forecasts"]:
            print(f"  {f['host']}: {f['summary']}")
            if f.get("basis"):
                print(f"      based on {f['basis']}")
    if report["stale"]:
        print(f"\nStale (no successful run for {report['stale_after_hours']} h):")
        print(table([[s["host"], s["client"], _short(s["last_success"]) or "never", s["failures"],
                      s["last_error"] or ""] for s in report["stale"]],
                    ["HOST", "CLIENT", "LAST SUCCESS", "FAILURES", "LAST ERROR"]))
    if report["alerts"]:
        print("\nOpen alerts:")
        _alerts_table(report["alerts"], show_state=False)
    return 0


# ---------------------------------------------------------------------------- alerts
@_usage
def cmd_alerts(svc: Services, args) -> int:
    from techdesk.services.monitor import AlertError

    mon = svc.monitor
    try:
        if args.ack or args.snooze or args.wake:
            host, check = args.ack or args.snooze or args.wake
            alert = mon.acknowledge(host, check) if args.ack else \
                mon.snooze(host, check, args.snooze_for if args.snooze else None)
            if args.json:
                print_json(alert)
            else:
                print(f"{host} {check}: " + ("acknowledged by " + alert["acked_by"] if args.ack else
                                            f"snoozed until {_short(alert['snoozed_until'])}" if args.snooze
                                            else "awake"))
            return 0
    except AlertError as exc:
        raise UsageError(str(exc)) from None
    alerts = mon.alerts(open_only=not args.all, limit=args.limit if args.all else None,
                        include_snoozed=args.snoozed)
    if args.json:
        print_json(alerts)
        return 0
    if not alerts:
        print("no open alerts" if not args.all else "no alerts")
        return 0
    _alerts_table(alerts, show_state=args.all or args.snoozed or any(a.get("acked_by") for a in alerts))
    return 0


def _alerts_table(alerts: list[dict], show_state: bool) -> None:
    rows = []
    for a in alerts:
        state = ("snoozed" if a.get("snoozed_until") else "acked" if a.get("acked_by") else
                 "open" if a["announced"] else "held") if a["open"] else "resolved"
        row = [a["severity"].upper(), a["host"], a["check"], _short(a["opened_at"]),
               a["message"] or a["summary"]]
        rows.append(([state] if show_state else []) + row)
    print(table(rows, (["STATE"] if show_state else []) + ["SEVERITY", "HOST", "CHECK", "SINCE", "MESSAGE"]))


# ---------------------------------------------------------------------------- notify
def cmd_notify(svc: Services, args) -> int:
    from techdesk.services.notify_setup import NotifyError

    setup = svc.notify_setup
    values = {"webhook_url": args.webhook}
    values.update({name: getattr(args, name) for name in
                   ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_from", "smtp_to")})
    try:
        setup.configure(**{k: v for k, v in values.items() if v is not None})
        if args.smtp_password:
            host = svc.workspace.settings.smtp_host
            if not host:
                raise NotifyError("set --smtp-host first: the password is stored for that server")
            value = getpass.getpass(f"SMTP password for {host}: ") if sys.stdin.isatty() \
                else sys.stdin.readline().rstrip("\r\n")
            setup.store_password(value)
            print(f"SMTP password for {host} stored in the system keyring")
        config = setup.config()
        delivery = setup.send_test() if args.test else None
    except NotifyError as exc:
        raise UsageError(str(exc)) from None
    code = 0
    if delivery is not None:
        config["test"] = {"channels": delivery.channels, "errors": delivery.errors}
        code = 0 if delivery.delivered else 1
    if args.json:
        print_json(config)
    else:
        c = config
        print(f"webhook: {c['webhook_url'] or 'off'}")
        print("e-mail: " + (f"{c['smtp_host']}:{c['smtp_port']} ({c['smtp_security']}) from {c['smtp_from'] or '?'} "
                            f"to {c['smtp_to'] or '?'}" + (f", login {c['smtp_user']}" if c['smtp_user'] else "")
                            if c["smtp_host"] else "off"))
        if delivery is not None:
            print("test: " + ("sent through " + ", ".join(delivery.channels) if code == 0
                              else "FAILED: " + "; ".join(delivery.errors)))
    return code


def cmd_care_schedule_add(svc: Services, args) -> int:
    from techdesk.services import care_schedule

    s = care_schedule.add(svc, args.client, args.folder, args.format)
    print(f"care report of {s['client']} written to {s['folder']} after each month's end (by `techdesk sweep`)")
    return 0


def cmd_care_schedule_list(svc: Services, args) -> int:
    from techdesk.services import care_schedule

    rows = care_schedule.schedules(svc)
    if args.json:
        print_json(rows)
    else:
        print(table([[r["client"], r["format"], r["folder"], r["last_period"] or "—"] for r in rows],
                    ["CLIENT", "FORMAT", "FOLDER", "LAST WRITTEN"]))
    return 0


def cmd_care_schedule_remove(svc: Services, args) -> int:
    from techdesk.services import care_schedule

    care_schedule.remove(svc, args.client)
    print(f"no more monthly care reports for {args.client}")
    return 0
