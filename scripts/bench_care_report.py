"""Benchmark: a month's care report (PDF and HTML) for a client of 50 hosts.

    .venv/bin/python scripts/bench_care_report.py [--hosts 50] [--per-day 4] [--repeat 3]

Seeds a workspace (fixed seed, no SSH): `--hosts` demo-persona hosts of one client,
`--per-day` sweeps of linux-health a day for the 30 days of November 2026 (results made
by the demo personas, so disks fill, memory is noisy, warnings come and go), alerts from
the same alert rules, a visit with a fix note in the middle of the month. Then times, in
the same run:

* baseline: the existing latest-status client report (`report client NAME -o x.pdf`);
* the care report's data alone (queries, problem episodes, evidence, forecasts);
* the care report as HTML (SVG charts) and as PDF (vector charts).

Target (issue 18): the PDF under 3 s. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import median_time  # noqa: E402

from techdesk.core.roster import HostSpec  # noqa: E402
from techdesk.demo import personas  # noqa: E402
from techdesk.demo import workspace as demo  # noqa: E402
from techdesk.reports.period import parse_period  # noqa: E402
from techdesk.services.context import Services  # noqa: E402
from techdesk.workspace import Workspace  # noqa: E402

CLIENT = "Bench Logistics"
MONTH_END = datetime(2026, 12, 1, tzinfo=UTC)


def seed(path: Path, hosts: int, per_day: int) -> tuple[Services, float]:
    t0 = time.perf_counter()
    svc = Services(Workspace(path))
    bundle = svc.bundles.get("linux-health")
    fleet = [(f"bench-{i:03d}", personas.HOSTS[i % 5]) for i in range(hosts)]  # the five server personas
    svc.roster.import_hosts([HostSpec(name=name, address="192.0.2.1", client=CLIENT, site="HQ")
                             for name, _ in fleet])
    rngs = {name: random.Random(f"bench-{name}") for name, _ in fleet}
    for slot in range(30 * per_day + 1):
        at = MONTH_END - timedelta(days=30) + timedelta(hours=24 / per_day * slot)
        days_ago = (MONTH_END - at) / timedelta(days=1)
        results = []
        for i, (name, persona) in enumerate(fleet):
            result = demo._host_result(persona, days_ago, rngs[name], bundle.checks)
            result.host = name
            results.append((i * 0.2, result))
        demo._store_run(svc.conn, bundle, at, "schedule", results)
        demo._record_alerts(svc.conn, [r for _, r in results], at)
    return svc, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--per-day", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        svc, took = seed(Path(tmp) / "ws", args.hosts, args.per_day)
        rows = svc.conn.execute("SELECT (SELECT COUNT(*) FROM run_hosts), (SELECT COUNT(*) FROM check_results),"
                                " (SELECT COUNT(*) FROM metrics)").fetchone()
        print(f"seeded {args.hosts} hosts x {args.per_day * 30} sweeps in {took:.1f} s: "
              f"{rows[0]} host runs, {rows[1]} check results, {rows[2]} metric points")
        period = parse_period("2026-11")
        out = Path(tmp)
        svc.reports.client(CLIENT, out / "warm.pdf")  # Qt and fonts loaded once, for every case alike
        cases = [
            ("latest-status PDF", lambda: svc.reports.client(CLIENT, out / "latest.pdf")),
            ("care data only", lambda: svc.reports.care_data(CLIENT, period)),
            ("care report HTML", lambda: svc.reports.care(CLIENT, period, out / "care.html")),
            ("care report PDF", lambda: svc.reports.care(CLIENT, period, out / "care.pdf")),
        ]
        data = svc.reports.care_data(CLIENT, period)
        print(f"care report: {data['checks_run']} checks, {len(data['problems'])} problems, "
              f"{len(data['caught'])} caught, {data['alerts']['opened']} alerts opened\n")
        base = None
        print(f"{'case':22} {'median s':>9} {'vs baseline':>12}")
        for name, fn in cases:
            secs = median_time(fn, args.repeat)
            base = base or secs
            print(f"{name:22} {secs:9.3f} {secs / base:11.2f}x")
        print("\ntarget: care report PDF < 3 s")
        svc.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
