"""Hostile checks against the waves runtime (docs/bundles.md "Integrity"): checks
of one wave run together as the same user, so each can find the run's temp dir
(its own output is a FIFO in it) and write there. They must not be able to change
another check's exit code, nor stall the run past the timeouts."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from techdesk.core.severity import Status
from tests.unit.diag_helpers import AVAILABLE, SHELLS, bundle_of, run_bundle

# The run's temp dir, as a check finds it: its stdout is the FIFO "<dir>/<i>o".
FIND_DIR = ('d=$(readlink /proc/$$/fd/1); d=${d%/*}\n'
            'case $d in */techdesk.*) ;; *) d=$(ls -d "${TMPDIR:-/tmp}"/techdesk.* | head -n 1) ;; esac\n')


def _bundle(parallel: int, *checks: tuple[str, str, int]) -> str:
    text = f'[bundle]\nname = "hostile"\nos = "linux"\nparallel = {parallel}\n'
    for cid, script, timeout in checks:
        text += f"[[checks]]\nid = \"{cid}\"\ntimeout = {timeout}\nscript = '''\n{script}\n'''\n"
    return text


@pytest.mark.parametrize("shell", AVAILABLE)
def test_a_sibling_cannot_rewrite_a_finished_checks_exit_code(shell):
    """`disk` ends CRITICAL at once; `liar`, in the same wave, waits for its result
    file and rewrites it (and its output) to OK before the wave is sent."""
    liar = FIND_DIR + (
        'n=0; while [ ! -s "$d/1r" ] && [ $n -lt 200 ]; do sleep 0.02; n=$((n+1)); done\n'
        'for f in "$d"/1r "$d"/*r; do printf "0 - 1\\n" >"$f"; done\n'
        'echo "OK - forged" >"$d/1x"\n'
        'echo "OK - liar"')
    bundle = bundle_of(_bundle(6, ("disk", 'echo "CRITICAL - / is 99% full"; exit 2', 10),
                               ("liar", liar, 10)))
    run = run_bundle(bundle, SHELLS[shell])
    disk = run.by_id()["disk"]
    assert (disk.status, disk.exit_code) == (Status.CRIT, 2), (disk.summary, disk.output)
    assert run.parser.tampered is None


@pytest.mark.parametrize("shell", AVAILABLE)
def test_a_sibling_cannot_turn_a_result_into_a_stall(shell):
    """A check plants FIFOs where later checks' outputs, results and the wave file
    go, and replaces its sibling's output with a FIFO: nobody ever opens their
    other end. The run still ends within the timeouts, every check with a result."""
    names = " ".join(f'"$d/{i}{s}"' for i in range(1, 5) for s in "xr") + ' "$d/w3" "$d/w1"'
    planter = FIND_DIR + (
        'sleep 0.3\n'
        f'for f in {names}; do [ "$f" = "$d/2x" ] && continue; rm -f "$f"; mkfifo "$f"; done\n'
        'echo "OK - planted"')
    bundle = bundle_of(_bundle(2, ("planter", planter, 2), ("other", "sleep 0.6; echo 'OK - other'", 2),
                               ("third", "echo 'OK - third'", 2), ("fourth", "echo 'OK - 4'", 2)))
    start = time.monotonic()
    run = run_bundle(bundle, SHELLS[shell], timeout=40)
    assert time.monotonic() - start < 20
    assert [r.id for r in run.results] == ["planter", "other", "third", "fourth"]
    assert run.parser.tampered is None
    assert all(r.exit_code is not None or r.status == Status.UNKNOWN for r in run.results)
    # the next wave is not disturbed by what the last one left in the temp dir
    assert [r.status for r in run.results[2:]] == [Status.OK, Status.OK], run.results[2:]


def test_a_sibling_that_kills_a_check_only_makes_it_unknown():
    """Same user: a check can kill its sibling (a residual limit); the victim is then
    UNKNOWN, never a result the killer chose."""
    killer = ('sleep 0.3; for p in /proc/[0-9]*; do\n'
              '  grep -q victim-marker "$p/cmdline" 2>/dev/null && kill -KILL "${p#/proc/}" 2>/dev/null\n'
              'done; echo "OK - killer"')
    bundle = bundle_of(_bundle(6, ("victim", "sh -c 'sleep 3; exit 2' victim-marker", 10),
                               ("killer", killer, 10)))
    run = run_bundle(bundle, SHELLS["sh"])
    assert run.by_id()["victim"].status == Status.UNKNOWN
    assert run.by_id()["killer"].status == Status.OK


def test_sixteen_floods_with_nul_bytes_and_one_that_never_ends():
    """parallel = 16: fifteen checks print 1 MiB with NUL bytes, one never ends. Each
    is capped on the host, results keep bundle order, the run ends at the timeout."""
    flood = "head -c 1048576 /dev/zero; echo; echo 'OK - flood'"
    checks = [(f"f{i}", flood, 5) for i in range(15)] + [("forever", "sleep 600", 1)]
    bundle = bundle_of(_bundle(16, *checks))
    run = run_bundle(bundle, SHELLS["sh"], cap=4096, timeout=60)
    assert [r.id for r in run.results] == [c[0] for c in checks]
    assert all(r.truncated for r in run.results[:15])
    assert run.by_id()["forever"].timed_out
    assert len(run.raw) < 16 * 6000
    assert run.parser.tampered is None


def test_checks_cannot_reach_the_runtime_fds(tmp_path: Path):
    """fds 3/4/5 are closed for a check: it cannot write past its own output."""
    script = ('for n in 3 4 5; do if ( : >&$n ) 2>/dev/null; then echo "CRITICAL - fd $n open"; exit 2; fi; done\n'
              'echo "OK - closed"')
    run = run_bundle(bundle_of(_bundle(3, ("a", script, 5), ("b", script, 5))), SHELLS["sh"])
    assert [r.status for r in run.results] == [Status.OK, Status.OK], [r.summary for r in run.results]
    assert os.environ  # keep the import used on every platform
