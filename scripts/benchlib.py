"""What the SSH benchmarks share: a roster on a local sshd, OpenSSH's baseline, timing, output.

Imported by scripts/bench_run.py and scripts/bench_sweep.py (run from the repo root's venv).
"""

from __future__ import annotations

import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from techdesk.core.roster import HostSpec  # noqa: E402
from techdesk.services.context import Services  # noqa: E402
from techdesk.workspace import Workspace  # noqa: E402


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def alternating(baseline, candidate, repeat: int) -> tuple[float, float]:
    """Median wall times of two clients run in turns (load drift hits both alike)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((baseline, times[0]), (candidate, times[1])):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(times[0]), statistics.median(times[1])


def host_names(count: int) -> list[str]:
    return [f"h{i:03d}" for i in range(count)]


def ssh_roster(server, ws_path: Path, count: int, concurrency: int | None = None) -> Services:
    """A workspace whose roster names the one local sshd `count` times, its host key pinned."""
    ws = Workspace(ws_path)
    if concurrency:
        ws.settings.concurrency = concurrency
        ws.save_settings()
    shutil.copy(server.known_hosts_path, ws.known_hosts_path)
    svc = Services(ws)
    svc.roster.import_hosts([HostSpec(name=name, address=server.host, port=server.port, user=server.user,
                                      key=str(server.client_key_path)) for name in host_names(count)])
    return svc


def openssh_xargs(server, script_file: Path, concurrency: int) -> list[str]:
    """`xargs -P C` running OpenSSH's `ssh … sh -s < script` once per host name read on stdin."""
    ssh = " ".join(shlex.quote(a) for a in server.ssh_argv() + ["sh -s"])
    return ["xargs", "-P", str(concurrency), "-I{}", "sh", "-c",
            f"{ssh} < {shlex.quote(str(script_file))} > /dev/null"]


def print_rows(rows: list[tuple[str, str, float, float | None]], width: int = 30,
               case_width: int = 24) -> None:
    """(case, client, median seconds, ratio to the baseline or None for the baseline itself)."""
    print(f"{'case':{case_width}} {'client':{width}} {'median s':>9} {'ratio':>7}")
    for case, who, secs, ratio in rows:
        print(f"{case:{case_width}} {who:{width}} {secs:9.3f} "
              f"{'' if ratio is None else f'{ratio:6.2f}x':>7}")
