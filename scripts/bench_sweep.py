#!/usr/bin/env python3
"""Benchmark `techdesk sweep` against OpenSSH's own client, on a real local sshd.

N roster hosts (one sshd under N names), one schedule (BUNDLE on all hosts), every
host due; measured in the same run, at the same concurrency C:
  - OpenSSH:  `xargs -P C` of `ssh host sh -s < compiled-script`, once per host name
  - techdesk: MonitorService.sweep() in-process (what the window does), and a
              `techdesk sweep` process (what cron or a systemd timer does, Python
              start-up included). Both store every run, host health and alerts.
Prints absolute median wall times and the ratio techdesk / OpenSSH.

With --health-hosts M it also times health() over M hosts with 10 capacity metrics
each and 90 days of daily history (forecasts included), written straight into a
fresh store.

Usage: .venv/bin/python scripts/bench_sweep.py [--hosts 200] [--concurrency 16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import ROOT, host_names, median_time, openssh_xargs, print_rows, ssh_roster

from techdesk.core.roster import HostSpec
from techdesk.diagnostics.compile import compile_script
from techdesk.services.context import Services
from techdesk.workspace import Workspace
from tests.fixtures.sshd import SshdServer


def bench_sweep(args, tmp: Path) -> None:
    server = SshdServer(tmp / "sshd").start()
    try:
        ws_path = tmp / "ws"
        svc = ssh_roster(server, ws_path, args.hosts, concurrency=args.concurrency)
        svc.monitor.add_schedule(args.bundle, "all", "1m")
        bundle = svc.bundles.get(args.bundle)
        script_file = tmp / "script.sh"
        script_file.write_bytes(compile_script(bundle, "0" * 32, converse=False).text.encode())
        names = "\n".join(host_names(args.hosts)).encode()
        xargs = openssh_xargs(server, script_file, args.concurrency)

        def all_due() -> None:  # every host due again: forget when each last ran
            svc.conn.execute("DELETE FROM schedule_hosts")

        def openssh() -> None:
            subprocess.run(xargs, input=names, check=True)

        def sweep_inprocess() -> None:
            all_due()
            result = asyncio.run(svc.monitor.sweep())
            failed = [h for h in result["hosts"] if h["error"]]
            assert result["ran"] == args.hosts and not failed and not result["errors"], (failed, result["errors"])

        env = dict(os.environ, TECHDESK_WORKSPACE=str(ws_path), PYTHONPATH=str(ROOT))
        cli = [sys.executable, "-m", "techdesk", "sweep", "--json"]

        def sweep_cli() -> None:
            all_due()
            subprocess.run(cli, env=env, stdout=subprocess.DEVNULL, check=False)

        openssh()  # warm caches
        sweep_inprocess()
        rows = []
        base = median_time(openssh, args.repeat)
        label = f"{args.hosts} hosts, -P{args.concurrency}"
        rows.append((label, "OpenSSH xargs -P ssh sh -s", base, None))
        t = median_time(sweep_inprocess, args.repeat)
        rows.append(("", "techdesk sweep (service API)", t, t / base))
        t = median_time(sweep_cli, args.repeat)
        rows.append(("", "techdesk sweep (CLI process)", t, t / base))
        print(f"{args.bundle}; every sweep stores {args.hosts} host results, health and alert states")
        print_rows(rows)
        svc.close()
    finally:
        server.stop()


def bench_health(hosts: int, tmp: Path) -> None:
    """health() over `hosts` hosts x 10 capacity metrics x 90 daily points."""
    import random

    ws = Workspace(tmp / "health-ws")
    svc = Services(ws)
    svc.roster.import_hosts([HostSpec(name=f"h{i:05d}", address="10.0.0.1", client=f"Client {i % 100}")
                             for i in range(hosts)])
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(7)
    labels = [("disk", f"/d{k}", "%") for k in range(6)] + [("inodes", "/", "%"), ("memory", "mem_used", "%"),
                                                            ("swap", "swap_used", "%"), ("cert", "days_left", "d")]
    t0 = time.perf_counter()
    conn = svc.conn
    conn.execute("BEGIN")
    for day in range(90):
        started = (now - timedelta(days=89 - day)).isoformat()
        run_id = f"r{day:03d}"
        conn.execute("INSERT INTO runs (id, bundle, bundle_version, started, finished, technician, trigger)"
                     " VALUES (?, 'linux-health', 1, ?, ?, 'bench', 'schedule')", (run_id, started, started))
        conn.executemany("INSERT INTO run_hosts (run_id, host, status, started, duration_s) VALUES (?,?,?,?,0.5)",
                         [(run_id, f"h{i:05d}", "ok", started) for i in range(hosts)])
        conn.executemany("INSERT INTO check_results (run_id, host, check_id, title, status, summary, exit_code,"
                         " duration_s, output) VALUES (?,?,?,?, 'ok', 'fine', 0, 0.1, '')",
                         [(run_id, f"h{i:05d}", c, c) for i in range(hosts) for c in ("disk", "inodes", "memory",
                                                                                      "swap", "cert")])
        rows = []
        for i in range(hosts):
            for check, label, uom in labels:
                slope = (i % 7) * 0.1
                value = (40 + slope * day + rng.gauss(0, 0.5)) if uom == "%" else max(0.0, 90 - day)
                rows.append((run_id, f"h{i:05d}", check, label, started, value, uom, 80.0 if uom == "%" else 30.0,
                             90.0 if uom == "%" else 7.0))
        conn.executemany("INSERT INTO metrics (run_id, host, check_id, label, ts, value, uom, warn, crit, min, max)"
                         " VALUES (?,?,?,?,?,?,?,?,?,0,100)", rows)
    conn.execute("COMMIT")
    filled = time.perf_counter() - t0
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        report = svc.monitor.health()
        times.append(time.perf_counter() - t0)
    print(f"\nhealth(): {hosts} hosts x {len(labels)} metrics x 90 days (filled in {filled:.0f} s): "
          f"median {statistics.median(times):.2f} s, {len(report['forecasts'])} forecast findings, "
          f"{len(report['attention'])} attention items")
    svc.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bundle", default="linux-quick")
    ap.add_argument("--health-hosts", type=int, default=0, metavar="M")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="td-bench-sweep-"))
    try:
        bench_sweep(args, tmp)
        if args.health_hosts:
            bench_health(args.health_hosts, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
