"""Run history: every run, per host and check, and the metric series built from it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from techdesk.core.findings import CheckResult, HostError, HostResult, Metric
from techdesk.core.host_state import Attempt, CheckState
from techdesk.core.severity import Status
from techdesk.store.db import now_iso, transaction


def create_run(conn: sqlite3.Connection, run_id: str, bundle: str, version: int | None, technician: str,
               started: str, trigger: str = "manual") -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO runs (id, bundle, bundle_version, started, technician, trigger) VALUES (?,?,?,?,?,?)",
            (run_id, bundle, version, started, technician, trigger),
        )


def finish_run(conn: sqlite3.Connection, run_id: str) -> None:
    with transaction(conn):
        conn.execute("UPDATE runs SET finished = ? WHERE id = ?", (now_iso(), run_id))


SUMMARY_CAP = 4096  # bytes of a check's summary: what is stored can always be shared (sync)
CUT_MARK = " […]"


def cap_text(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (never inside a character), marked when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:max(0, limit - len(CUT_MARK.encode()))].decode("utf-8", "ignore") + CUT_MARK


def save_host_result(conn: sqlite3.Connection, run_id: str, result: HostResult, started: str) -> None:
    """Store one host's result as soon as it is complete (a crash later loses nothing of it).
    A summary is capped at SUMMARY_CAP bytes: the first line of an output can be huge."""
    with transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO run_hosts (run_id, host, status, started, duration_s, error_kind,"
            " error_message) VALUES (?,?,?,?,?,?,?)",
            (run_id, result.host, result.status.value, started, result.duration_s,
             result.error.kind if result.error else None, result.error.message if result.error else None),
        )
        conn.executemany(
            "INSERT OR REPLACE INTO check_results (run_id, host, check_id, title, status, summary, exit_code,"
            " duration_s, output) VALUES (?,?,?,?,?,?,?,?,?)",
            [(run_id, result.host, c.id, c.title, c.status.value, cap_text(c.summary, SUMMARY_CAP), c.exit_code,
              c.duration_s, c.output) for c in result.checks],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO metrics (run_id, host, check_id, label, ts, value, uom, warn, crit, min,"
            " max) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(run_id, result.host, c.id, m.label, started, m.value, m.uom, m.warn, m.crit, m.min, m.max)
             for c in result.checks for m in c.metrics.values()],
        )
        # The current state follows in the same commit: the window's reads stay reads.
        top, seen = conn.execute(_BEHIND).fetchone()
        _fold_rows(conn, top or 0, seen)


@dataclass
class RunSummary:
    run_id: str
    bundle: str
    started: str
    technician: str
    trigger: str
    status: str
    duration_s: float
    error_kind: str | None
    error_message: str | None

    def as_json(self) -> dict:
        return dict(self.__dict__)


def host_runs(conn: sqlite3.Connection, host: str, limit: int = 50) -> list[RunSummary]:
    rows = conn.execute(
        "SELECT r.id, r.bundle, rh.started, r.technician, r.trigger, rh.status, rh.duration_s,"
        " rh.error_kind, rh.error_message FROM run_hosts rh JOIN runs r ON r.id = rh.run_id"
        " WHERE rh.host = ? ORDER BY rh.started DESC, r.id DESC LIMIT ?", (host, limit))
    return [RunSummary(*r) for r in rows]


def host_result(conn: sqlite3.Connection, run_id: str, host: str) -> HostResult | None:
    row = conn.execute("SELECT * FROM run_hosts WHERE run_id = ? AND host = ?", (run_id, host)).fetchone()
    if row is None:
        return None
    metrics: dict[str, dict[str, Metric]] = {}
    for m in conn.execute("SELECT * FROM metrics WHERE run_id = ? AND host = ?", (run_id, host)):
        metrics.setdefault(m["check_id"], {})[m["label"]] = Metric(
            m["label"], m["value"], m["uom"], m["warn"], m["crit"], m["min"], m["max"])
    checks = [
        CheckResult(id=c["check_id"], title=c["title"], status=Status(c["status"]), summary=c["summary"],
                    exit_code=c["exit_code"], duration_s=c["duration_s"], output=c["output"],
                    metrics=metrics.get(c["check_id"], {}))
        for c in conn.execute("SELECT * FROM check_results WHERE run_id = ? AND host = ? ORDER BY rowid",
                              (run_id, host))
    ]
    error = HostError(row["error_kind"], row["error_message"]) if row["error_kind"] else None
    return HostResult(host=host, checks=checks, error=error, duration_s=row["duration_s"])


def latest_result(conn: sqlite3.Connection, host: str) -> tuple[RunSummary, HostResult] | None:
    runs = host_runs(conn, host, limit=1)
    if not runs:
        return None
    return runs[0], host_result(conn, runs[0].run_id, host)


def metric_series(conn: sqlite3.Connection, host: str, check: str | None = None,
                  label: str | None = None) -> list[dict]:
    where, args = ["host = ?"], [host]
    if check:
        where.append("check_id = ?")
        args.append(check)
    if label:
        where.append("label = ?")
        args.append(label)
    rows = conn.execute(
        "SELECT check_id, label, ts, value, uom, warn, crit FROM metrics WHERE " + " AND ".join(where)
        + " ORDER BY check_id, label, ts", args)
    return [dict(r) for r in rows]


def check_history(conn: sqlite3.Connection, host: str, check: str, limit: int = 50) -> list[dict]:
    rows = conn.execute(
        "SELECT cr.run_id, rh.started, cr.status, cr.summary, cr.exit_code, rh.error_kind FROM check_results cr"
        " JOIN run_hosts rh ON rh.run_id = cr.run_id AND rh.host = cr.host"
        " WHERE cr.host = ? AND cr.check_id = ? ORDER BY rh.started DESC LIMIT ?", (host, check, limit))
    return [dict(r) for r in rows]


def received_runs(conn: sqlite3.Connection, run_ids: list[str], device: str) -> set[str]:
    """The runs among ``run_ids`` that arrived through the shared folder from another
    device (anyone with write access there can have written them)."""
    if not run_ids:
        return set()
    marks = ",".join("?" * len(run_ids))
    return {r[0] for r in conn.execute(
        f"SELECT DISTINCT id FROM sync_revs WHERE kind = 'run' AND device != ? AND id IN ({marks})",
        (device, *run_ids))}


# -- current state: each check's latest completed result (core/host_state.py) ----------
def _fold_current(conn: sqlite3.Connection, top: int | None = None, seen: int | None = None) -> None:
    """Bring check_current up to date with check_results rows it has not seen yet.

    A row counts when its check completed (an exit code; a check's own timeout has
    one). Every path that stores results (runs, sync imports, older databases) is
    covered without triggers; the work is proportional to the new rows."""
    if top is None or seen is None:
        top, seen = conn.execute(_BEHIND).fetchone()
    if (top or 0) == seen:
        return
    with transaction(conn):
        top, seen = conn.execute(_BEHIND).fetchone()  # again, under the write lock
        _fold_rows(conn, top or 0, seen)


def _fold_rows(conn: sqlite3.Connection, top: int, seen: int) -> None:
    """The fold itself, inside the caller's transaction."""
    if top == seen:
        return
    if top < seen:  # rows went away (history pruned): start over
        conn.execute("DELETE FROM check_current")
        seen = 0
    conn.execute(
        "INSERT INTO check_current (host, check_id, run_id, started, status, title, summary)"
        " SELECT cr.host, cr.check_id, cr.run_id, rh.started, cr.status, cr.title, cr.summary"
        " FROM check_results cr JOIN run_hosts rh ON rh.run_id = cr.run_id AND rh.host = cr.host"
        " WHERE cr.rowid > ? AND cr.rowid <= ? AND cr.exit_code IS NOT NULL ORDER BY rh.started, cr.rowid"
        " ON CONFLICT (host, check_id) DO UPDATE SET run_id = excluded.run_id, started = excluded.started,"
        " status = excluded.status, title = excluded.title, summary = excluded.summary"
        " WHERE excluded.started >= check_current.started", (seen, top))
    conn.execute("UPDATE check_current_seen SET seen = ?", (top,))


_BEHIND = "SELECT (SELECT MAX(rowid) FROM check_results), seen FROM check_current_seen"


def _chunks(names: list[str] | None, size: int = 500):
    if names is None:
        yield "", []
        return
    for i in range(0, len(names), size):
        part = names[i:i + size]
        yield f" WHERE host IN ({','.join('?' * len(part))})", part


def current_checks(conn: sqlite3.Connection, hosts: list[str] | None = None,
                   until: str | None = None) -> dict[str, list[CheckState]]:
    """host -> the current state of each of its checks (every host, or ``hosts``);
    with ``until``, as it was then (from the history, not the folded table)."""
    out: dict[str, list[CheckState]] = {}
    if until is not None:
        for where, args in _chunks(hosts):
            rows = conn.execute(
                "SELECT host, check_id, run_id, started, status, title, summary FROM"
                " (SELECT cr.host AS host, cr.check_id, cr.run_id, rh.started, cr.status, cr.title, cr.summary,"
                " ROW_NUMBER() OVER (PARTITION BY cr.host, cr.check_id ORDER BY rh.started DESC, cr.rowid DESC) AS n"
                " FROM check_results cr JOIN run_hosts rh ON rh.run_id = cr.run_id AND rh.host = cr.host"
                " WHERE rh.started <= ? AND cr.exit_code IS NOT NULL)" + (where or " WHERE 1") + " AND n = 1",
                [until, *args])
            for host, check_id, run_id, started, status, title, summary in rows:
                out.setdefault(host, []).append(CheckState(check_id, title, status, summary, started, run_id))
        return out
    for where, args in _chunks(hosts):
        # The first row says whether check_current is behind (one statement when it is not).
        rows = conn.execute(f"SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, * FROM ({_BEHIND}) UNION ALL"
                            " SELECT host, check_id, run_id, started, status, title, summary, NULL, NULL"
                            " FROM check_current" + where, args)
        top, seen = next(rows)[7:]
        if (top or 0) != seen:
            _fold_current(conn, top, seen)
            return current_checks(conn, hosts, until)
        for host, check_id, run_id, started, status, title, summary, _, _ in rows:
            out.setdefault(host, []).append(CheckState(check_id, title, status, summary, started, run_id))
    return out


def host_attempts(conn: sqlite3.Connection, hosts: list[str] | None = None, until: str | None = None
                  ) -> dict[str, tuple[str | None, str | None, Attempt | None]]:
    """Roster host -> (when it was added, its last success a sweep recorded, its latest
    run: completed, failed or cancelled); with ``until``, as they were then."""
    out: dict[str, tuple[str | None, str | None, Attempt | None]] = {}
    when = " started <= ?" if until is not None else " 1"
    # The sweep's record of the last success when it is not later than `until`, else the history's.
    success = ("CASE WHEN hh.last_success <= ? THEN hh.last_success ELSE (SELECT MAX(started) FROM run_hosts s"
               " WHERE s.host = h.name AND s.error_kind IS NULL AND s.started <= ?) END"
               if until is not None else "hh.last_success")
    for where, args in _chunks(hosts):
        # The newest run of each host; the later stored wins a tie within the same second.
        extra = [until] if until is not None else []
        for name, created, last_success, started, kind, message in conn.execute(
                f"SELECT h.name, h.created, {success}, a.started, a.error_kind, a.error_message FROM hosts h"
                " LEFT JOIN host_health hh ON hh.host = h.name LEFT JOIN"
                " (SELECT host, started, error_kind, error_message, ROW_NUMBER() OVER (PARTITION BY host"
                " ORDER BY started DESC, rowid DESC) AS n FROM run_hosts"
                + (where + " AND" if where else " WHERE") + when
                + ") a ON a.host = h.name AND a.n = 1" + where.replace("host IN", "h.name IN"),
                extra + extra + args + extra + args):
            out[name] = (created, last_success, Attempt(started, kind, message) if started else None)
    return out


def current_results(conn: sqlite3.Connection, host: str) -> list[tuple[CheckResult, str, str]]:
    """The current state of each check of ``host`` as full results (output, metrics),
    each with the time and the bundle of the run that produced it."""
    _fold_current(conn)
    metrics: dict[str, dict[str, Metric]] = {}
    for m in conn.execute("SELECT m.* FROM check_current cc JOIN metrics m ON m.run_id = cc.run_id"
                          " AND m.host = cc.host AND m.check_id = cc.check_id WHERE cc.host = ?", (host,)):
        metrics.setdefault(m["check_id"], {})[m["label"]] = Metric(
            m["label"], m["value"], m["uom"], m["warn"], m["crit"], m["min"], m["max"])
    rows = conn.execute(
        "SELECT cr.*, cc.started AS at, r.bundle AS bundle FROM check_current cc"
        " JOIN check_results cr ON cr.run_id = cc.run_id AND cr.host = cc.host AND cr.check_id = cc.check_id"
        " JOIN runs r ON r.id = cc.run_id WHERE cc.host = ?", (host,))
    return [(CheckResult(id=c["check_id"], title=c["title"], status=Status(c["status"]), summary=c["summary"],
                         exit_code=c["exit_code"], duration_s=c["duration_s"], output=c["output"],
                         metrics=metrics.get(c["check_id"], {})), c["at"], c["bundle"]) for c in rows]
def run_hosts(conn: sqlite3.Connection, run_id: str) -> tuple[str, dict[str, str]] | None:
    """(bundle, {host: started}) of a run, hosts by name; None if the run is unknown."""
    row = conn.execute("SELECT bundle FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    started = dict(conn.execute("SELECT host, started FROM run_hosts WHERE run_id = ? ORDER BY host", (run_id,)))
    return row[0], started


def runs_between(conn: sqlite3.Connection, start: str, end: str) -> list[tuple[str, str]]:
    """(run id, host) of every host run started from `start` to `end`, oldest first."""
    rows = conn.execute("SELECT DISTINCT run_id, host FROM run_hosts WHERE started >= ? AND started <= ?"
                        " ORDER BY started", (start, end))
    return [(r[0], r[1]) for r in rows]


def last_durations(conn: sqlite3.Connection, hosts: list[str]) -> dict[str, float]:
    """Each of `hosts`' duration in its latest completed run (to start the slowest first).
    One index lookup per host: every run start asks, and a year of hourly sweeps of 50
    hosts is 438,000 rows (a scan of them all took 210 ms)."""
    found: dict[str, float] = {}
    for host in dict.fromkeys(hosts):
        row = conn.execute("SELECT duration_s FROM run_hosts WHERE host = ? AND duration_s IS NOT NULL"
                           " ORDER BY started DESC LIMIT 1", (host,)).fetchone()
        if row is not None:
            found[host] = float(row[0])
    return found
