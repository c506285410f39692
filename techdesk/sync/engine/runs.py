"""Sync records for runs: a run row with its per-host results, checks and metrics.

A run travels once, finished, and is immutable. Each check's output is capped so a
run's file stays under the 1 MiB limit every reader enforces.
"""

from __future__ import annotations

from techdesk.core.severity import Status
from techdesk.store.runs import cap_text

from ..format.revisions import canonical_json
from .codec import BodyError, Context, iso_time, items, num, opt_int, opt_str, req_str, rows

RUN_BUDGET = 900_000          # bytes of canonical JSON: a run file stays under the 1 MiB limit
CHECK_OUTPUT_CAP = 32_768     # bytes of output per check in a run body
SHORT_SUMMARY = 200           # bytes of a summary when a run is too large even without outputs
TRUNCATED = "\n[output truncated by techdesk sync]"
_STATUSES = {s.value for s in Status}


def read_runs(conn, ids: list[str]) -> dict[str, dict]:
    runs: dict[str, dict] = {}
    for r in rows(conn, "SELECT id, bundle, bundle_version, started, finished, technician, trigger FROM runs"
                         " WHERE id IN ({marks})", ids):
        runs[r[0]] = {"bundle": r[1], "bundle_version": r[2], "started": r[3], "finished": r[4],
                      "technician": r[5], "trigger": r[6], "hosts": []}
    hosts: dict[tuple[str, str], dict] = {}
    for r in rows(conn, "SELECT run_id, host, status, started, duration_s, error_kind, error_message FROM run_hosts"
                         " WHERE run_id IN ({marks}) ORDER BY rowid", list(runs)):
        entry = {"host": r[1], "status": r[2], "started": r[3], "duration_s": r[4],
                 "error": {"kind": r[5], "message": r[6]} if r[5] is not None else None, "checks": []}
        hosts[(r[0], r[1])] = entry
        runs[r[0]]["hosts"].append(entry)
    checks: dict[tuple[str, str, str], dict] = {}
    for r in rows(conn, "SELECT run_id, host, check_id, title, status, summary, exit_code, duration_s, output"
                         " FROM check_results WHERE run_id IN ({marks}) ORDER BY rowid", list(runs)):
        entry = {"id": r[2], "title": r[3], "status": r[4], "summary": r[5], "exit_code": r[6],
                 "duration_s": r[7], "output": r[8], "metrics": []}
        checks[(r[0], r[1], r[2])] = entry
        hosts[(r[0], r[1])]["checks"].append(entry)
    for r in rows(conn, "SELECT run_id, host, check_id, label, ts, value, uom, warn, crit, min, max FROM metrics"
                         " WHERE run_id IN ({marks}) ORDER BY rowid", list(runs)):
        check = checks.get((r[0], r[1], r[2]))
        if check is not None:
            check["metrics"].append({"label": r[3], "ts": r[4], "value": r[5], "uom": r[6], "warn": r[7],
                                     "crit": r[8], "min": r[9], "max": r[10]})
    for body in runs.values():
        cap_run_outputs(body)
    return runs


def _cut(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:max(0, limit)].decode("utf-8", "ignore") + TRUNCATED


def cap_run_outputs(body: dict) -> None:
    """Cap each check's output so the whole run body stays under RUN_BUDGET bytes. A run
    too large even without outputs (a sweep of very many hosts) travels with short
    summaries, then without metrics (they stay in this device's history): a stored run
    must always be publishable."""
    checks = [c for h in body["hosts"] for c in h["checks"]]
    cap = CHECK_OUTPUT_CAP
    while True:
        for check in checks:
            check["output"] = _cut(check["output"], cap)
        size = len(canonical_json(body))
        if size <= RUN_BUDGET or not checks or cap == 0:
            break
        cap = min(cap // 2, max(0, cap - (size - RUN_BUDGET) // len(checks) - 64))
    if size > RUN_BUDGET:
        for check in checks:
            check["summary"] = cap_text(check["summary"], SHORT_SUMMARY)
        for host in body["hosts"]:
            if host["error"] and host["error"]["message"]:
                host["error"]["message"] = cap_text(host["error"]["message"], SHORT_SUMMARY)
        size = len(canonical_json(body))
    if size > RUN_BUDGET:
        for check in checks:
            check["metrics"] = []


def apply_run(ctx: Context, record_id: str, b: dict) -> None:
    conn = ctx.conn
    run = (record_id, req_str(b, "bundle"), opt_int(b, "bundle_version"), iso_time(b, "started"),
           iso_time(b, "finished", optional=True), req_str(b, "technician"), req_str(b, "trigger"))
    host_rows, check_rows, metric_rows = [], [], []
    for h in items(b, "hosts", lambda v: isinstance(v, dict)):
        error = h.get("error")
        if error is not None and not (isinstance(error, dict) and isinstance(error.get("kind"), str)):
            raise BodyError("a host error has an unexpected shape")
        if h.get("status") not in _STATUSES:
            raise BodyError("a host status is unknown")
        host = req_str(h, "host")
        host_rows.append((record_id, host, h["status"], iso_time(h, "started"), num(h, "duration_s", False),
                          error["kind"] if error else None, opt_str(error, "message") if error else None))
        for c in items(h, "checks", lambda v: isinstance(v, dict)):
            if c.get("status") not in _STATUSES:
                raise BodyError("a check status is unknown")
            check_rows.append((record_id, host, req_str(c, "id"), req_str(c, "title"), c["status"],
                               req_str(c, "summary"), opt_int(c, "exit_code"), num(c, "duration_s", False),
                               req_str(c, "output")))
            for m in items(c, "metrics", lambda v: isinstance(v, dict)):
                metric_rows.append((record_id, host, c["id"], req_str(m, "label"), iso_time(m, "ts"),
                                    num(m, "value", False), req_str(m, "uom"), num(m, "warn"), num(m, "crit"),
                                    num(m, "min"), num(m, "max")))
    conn.execute("DELETE FROM runs WHERE id = ?", (record_id,))
    conn.execute("INSERT INTO runs (id, bundle, bundle_version, started, finished, technician, trigger)"
                 " VALUES (?,?,?,?,?,?,?)", run)
    conn.executemany("INSERT OR REPLACE INTO run_hosts (run_id, host, status, started, duration_s, error_kind,"
                     " error_message) VALUES (?,?,?,?,?,?,?)", host_rows)
    conn.executemany("INSERT OR REPLACE INTO check_results (run_id, host, check_id, title, status, summary,"
                     " exit_code, duration_s, output) VALUES (?,?,?,?,?,?,?,?,?)", check_rows)
    conn.executemany("INSERT OR REPLACE INTO metrics (run_id, host, check_id, label, ts, value, uom, warn, crit,"
                     " min, max) VALUES (?,?,?,?,?,?,?,?,?,?,?)", metric_rows)


def remove_run(ctx: Context, record_id: str) -> bool:
    ctx.conn.execute("DELETE FROM runs WHERE id = ?", (record_id,))
    return True
