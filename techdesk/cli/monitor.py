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
import hashlib
import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from techdesk.cli import UsageError
from techdesk.cli.output import HostProgress, print_json, table, warn
from techdesk.core.schedule import ScheduleError
from techdesk.services.context import Services

SWEEP_EVERY_MIN = 5


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

    p = sub.add_parser("sweep", help="run every schedule that is due, then exit (for cron and timers)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--concurrency", type=int, default=None, metavar="N")
    p.add_argument("--progress", action="store_true", help="per-host lines on stderr even when not a terminal")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("health", help="fleet status, attention list, stale hosts, forecasts, open alerts")
    p.add_argument("--json", action="store_true")
    p.add_argument("--days", type=float, default=None, metavar="N",
                   help="forecasts crossing within N days are findings (default: settings, 14)")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("alerts", help="open alerts (--all: resolved ones too)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true")
    p.add_argument("--limit", type=int, default=500, metavar="N", help="with --all: the last N events")
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
def sweep_command(workspace: Path) -> list[str]:
    """The command an OS scheduler runs: this techdesk, this workspace, `sweep`."""
    if getattr(sys, "frozen", False):  # a packaged build: the executable is techdesk itself
        return [sys.executable, "--workspace", str(workspace), "sweep"]
    exe = Path(sys.executable)
    if os.name == "nt" and (exe.parent / "pythonw.exe").exists():
        exe = exe.parent / "pythonw.exe"  # no console window every five minutes
    return [str(exe), "-m", "techdesk", "--workspace", str(workspace), "sweep"]


def detect_system() -> str:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "launchd"
    runtime = os.environ.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "")
    if shutil.which("systemctl") and runtime and Path(runtime, "systemd").is_dir():
        return "systemd"
    return "cron"


def _systemd_quote(arg: str) -> str:
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$") + '"'


def install_plan(system: str, workspace: Path, command: list[str] | None = None) -> dict:
    """What `schedule install` writes or prints for ``system`` (systemd, cron, launchd,
    windows): {"system", "files": {path: text}, "commands": [str], "entry": str, "note"}."""
    workspace = Path(workspace)
    command = command or sweep_command(workspace)
    tag = hashlib.sha256(str(workspace.absolute()).encode("utf-8")).hexdigest()[:8]
    log = workspace / "logs" / "sweep.log"
    every = SWEEP_EVERY_MIN
    if system == "systemd":
        name = f"techdesk-sweep-{tag}"
        config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"
        service = (f"[Unit]\nDescription=techdesk sweep: scheduled diagnostics for {workspace}\n\n"
                   f"[Service]\nType=oneshot\nExecStart={' '.join(_systemd_quote(a) for a in command)}\n")
        timer = (f"[Unit]\nDescription=Run techdesk sweep every {every} minutes ({workspace})\n\n"
                 f"[Timer]\nOnBootSec=2min\nOnUnitActiveSec={every}min\nAccuracySec=30s\n\n"
                 f"[Install]\nWantedBy=timers.target\n")
        files = {str(config / f"{name}.service"): service, str(config / f"{name}.timer"): timer}
        return {"system": system, "files": files, "entry": timer,
                "commands": [f"systemctl --user daemon-reload && systemctl --user enable --now {name}.timer"],
                "note": "user timers run while you are logged in; to keep them running after logout: "
                        "loginctl enable-linger $USER. Output goes to the journal: "
                        f"journalctl --user -u {name}.service"}
    if system == "launchd":
        label = f"com.techdesk.sweep.{tag}"
        path = Path.home() / "Library" / "LaunchAgents" / f"{label}.plist"
        plist = plistlib.dumps({"Label": label, "ProgramArguments": command, "StartInterval": every * 60,
                                "RunAtLoad": True, "StandardOutPath": str(log),
                                "StandardErrorPath": str(log)}).decode("utf-8")
        return {"system": system, "files": {str(path): plist}, "entry": plist,
                "commands": [f"launchctl bootstrap gui/$(id -u) {shlex.quote(str(path))}"],
                "note": "it starts by itself at your next login; the command starts it now"}
    if system == "windows":
        inner = subprocess.list2cmdline(command)
        task = f"techdesk sweep {tag}"
        entry = (f'schtasks /Create /F /SC MINUTE /MO {every} /TN "{task}" /TR "'
                 + inner.replace('"', '\\"') + '"')
        return {"system": system, "files": {}, "entry": entry, "commands": [entry],
                "note": "run this in a Command Prompt as yourself (not as administrator); remove it with "
                        f'schtasks /Delete /TN "{task}"'}
    line = f"*/{every} * * * * {shlex.join(command)} >> {shlex.quote(str(log))} 2>&1"
    line = line.replace("%", "\\%")  # a bare % ends the command in a crontab
    return {"system": "cron", "files": {}, "entry": line, "commands": [],
            "note": "add this line with `crontab -e` (techdesk does not edit your crontab)"}


def cmd_schedule_install(svc: Services, args) -> int:
    ws = svc.workspace.path.absolute()
    plan = install_plan(detect_system(), ws)
    written, unchanged = [], []
    if not args.print_only and plan["files"]:
        (ws / "logs").mkdir(parents=True, exist_ok=True)
        for path, text in plan["files"].items():
            target = Path(path)
            if target.exists() and target.read_text(encoding="utf-8") == text:
                unchanged.append(path)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            from techdesk.workspace import atomic_write_text

            atomic_write_text(target, text, mode=0o644)
            written.append(path)
    installed = bool(written or unchanged)
    if args.json:
        print_json({**plan, "written": written, "unchanged": unchanged, "installed": installed})
        return 0
    if installed:
        for path in written:
            print(f"wrote {path}")
        for path in unchanged:
            print(f"already installed: {path}")
        if plan["commands"]:
            print("to start it now:\n  " + "\n  ".join(plan["commands"]))
    else:
        if plan["files"]:
            for path, text in plan["files"].items():
                print(f"# {path}\n{text}")
            if plan["commands"]:
                print("then:\n  " + "\n  ".join(plan["commands"]))
        else:
            print(plan["entry"])
    print(f"({plan['system']}: {plan['note']})", file=sys.stdout if installed else sys.stderr)
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
def cmd_health(svc: Services, args) -> int:
    report = svc.monitor.health(within_days=args.days)
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
def cmd_alerts(svc: Services, args) -> int:
    alerts = svc.monitor.alerts(open_only=not args.all, limit=args.limit if args.all else None)
    if args.json:
        print_json(alerts)
        return 0
    if not alerts:
        print("no open alerts" if not args.all else "no alerts")
        return 0
    _alerts_table(alerts, show_state=args.all)
    return 0


def _alerts_table(alerts: list[dict], show_state: bool) -> None:
    rows = []
    for a in alerts:
        state = ("open" if a["announced"] else "held") if a["open"] else "resolved"
        row = [a["severity"].upper(), a["host"], a["check"], _short(a["opened_at"]),
               a["message"] or a["summary"]]
        rows.append(([state] if show_state else []) + row)
    print(table(rows, (["STATE"] if show_state else []) + ["SEVERITY", "HOST", "CHECK", "SINCE", "MESSAGE"]))


# ---------------------------------------------------------------------------- notify
def cmd_notify(svc: Services, args) -> int:
    from techdesk.secrets import set_secret
    from techdesk.services import notify

    ws = svc.workspace
    s = ws.settings
    changed = False
    if args.webhook is not None:
        try:
            notify.set_webhook(s, args.webhook)  # the URL (with its token) goes to the keyring
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        changed = True
    elif s.webhook_url and not notify.is_stored_in_keyring(s):
        notify.set_webhook(s, s.webhook_url)  # an older workspace: move it out of the settings file
        changed = True
    for name in ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_from", "smtp_to"):
        value = getattr(args, name)
        if value is not None:
            if name == "smtp_port" and not 1 <= value <= 65535:
                raise UsageError("--smtp-port must be 1 to 65535")
            setattr(s, name, value if value != "" else None)
            changed = True
    if changed:
        ws.save_settings()
        svc.settings_changed()
    if args.smtp_password:
        if not s.smtp_host:
            raise UsageError("set --smtp-host first: the password is stored for that server")
        value = getpass.getpass(f"SMTP password for {s.smtp_host}: ") if sys.stdin.isatty() \
            else sys.stdin.readline().rstrip("\r\n")
        set_secret("smtp", s.smtp_host, value)
        print(f"SMTP password for {s.smtp_host} stored in the system keyring")
    config = {"channels": notify.channels(s), "webhook_url": s.webhook_url, "smtp_host": s.smtp_host,
              "smtp_port": s.smtp_port, "smtp_security": s.smtp_security, "smtp_user": s.smtp_user,
              "smtp_from": s.smtp_from, "smtp_to": s.smtp_to}
    code = 0
    if args.test:
        if not config["channels"]:
            raise UsageError("no channel is configured: give --webhook URL or --smtp-host/--smtp-from/--smtp-to")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        event = {"seq": 0, "event": "opened", "host": "techdesk-test", "check": "test", "kind": "check",
                 "severity": "warn", "message": "techdesk-test: a test alert from `techdesk notify --test`",
                 "at": now, "opened_at": now, "notified": False}
        delivery = notify.send(s, [event], s.device_id, ws.technician)
        config["test"] = {"channels": delivery.channels, "errors": delivery.errors}
        code = 0 if delivery.delivered else 1
    if args.json:
        print_json(config)
    else:
        print(f"webhook: {config['webhook_url'] or 'off'}")
        print("e-mail: " + (f"{s.smtp_host}:{s.smtp_port} ({s.smtp_security}) from {s.smtp_from or '?'} to "
                            f"{s.smtp_to or '?'}" + (f", login {s.smtp_user}" if s.smtp_user else "")
                            if s.smtp_host else "off"))
        if args.test:
            print("test: " + ("sent through " + ", ".join(config["test"]["channels"]) if code == 0
                              else "FAILED: " + "; ".join(config["test"]["errors"])))
    return code
