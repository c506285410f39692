"""Benchmark team sync: a shared folder holding 10,000 notes from three technicians.

Builds the folder through the real engine: three workspaces each write their notes,
sync (pushing them, and pulling the others'), edit a part of them and sync again, so
the folder holds about 14,000 revision files laid down by SharedFolder.write (fsync
and all). Then times, in the same run:

- baselines: `find <folder> -type f | wc -l`, and a plain os.walk that reads every file;
- the first sync into an empty workspace (every file read, parsed, hash-checked,
  10,000 notes applied in one transaction);
- a sync when nothing changed (median of 5): directory listings only;
- `pending()` (the GUI status bar) with nothing changed and with 100 notes edited;
- a `--full` sync (every local record re-hashed: the safety net).

Goals on the 2-core reference machine: first sync < 2.5 s, no-change sync < 0.15 s.
CPU seconds are printed beside the wall-clock ones: on a machine shared with other
work they say more about the code than the wall clock does. Prints the figures;
asserts nothing. Usage: python scripts/bench_sync.py [--notes N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from techdesk.services.context import Services  # noqa: E402
from techdesk.workspace import Workspace  # noqa: E402

TECHS = ("ann", "bob", "chloé")
WORDS = ("printer", "spooler", "restarted", "firewall", "rule", "DNS", "cache", "flushed", "backup", "job",
         "failed", "disk", "SMART", "warning", "replaced", "cable", "switch", "port", "VLAN", "updated",
         "driver", "rebooted", "profile", "repaired", "Outlook", "OST", "license", "UPS", "battery", "RAID")


def markdown(rng: random.Random) -> str:
    lines = [f"# {' '.join(rng.choices(WORDS, k=4)).capitalize()}", ""]
    for _ in range(rng.randint(3, 25)):
        lines.append(f"- [ ] {' '.join(rng.choices(WORDS, k=6))}" if rng.random() < 0.3
                     else " ".join(rng.choices(WORDS, k=14)).capitalize() + ".")
    return "\n".join(lines)


def services(path: Path, shared: Path, tech: str) -> Services:
    os.environ["TECHDESK_TECHNICIAN"] = tech
    return Services(Workspace(path, shared=str(shared)))


def build(root: Path, shared: Path, notes: int) -> None:
    rng = random.Random(42)
    per = -(-notes // len(TECHS))
    mine: dict[str, list[str]] = {}
    for n, tech in enumerate(TECHS):
        svc = services(root / tech, shared, tech)
        if n == 0:
            svc.sync.sync(init=True)
        rows = []
        for i in range(min(per, notes - n * per)):
            ts = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T09:00:00+00:00"
            rows.append((uuid.uuid4().hex, f"{tech} note {i}", markdown(rng), tech, ts, ts, "Acme"))
        with svc.conn:
            svc.conn.execute("BEGIN")
            svc.conn.executemany("INSERT INTO notes (id, title, body, author, created, updated, client)"
                                 " VALUES (?,?,?,?,?,?,?)", rows)
        mine[tech] = [r[0] for r in rows]
        report = svc.sync.sync()
        print(f"  {tech}: pushed {report.pushed}, pulled {report.pulled} in {report.seconds:.1f} s", flush=True)
        svc.close()
    for tech in TECHS:  # a second round: 40 % of each one's notes edited
        svc = services(root / tech, shared, tech)
        edited = rng.sample(mine[tech], k=len(mine[tech]) * 2 // 5)
        with svc.conn:
            svc.conn.execute("BEGIN")
            svc.conn.executemany("UPDATE notes SET body = body || ?, updated = ? WHERE id = ?",
                                 [("\n\nFollow-up: " + " ".join(rng.choices(WORDS, k=8)),
                                   "2024-12-01T10:00:00+00:00", nid) for nid in edited])
        report = svc.sync.sync()
        print(f"  {tech}: pushed {report.pushed}, pulled {report.pulled} in {report.seconds:.1f} s", flush=True)
        svc.close()


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cpu_timed(fn, repeat: int = 1) -> tuple[float, float, object]:
    """(median wall seconds, median CPU seconds of this process, last result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


# The same two syncs with another checkout's code (`--compare DIR`), in a process of its own.
OTHER = """
import os, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
os.environ["TECHDESK_TECHNICIAN"] = "erin"
from techdesk.services.context import Services
from techdesk.workspace import Workspace
svc = Services(Workspace(Path(tempfile.mkdtemp(prefix="techdesk-bench-other-")), shared=sys.argv[2]))
def one():
    start, cpu = time.perf_counter(), time.process_time()
    svc.sync.sync()
    return time.perf_counter() - start, time.process_time() - cpu
first = one()
again = [one() for _ in range(5)]
print(first[0], first[1], statistics.median(a[0] for a in again), statistics.median(a[1] for a in again))
"""


def walk_read(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as fh:
                total += len(fh.read())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--compare", metavar="DIR", type=Path,
                        help="also time the first and no-change syncs with the code in DIR (another checkout, "
                             "e.g. `git archive main | tar -x -C DIR`), alternating with this one")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="techdesk-bench-sync-"))
    shared = root / "shared"
    try:
        start = time.perf_counter()
        build(root, shared, args.notes)
        files = sum(len(f) for _, _, f in os.walk(shared))
        size = sum(p.stat().st_size for p in shared.rglob("*.json"))
        print(f"built {args.notes} notes from {len(TECHS)} technicians: {files} files, {size / 1e6:.1f} MB "
              f"in {time.perf_counter() - start:.1f} s ({os.cpu_count()} CPUs)\n")

        t_find, _ = timed(lambda: subprocess.run(f"find '{shared}' -type f | wc -l", shell=True, check=True,
                                                 capture_output=True), repeat=3)
        t_walk, _ = timed(lambda: walk_read(shared), repeat=3)

        other = None
        if args.compare:
            out = subprocess.run([sys.executable, "-c", OTHER, str(args.compare.resolve()), str(shared)],
                                 check=True, capture_output=True, text=True).stdout
            other = [float(x) for x in out.split()]
        svc = services(root / "newcomer", shared, "dana")
        t_first, c_first, first = cpu_timed(svc.sync.sync)
        notes = svc.conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
        t_again, c_again, again = cpu_timed(svc.sync.sync, repeat=5)
        t_pending, pending = timed(svc.sync.pending, repeat=5)
        t_full, _ = timed(lambda: svc.sync.sync(full=True), repeat=3)
        with svc.conn:
            svc.conn.execute("BEGIN")
            svc.conn.execute("UPDATE notes SET body = body || ' (edited)' WHERE rowid % 100 = 0")
        t_pending_100, pending_100 = timed(svc.sync.pending, repeat=5)
        t_push_100, pushed = timed(svc.sync.sync)
        svc.close()
        cli = [sys.executable, "-m", "techdesk", "--workspace", str(root / "newcomer"), "--shared", str(shared),
               "sync", "--json"]
        t_cli, _ = timed(lambda: subprocess.run(cli, check=True, capture_output=True), repeat=3)

        def row(label: str, seconds: float, note: str = "") -> None:
            print(f"  {label:<46} {seconds:8.3f} s  {note}")

        print("baselines (same folder, same run):")
        row("find -type f | wc -l", t_find)
        row("os.walk + read every file", t_walk)
        print("techdesk sync:")
        row(f"first sync into an empty workspace ({first.pulled} revs)", t_first,
            f"{c_first:.3f} s CPU; {notes} notes applied  (goal < 2.5 s)")
        row("sync, nothing changed (median of 5)", t_again,
            f"{c_again:.3f} s CPU; pulled {again.pulled}, pushed {again.pushed}  (goal < 0.15 s)")
        row("  same through the CLI (process start included)", t_cli)
        row("pending(), nothing changed", t_pending, f"= {pending}")
        row("pending(), 100 notes edited", t_pending_100, f"= {pending_100}")
        row("sync pushing those 100 edits", t_push_100, f"pushed {pushed.pushed}")
        row("sync --full (every record re-hashed), no change", t_full)
        if other:
            print(f"the code in {args.compare} (same folder, same run):")
            row("first sync into an empty workspace", other[0], f"{other[1]:.3f} s CPU")
            row("sync, nothing changed (median of 5)", other[2], f"{other[3]:.3f} s CPU")
    finally:
        if args.keep:
            print(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
