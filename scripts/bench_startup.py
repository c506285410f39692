#!/usr/bin/env python3
"""How fast the command line answers, next to baselines measured in the same run.

One table, each row the median wall time of whole processes (start to exit), run
alternately after one warm-up each:
  python -c pass                    the interpreter alone (the floor for any command)
  techdesk --version                goal < 80 ms
  techdesk hosts list (100 hosts)   goal < 120 ms
  ssh host sh -s < linux-quick      OpenSSH's client running the same compiled checks
  techdesk run linux-quick host     goal <= 1.2x that ssh
on one OpenSSH sshd started on 127.0.0.1 (tests/fixtures/sshd.py), host-key checking on.

Bytecode is compiled first and kept (PYTHONDONTWRITEBYTECODE is dropped for the runs),
as an installed copy or the frozen build has it. The window's start-up is measured by
scripts/bench_window_startup.py.

Usage: .venv/bin/python scripts/bench_startup.py [--runs 15] [--hosts 100]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, ssh_roster

from techdesk.diagnostics.compile import compile_script
from tests.fixtures.sshd import SshdServer

GOALS = {"version": ("< 80 ms", 0.080), "hosts": ("< 120 ms", 0.120)}
RUN_RATIO_GOAL = 1.2


def wall(argv: list[str], env: dict, stdin: bytes | None = None) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - t0
    if done.returncode not in (0, 1, 2, 3):  # run: 1 warn, 2 crit, 3 unknown findings are results
        raise SystemExit(f"bench_startup: {' '.join(argv[:4])}... exited {done.returncode}: "
                         f"{done.stderr.decode(errors='replace').strip()[-300:]}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--bundle", default="linux-quick")
    args = ap.parse_args()

    compileall.compile_dir(str(ROOT / "techdesk"), quiet=1)
    compileall.compile_dir(str(ROOT / "resources"), quiet=1)
    exe = Path(sys.executable).with_name("techdesk")
    techdesk = [str(exe)] if exe.exists() else [sys.executable, "-m", "techdesk"]

    tmp = Path(tempfile.mkdtemp(prefix="td-bench-startup-"))
    server = SshdServer(tmp / "sshd").start()
    try:
        ws_path = tmp / "ws"
        svc = ssh_roster(server, ws_path, args.hosts)  # one loopback sshd under N names
        script = compile_script(svc.bundles.get(args.bundle), "0" * 32, converse=False).text.encode()
        svc.close()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "TECHDESK_SHARED")}
        env["TECHDESK_WORKSPACE"] = str(ws_path)

        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "techdesk --version": (techdesk + ["--version"], None),
            f"techdesk hosts list ({args.hosts})": (techdesk + ["hosts", "list"], None),
            f"ssh host sh -s < {args.bundle}": (server.ssh_argv() + ["sh -s"], script),
            f"techdesk run {args.bundle} host": (techdesk + ["run", args.bundle, "h000"], None),
        }
        # the run must reach the host (exit 3 may also mean a host failed)
        check = subprocess.run(techdesk + ["run", args.bundle, "h000", "--json"], env=env,
                               capture_output=True, text=True)
        if '"error": null' not in check.stdout:
            raise SystemExit(f"bench_startup: the run failed: {check.stdout[-500:]} {check.stderr[-500:]}")
        times: dict[str, list[float]] = {label: [] for label in cases}
        for argv, stdin in cases.values():  # warm-up: page cache, bytecode, sshd's first fork
            wall(argv, env, stdin)
        for _ in range(args.runs):
            for label, (argv, stdin) in cases.items():
                times[label].append(wall(argv, env, stdin))
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    med = {label: statistics.median(values) for label, values in times.items()}
    best = {label: min(values) for label, values in times.items()}
    labels = list(cases)
    ssh_label, run_label = labels[3], labels[4]
    goals = {labels[1]: GOALS["version"], labels[2]: GOALS["hosts"]}
    loads = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"techdesk command-line start-up: {args.runs} runs each, alternating, after a warm-up "
          f"({os.cpu_count()} CPUs, load {loads} over 1/5/15 min; a busy machine only adds time, "
          "so the best of the runs is the figure an idle one gives)")
    print(f"{'case':36} {'median ms':>10} {'best ms':>8} {'best vs baseline':>22}  goal (median / best)")

    def verdict(ok_median: bool, ok_best: bool) -> str:
        return f"{'met' if ok_median else 'MISSED'} / {'met' if ok_best else 'MISSED'}"

    for label in labels:
        if label in goals:
            text, limit = goals[label]
            versus = f"{best[label] / best[labels[0]]:.1f}x python -c pass"
            goal = f"{text}: {verdict(med[label] < limit, best[label] < limit)}"
        elif label == run_label:
            versus = f"{best[label] / best[ssh_label]:.2f}x ssh"
            ok = verdict(med[label] <= RUN_RATIO_GOAL * med[ssh_label],
                         best[label] <= RUN_RATIO_GOAL * best[ssh_label])
            # each round's run next to the ssh just before it: load that drifts between rounds cancels
            paired = statistics.median(r / o for r, o in zip(times[label], times[ssh_label], strict=True))
            goal = (f"<= {RUN_RATIO_GOAL}x ssh: {ok} (median {med[label] / med[ssh_label]:.2f}x, "
                    f"per round {paired:.2f}x)")
        else:
            versus, goal = "baseline", ""
        print(f"{label:36} {med[label] * 1000:10.1f} {best[label] * 1000:8.1f} {versus:>22}  {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
