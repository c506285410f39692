"""Fleet health and forecasts: the dashboard, `techdesk health`, report trends.

A plain class with its dependencies declared in the constructor; MonitorService
builds one and is still the API callers use (`services.monitor.health()`,
`forecasts()`, `client_trends()`). The result's shape is services/monitor_types.py.
"""


from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

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
from techdesk.services.monitor_types import (
    AttentionRow,
    ClientCounts,
    Counts,
    FleetForecast,
    HealthReport,
    HostRow,
    StaleRow,
)
from techdesk.store import monitor as repo

if TYPE_CHECKING:
    import sqlite3

    from techdesk.services.bundles import BundleService
    from techdesk.services.history import HistoryService
    from techdesk.services.roster import RosterService
    from techdesk.workspace import Workspace

log = logging.getLogger(__name__)


_SEVERITY_ORDER = {"crit": 0, "unknown": 1, "warn": 2, "ok": 3}


def as_utc(now: datetime | None) -> datetime:
    """`now` as an aware UTC time (naive means UTC); the current time when None."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


class HealthService:
    """Reads the store (metrics, health rows, the forecast cache) and the roster; writes
    only the forecast cache. ``open_alerts`` is MonitorService.alerts (open ones);
    ``clock`` the Services' clock (None: the real time)."""

    def __init__(self, conn: sqlite3.Connection, roster: RosterService, history: HistoryService,
                 bundles: BundleService, workspace: Workspace, open_alerts: Callable[[], list[dict]],
                 clock: Callable[[], datetime] | None = None) -> None:
        self.conn = conn
        self.roster = roster
        self.history = history
        self.bundles = bundles
        self.workspace = workspace  # its settings are read at each call (they can change)
        self.open_alerts = open_alerts
        self.clock = clock

    def health(self, now: datetime | None = None, within_days: float | None = None) -> HealthReport:
        """Fleet health at a glance (techdesk health, the dashboard). ``within_days``
        (default: settings.forecast_days, 14): forecasts crossing sooner are findings.
        The keys: HealthReport (services/monitor_types.py); attention is sorted by
        severity, then soonest.
        Statuses are the one definition of core/host_state.py (services.history.host_states):
        each check's latest completed result, from any bundle; a failed or cancelled
        attempt marks the host stale and never replaces what was known.
        """
        settings = self.workspace.settings
        asked = now is not None or self.clock is not None
        now = self.now(now)
        until = now.isoformat()  # only what was known at `now` (honest replay: health --at)
        days = float(within_days if within_days is not None else settings.forecast_days)
        stale_after = timedelta(hours=settings.stale_after_hours)
        hosts = self.roster.hosts()
        # Only what was known at `now` when it is asked for (honest replay: health --at).
        states = self.history.host_states(stale_after, now=now, until=until if asked else None)
        # The sweep bookkeeping is the latest state: a host's row written after `now` is not used.
        health = {name: h for name, h in repo.health(self.conn).items()
                  if not h["last_attempt"] or h["last_attempt"] <= now}
        forecasts = self._fleet_forecasts(now, {h.name for h in hosts}, days)
        client_of = {h.name: h.spec.client or "" for h in hosts}
        findings: list[FleetForecast] = [{**f, "client": client_of.get(f["host"], "")}
                                         for f in forecast_findings(forecasts, within_days=days)]

        zero: Counts = {"hosts": 0, "ok": 0, "warn": 0, "crit": 0, "unknown": 0, "never": 0, "stale": 0}
        totals: Counts = dict(zero)
        clients: dict[str, Counts] = {}
        host_rows: list[HostRow] = []
        attention: list[AttentionRow] = []
        stale_rows: list[StaleRow] = []
        for host in hosts:
            name, client = host.name, host.spec.client or ""
            state = states[name]
            h = health.get(name) or {}
            stale, status, attempt = state.stale, state.status, state.attempt
            failed = state.attempt_failed and not attempt.cancelled
            error = {"kind": attempt.error_kind, "message": attempt.error_message} if state.attempt_failed else None
            counts = clients.setdefault(client, dict(zero))
            for bucket in (counts, totals):
                bucket["hosts"] += 1
                bucket[status] += 1
                bucket["stale"] += int(stale)
            host_rows.append({"host": name, "client": client, "site": host.spec.site or "", "status": status,
                              "checked": state.checked, "stale": stale, "error": error,
                              "last_attempt": attempt.at if attempt else None})
            if stale:
                stale_rows.append({"host": name, "client": client, "last_success": state.checked,
                                   "last_attempt": (attempt.at if attempt else None)
                                   or repo.iso(h.get("last_attempt")),
                                   "failures": h.get("failures", 0), "next_retry": repo.iso(h.get("next_retry")),
                                   "last_error": (attempt.text if failed else None) or h.get("last_error")
                                   or (attempt.text if state.attempt_failed else None)})
            if failed:  # a cancelled run is not a finding about the host
                attention.append({"host": name, "client": client, "kind": "host", "status": "unknown",
                                  "check": core_alerts.HOST_CHECK, "title": "Host not reached",
                                  "summary": f"{attempt.error_kind}: {attempt.error_message}",
                                  "since": attempt.at, "eta": None, "days_left": None, "evidence": None})
            for check in state.problems():
                attention.append({"host": name, "client": client, "kind": "check", "status": check.status,
                                  "check": check.check_id, "title": check.title, "summary": check.summary,
                                  "since": check.at, "eta": None, "days_left": None, "evidence": None,
                                  "stale": stale})
        for f in findings:
            check = states[f["host"]].checks.get(f["check"]) if f["host"] in states else None
            if f["days_left"] == 0 and check and check.status != "ok":
                continue  # already crossed: the check's own finding says so
            attention.append({"host": f["host"], "client": f["client"], "kind": "forecast", "status": f["status"],
                              "check": f["check"], "label": f["label"], "title": f["title"],
                              "summary": f["summary"], "since": None, "eta": f["eta"],
                              "days_left": f["days_left"], "evidence": f["evidence"]})
        # Severity first, then when: a current finding is now (0 days), a forecast later.
        attention.sort(key=lambda a: (_SEVERITY_ORDER.get(a["status"], 9), a["days_left"] or 0.0,
                                      a["host"].casefold(), a["check"]))
        stale_rows.sort(key=lambda s: (s["last_success"] or "", s["host"].casefold()))
        client_rows: list[ClientCounts] = [
            {"client": c, **counts}
            for c, counts in sorted(clients.items(), key=lambda kv: (not kv[0], kv[0].casefold()))]
        return {"now": repo.iso(now), "within_days": days, "stale_after_hours": settings.stale_after_hours,
                "totals": totals, "clients": client_rows,
                "hosts": host_rows, "attention": attention, "stale": stale_rows, "forecasts": findings,
                "alerts": [a for a in self.open_alerts() if (a["opened_at"] or "") <= until]}

    # ------------------------------------------------------------------ forecasts
    def forecasts(self, host: str, now: datetime | None = None) -> list[Forecast]:
        """A forecast for each capacity metric of ``host`` (those without enough data say
        why in ``reason``), for the host page's charts (Forecast.value_at draws the line)."""
        self.roster.get(host)
        return self._forecast(self.now(now), {host}, only=[host])

    def now(self, now: datetime | None = None) -> datetime:
        """``now`` as aware UTC; when None, the services' clock (replay) or the real time."""
        return as_utc(now if now is not None or self.clock is None else self.clock())

    def capacity_specs(self) -> tuple[dict[str, dict], set[str]]:
        """Bundle thresholds by check id (the last bundle defining the check wins) and
        the check ids with a metric marked ``capacity = true``."""
        specs: dict[str, dict] = {}
        marked: set[str] = set()
        try:
            bundles = self.bundles.all()
        except Exception:  # noqa: BLE001 - forecasts work without bundle thresholds
            bundles = {}
        for bundle in bundles.values():
            for check in bundle.checks:
                if check.thresholds:
                    specs[check.id] = check.thresholds
                    if any(s.get("capacity") is True for s in check.thresholds.values()):
                        marked.add(check.id)
        return specs, marked

    def _series(self, since: datetime, until: datetime, only: Iterable[str] | None, marked: set[str],
                conn=None):
        """(host, check, label, [(epoch, value)], uom, crit, min, max) of each capacity
        series from ``since`` to ``until``, the last four from its newest point. One query (chunked
        by 500 hosts when ``only`` names hosts); a series' points come concatenated, so
        SQLite returns a row per series, not per point."""
        conn = conn or self.conn
        table_checks = sorted({c for c, _, _, _, _ in CAPACITY_TABLE if "*" not in c} | marked)
        where = ("ts >= ? AND ts <= ? AND (check_id IN ({checks}) OR (check_id = 'memory' AND label = 'mem_used')"
                 " OR (check_id = 'swap' AND label = 'swap_used') OR label = 'days_left'"
                 " OR label LIKE '%\\_days\\_left' ESCAPE '\\')").format(checks=",".join("?" * len(table_checks)))
        # With exactly one max() aggregate SQLite takes the bare columns from its row.
        cols = ("SELECT host, check_id, label, group_concat(ts, ' '), group_concat(value, ' '), uom, crit, min,"
                " max, MAX(ts) FROM metrics WHERE ")
        group = " GROUP BY host, check_id, label"
        args = [repo.iso(since), until.isoformat(), *table_checks]
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

        specs, marked = specs or self.capacity_specs()
        since = now - timedelta(days=max(DEFAULT_PARAMS.window_days, DEFAULT_PARAMS.history_days))
        series = []
        for host, check, label, points, uom, crit, mn, mx in self._series(since, now, only, marked, conn):
            if points:
                one = self._one((host, check, label), points, (uom, crit, mn, mx), specs)
                if one is not None:
                    series.append(one)
        return series

    def _forecast(self, now: datetime, hosts: set[str], only: list[str] | None = None) -> list[Forecast]:
        series = [s for s in self._prepared(now, only) if s[0][0] in hosts]
        return forecast_many(series, now=now)

    def _refresh_forecasts(self, now: datetime, specs: tuple[dict, set[str]], conn=None) -> int | None:
        """Bring forecast_cache up to date (see _fleet_forecasts); returns the hosts
        refitted, or None when the cache cannot answer for ``now`` (it holds readings
        taken after it, or fits made later). Safe in a worker thread with a connection
        of its own."""
        from techdesk.core.forecast import DEFAULT_PARAMS

        conn = conn or self.conn
        key = hashlib.sha256(json.dumps([specs[0], sorted(specs[1]), repr(DEFAULT_PARAMS)], sort_keys=True,
                                        default=str).encode()).hexdigest()
        try:
            meta = json.loads(repo.get_meta(conn, "forecast_cache") or "{}")
        except ValueError:
            meta = {}
        seen, at = meta.get("rowid"), now.timestamp()
        newest, fitted = meta.get("newest"), meta.get("now")
        valid = meta.get("key") == key and isinstance(seen, int) and isinstance(newest, str) \
            and isinstance(fitted, int | float)
        # The newest reading of all (a full scan) only when everything is refitted anyway.
        top, latest = conn.execute("SELECT MAX(rowid), NULL FROM metrics" if valid else
                                   "SELECT MAX(rowid), MAX(ts) FROM metrics").fetchone()
        top = top or 0
        if not valid or top < seen:
            changed: list[str] | None = None  # refit everything
            newest = (latest if not valid else conn.execute("SELECT MAX(ts) FROM metrics").fetchone()[0]) or ""
        elif top > seen:
            rows = conn.execute("SELECT host, MAX(ts) FROM metrics WHERE rowid > ? GROUP BY host", (seen,)).fetchall()
            changed = sorted(r[0] for r in rows)
            newest = max([newest, *(r[1] for r in rows)])
        else:
            changed = []
        if (_epoch(newest) or 0.0) > at or (changed is not None and fitted > at):
            return None  # readings after `now`, or fits made later: not an honest answer for `now`
        if changed == []:
            return 0
        series = self._prepared(now, changed, specs, conn)
        fits = forecast_many(series, now=now)
        rows = [(f.host, f.check, f.label, s[1][-1][0], f.now, f.days_left, _fit_json(f))
                for s, f in zip(series, fits, strict=True)]
        # Hosts left out were fitted at an earlier `now`; `now` here is the latest fit time.
        meta = {"key": key, "rowid": top, "newest": newest, "now": at if changed is None else max(at, fitted)}
        repo.replace_forecasts(conn, changed, rows, {"forecast_cache": json.dumps(meta)})
        return len({s[0][0] for s in series}) if changed is None else len(changed)

    def refresh_in_worker(self, now: datetime, specs: tuple[dict, set[str]]) -> int | None:
        """_refresh_forecasts on a connection of its own (after a sweep, in a worker
        thread); ``specs`` is capacity_specs(), read on the loop's thread."""
        from techdesk.store.db import open_database

        conn = open_database(self.workspace.db_path)
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

        if self._refresh_forecasts(now, self.capacity_specs()) is None:  # a past `now`: fit afresh
            return [f for f in self._forecast(now, hosts) if f.days_left is not None and f.days_left <= within_days]
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
        now = self.now(now)
        names = [h.name for h in self.roster.hosts(client=client)]
        if not names:
            return []
        days = float(self.workspace.settings.forecast_days)
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
                       [cap.threshold, cap.falling, cap.kind, cap.source, cap.uom] if cap else None,
                       f.fitted_to, f.note, f.unit])


def _fit_load(host: str, check: str, label: str, text: str, now: datetime) -> Forecast:
    """A cached fit, its line carried on to ``now`` (days left counted from now)."""
    values = json.loads(text)
    (slope, current, threshold, days_left, confidence, points, reason, level, then, fitted_from,
     cap) = values[:11]
    fitted_to, note, unit = (values[11:] + [None, "", "readings"][len(values) - 11:])[:3]
    capacity = Capacity(*cap) if cap else None
    at = now.timestamp()
    if days_left and slope and level is not None and threshold is not None:
        level += slope * (at - then) / DAY
        days_left = max(0.0, (threshold - level) / slope)
        then = at
    eta = datetime.fromtimestamp(at + days_left * DAY, UTC) if days_left is not None else None
    return Forecast(host, check, label, slope, current, threshold, eta, days_left, confidence, points, reason,
                    capacity, level, then, fitted_from, fitted_to, note, unit)


def _metric_title(f: Forecast) -> str:
    kind = f.capacity.kind if f.capacity else "custom"
    return {"disk": f"Disk space {f.label}", "inodes": f"Inodes {f.label}", "memory": "Memory",
            "swap": "Swap", "days-left": f.check if f.label == "days_left" else f"{f.check} {f.label}"
            }.get(kind, f"{f.check} {f.label}")


