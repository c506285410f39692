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
import copy
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from techdesk.core import alerts as core_alerts
from techdesk.core.roster import RosterError
from techdesk.core.schedule import (
    ScheduleError,
    Target,
    due_state,
    in_maintenance,
    next_due,
    parse_interval,
    parse_windows,
    retry_delay,
)
from techdesk.services.bundles import UnknownBundle
from techdesk.services.health import HealthService, as_utc
from techdesk.services.monitor_types import HealthReport, SweepResult
from techdesk.services.sweep_lock import SweepLock
from techdesk.services.sweep_plan import (
    Item,
    Plan,
    backing_off,
    backoff,
    check_busy,
    core_of,
    matches,
    schedule_json,
    schedule_notes,
    sweep_exit_code,
)
from techdesk.store import approvals
from techdesk.store import monitor as repo
from techdesk.store.db import now_iso, transaction

if TYPE_CHECKING:
    from techdesk.core.forecast import Forecast

log = logging.getLogger(__name__)

__all__ = ["AlertError", "MonitorService", "ScheduleError", "SweepLock", "sweep_exit_code"]


class AlertError(ValueError):
    """No such open alert (to acknowledge or snooze); one line."""

LOCK_NAME = "sweep.lock"
NOTIFY_RETRY = timedelta(hours=24)  # undelivered alerts are retried by later sweeps this long
NOTIFY_ATTEMPTS = 5



class MonitorService:
    def __init__(self, services) -> None:
        self.services = services
        self.conn = services.conn
        self._running: set[str] = set()  # hosts being run by a sweep of this process
        # Fleet health and forecasts: their own class; health(), forecasts() and
        # client_trends() below hand over to it, so callers keep one API.
        self.fleet = HealthService(services.conn, services.roster, services.history, services.bundles,
                                   services.workspace, lambda: self.alerts(open_only=True), services.clock)

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
    def add_schedule(self, bundle: str, target: str, every: str, windows: str | None = None,
                     confirmed: bool = False) -> dict:
        """Validate and store a schedule; returns it (``schedules()`` shape).
        ScheduleError (interval, target, window; every host more often than every 15
        minutes without `confirmed`), RosterError (unknown client, site, host),
        BundleError (unknown bundle): one line each."""
        values = self._validated(bundle, target, every, windows, confirmed)
        uid = uuid.uuid4().hex
        repo.insert_schedule(self.conn, uid, *values, now_iso())
        with transaction(self.conn):
            approvals.approve(self.conn, self._find(uid))  # made here: active here
        return self.schedule(uid)

    def update_schedule(self, id_or_prefix: str, *, bundle: str | None = None, target: str | None = None,
                        every: str | None = None, windows: str | None = None, confirmed: bool = False) -> dict:
        """Change a schedule's bundle, target, interval or windows (None: keep; windows
        "": none). Validated like ``add_schedule``; a bad value changes nothing. The
        enabled flag is left alone (``enable_schedule``); an edit made here is approved here."""
        row = self._find(id_or_prefix)
        current = schedule_json(row)
        values = self._validated(bundle if bundle is not None else row["bundle"],
                                 target if target is not None else row["target"],
                                 every if every is not None else current["every"],
                                 windows if windows is not None else row["windows"], confirmed)
        was_approved = approvals.is_approved(row, approvals.approved(self.conn))
        repo.update_schedule(self.conn, row["uid"], *values, now_iso())
        if was_approved:
            with transaction(self.conn):
                approvals.approve(self.conn, self._find(row["uid"]))
        return self.schedule(row["uid"])

    def _validated(self, bundle: str, target: str, every: str, windows: str | None,
                   confirmed: bool = False) -> tuple:
        """(bundle, target, interval_s, windows) as stored, or the one-line error."""
        interval = parse_interval(every)
        parsed = Target.parse(target)
        check_busy(parsed, interval, confirmed)
        window_list = parse_windows(windows or "")
        if bundle not in self.services.bundles.all():
            known = ", ".join(sorted(self.services.bundles.all())) or "none"
            raise UnknownBundle(f"no bundle named {bundle!r} (known: {known})")
        parsed = self._check_target(parsed)
        return bundle, str(parsed), int(interval.total_seconds()), "; ".join(str(w) for w in window_list)

    def target_hosts(self, target: str) -> list[str]:
        """The hosts a target matches now (for the schedule editor's preview); the
        same one-line errors as ``add_schedule`` for a bad or unknown target."""
        parsed = self._check_target(Target.parse(target))
        return [h.name for h in self.services.roster.hosts() if matches(parsed, h)]

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
        now = as_utc(now)
        rows = repo.list_schedules(self.conn)
        if not rows:
            return []
        approved = approvals.approved(self.conn)
        hosts = self.services.roster.hosts()
        last = repo.last_runs(self.conn)
        health = repo.health(self.conn)
        out = []
        for row in rows:
            item = schedule_json(row)
            # A teammate's schedule (or a teammate's change to one) waits for `schedule enable` here.
            item["enabled_here"] = approvals.is_approved(row, approved)
            try:
                core = core_of(row)
            except ScheduleError as exc:
                item.update(hosts=0, last_run=None, next_due=None, problem=str(exc))
                out.append(item)
                continue
            names = [h.name for h in hosts if matches(core.target, h)]
            done = [r for r in (last.get((row["uid"], n)) for n in names) if r is not None]
            # the soonest host, by the same rule as the sweep (core.schedule.next_due)
            soonest = min((next_due(core, last.get((row["uid"], n)), now, *backoff(health.get(n)))
                           for n in names), default=None)
            item.update(hosts=len(names), last_run=repo.iso(max(done)) if done else None,
                        next_due=repo.iso(soonest) if soonest and core.enabled and item["enabled_here"]
                        else None)
            out.append(item)
        return out

    def schedule(self, id_or_prefix: str) -> dict:
        row = self._find(id_or_prefix)
        return next(s for s in self.schedules() if s["id"] == row["uid"])

    def _find(self, id_or_prefix: str) -> dict:
        text = (id_or_prefix or "").strip()
        found = repo.find_schedules(self.conn, text) if text else []
        exact = [f for f in found if f["uid"] == text]
        if exact:
            return exact[0]
        if len(text) >= 4 and found:  # a shorter prefix never picks one
            if len(found) == 1:
                return found[0]
            raise ScheduleError(f"schedule id {text!r} is ambiguous: "
                                + ", ".join(f["uid"][:8] for f in found[:5]))
        raise ScheduleError(f"no schedule with id {text!r} (see `techdesk schedule list`; "
                            "give at least 4 characters)")

    def remove_schedule(self, id_or_prefix: str) -> dict:
        """Remove a schedule (a unique prefix of its id is enough); returns it."""
        row = self._find(id_or_prefix)
        repo.delete_schedule(self.conn, row["uid"])
        return schedule_json(row)

    def enable_schedule(self, id_or_prefix: str, enabled: bool = True, confirmed: bool = False) -> dict:
        """Enabling also approves this version of the schedule on this device (how a
        teammate's schedule becomes active here)."""
        row = self._find(id_or_prefix)
        if enabled:
            check_busy(Target.parse(row["target"]), timedelta(seconds=row["interval_s"]), confirmed)
            with transaction(self.conn):
                approvals.approve(self.conn, row)
        if bool(row["enabled"]) != enabled:
            repo.set_enabled(self.conn, row["uid"], enabled, now_iso())
        return self.schedule(row["uid"])

    # ------------------------------------------------------------------ what is due
    def due(self, now: datetime | None = None) -> list[tuple[dict, list[str]]]:
        """[(schedule, [host names])] that a sweep at ``now`` runs, in the order it runs
        them. A host due for one bundle under several schedules is listed once, under
        the first (it runs once and counts as run for all of them)."""
        plan = self._plan(as_utc(now))
        by_schedule: dict[str, list[str]] = {}
        for item in plan.items:
            by_schedule.setdefault(item.schedules[0], []).append(item.host)
        return [(schedule_json(plan.schedules[uid]), names) for uid, names in by_schedule.items()]

    def _plan(self, now: datetime) -> Plan:
        approved = approvals.approved(self.conn)
        rows = [r for r in repo.list_schedules(self.conn) if r["enabled"] and approvals.is_approved(r, approved)]
        hosts = {h.name: h for h in self.services.roster.hosts()} if rows else {}
        last = repo.last_runs(self.conn) if rows else {}
        health = repo.health(self.conn) if rows else {}
        bundles = self.services.bundles.all() if rows else {}
        items: dict[tuple[str, str], Item] = {}
        skipped: list[dict] = []
        for row in rows:
            uid = row["uid"]
            try:
                core, bundle = core_of(row), bundles.get(row["bundle"])
            except ScheduleError as exc:  # a bad record from elsewhere: never fatal
                skipped.append({"schedule": uid, "host": None, "reason": str(exc)})
                continue
            if bundle is None:
                skipped.append({"schedule": uid, "host": None,
                                "reason": f"bundle {row['bundle']!r} is not on this device"})
                continue
            held, wrong_os = 0, []
            for name, host in hosts.items():
                if not matches(core.target, host):
                    continue
                if host.spec.os and host.spec.os != bundle.os:
                    wrong_os.append(name)
                    continue
                h = health.get(name)
                state = due_state(core, last.get((uid, name)), now, *backoff(h))
                if state == "held":
                    held += 1
                elif state == "backing-off":
                    skipped.append({"schedule": uid, "host": name, "reason": backing_off(h)})
                elif state != "waiting" and name in self._running:
                    skipped.append({"schedule": uid, "host": name, "reason": "already running"})
                elif state != "waiting":  # "waiting": not due yet, or backing off after failures
                    items.setdefault((row["bundle"], name), Item(row["bundle"], name)).add(uid, core)
            skipped.extend({"schedule": uid, "host": None, "reason": reason}
                           for reason in schedule_notes(core, bundle, held, wrong_os, now))
        return Plan(list(items.values()), skipped, {r["uid"]: r for r in rows}, hosts)

    # ------------------------------------------------------------------ the sweep
    async def sweep(self, now: datetime | None = None, on_event: Callable | None = None,
                    concurrency: int | None = None) -> SweepResult:
        """Run everything due, then store host health and alerts and send notifications.

        Returns a SweepResult (services/monitor_types.py). Never raises for a host, a bundle or a notification; a second
        sweep while one runs (any process) returns at once with locked = True.
        """
        now = as_utc(now)
        result: SweepResult = {"ran": 0, "runs": [], "skipped": [], "alerts": [], "errors": [], "hosts": [],
                  "started": repo.iso(now), "finished": None, "locked": False, "care_reports": []}
        lock = SweepLock(self.lock_path)
        busy = lock.acquire()
        if busy:
            result["locked"] = True
            result["skipped"].append({"schedule": None, "host": None, "reason": busy + ": this sweep skipped"})
            result["finished"] = repo.iso(as_utc(None))
            return result
        try:
            plan = self._plan(now)
            result["skipped"] += plan.skipped
            event_seqs: list[int] = []
            groups: dict[str, list[Item]] = {}
            for item in plan.items:
                groups.setdefault(item.bundle, []).append(item)
            from techdesk.services.runner import DEFAULT_CONCURRENCY

            limit = concurrency or self.settings.concurrency or DEFAULT_CONCURRENCY
            # One bundle after the other: a host due for two bundles never runs them at once.
            for name, items in groups.items():
                event_seqs += await self._run_group(name, items, plan, now, limit, on_event, result)
            await self._notify(event_seqs, now, result)
            from techdesk.services import care_schedule  # month-end care reports (docs/reports.md)

            result["care_reports"], errors = care_schedule.produce_due(self.services, now)
            result["errors"] += errors
            if result["runs"]:  # refit the swept hosts' forecasts now, off the event loop
                try:
                    await asyncio.get_running_loop().run_in_executor(
                        None, self.fleet.refresh_in_worker, self.fleet.now(), self.fleet.capacity_specs())
                except Exception as exc:  # noqa: BLE001 - health() refits them later anyway
                    log.warning("forecast refresh after the sweep failed: %s", exc)
        finally:
            lock.release()
        result["finished"] = repo.iso(as_utc(None))
        return result

    async def _run_group(self, bundle_name: str, items: list[Item], plan: Plan, now: datetime,
                         limit: int, on_event, result: SweepResult) -> list[int]:
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

    def _record(self, report, items: dict[str, Item], now: datetime, result: dict, conn=None) -> list[int]:
        """Host health and alerts from one run's results; returns the new events' seq.
        ``conn``: a worker thread's own connection (the loop thread's is self.conn)."""
        conn = conn or self.conn
        health = repo.health(conn)
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
        repo.save_health(conn, rows)
        states = repo.alert_states(conn, [r.host for r in report.results])
        new, events = core_alerts.evaluate_all(states, observed, self.alert_config(), now)
        changed = {k: s for k, s in new.items() if states.get(k) != s}
        return repo.save_alerts(conn, changed, events, repo.iso(now))

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

    # ------------------------------------------------------------------ manual runs
    async def record_run(self, report, now: datetime | None = None) -> dict:
        """A run started by hand (window or `techdesk run`) feeds host health and alerts
        exactly like a sweep's run, and new alert events are sent the same way.
        Returns {"alerts": [events announced], "errors": [notification errors]}."""
        now = as_utc(now)
        result = {"alerts": [], "errors": [], "hosts": []}
        if report.cancelled:  # the hosts the technician stopped say nothing about the hosts
            report = copy.copy(report)
            report.results = [r for r in report.results if r.error is None]
        # Off the event loop (a run over hundreds of hosts is thousands of states), on
        # the worker's own connection: the window stays responsive (docs/threading.md).
        loop = asyncio.get_event_loop()  # qasync may step a task from Qt's own event processing
        seqs = await loop.run_in_executor(None, self._record_in_worker, report, now, result)
        await self._notify(seqs, now, result)
        return {"alerts": result["alerts"], "errors": result["errors"]}

    def _record_in_worker(self, report, now: datetime, result: dict) -> list[int]:
        from techdesk.store.db import open_database

        conn = open_database(self.services.workspace.db_path)
        try:
            return self._record(report, {}, now, result, conn)
        finally:
            conn.close()

    # ------------------------------------------------------------------ acknowledge, snooze
    def _open_state(self, host: str, check: str) -> core_alerts.AlertState:
        state = repo.alert_states(self.conn, [host]).get((host, check))
        if state is None or not state.open:
            raise AlertError(f"no open alert for {host} {check}")
        return state

    def acknowledge(self, host: str, check: str, by: str | None = None, now: datetime | None = None) -> dict:
        """Mark an open alert as being dealt with (by the technician); ends when it
        resolves or gets worse. AlertError if there is no such open alert."""
        state = core_alerts.acknowledge(self._open_state(host, check),
                                        by or self.services.workspace.technician, as_utc(now))
        repo.save_alerts(self.conn, {(host, check): state}, [], repo.iso(as_utc(now)))
        return self._alert(host, check)

    def snooze(self, host: str, check: str, every: str | None, now: datetime | None = None) -> dict:
        """Hide an open alert from the open list for ``every`` ("4h", "1d"; None: wake it
        now). It comes back at once if it gets worse."""
        now = as_utc(now)
        until = now + parse_interval(every) if every else None
        state = core_alerts.snooze(self._open_state(host, check), until)
        repo.save_alerts(self.conn, {(host, check): state}, [], repo.iso(now))
        return self._alert(host, check)

    def _alert(self, host: str, check: str) -> dict:
        return next(a for a in self.alerts(include_snoozed=True) if (a["host"], a["check"]) == (host, check))

    # ------------------------------------------------------------------ alerts
    def alerts(self, open_only: bool = True, limit: int | None = None, include_snoozed: bool = False,
               now: datetime | None = None) -> list[dict]:
        """Alerts, newest first: {host, check, kind, severity, open, announced, opened_at,
        resolved_at, message (the latest), summary, title, acked_by, acked_at,
        snoozed_until, events: [{seq, event, severity, message, at, notified}]}.
        ``open_only=False``: every alert in the event log too (the ``limit`` newest
        events). Open alerts snoozed past ``now`` are left out unless ``include_snoozed``."""
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
            alert.update(summary=state.summary, title=state.title, severity=state.severity.value,
                         acked_by=state.acked_by or None, acked_at=repo.iso(state.acked_at),
                         snoozed_until=repo.iso(state.snoozed_until))
        for alert in episodes:
            for key in ("acked_by", "acked_at", "snoozed_until"):
                alert.setdefault(key, None)
        if open_only:
            awake = as_utc(now)
            episodes = [a for a in episodes if a["open"] and (include_snoozed or not a["snoozed_until"]
                                                              or repo.parse_iso(a["snoozed_until"]) <= awake)]
        episodes.sort(key=lambda a: (a["events"][-1]["seq"] if a["events"] else 1 << 62), reverse=True)
        return episodes

    # ------------------------------------------------------------------ health (services/health.py)
    def health(self, now: datetime | None = None, within_days: float | None = None) -> HealthReport:
        """Fleet health: HealthService.health."""
        return self.fleet.health(now, within_days)

    def forecasts(self, host: str, now: datetime | None = None) -> list[Forecast]:
        """A forecast for each capacity metric of ``host``: HealthService.forecasts."""
        return self.fleet.forecasts(host, now)

    def client_trends(self, client: str, now: datetime | None = None) -> list[dict]:
        """The client report's trend rows: HealthService.client_trends."""
        return self.fleet.client_trends(client, now)


def _event_json(e: dict) -> dict:
    return {"seq": e["seq"], "event": e["event"], "host": e["host"], "check": e["check"], "kind": e["kind"],
            "severity": e["severity"], "message": e["message"], "at": e["at"], "opened_at": e["opened_at"],
            "notified": e["notified"]}
