"""Benchmark the shared-folder scan: 10,000 notes from three technicians.

Builds the folder in a temporary directory (revision files are laid down directly,
without the per-file fsync of SharedFolder.write, so that building takes seconds; a
sample of real write() calls is timed separately), then times:

- the first full scan (every file new: listed, stat'ed, read, parsed, hash-checked);
- a second scan with the `seen` set of the first (nothing changed: listings only).

Targets on the 2-core reference machine: first < 5 s, no-change < 0.3 s. Prints the
figures; asserts nothing. Usage: python scripts/bench_sync_folder.py [--notes N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from techdesk.sync import SharedFolder, make_revision  # noqa: E402

TECHS = [("ann", "ann-laptop"), ("bob", "bob-desktop"), ("chloé", "chloe-surface")]
WORDS = (
    "printer", "spooler", "restarted", "firewall", "rule", "DNS", "cache", "flushed", "backup",
    "job", "failed", "disk", "SMART", "warning", "replaced", "cable", "switch", "port", "VLAN",
    "updated", "driver", "rebooted", "user", "profile", "repaired", "Outlook", "OST", "rebuilt",
    "license", "renewed", "UPS", "battery", "tested", "RAID", "degraded",
)


def markdown(rng: random.Random, size: int) -> str:
    lines = [f"# {' '.join(rng.choices(WORDS, k=4)).capitalize()}", ""]
    while sum(len(line) + 1 for line in lines) < size:
        kind = rng.random()
        if kind < 0.3:
            lines.append(f"- [ ] {' '.join(rng.choices(WORDS, k=6))}")
        elif kind < 0.4:
            lines.append(f"```\n{' '.join(rng.choices(WORDS, k=8))}\n```")
        else:
            lines.append(" ".join(rng.choices(WORDS, k=14)).capitalize() + ".")
    return "\n".join(lines)


def build(root: Path, notes: int, seed: int = 42) -> int:
    rng = random.Random(seed)
    folder = SharedFolder(root)
    folder.open(create=True)
    files = 0
    for n in range(notes):
        record_id = f"n{n:06d}-{rng.getrandbits(32):08x}"
        directory = root / "notes" / record_id
        directory.mkdir(parents=True)
        parents: list[str] = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            author, device = rng.choice(TECHS)
            body = {"title": f"Visit note {n}", "markdown": markdown(rng, rng.randint(1000, 2000)),
                    "status": rng.choice(("open", "resolved")), "host": f"h{rng.randint(1, 900)}"}
            rev = make_revision("note", record_id, body, parents, author, device)
            (directory / f"{rev.rev}.json").write_bytes(rev.to_bytes())
            parents = [rev.rev]
            files += 1
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="techdesk-bench-"))
    root = tmp / "shared"
    try:
        started = time.perf_counter()
        files = build(root, args.notes)
        size = sum(f.stat().st_size for f in root.rglob("*.json"))
        print(f"built {args.notes} notes, {files} revision files, {size / 1e6:.1f} MB "
              f"in {time.perf_counter() - started:.1f} s ({os.cpu_count()} CPUs)")
        os.sync()

        folder = SharedFolder(root)
        folder.open()
        started = time.perf_counter()
        first = folder.scan()
        t_first = time.perf_counter() - started
        assert not first.skipped, first.skipped[:3]
        print(f"first scan (all new):      {t_first:6.3f} s  {len(first.revisions)} revisions, "
              f"{files / t_first:,.0f} files/s  (target < 5 s)")

        timings = []
        for _ in range(5):
            started = time.perf_counter()
            again = folder.scan(first.seen)
            timings.append(time.perf_counter() - started)
        assert not again.revisions and again.seen == first.seen
        best, median = min(timings), sorted(timings)[2]
        print(f"no-change scan (seen set): {median:6.3f} s median of 5 (best {best:.3f} s), "
              f"{files / median:,.0f} files/s  (target < 0.3 s)")

        sample = make_revision("note", "bench-write", {"markdown": markdown(random.Random(1), 1500)},
                               [], "ann", "ann-laptop")
        started = time.perf_counter()
        for i in range(200):
            folder.write(make_revision("note", f"bench-write-{i}", sample.body, [], "ann",
                                       "ann-laptop"))
        t_write = (time.perf_counter() - started) / 200
        print(f"write() with fsync:        {t_write * 1000:6.2f} ms per revision (200 samples)")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
