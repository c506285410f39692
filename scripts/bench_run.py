#!/usr/bin/env python3
"""Benchmark techdesk runs against OpenSSH's own client, on a real local sshd, in one run.

Prints median wall times and the ratio techdesk / OpenSSH measured side by side:
  1. cold, one host:   techdesk (service API, and the `techdesk run` CLI process)
                       vs `ssh host sh -s < compiled-script`
  2. warm, one host:   techdesk's second run on its warm pooled connection
                       vs `ssh -o ControlMaster=auto -o ControlPersist=60` reusing a master
  3. N hosts (one sshd under N names) at concurrency C, cold, for each fleet bundle:
                       techdesk (service API) vs `xargs -P C` of that same ssh command
  4. client CPU seconds per host over the runs of 3: techdesk's process vs the ssh
     processes (xargs' children: ssh plus the `sh -c` that feeds it the script)

Usage: .venv/bin/python scripts/bench_run.py [--hosts 50] [--concurrency 10] [--repeat 5]
       [--bundles linux-health,linux-quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import alternating, host_names, median_time, openssh_xargs, print_rows, ssh_roster

from techdesk.diagnostics.compile import compile_script
from tests.fixtures.sshd import SshdServer


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def master_argv(server, control_path: Path) -> list[str]:
    """ssh_argv() with connection sharing on (ssh takes the FIRST value of an option)."""
    argv = server.ssh_argv()
    out, skip = [], False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "-o" and argv[i + 1].startswith(("ControlMaster=", "ControlPath=")):
            skip = True
            continue
        out.append(arg)
    return out[:-1] + ["-o", "ControlMaster=auto", "-o", "ControlPersist=60",
                       "-o", f"ControlPath={control_path}", out[-1]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bundles", default="linux-health,linux-quick")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="td-bench-"))
    server = SshdServer(tmp / "sshd").start()
    try:
        ws_path = tmp / "ws"
        svc = ssh_roster(server, ws_path, args.hosts)
        pool = svc.connections
        rows: list = []
        cpu_rows: list = []
        one_host = svc.roster.get("h000")

        def scripts(bundle_name: str) -> tuple:
            bundle = svc.bundles.get(bundle_name)
            path = tmp / f"{bundle_name}.sh"
            path.write_bytes(compile_script(bundle, "0" * 32, converse=False).text.encode())
            return bundle, path

        # One event loop for every run, as in the window (a CLI process makes its own:
        # the "techdesk run (CLI process)" row).
        loop = asyncio.new_event_loop()

        def techdesk_run(bundle, hosts, concurrency=10):
            report = loop.run_until_complete(svc.runner.run(bundle, hosts, concurrency=concurrency))
            failed = [r for r in report.results if r.error]
            assert not failed, failed[0].error

        def openssh(argv, script: Path):
            with open(script, "rb") as fh:
                subprocess.run(argv + ["sh -s"], stdin=fh, stdout=subprocess.DEVNULL, check=True)

        def one_host_cases(name: str, rows: list) -> None:
            bundle, script = scripts(name)
            ssh = server.ssh_argv()
            # 1. cold: every techdesk run connects (idle 0 = no warm connection)
            pool.idle_s = 0
            openssh(ssh, script)
            techdesk_run(bundle, [one_host])
            cold_ssh = median_time(lambda: openssh(ssh, script), args.repeat)
            rows.append((f"1 host, {name}, cold", "OpenSSH ssh sh -s", cold_ssh, None))
            t = median_time(lambda: techdesk_run(bundle, [one_host]), args.repeat)
            rows.append(("", "techdesk (service API)", t, t / cold_ssh))
            if name == args.bundles.split(",")[0]:
                env = dict(os.environ, TECHDESK_WORKSPACE=str(ws_path))
                cli = [sys.executable, "-m", "techdesk", "run", name, "--json", "h000"]
                t = median_time(lambda: subprocess.run(cli, env=env, stdout=subprocess.DEVNULL,
                                                       check=False), args.repeat)
                rows.append(("", "techdesk run (CLI process)", t, t / cold_ssh))
            # 2. warm: OpenSSH reusing a ControlMaster; techdesk reusing its pooled connection.
            # Both are kept warm and take turns (a warm run is short: 3x the repeats).
            mux = master_argv(server, tmp / "cm.sock")
            openssh(mux, script)  # starts the master (ControlPersist keeps it)
            pool.idle_s = 300
            opened = pool.opened
            techdesk_run(bundle, [one_host])  # makes the warm connection
            base, t = alternating(lambda: openssh(mux, script),
                                  lambda: techdesk_run(bundle, [one_host]), 3 * args.repeat)
            subprocess.run(mux[:-1] + ["-O", "exit", mux[-1]], capture_output=True, check=False)
            assert pool.opened == opened + 1, "warm runs must not connect again"
            rows.append((f"1 host, {name}, warm", "OpenSSH ControlMaster", base, None))
            rows.append(("", "techdesk (warm pool)", t, t / base))
            rows.append(("", "  same, vs a cold ssh", t, t / cold_ssh))
            pool.close_all()
            pool.idle_s = 0

        def fleet_cases(name: str, repeat: int, rows: list, cpu_rows: list) -> None:
            # 3 + 4. fleets, cold, with client CPU per host. The two clients take turns,
            # so a change in the machine's load during the runs hits both alike.
            bundle, script = scripts(name)
            xargs = openssh_xargs(server, script, args.concurrency)
            base_times, td_times, ssh_cpu, td_cpu = [], [], 0.0, 0.0
            for _ in range(repeat):
                c0, t0 = children_cpu(), time.perf_counter()
                subprocess.run(xargs, input=names, check=True)
                base_times.append(time.perf_counter() - t0)
                ssh_cpu += children_cpu() - c0
                c0, t0 = time.process_time(), time.perf_counter()
                techdesk_run(bundle, hosts, args.concurrency)
                td_times.append(time.perf_counter() - t0)
                td_cpu += time.process_time() - c0
            base, t = statistics.median(base_times), statistics.median(td_times)
            ssh_cpu, td_cpu = ssh_cpu / (repeat * args.hosts), td_cpu / (repeat * args.hosts)
            rows.append((f"{args.hosts} hosts P{args.concurrency}, {name}", "OpenSSH xargs -P ssh",
                         base, None))
            rows.append(("", "techdesk (service API)", t, t / base))
            cpu_rows.append((f"CPU s/host, {name}", "OpenSSH ssh (+ sh -c)", ssh_cpu, None))
            cpu_rows.append(("", "techdesk process", td_cpu, td_cpu / ssh_cpu))

        names = "\n".join(host_names(args.hosts)).encode()
        hosts = svc.roster.hosts()
        for name in args.bundles.split(","):
            one_host_cases(name, rows)
        fleet_repeat = max(3, args.repeat // 2)
        for name in args.bundles.split(","):
            fleet_cases(name, fleet_repeat, rows, cpu_rows)
        print_rows(rows, width=28, case_width=34)
        print()
        print_rows(cpu_rows, width=28, case_width=34)
        loop.close()
        svc.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
