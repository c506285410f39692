#!/usr/bin/env python3
"""Where the client's CPU goes in a fleet run: handshake, channel reads, parsing, storing.

Runs N roster hosts (one local sshd under N names) one after another in ONE thread
under cProfile — the same per-host work the run service does in its thread pool —
and prints CPU ms per host for each phase plus the top functions by own time.

Usage: .venv/bin/python scripts/profile_run.py [--hosts 50] [--bundle linux-health]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ssh_roster

from techdesk.core.findings import HostResult
from techdesk.diagnostics.compile import compile_script
from techdesk.diagnostics.frames import FrameParser, ScriptFeed
from techdesk.services.runner import _target
from techdesk.ssh.connect import connect
from techdesk.store import runs as runs_repo
from tests.fixtures.sshd import SshdServer

PHASES = {  # cProfile function name -> phase
    "_open_hop": "handshake + auth (connect)",
    "run_command": "session: send script, read output",
    "feed": "parse frames (FrameParser.feed)",
    "save_host_result": "store results (one transaction)",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--bundle", default="linux-health")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="td-prof-"))
    server = SshdServer(tmp / "sshd").start()
    try:
        svc = ssh_roster(server, tmp / "ws", args.hosts)
        bundle = svc.bundles.get(args.bundle)
        nonce = "0" * 32
        compiled = compile_script(bundle, nonce)
        runs_repo.create_run(svc.conn, "prof", bundle.name, 1, "bench", "2026-01-01T00:00:00+00:00")

        def one(host) -> None:
            per_host = compiled.for_host()  # fresh check tokens, as the runner makes them
            parser = FrameParser(per_host, bundle.checks)
            result = HostResult(host=host.name)
            with connect([_target(host)], svc.trust) as conn:
                conn.run(per_host.command, ScriptFeed(per_host, parser),
                         lambda c: result.checks.extend(parser.feed(c)))
            result.checks.extend(parser.finish(None))
            runs_repo.save_host_result(svc.conn, "prof", result, "2026-01-01T00:00:00+00:00")

        hosts = svc.roster.hosts()
        one(hosts[0])  # warm caches
        profile = cProfile.Profile(time.thread_time)  # CPU of this thread, not wall time
        cpu0, wall0 = time.process_time(), time.perf_counter()
        profile.enable()
        for host in hosts:
            one(host)
        profile.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        stats = pstats.Stats(profile)
        print(f"{args.hosts} hosts, {args.bundle}: client CPU {cpu / args.hosts * 1000:.1f} ms/host "
              f"(wall {wall / args.hosts:.2f} s/host, sequential; cProfile overhead included)")
        print("phase CPU in this thread (paramiko's reader threads not included):")
        for (_file, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
            if name in PHASES:
                print(f"  {PHASES[name]:40} {row[3] / args.hosts * 1000:7.2f} ms/host (cumulative)")
        stats.sort_stats("tottime").print_stats(12)
        svc.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
