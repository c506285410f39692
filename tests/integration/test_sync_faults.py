"""Faults of a real shared folder: two devices at once, and writers killed with SIGKILL.

Each "device" is a separate Python process using the techdesk.sync API on the same
folder. Temporary files left by a killed writer are allowed (they are ignored, and
removed by their own device once an hour old); corrupt final files are not.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from techdesk.sync import SharedFolder, heads, merge_revision

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses fork/SIGKILL semantics")

DEVICE = textwrap.dedent("""
    import random, sys
    from pathlib import Path
    from techdesk.sync import SharedFolder, heads, make_revision

    root, device, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    folder = SharedFolder(root, device=device)
    folder.open()
    rng = random.Random(device)
    known, seen = {}, set()
    ids = [f"shared-{i:02d}" for i in range(12)]
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for i in range(count):
        if i % 7 == 0:  # a sync in between: pull what the other device wrote
            result = folder.scan(seen)
            assert not result.skipped, result.skipped
            seen = result.seen
            known.update((r.rev, r) for r in result.revisions)
        # The first write of each device creates the same record: a certain conflict.
        record_id = "forked" if i == 0 else rng.choice(ids)
        current = heads(r for r in known.values() if r.id == record_id)
        parents = [h.rev for h in current.get(("note", record_id), [])][-1:]  # edit the newest
        text = f"{device} edit {i} of {record_id}"
        rev = make_revision("note", record_id, {"text": text}, parents, device, device)
        assert folder.write(rev)
        known[rev.rev] = rev
        print(rev.rev, flush=True)
""")

WRITER = textwrap.dedent("""
    import random, sys
    from pathlib import Path
    from techdesk.sync import SharedFolder, make_revision

    root, round_no = Path(sys.argv[1]), int(sys.argv[2])
    folder = SharedFolder(root, device="killed-device")
    folder.open()
    rng = random.Random(round_no)
    seen = set()
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        size = rng.choice((100, 2_000, 50_000, 300_000))
        body = {"text": f"round {round_no} write {i} " + "x" * size}
        rev = make_revision("note", f"r{round_no}-{i % 5}", body, [], "kim", "killed")
        folder.write(rev)
        print(rev.rev, flush=True)
        if i % 4 == 0:
            seen = folder.scan(seen).seen
""")


def run_python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def temp_files(root: Path) -> list[str]:
    return [name for _, _, files in os.walk(root) for name in files if ".tmp-" in name]


def test_two_devices_writing_and_reading_concurrently(tmp_path):
    root = tmp_path / "shared"
    SharedFolder(root).open(create=True)
    names = ("ann-laptop", "bob-pc")
    devices = [run_python(DEVICE, str(root), name, "200", stdin=subprocess.PIPE)
               for name in names]
    for proc in devices:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    for proc in devices:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    written = {}
    for name, proc in zip(names, devices, strict=True):
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        revs = out.split()
        assert len(revs) == 200
        written[name] = set(revs)

    result = SharedFolder(root).scan()
    assert result.skipped == []
    assert temp_files(root) == []
    everything = written["ann-laptop"] | written["bob-pc"]
    assert len(everything) == 400
    assert {r.rev for r in result.revisions} == everything
    texts = {r.body["text"] for r in result.revisions}
    spans = {name: sorted(r.time for r in result.revisions if r.device == name) for name in names}
    assert spans[names[0]][0] < spans[names[1]][-1] and spans[names[1]][0] < spans[names[0]][-1]
    for device in names:
        assert sum(t.startswith(device) for t in texts) == 200

    # Resolve every conflict on one device; the other then sees one head per record,
    # and every text either device wrote is still in the history.
    conflicts = {key: h for key, h in heads(result.revisions).items() if len(h) > 1}
    assert ("note", "forked") in conflicts  # concurrent offline edits fork a record
    ann = SharedFolder(root, device="ann-laptop")
    for (kind, record_id), current in conflicts.items():
        merged = "\n".join(h.body["text"] for h in current)
        ann.write(merge_revision(kind, record_id, current, {"text": merged}, "ann", "ann-laptop"))
    again = SharedFolder(root).scan()
    assert again.skipped == []
    assert all(len(h) == 1 for h in heads(again.revisions).values())
    assert {r.rev for r in again.revisions} >= everything


def test_writer_killed_at_random_moments_loses_nothing(tmp_path):
    root = tmp_path / "shared"
    SharedFolder(root).open(create=True)
    rng = random.Random(os.environ.get("TECHDESK_FAULT_SEED", "sigkill"))
    acknowledged: set[str] = set()
    seen: set[str] = set()
    round_no = 0
    while round_no < 20 or (len(acknowledged) < 20 and round_no < 100):  # a busy machine writes less per round
        round_no += 1
        proc = run_python(WRITER, str(root), str(round_no))
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.005, 0.080))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # Only complete lines count: a rev printed after write() returned.
        lines = out.split("\n")[:-1] if not out.endswith("\n") else out.split("\n")
        acknowledged |= {line for line in lines if len(line) == 64}

        result = SharedFolder(root).scan(seen)  # the next sync completes
        assert result.skipped == [], result.skipped
        seen = result.seen

    assert len(acknowledged) >= 20
    final = SharedFolder(root).scan()
    assert final.skipped == []
    present = {r.rev: r for r in final.revisions}
    assert acknowledged <= set(present)
    for rev in acknowledged:
        assert present[rev].compute_rev() == rev
    # Leftover temporary files are possible and harmless: ignored, never reported.
    leftovers = temp_files(root)
    assert all(name.startswith(".") for name in leftovers)
    writer = SharedFolder(root, device="killed-device")
    assert writer.scan().skipped == []
    assert temp_files(root) == leftovers  # younger than an hour: kept
