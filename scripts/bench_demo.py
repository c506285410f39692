#!/usr/bin/env python3
"""The demo's figures: making a demo workspace, and linux-health on every demo host
through techdesk next to OpenSSH's `ssh` running the same script against the same
embedded demo server (xargs -P at the same concurrency), measured in the same run.

Usage: .venv/bin/python scripts/bench_demo.py [--repeat 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import median_time, print_rows

from techdesk.demo import personas
from techdesk.demo.workspace import DemoEnvironment
from techdesk.diagnostics.compile import compile_script
from techdesk.services.context import Services
from techdesk.workspace import Workspace


def openssh_command(env: DemoEnvironment, script_file: Path) -> str:
    """`ssh … sh -s < script` for the port read from stdin ({}), host key checked."""
    known = env.workspace_path / "known_hosts"
    argv = [shutil.which("ssh") or "/usr/bin/ssh", "-F", "/dev/null", "-i", str(env.client_key_path),
            "-l", getpass.getuser(), "-p", "{}", "-o", f"UserKnownHostsFile={known}",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "LogLevel=ERROR", "127.0.0.1", "sh -s"]
    return " ".join(a if a == "{}" else shlex.quote(a) for a in argv) + f" < {shlex.quote(str(script_file))}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="td-bench-demo-"))
    try:
        counter = iter(range(1000))
        created = median_time(lambda: DemoEnvironment.create(tmp / f"c{next(counter)}").close(), args.repeat)
        with DemoEnvironment.create(tmp / "ws") as env:
            svc = Services(Workspace(env.workspace_path))
            bundle = svc.bundles.get("linux-health")
            hosts = [svc.roster.get(name) for name in env.hosts]

            def techdesk_run() -> None:
                asyncio.run(svc.runner.run(bundle, hosts, concurrency=args.concurrency))

            script = tmp / "script.sh"
            script.write_text(compile_script(bundle, "0" * 32, converse=False).text)
            reachable = [str(port) for name, port in env.hosts.items() if name != personas.UNREACHABLE_HOST]
            xargs = ["xargs", "-P", str(args.concurrency), "-I{}", "sh", "-c",
                     openssh_command(env, script) + " > /dev/null 2>&1"]

            def openssh_run() -> None:
                subprocess.run(xargs, input="\n".join(reachable).encode(), check=False)

            t0 = time.perf_counter()
            subprocess.run(xargs, input=reachable[0].encode(), check=True)  # works at all?
            warm = time.perf_counter() - t0
            openssh = median_time(openssh_run, args.repeat)
            ours = median_time(techdesk_run, args.repeat)
            svc.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"demo: {len(env.hosts)} hosts ({len(reachable)} reachable), median of {args.repeat}, "
          f"concurrency {args.concurrency} (first OpenSSH connection {warm:.2f} s)")
    print_rows([("make a demo workspace", "DemoEnvironment.create()", created, None),
                ("linux-health, all hosts", f"OpenSSH ssh, xargs -P {args.concurrency}", openssh, None),
                ("linux-health, all hosts", "techdesk (service API)", ours, ours / openssh)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
