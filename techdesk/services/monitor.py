"""Proactive monitoring: the one API the CLI and the window use (docs/proactive.md).

    mon = services.monitor
    mon.add_schedule("linux-quick", "client:Acme", "6h", "Sun 02:00-04:00 Europe/Berlin")
    mon.schedules() / mon.remove_schedule("3fa2") / mon.enable_schedule("3fa2", False)
    mon.due(now)                    # [(schedule, [host names])]: what a sweep would run
    await mon.sweep()               # run what is due, store health, alerts; notify
    mon.health()                    # fleet status, attention list, stale hosts, forecasts
    mon.forecasts("web1")           # [Forecast] of each capacity metric (charts)
    mon.alerts()                    # open alerts (open_only=False: every alert)

The rules are the pure core's (techdesk/core/schedule.py, alerts.py, forecast.py);
this module adds the store, the roster, the runner and the notifications. Everything
that touches SQLite runs on the caller's thread (the event loop's, in the window);
SSH work runs in the runner's own threads, notifications in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path

from techdesk.core import alerts as core_alerts
from techdesk.core.forecast import (
    CAPACITY_TABLE,
    DAY,
    Capacity,
    Forecast,
    capacity_for,
    describe,
    forecast_findings,
    forecast_many,
)
from techdesk.core.roster import Host, RosterError
from techdesk.core.schedule import (
    Schedule,
    ScheduleError,
    Target,
    format_interval,
    in_maintenance,
    is_stale,
    maintenance_end,
    parse_interval,
    parse_windows,
    retry_delay,
)
from techdesk.core.severity import Status
from techdesk.services.bundles import UnknownBundle
from techdesk.store import monitor as repo
from techdesk.store.db import now_iso

log = logging.getLogger(__name__)

__all__ = ["MonitorService", "ScheduleError", "SweepLock", "sweep_exit_code"]

LOCK_NAME = "sweep.lock"
NOTIFY_RETRY = timedelta(hours=24)  # undelivered alerts are retried by later sweeps this long
NOTIFY_ATTEMPTS = 5
_SEVERITY_ORDER = {"crit": 0, "unknown": 1, "warn": 2, "ok": 3}


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _schedule_json(row: dict) -> dict:
    every = timedelta(seconds=row["interval_s"])
    return {"id": row["uid"], "bundle": row["bundle"], "target": row["target"],
            "every": format_interval(every), "interval_s": row["interval_s"],
            "windows": [w.strip() for w in row["windows"].split(";") if w.strip()],
            "enabled": row["enabled"], "created": row["created"], "updated": row["updated"]}


def _core(row: dict) -> Schedule:
    return Schedule(bundle=row["bundle"], target=Target.parse(row["target"]),
                    interval=timedelta(seconds=row["interval_s"]),
                    windows=parse_windows(row["windows"]), id=row["uid"], enabled=row["enabled"])


def _site_key(host: Host) -> str | None:
    return f"{host.spec.client}/{host.spec.site}" if host.spec.client and host.spec.site else None


def _matches(target: Target, host: Host) -> bool:
    return target.matches(host.name, host.spec.client, _site_key(host), host.spec.tags)


# ---------------------------------------------------------------------------- the sweep lock
def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SweepLock:
    """``sweep.lock`` in the workspace, created with O_EXCL: one sweep at a time per
    workspace, whoever starts it (cron, a systemd timer, the window).

    The file holds the owner's PID, host name and start time. A lock whose process is
    gone (or older than ``stale_after``: a PID reused after a crash) is stale and taken
    over; the takeover renames the file away first and checks it took the stale one,
    so two sweeps that both find it stale cannot both win.
    """

    def __init__(self, path: Path, stale_after: timedelta = timedelta(hours=12)) -> None:
        self.path = Path(path)
        self.stale_after = stale_after
        self.held = False
        self._token = ""

    def acquire(self) -> str | None:
        """None when acquired; otherwise why not (another sweep is running)."""
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                busy, raw = self._busy()
                if busy:
                    return busy
                self._break(raw)
                continue
            self._token = uuid.uuid4().hex
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": now_iso(),
                           "token": self._token}, fh)
            self.held = True
            return None
        return f"could not take the sweep lock {self.path}"

    def _busy(self) -> tuple[str | None, bytes | None]:
        try:
            raw = self.path.read_bytes()
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None, None
        try:
            info = json.loads(raw)
            pid, host, started = int(info["pid"]), str(info.get("host", "")), str(info.get("started", ""))
        except (ValueError, KeyError, TypeError):
            # Being written right now, or garbage: give a writer a few seconds.
            return ("another sweep is starting" if age < 10 else None), raw
        if age > self.stale_after.total_seconds():
            return None, raw
        if host and host != socket.gethostname():
            return f"another sweep is running on {host} (pid {pid}, since {started})", raw
        if _pid_alive(pid):
            return f"another sweep is running (pid {pid}, since {started})", raw
        return None, raw

    def _break(self, raw: bytes | None) -> None:
        """Remove a stale lock, only if it is still the stale one we read."""
        if raw is None:
            return
        aside = self.path.with_name(f"{self.path.name}.stale-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        try:
            if aside.read_bytes() != raw:  # a fresh lock taken meanwhile: put it back
                with contextlib.suppress(OSError):
                    os.link(aside, self.path)
        finally:
            with contextlib.suppress(OSError):
                aside.unlink()
        log.warning("removed a stale sweep lock %s", self.path)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.path.read_bytes()).get("token") == self._token:
                self.path.unlink()

    def __enter__(self) -> SweepLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------------------- planning
@dataclass
class _Item:
    """One host to run one bundle on, for one or more schedules (the first leads)."""

    bundle: str
    host: str
    schedules: list[str] = field(default_factory=list)
    interval: timedelta = timedelta(days=365)
    windows: list = field(default_factory=list)


@dataclass
class _Plan:
    items: list[_Item]
    skipped: list[dict]
    schedules: dict[str, dict]
    hosts: dict[str, Host]


def sweep_exit_code(result: dict) -> int:
    """`techdesk sweep`: 2 a CRITICAL finding, else 3 a host failed (or a check was
    UNKNOWN), else 1 a warning or an alert opened/escalated, else 0 (like `run`)."""
    statuses = {h["status"] for h in result.get("hosts", [])}
    if "crit" in statuses:
        return 2
    if "unknown" in statuses or any(h.get("error") for h in result.get("hosts", [])):
        return 3
    if "warn" in statuses or any(e["event"] in ("opened", "escalated") for e in result.get("alerts", [])):
        return 1
    return 0


class MonitorService:
    def __init__(self, services) -> None:
        self.services = services
        self.conn = services.conn
        self._running: set[str] = set()  # hosts being run by a sweep of this process

    @property
    def settings(self):
        return self.services.workspace.settings

    @property
    def lock_path(self) -> Path:
        return self.services.workspace.path / LOCK_NAME

    def alert_config(self) -> core_alerts.AlertConfig:
        s = self.settings
        return core_alerts.AlertConfig(open_after=max(1, int(s.alert_open_after)),
                                       open_after_crit=max(1, int(s.alert_open_after_crit)),
                                       resolve_after=max(1, int(s.alert_resolve_after)),
                                       unreachable_after=max(1, int(s.alert_unreachable_after)))

    # ------------------------------------------------------------------ schedules
    def add_schedule(self, bundle: str, target: str, every: str, windows: str | None = None) -> dict:
        """Validate and store a schedule; returns it (``schedules()`` shape).
        ScheduleError (interval, target, window), RosterError (unknown client, site,
        host), BundleError (unknown bundle): one line each."""
        interval = parse_interval(every)
        parsed = Target.parse(target)
        window_list = parse_windows(windows or "")
        if bundle not in self.services.bundles.all():
            known = ", ".join(sorted(self.services.bundles.all())) or "none"
            raise UnknownBundle(f"no bundle named {bundle!r} (known: {known})")
        parsed = self._check_target(parsed)
        uid = uuid.uuid4().hex
        repo.insert_schedule(self.conn, uid, bundle, str(parsed), int(interval.total_seconds()),
                             "; ".join(str(w) for w in window_list), now_iso())
        return self.schedule(uid)

    def _check_target(self, target: Target) -> Target:
        roster = self.services.roster
        if target.kind == "client" and target.name not in {c.name for c in roster.clients()}:
            raise RosterError(f"no client named {target.name!r}")
        if target.kind == "host":
            roster.get(target.name)
        if target.kind == "site":
            sites = roster.sites()
            if not any(f"{s.client}/{s.name}" == target.name for s in sites):
                named = [s for s in sites if s.name == target.name]
                if len(named) == 1:  # a bare site name that is unique: made explicit
                    return Target("site", f"{named[0].client}/{named[0].name}")
                if named:
                    raise RosterError(f"site {target.name!r} exists at several clients ("
                                      + ", ".join(s.client for s in named) + "): give CLIENT/SITE")
                raise RosterError(f"no site {target.name!r} (give CLIENT/SITE, e.g. Acme/HQ)")
        return target

    def schedules(self, now: datetime | None = None) -> list[dict]:
        """Every schedule: {id, bundle, target, every, interval_s, windows: [str], enabled,
        created, updated, hosts (matching now), last_run (latest of its hosts), next_due}."""
        now = _utc(now)
        rows = repo.list_schedules(self.conn)
        if not rows:
            return []
        hosts = self.services.roster.hosts()
        last = repo.last_runs(self.conn)
        out = []
        for row in rows:
            item = _schedule_json(row)
            try:
                core = _core(row)
            except ScheduleError as exc:
                item.update(hosts=0, last_run=None, next_due=None, problem=str(exc))
                out.append(item)
                continue
            names = [h.name for h in hosts if _matches(core.target, h)]
            runs = [last.get((row["uid"], n)) for n in names]
            done = [r for r in runs if r is not None]
            if not names:
                next_due = None
            else:
                due = now if len(done) < len(names) else min(done) + core.interval
                end = maintenance_end(core.windows, max(due, now), runs=True)
                next_due = end or due
            item.update(hosts=len(names), last_run=repo.iso(max(done)) if done else None,
                        next_due=repo.iso(next_due) if next_due and core.enabled else None)
            out.append(item)
        return out

    def schedule(self, id_or_prefix: str) -> dict:
        row = self._find(id_or_prefix)
        return next(s for s in self.schedules() if s["id"] == row["uid"])

    def _find(self, id_or_prefix: str) -> dict:
        text = (id_or_prefix or "").strip()
        found = repo.find_schedules(self.conn, text) if text else []
        if len(found) == 1 and (len(text) >= 4 or found[0]["uid"] == text):
            return found[0]
        if len(found) > 1:
            raise ScheduleError(f"schedule id {text!r} is ambiguous: "
                                + ", ".join(f["uid"][:8] for f in found[:5]))
        raise ScheduleError(f"no schedule with id {text!r} (see `techdesk schedule list`; "
                            "give at least 4 characters)")

    def remove_schedule(self, id_or_prefix: str) -> dict:
        """Remove a schedule (a unique prefix of its id is enough); returns it."""
        row = self._find(id_or_prefix)
        repo.delete_schedule(self.conn, row["uid"])
        return _schedule_json(row)

    def enable_schedule(self, id_or_prefix: str, enabled: bool = True) -> dict:
        row = self._find(id_or_prefix)
        repo.set_enabled(self.conn, row["uid"], enabled, now_iso())
        return self.schedule(row["uid"])

    # ------------------------------------------------------------------ what is due
    def due(self, now: datetime | None = None) -> list[tuple[dict, list[str]]]:
        """[(schedule, [host names])] that a sweep at ``now`` runs, in the order it runs
        them. A host due for one bundle under several schedules is listed once, under
        the first (it runs once and counts as run for all of them)."""
        plan = self._plan(_utc(now))
        by_schedule: dict[str, list[str]] = {}
        for item in plan.items:
            by_schedule.setdefault(item.schedules[0], []).append(item.host)
        return [(_schedule_json(plan.schedules[uid]), names) for uid, names in by_schedule.items()]

    def _plan(self, now: datetime) -> _Plan:
        rows = [r for r in repo.list_schedules(self.conn) if r["enabled"]]
        hosts = {h.name: h for h in self.services.roster.hosts()} if rows else {}
        last = repo.last_runs(self.conn) if rows else {}
        health = repo.health(self.conn) if rows else {}
        bundles = self.services.bundles.all() if rows else {}
        items: dict[tuple[str, str], _Item] = {}
        skipped: list[dict] = []
        for row in rows:
            uid = row["uid"]
            try:
                core = _core(row)
            except ScheduleError as exc:  # a bad record from elsewhere: never fatal
                skipped.append({"schedule": uid, "host": None, "reason": str(exc)})
                continue
            bundle = bundles.get(row["bundle"])
            if bundle is None:
                skipped.append({"schedule": uid, "host": None,
                                "reason": f"bundle {row['bundle']!r} is not on this device"})
                continue
            held_until = maintenance_end(core.windows, now, runs=True)
            held, wrong_os = 0, []
            for name, host in hosts.items():
                if not _matches(core.target, host):
                    continue
                if host.spec.os and host.spec.os != bundle.os:
                    wrong_os.append(name)
                    continue
                h = health.get(name)
                failures = h["failures"] if h else 0
                previous = last.get((uid, name))
                if previous is not None and previous + retry_delay(failures, core.interval) > now:
                    continue  # not due yet (or backing off after failures)
                if held_until is not None:
                    held += 1
                    continue
                if failures and h["next_retry"] and h["next_retry"] > now:
                    skipped.append({"schedule": uid, "host": name, "reason": (
                        f"backing off after {failures} failed connection{'s' if failures > 1 else ''}: "
                        f"next try at {repo.iso(h['next_retry'])}")})
                    continue
                if name in self._running:
                    skipped.append({"schedule": uid, "host": name, "reason": "already running"})
                    continue
                item = items.get((row["bundle"], name))
                if item is None:
                    item = items[(row["bundle"], name)] = _Item(row["bundle"], name)
                item.schedules.append(uid)
                item.interval = min(item.interval, core.interval)
                item.windows.extend(core.windows)
            if held:
                skipped.append({"schedule": uid, "host": None, "reason": (
                    f"{held} host{'s' if held > 1 else ''} held by a maintenance window until "
                    f"{repo.iso(held_until)}")})
            if wrong_os:
                shown = ", ".join(wrong_os[:5]) + (f" and {len(wrong_os) - 5} more" if len(wrong_os) > 5 else "")
                skipped.append({"schedule": uid, "host": None, "reason": (
                    f"bundle {row['bundle']} is for {bundle.os}: not run on {shown}")})
        return _Plan(list(items.values()), skipped, {r["uid"]: r for r in rows}, hosts)

    # ------------------------------------------------------------------ the sweep
    async def sweep(self, now: datetime | None = None, on_event: Callable | None = None,
                    concurrency: int | None = None) -> dict:
        """Run everything due, then store host health and alerts and send notifications.

        Returns {"ran": hosts run, "runs": [run ids], "skipped": [{schedule, host, reason}],
        "alerts": [events announced, with seq and notified], "errors": [str],
        "hosts": [{host, bundle, run_id, status, error}], "started", "finished",
        "locked": bool}. Never raises for a host, a bundle or a notification; a second
        sweep while one runs (any process) returns at once with locked = True.
        """
        now = _utc(now)
        result = {"ran": 0, "runs": [], "skipped": [], "alerts": [], "errors": [], "hosts": [],
                  "started": repo.iso(now), "finished": None, "locked": False}
        lock = SweepLock(self.lock_path)
        busy = lock.acquire()
        if busy:
            result["locked"] = True
            result["skipped"].append({"schedule": None, "host": None, "reason": busy + ": this sweep skipped"})
            result["finished"] = repo.iso(_utc(None))
            return result
        try:
            plan = self._plan(now)
            result["skipped"] += plan.skipped
            event_seqs: list[int] = []
            groups: dict[str, list[_Item]] = {}
            for item in plan.items:
                groups.setdefault(item.bundle, []).append(item)
            from techdesk.services.runner import DEFAULT_CONCURRENCY

            limit = concurrency or self.settings.concurrency or DEFAULT_CONCURRENCY
            # One bundle after the other: a host due for two bundles never runs them at once.
            for name, items in groups.items():
                event_seqs += await self._run_group(name, items, plan, now, limit, on_event, result)
            await self._notify(event_seqs, now, result)
            if result["runs"]:  # refit the swept hosts' forecasts now, off the event loop
                try:
                    await asyncio.get_running_loop().run_in_executor(
                        None, self._refresh_in_worker, now, self._capacity_specs())
                except Exception as exc:  # noqa: BLE001 - health() refits them later anyway
                    log.warning("forecast refresh after the sweep failed: %s", exc)
        finally:
            lock.release()
        result["finished"] = repo.iso(_utc(None))
        return result

    async def _run_group(self, bundle_name: str, items: list[_Item], plan: _Plan, now: datetime,
                         limit: int, on_event, result: dict) -> list[int]:
        try:
            bundle = self.services.bundles.get(bundle_name)
        except Exception as exc:  # noqa: BLE001 - reported, never fatal
            result["errors"].append(f"bundle {bundle_name}: {exc}")
            return []
        hosts = [plan.hosts[i.host] for i in items]
        stamp = repo.iso(now)
        # Marked before running: a sweep killed half way does not rerun these at once.
        repo.mark_runs(self.conn, [(uid, i.host, stamp, None) for i in items for uid in i.schedules])
        names = {h.name for h in hosts}
        self._running |= names
        try:
            report = await self.services.runner.run(bundle, hosts, concurrency=max(1, int(limit)),
                                                    on_event=on_event, trigger="schedule")
        except Exception as exc:  # noqa: BLE001 - one bundle's failure never stops the sweep
            log.exception("scheduled run of %s failed", bundle_name)
            result["errors"].append(f"bundle {bundle_name}: {type(exc).__name__}: {exc}")
            return []
        finally:
            self._running -= names
        repo.mark_runs(self.conn, [(uid, i.host, stamp, report.run_id) for i in items for uid in i.schedules])
        result["runs"].append(report.run_id)
        result["ran"] += len(report.results)
        return self._record(report, {i.host: i for i in items}, now, result)

    def _record(self, report, items: dict[str, _Item], now: datetime, result: dict) -> list[int]:
        """Host health and alerts from one run's results; returns the new events' seq."""
        health = repo.health(self.conn)
        rows = []
        observed = []
        for r in report.results:
            item = items.get(r.host)
            interval = item.interval if item else timedelta(days=1)
            h = health.get(r.host) or {"host": r.host, "last_attempt": None, "last_success": None,
                                       "failures": 0, "next_retry": None, "last_error": None}
            h["last_attempt"] = now
            if r.error:
                h["failures"] += 1
                h["next_retry"] = now + retry_delay(h["failures"], interval)
                h["last_error"] = f"{r.error.kind}: {r.error.message}"
            else:
                h.update(failures=0, next_retry=None, last_error=None, last_success=now)
            rows.append(h)
            quiet = in_maintenance(item.windows, now) if item else False
            observed += core_alerts.observations(r, in_maintenance=quiet)
            result["hosts"].append({"host": r.host, "bundle": report.bundle, "run_id": report.run_id,
                                    "status": r.status.value,
                                    "error": r.error.as_json() if r.error else None})
        repo.save_health(self.conn, rows)
        states = repo.alert_states(self.conn, [r.host for r in report.results])
        new, events = core_alerts.evaluate_all(states, observed, self.alert_config(), now)
        changed = {k: s for k, s in new.items() if states.get(k) != s}
        return repo.save_alerts(self.conn, changed, events, repo.iso(now))

    async def _notify(self, seqs: list[int], now: datetime, result: dict) -> None:
        from techdesk.services import notify

        fresh = repo.events(self.conn, seqs) if seqs else []
        retry = repo.unsent_events(self.conn, repo.iso(now - NOTIFY_RETRY), NOTIFY_ATTEMPTS) \
            if notify.channels(self.settings) else []
        batch = [e for e in retry if e["seq"] not in set(seqs)] + fresh
        if batch and notify.channels(self.settings):
            loop = asyncio.get_running_loop()
            ws = self.services.workspace
            payload = [_event_json(e) for e in batch]
            delivery = await loop.run_in_executor(None, notify.send, self.settings, payload,
                                                  ws.settings.device_id, ws.technician)
            repo.mark_notified(self.conn, [e["seq"] for e in batch], delivery.delivered)
            result["errors"] += delivery.errors
            fresh = repo.events(self.conn, seqs)
        result["alerts"] = [_event_json(e) for e in fresh]

    # ------------------------------------------------------------------ alerts
    def alerts(self, open_only: bool = True, limit: int | None = None) -> list[dict]:
        """Alerts, newest first: {host, check, kind, severity, open, announced, opened_at,
        resolved_at, message (the latest), summary, title, events: [{seq, event, severity,
        message, at, notified}]}. ``open_only=False``: every alert in the event log too
        (the ``limit`` newest events)."""
        states = repo.alert_states(self.conn, open_only=open_only)
        log_rows = repo.events(self.conn, open_only=True) if open_only else \
            repo.events(self.conn, limit=limit)
        episodes: list[dict] = []
        current: dict[tuple[str, str], dict] = {}
        for e in log_rows:
            key = (e["host"], e["check"])
            alert = current.get(key)
            if alert is None or e["event"] == "opened":
                alert = {"host": e["host"], "check": e["check"], "kind": e["kind"], "severity": e["severity"],
                         "open": True, "announced": True, "opened_at": e["opened_at"] or e["at"],
                         "resolved_at": None, "message": e["message"], "summary": "", "title": "",
                         "events": []}
                current[key] = alert
                episodes.append(alert)
            alert["events"].append({k: e[k] for k in ("seq", "event", "severity", "message", "at", "notified")})
            alert["message"] = e["message"]
            if e["event"] == "resolved":
                alert.update(open=False, resolved_at=e["at"])
                del current[key]
            else:
                alert["severity"] = e["severity"]
        for key, state in states.items():
            if not state.open:
                continue
            alert = current.get(key)
            if alert is None:  # open but not announced yet (in a maintenance window)
                alert = {"host": state.host, "check": state.check, "kind": state.kind,
                         "severity": state.severity.value, "open": True, "announced": False,
                         "opened_at": repo.iso(state.opened_at), "resolved_at": None,
                         "message": "", "summary": "", "title": "", "events": []}
                episodes.append(alert)
            alert.update(summary=state.summary, title=state.title, severity=state.severity.value)
        if open_only:
            episodes = [a for a in episodes if a["open"]]
        episodes.sort(key=lambda a: (a["events"][-1]["seq"] if a["events"] else 1 << 62), reverse=True)
        return episodes

    # ------------------------------------------------------------------ health
    def health(self, now: datetime | None = None, within_days: float | None = None) -> dict:
        """Fleet health at a glance (techdesk health, the dashboard). ``within_days``
        (default: settings.forecast_days, 14): forecasts crossing sooner are findings.

        {"now", "within_days", "stale_after_hours",
         "totals": {hosts, ok, warn, crit, unknown, never, stale},
         "clients": [{client, hosts, ok, warn, crit, unknown, never, stale}],
         "hosts": [{host, client, site, status, checked, stale, error}],
         "attention": [{host, client, kind: check|host|forecast, status, check, title,
                        summary, since, eta, days_left, evidence}], (severity, then soonest)
         "stale": [{host, client, last_success, last_attempt, failures, next_retry, last_error}],
         "forecasts": [forecast findings: core.forecast.forecast_findings + client],
         "alerts": [open alerts, as alerts()]}
        Statuses come from each host's latest run of each bundle (a check in several
        bundles: the newest result). One query per table, whatever the fleet size.
        """
        now = _utc(now)
        days = float(within_days if within_days is not None else self.settings.forecast_days)
        stale_after = timedelta(hours=self.settings.stale_after_hours)
        hosts = self.services.roster.hosts()
        created = dict(self.conn.execute("SELECT name, created FROM hosts").fetchall())
        latest = self._latest()
        # The last success: the latest run of a bundle that reached the host, else an older one.
        succeeded = {name: info["ok_at"] for name, info in latest.items() if info["ok_at"]}
        failing = sorted(set(latest) - set(succeeded))
        for i in range(0, len(failing), 500):
            part = failing[i:i + 500]
            succeeded.update(self.conn.execute(
                f"SELECT host, MAX(started) FROM run_hosts WHERE error_kind IS NULL AND host IN"
                f" ({','.join('?' * len(part))}) GROUP BY host", part).fetchall())
        health = repo.health(self.conn)
        forecasts = self._fleet_forecasts(now, {h.name for h in hosts}, days)
        findings = forecast_findings(forecasts, within_days=days)
        client_of = {h.name: h.spec.client or "" for h in hosts}
        for f in findings:
            f["client"] = client_of.get(f["host"], "")

        zero = {"hosts": 0, "ok": 0, "warn": 0, "crit": 0, "unknown": 0, "never": 0, "stale": 0}
        totals, clients = dict(zero), {}
        host_rows, attention, stale_rows = [], [], []
        for host in hosts:
            name, client = host.name, host.spec.client or ""
            info = latest.get(name)
            h = health.get(name) or {}
            ran_ok = max(filter(None, [repo.parse_iso(succeeded.get(name)), h.get("last_success")]), default=None)
            stale = is_stale(ran_ok, now, stale_after, since=repo.parse_iso(created.get(name)))
            status = info["status"] if info else "never"
            counts = clients.setdefault(client, dict(zero))
            for bucket in (counts, totals):
                bucket["hosts"] += 1
                bucket[status] += 1
                bucket["stale"] += int(stale)
            host_rows.append({"host": name, "client": client, "site": host.spec.site or "", "status": status,
                              "checked": info["checked"] if info else None, "stale": stale,
                              "error": info["error"] if info else None})
            if stale:
                stale_rows.append({"host": name, "client": client, "last_success": repo.iso(ran_ok),
                                   "last_attempt": repo.iso(h.get("last_attempt")),
                                   "failures": h.get("failures", 0), "next_retry": repo.iso(h.get("next_retry")),
                                   "last_error": h.get("last_error")})
            if not info:
                continue
            if info["error"]:
                attention.append({"host": name, "client": client, "kind": "host", "status": "unknown",
                                  "check": core_alerts.HOST_CHECK, "title": "Host not reached",
                                  "summary": f"{info['error']['kind']}: {info['error']['message']}",
                                  "since": info["checked"], "eta": None, "days_left": None, "evidence": None})
            for check in info["checks"].values():
                if check["status"] != "ok":
                    attention.append({"host": name, "client": client, "kind": "check", "status": check["status"],
                                      "check": check["id"], "title": check["title"], "summary": check["summary"],
                                      "since": check["started"], "eta": None, "days_left": None,
                                      "evidence": None})
        for f in findings:
            check = (latest.get(f["host"]) or {}).get("checks", {}).get(f["check"])
            if f["days_left"] == 0 and check and check["status"] != "ok":
                continue  # already crossed: the check's own finding says so
            attention.append({"host": f["host"], "client": f["client"], "kind": "forecast", "status": f["status"],
                              "check": f["check"], "label": f["label"], "title": f["title"],
                              "summary": f["summary"], "since": None, "eta": f["eta"],
                              "days_left": f["days_left"], "evidence": f["evidence"]})
        # Severity first, then when: a finding of the latest run is now (0 days), a forecast later.
        attention.sort(key=lambda a: (_SEVERITY_ORDER.get(a["status"], 9), a["days_left"] or 0.0,
                                      a["host"].casefold(), a["check"]))
        stale_rows.sort(key=lambda s: (s["last_success"] or "", s["host"].casefold()))
        return {"now": repo.iso(now), "within_days": days, "stale_after_hours": self.settings.stale_after_hours,
                "totals": totals,
                "clients": [{"client": c, **counts} for c, counts in sorted(clients.items(),
                                                                           key=lambda kv: (not kv[0], kv[0].casefold()))],
                "hosts": host_rows, "attention": attention, "stale": stale_rows, "forecasts": findings,
                "alerts": self.alerts(open_only=True)}

    def _latest(self) -> dict[str, dict]:
        """Per host: the checks of its latest run of each bundle (the newest result of a
        check in several), the time and error of its latest run, its status. One query."""
        rows = self.conn.execute(
            "WITH latest AS (SELECT rh.host AS host, rh.run_id AS run_id, MAX(rh.started) AS started,"
            " rh.error_kind AS error_kind, rh.error_message AS error_message"
            " FROM run_hosts rh JOIN runs r ON r.id = rh.run_id GROUP BY rh.host, r.bundle)"
            " SELECT l.host, l.started, l.error_kind, l.error_message, cr.check_id, cr.title, cr.status,"
            " cr.summary FROM latest l LEFT JOIN check_results cr ON cr.run_id = l.run_id AND cr.host = l.host")
        out: dict[str, dict] = {}
        for host, started, error_kind, error_message, check_id, title, status, summary in rows:
            info = out.get(host)
            if info is None:
                info = out[host] = {"checked": started, "error": None, "error_at": "", "checks": {}, "ok_at": None}
            if started > info["checked"]:
                info["checked"] = started
            if not error_kind and (info["ok_at"] is None or started > info["ok_at"]):
                info["ok_at"] = started
            if started >= info["error_at"]:
                info["error_at"] = started
                info["error"] = {"kind": error_kind, "message": error_message} if error_kind else None
            if check_id is not None:
                seen = info["checks"].get(check_id)
                if seen is None or started > seen["started"]:
                    info["checks"][check_id] = {"id": check_id, "title": title, "status": status,
                                                "summary": summary, "started": started}
        for info in out.values():
            statuses = [Status(c["status"]) for c in info["checks"].values()]
            if info["error"]:
                statuses.append(Status.UNKNOWN)
            worst = max(statuses, key=lambda s: s.rank, default=Status.UNKNOWN)
            info["status"] = worst.value
        return out

    # ------------------------------------------------------------------ forecasts
    def forecasts(self, host: str, now: datetime | None = None) -> list[Forecast]:
        """A forecast for each capacity metric of ``host`` (those without enough data say
        why in ``reason``), for the host page's charts (Forecast.value_at draws the line)."""
        self.services.roster.get(host)
        return self._forecast(_utc(now), {host}, only=[host])

    def _capacity_specs(self) -> tuple[dict[str, dict], set[str]]:
        """Bundle thresholds by check id (the last bundle defining the check wins) and
        the check ids with a metric marked ``capacity = true``."""
        specs: dict[str, dict] = {}
        marked: set[str] = set()
        try:
            bundles = self.services.bundles.all()
        except Exception:  # noqa: BLE001 - forecasts work without bundle thresholds
            bundles = {}
        for bundle in bundles.values():
            for check in bundle.checks:
                if check.thresholds:
                    specs[check.id] = check.thresholds
                    if any(s.get("capacity") is True for s in check.thresholds.values()):
                        marked.add(check.id)
        return specs, marked

    def _series(self, since: datetime, only: Iterable[str] | None, marked: set[str], conn=None):
        """(host, check, label, [(epoch, value)], uom, crit, min, max) of each capacity
        series since ``since``, the last four from its newest point. One query (chunked
        by 500 hosts when ``only`` names hosts); a series' points come concatenated, so
        SQLite returns a row per series, not per point."""
        conn = conn or self.conn
        table_checks = sorted({c for c, _, _, _, _ in CAPACITY_TABLE if "*" not in c} | marked)
        where = ("ts >= ? AND (check_id IN ({checks}) OR (check_id = 'memory' AND label = 'mem_used')"
                 " OR (check_id = 'swap' AND label = 'swap_used') OR label = 'days_left'"
                 " OR label LIKE '%\\_days\\_left' ESCAPE '\\')").format(checks=",".join("?" * len(table_checks)))
        # With exactly one max() aggregate SQLite takes the bare columns from its row.
        cols = ("SELECT host, check_id, label, group_concat(ts, ' '), group_concat(value, ' '), uom, crit, min,"
                " max, MAX(ts) FROM metrics WHERE ")
        group = " GROUP BY host, check_id, label"
        args = [repo.iso(since), *table_checks]
        if only is None:
            queries = [(cols + where + group, args)]
        else:
            names = sorted(set(only))
            queries = [(cols + where + f" AND host IN ({','.join('?' * len(names[i:i + 500]))})" + group,
                        args + names[i:i + 500]) for i in range(0, len(names), 500)]
        epoch: dict[str, float | None] = {}
        for sql, values in queries:
            for host, check, label, stamps, numbers, uom, crit, mn, mx, _ in conn.execute(sql, values):
                points = []
                for stamp, number in zip(stamps.split(" "), numbers.split(" "), strict=False):
                    ts = epoch.get(stamp, False)
                    if ts is False:
                        ts = epoch[stamp] = _epoch(stamp)
                    if ts is not None:
                        with contextlib.suppress(ValueError):
                            points.append((ts, float(number)))
                yield host, check, label, points, uom, crit, mn, mx

    def _prepared(self, now: datetime, only: list[str] | None = None, specs=None, conn=None) -> list[tuple]:
        """[((host, check, label), points, capacity)] of the capacity series in the window."""
        from techdesk.core.forecast import DEFAULT_PARAMS

        specs, marked = specs or self._capacity_specs()
        since = now - timedelta(days=DEFAULT_PARAMS.window_days)
        series = []
        for host, check, label, points, uom, crit, mn, mx in self._series(since, only, marked, conn):
            if points:
                one = self._one((host, check, label), points, (uom, crit, mn, mx), specs)
                if one is not None:
                    series.append(one)
        return series

    def _forecast(self, now: datetime, hosts: set[str], only: list[str] | None = None) -> list[Forecast]:
        series = [s for s in self._prepared(now, only) if s[0][0] in hosts]
        return forecast_many(series, now=now)

    def _refresh_forecasts(self, now: datetime, specs: tuple[dict, set[str]], conn=None) -> int:
        """Bring forecast_cache up to date (see _fleet_forecasts); returns the hosts
        refitted. Safe in a worker thread with a connection of its own."""
        from techdesk.core.forecast import DEFAULT_PARAMS

        conn = conn or self.conn
        key = hashlib.sha256(json.dumps([specs[0], sorted(specs[1]), repr(DEFAULT_PARAMS)], sort_keys=True,
                                        default=str).encode()).hexdigest()
        top = conn.execute("SELECT MAX(rowid) FROM metrics").fetchone()[0] or 0
        try:
            meta = json.loads(repo.get_meta(conn, "forecast_cache") or "{}")
        except ValueError:
            meta = {}
        seen = meta.get("rowid")
        if meta.get("key") != key or not isinstance(seen, int) or top < seen:
            changed: list[str] | None = None  # refit everything
        elif top > seen:
            changed = sorted({r[0] for r in conn.execute("SELECT DISTINCT host FROM metrics WHERE rowid > ?",
                                                         (seen,))})
        else:
            return 0
        series = self._prepared(now, changed, specs, conn)
        fits = forecast_many(series, now=now)
        rows = [(f.host, f.check, f.label, s[1][-1][0], f.now, f.days_left, _fit_json(f))
                for s, f in zip(series, fits, strict=True)]
        repo.replace_forecasts(conn, changed, rows, {"forecast_cache": json.dumps({"key": key, "rowid": top})})
        return len({s[0][0] for s in series}) if changed is None else len(changed)

    def _refresh_in_worker(self, now: datetime, specs) -> int:
        from techdesk.store.db import open_database

        conn = open_database(self.services.workspace.db_path)
        try:
            return self._refresh_forecasts(now, specs, conn)
        finally:
            conn.close()

    def _fleet_forecasts(self, now: datetime, hosts: set[str], within_days: float) -> list[Forecast]:
        """The roster's forecasts crossing within ``within_days``, through
        forecast_cache: a host's series are refitted when metrics rows newer than the
        cache arrive for it (any run: a sweep, a visit, a teammate's synced run; a sweep
        refits its hosts in a worker thread as it ends); in between, the fitted line is
        carried on to ``now``. A series without a point in the window is left out, as a
        fresh fit would. A change of the bundles' thresholds refits everything."""
        from techdesk.core.forecast import DEFAULT_PARAMS

        self._refresh_forecasts(now, self._capacity_specs())
        at = now.timestamp()
        return [_fit_load(host, check, label, text, now) for host, check, label, text
                in repo.cached_forecasts(self.conn, at, within_days, at - DEFAULT_PARAMS.window_days * DAY)
                if host in hosts]

    @staticmethod
    def _one(key, points, last, specs):
        check, label = key[1], key[2]
        uom, crit, mn, mx = last
        thresholds = specs.get(check) or {}
        spec = thresholds.get(label)
        if spec is None:
            spec = next((s for k, s in thresholds.items() if ("*" in k or "?" in k) and fnmatchcase(label, k)),
                        None)
        capacity = capacity_for(check, label, uom or "", crit=crit, min=mn, max=mx, spec=spec)
        if capacity is None:
            return None
        if len(points) > 1 and any(points[i][0] > points[i + 1][0] for i in range(len(points) - 1)):
            points.sort()
        return key, points, capacity

    def client_trends(self, client: str, now: datetime | None = None) -> list[dict]:
        """Trends and forecasts for the client report: [{host, title, text, status}],
        most urgent first. A metric with a crossing foreseen gets a row (crit within 3
        days, warn within forecast_days, else ok); a host whose fitted metrics are all
        steady or far from their limit gets one summary row. Too little data: nothing."""
        now = _utc(now)
        names = [h.name for h in self.services.roster.hosts(client=client)]
        if not names:
            return []
        days = float(self.settings.forecast_days)
        rows, calm = [], {}
        for f in self._forecast(now, set(names), only=names):
            if f.slope_per_day is None and f.days_left is None:
                continue  # too little data to say anything
            if f.days_left is not None:
                status = "crit" if f.days_left <= 3 else "warn" if f.days_left <= days else "ok"
                rows.append({"host": f.host, "title": _metric_title(f), "text": describe(f), "status": status,
                             "days_left": round(f.days_left, 1)})
            else:
                calm.setdefault(f.host, []).append(_metric_title(f))
        reported = {r["host"] for r in rows}
        for host, titles in calm.items():
            if host in reported:
                continue
            rows.append({"host": host, "title": "Capacity", "status": "ok", "days_left": None,
                         "text": "steady or far from its limit: " + ", ".join(sorted(set(titles)))})
        rows.sort(key=lambda r: (_SEVERITY_ORDER[r["status"]],
                                 r["days_left"] if r["days_left"] is not None else float("inf"),
                                 r["host"].casefold()))
        return rows


def _epoch(stamp: str) -> float | None:
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _fit_json(f: Forecast) -> str:
    cap = f.capacity
    return json.dumps([f.slope_per_day, f.current, f.threshold, f.days_left, f.confidence, f.points_used,
                       f.reason, f.level, f.now, f.fitted_from,
                       [cap.threshold, cap.falling, cap.kind, cap.source, cap.uom] if cap else None])


def _fit_load(host: str, check: str, label: str, text: str, now: datetime) -> Forecast:
    """A cached fit, its line carried on to ``now`` (days left counted from now)."""
    (slope, current, threshold, days_left, confidence, points, reason, level, then, fitted_from,
     cap) = json.loads(text)
    capacity = Capacity(*cap) if cap else None
    at = now.timestamp()
    if days_left and slope and level is not None and threshold is not None:
        level += slope * (at - then) / DAY
        days_left = max(0.0, (threshold - level) / slope)
        then = at
    eta = datetime.fromtimestamp(at + days_left * DAY, UTC) if days_left is not None else None
    return Forecast(host, check, label, slope, current, threshold, eta, days_left, confidence, points, reason,
                    capacity, level, then, fitted_from)


def _metric_title(f: Forecast) -> str:
    kind = f.capacity.kind if f.capacity else "custom"
    return {"disk": f"Disk space {f.label}", "inodes": f"Inodes {f.label}", "memory": "Memory",
            "swap": "Swap", "days-left": f.check if f.label == "days_left" else f"{f.check} {f.label}"
            }.get(kind, f"{f.check} {f.label}")


def _event_json(e: dict) -> dict:
    return {"seq": e["seq"], "event": e["event"], "host": e["host"], "check": e["check"], "kind": e["kind"],
            "severity": e["severity"], "message": e["message"], "at": e["at"], "opened_at": e["opened_at"],
            "notified": e["notified"]}
