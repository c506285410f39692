#!/usr/bin/env python3
"""Benchmark `techdesk run` against OpenSSH's own client, on a real local sshd.

Prints absolute wall times and the ratio techdesk / OpenSSH, measured in the same run:
  1. one host, linux-health:   techdesk vs `ssh host sh -s < compiled-script`
  2. N roster hosts (one sshd under N names) at concurrency C:
                               techdesk vs `xargs -P C` of that same ssh command
techdesk is measured twice: in-process through the service API (what the window
does) and as a `techdesk run` process (what a scheduler does, Python start-up included).

Usage: .venv/bin/python scripts/bench_run.py [--hosts 50] [--concurrency 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import host_names, median_time, openssh_xargs, print_rows, ssh_roster

from techdesk.diagnostics.compile import compile_script
from tests.fixtures.sshd import SshdServer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bundle", default="linux-health")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="td-bench-"))
    server = SshdServer(tmp / "sshd").start()
    try:
        ws_path = tmp / "ws"
        svc = ssh_roster(server, ws_path, args.hosts)
        bundle = svc.bundles.get(args.bundle)
        script = compile_script(bundle, "0" * 32, converse=False).text.encode()
        ssh = server.ssh_argv() + ["sh -s"]
        script_file = tmp / "script.sh"
        script_file.write_bytes(script)

        def openssh_one():
            subprocess.run(ssh, input=script, stdout=subprocess.DEVNULL, check=False)

        def techdesk_one_inprocess():
            report = asyncio.run(svc.runner.run(bundle, [svc.roster.get("h000")]))
            assert report.results[0].error is None, report.results[0].error

        env = dict(os.environ, TECHDESK_WORKSPACE=str(ws_path))
        techdesk_cli = [sys.executable, "-m", "techdesk", "run", args.bundle, "--json"]

        def techdesk_one_cli():
            subprocess.run(techdesk_cli + ["h000"], env=env, stdout=subprocess.DEVNULL, check=False)

        # xargs runs the same ssh command once per host name, C at a time.
        names = "\n".join(host_names(args.hosts)).encode()
        xargs = openssh_xargs(server, script_file, args.concurrency)

        def openssh_many():
            subprocess.run(xargs, input=names, check=True)

        hosts = svc.roster.hosts()

        def techdesk_many_inprocess():
            report = asyncio.run(svc.runner.run(bundle, hosts, concurrency=args.concurrency))
            failed = [r for r in report.results if r.error]
            assert not failed, failed[0].error

        def techdesk_many_cli():
            subprocess.run(techdesk_cli + ["--all", "--concurrency", str(args.concurrency)], env=env,
                           stdout=subprocess.DEVNULL, check=False)

        openssh_one()  # warm caches
        techdesk_one_inprocess()
        rows = []
        base = median_time(openssh_one, args.repeat)
        rows.append(("1 host, " + args.bundle, "OpenSSH ssh sh -s", base, None))
        t = median_time(techdesk_one_inprocess, args.repeat)
        rows.append(("", "techdesk (service API)", t, t / base))
        t = median_time(techdesk_one_cli, args.repeat)
        rows.append(("", "techdesk run (CLI process)", t, t / base))
        base = median_time(openssh_many, max(1, args.repeat // 2))
        label = f"{args.hosts} hosts, -P{args.concurrency}"
        rows.append((label, "OpenSSH xargs -P ssh", base, None))
        t = median_time(techdesk_many_inprocess, max(1, args.repeat // 2))
        rows.append(("", "techdesk (service API)", t, t / base))
        t = median_time(techdesk_many_cli, max(1, args.repeat // 2))
        rows.append(("", "techdesk run (CLI process)", t, t / base))
        print_rows(rows, width=28)
        svc.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
