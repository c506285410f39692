"""A past run as text (copy, save) and two runs of a host side by side (what changed).

Both read the stored history through the history service; the window and the CLI
(`techdesk runs show`, `techdesk runs compare`) print the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from techdesk.core.findings import HostResult
from techdesk.core.severity import Status
from techdesk.core.work import WorkError

_RANK = {s.value: s.rank for s in Status}


def run_info(history, run_id: str) -> dict:
    """{run_id, bundle, started, technician, trigger, hosts: [names]}; WorkError if unknown."""
    conn = history.conn
    row = conn.execute("SELECT id, bundle, started, technician, trigger FROM runs WHERE id = ?",
                       (run_id,)).fetchone()
    if row is None:
        found = conn.execute("SELECT id FROM runs WHERE id LIKE ? LIMIT 2", (run_id + "%",)).fetchall() \
            if len(run_id) >= 4 else []
        if len(found) != 1:
            raise WorkError(f"no run with id {run_id!r}" + (" (ambiguous)" if found else ""))
        return run_info(history, found[0][0])
    hosts = [r[0] for r in conn.execute("SELECT host FROM run_hosts WHERE run_id = ? ORDER BY host", (row[0],))]
    return {"run_id": row[0], "bundle": row[1], "started": row[2], "technician": row[3], "trigger": row[4],
            "hosts": hosts}


def run_text(history, run_id: str, hosts: list[str] | None = None) -> str:
    """The whole run as plain text: a header, then per host its status, error, and every
    check with its summary and raw output (indented)."""
    info = run_info(history, run_id)
    lines = [f"techdesk run {info['run_id']}", f"bundle:     {info['bundle']}",
             f"started:    {info['started']}", f"technician: {info['technician']} ({info['trigger']})", ""]
    for host in hosts or info["hosts"]:
        result = history.host_result(info["run_id"], host)
        if result is None:
            continue
        lines.append(f"== {host}: {result.status.value.upper()} ({result.duration_s:.1f}s)")
        if result.error:
            lines.append(f"   error ({result.error.kind}): {result.error.message}")
        for check in result.checks:
            lines.append(f"-- {check.status.value.upper():8} {check.title} [{check.id}]: {check.summary}")
            lines += [f"   | {line}" for line in check.output.splitlines()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


@dataclass
class CheckChange:
    check: str
    title: str
    before: str | None  # status value, None: not in that run
    after: str | None
    before_summary: str = ""
    after_summary: str = ""
    metrics: list[tuple[str, float | None, float | None, str]] = field(default_factory=list)

    @property
    def change(self) -> str:
        """worse | better | new | gone | changed (summary or metrics) | same"""
        if self.before is None:
            return "new"
        if self.after is None:
            return "gone"
        if _RANK[self.after] != _RANK[self.before]:
            return "worse" if _RANK[self.after] > _RANK[self.before] else "better"
        moved = any(b != a for _, b, a, _ in self.metrics)
        return "changed" if self.before_summary != self.after_summary or moved else "same"

    def as_json(self) -> dict:
        return {"check": self.check, "title": self.title, "before": self.before, "after": self.after,
                "before_summary": self.before_summary, "after_summary": self.after_summary,
                "change": self.change,
                "metrics": [{"label": m[0], "before": m[1], "after": m[2], "uom": m[3]} for m in self.metrics]}


def compare(history, host: str, older: str, newer: str) -> list[CheckChange]:
    """Every check of ``host`` in two runs, worst change first (worse, new, gone,
    better, changed, same)."""
    runs = [run_info(history, r) for r in (older, newer)]
    results: list[HostResult] = []
    for info in runs:
        result = history.host_result(info["run_id"], host)
        if result is None:
            raise WorkError(f"run {info['run_id'][:8]} did not include {host}")
        results.append(result)
    before = {c.id: c for c in results[0].checks}
    after = {c.id: c for c in results[1].checks}
    changes = []
    for check_id in list(dict.fromkeys([*before, *after])):
        b, a = before.get(check_id), after.get(check_id)
        labels = list(dict.fromkeys([*(b.metrics if b else {}), *(a.metrics if a else {})]))
        metrics = []
        for label in labels:
            mb, ma = (b.metrics.get(label) if b else None), (a.metrics.get(label) if a else None)
            metrics.append((label, mb.value if mb else None, ma.value if ma else None, (ma or mb).uom))
        changes.append(CheckChange(check_id, (a or b).title, b.status.value if b else None,
                                   a.status.value if a else None, b.summary if b else "", a.summary if a else "",
                                   metrics))
    order = {"worse": 0, "new": 1, "gone": 2, "better": 3, "changed": 4, "same": 5}
    return sorted(changes, key=lambda c: order[c.change])
