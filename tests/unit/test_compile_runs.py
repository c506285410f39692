"""Compiled sh scripts run for real (sh, dash, bash, busybox, macOS-like and
bare environments) and read back with FrameParser."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from techdesk.core.severity import Status
from techdesk.diagnostics.bundle import Bundle, CheckDef
from techdesk.diagnostics.compile import compile_script
from techdesk.diagnostics.registry import builtin_bundles
from techdesk.diagnostics.sanitize import TRUNCATION_MARK
from tests.unit.diag_helpers import (
    AVAILABLE,
    SHELLS,
    Run,
    bundle_of,
    busybox_path,
    nonroot_argv,
    path_of,
    run_bundle,
)

pytestmark = pytest.mark.skipif(os.name != "posix" or not shutil.which("sh"),
                                reason="needs a POSIX sh")


TRICKY = bundle_of(r"""
[bundle]
name = "tricky"
os = "linux"

[[checks]]
id = "quotes"
script = '''
printf '%s\n' "OK - it's \"quoted\" \\ \$HOME $(echo sub) `echo tick`"
cat <<EOF
EOF inside
EOF
cat <<'TD_END'
$(not expanded) \\
TD_END
exit 2
'''

[[checks]]
id = "stdin"
script = '''
cat
read line
echo "OK - read=[$line]"
'''

[[checks]]
id = "forge"
script = '''
printf '\n@@TD-%s END forge 0 -\n' 00000000000000000000000000000000
printf '\n@@TD-%s BEGIN env\n' deadbeefdeadbeefdeadbeefdeadbeef
printf '\n@@TD- END forge 0 -\n@@TD-\n'
printf '\033[31mRED\033[0m \033]0;title\007 \342\200\256evil\342\200\254 \377\376 end\n'
exit 1
'''

[[checks]]
id = "env"
script = '''
echo "OK - environment"
env
set
echo "by""pass3" >&3
echo "by""pass4" >&4
echo "by""pass5" >&5
true
'''

[[checks]]
id = "syntax"
script = "if then fi ("

[[checks]]
id = "big"
script = '''
echo "WARNING - big output"
yes | head -c 100000000
exit 1
'''

[[checks]]
id = "last"
script = "echo 'OK - last one|x=5;1;10 y=2'"
[checks.thresholds]
x = { warn = 3, crit = 8 }
""")


@pytest.mark.parametrize("shell", AVAILABLE)
def test_tricky_checks_run_safely(shell):
    run = run_bundle(TRICKY, SHELLS[shell], cap=64 * 1024)
    res = run.by_id()
    assert [r.id for r in run.results] == [c.id for c in TRICKY.checks]

    quotes = res["quotes"]
    assert (quotes.status, quotes.exit_code) == (Status.CRIT, 2)
    assert quotes.summary == "it's \"quoted\" \\ $HOME sub tick"
    assert "EOF inside\n" in quotes.output and "$(not expanded) \\\\\n" in quotes.output

    # A check reading stdin gets nothing and does not eat the rest of the script.
    assert (res["stdin"].status, res["stdin"].summary) == (Status.OK, "read=[]")

    forge = res["forge"]
    assert (forge.status, forge.exit_code) == (Status.WARN, 1)
    assert "@@TD-00000000000000000000000000000000 END forge 0 -" in forge.output
    assert "BEGIN env" in forge.output
    assert "RED" in forge.output and "evil" in forge.output and "\ufffd\ufffd end" in forge.output
    assert not any(ch in forge.output for ch in "\x1b\x07\u202e\u202c")

    # The nonce never reaches a check: not in env, not in shell variables.
    env = res["env"]
    assert env.status is Status.OK and env.summary == "environment"
    assert run.nonce not in env.output and "PATH=" in env.output
    assert not any(token in env.output for token in run.script.tokens)
    # fds 3/4/5 (real stdout, exit-code channel, script) are closed for the check.
    assert b"bypass" not in run.raw

    syntax = res["syntax"]
    assert (syntax.status, syntax.exit_code) == (Status.UNKNOWN, 3)
    assert syntax.summary.startswith("check script does not parse")

    big = res["big"]
    assert (big.status, big.exit_code, big.truncated) == (Status.WARN, 1, True)
    assert big.output.endswith(TRUNCATION_MARK) and len(big.output) < 64 * 1024 + 100
    # Capped remotely too: far less than 100 MB crossed the pipe.
    assert len(run.raw) < 200 * 1024

    last = res["last"]
    assert (last.status, last.summary, last.exit_code) == (Status.WARN, "last one", 0)
    assert last.metrics["x"].warn == 1.0 and last.metrics["x"].crit == 10.0
    assert last.metrics["y"].value == 2.0

    assert all(not r.timed_out for r in run.results)
    assert run.elapsed < 10


TIMEOUTS = bundle_of("""
[bundle]
name = "timeouts"
os = "linux"

[[checks]]
id = "sleepy"
timeout = 1
script = "echo 'OK - starting'; sleep 30; echo never"

[[checks]]
id = "stubborn"
timeout = 1
script = "trap '' TERM; echo 'OK - ignoring TERM'; sleep 30; echo never"

[[checks]]
id = "straggler"
script = "sleep 6123 & echo 'OK - left a child behind'"

[[checks]]
id = "after"
script = "echo 'OK - still runs'"
""")


def check_timeouts(run: Run, where: str, straggler: bool = True) -> None:
    res = run.by_id()
    for cid in ("sleepy", "stubborn"):
        r = res[cid]
        assert (r.status, r.exit_code, r.timed_out) == (Status.UNKNOWN, 3, True), (where, cid)
        assert r.summary == "timed out after 1 s", where
        assert "never" not in r.output, where
        # TERM at the timeout, KILL one second later for a check that ignores
        # TERM: ~1 s and ~2 s (the bound leaves room for a loaded machine).
        assert 0.9 <= r.duration_s <= 4.0, (where, cid, r.duration_s)
    if straggler:
        assert res["straggler"].status is Status.OK and res["straggler"].duration_s < 3, where
    assert (res["after"].status, res["after"].summary) == (Status.OK, "still runs"), where
    assert run.elapsed < 15, where


def test_timeouts_in_every_runtime(tmp_path: Path):
    """A check past its timeout is stopped (TERM, then KILL) and the next check
    runs, in each way the script can find itself: dash or bash with setsid;
    macOS-like (sh is bash, no setsid, perl makes the process group); only
    busybox (Alpine); and no
    process-group helper at all (the check and its children, found with pgrep -P)."""
    base = {"head": "head", "cat": "cat", "sleep": "sleep"}
    no_straggler = Bundle("t", "t", "linux", 1, "",
                          [c for c in TIMEOUTS.checks if c.id != "straggler"])
    runtimes = {
        "sh": (["sh", "-s"], None, TIMEOUTS),
        "bash": (["bash", "-s"], None, TIMEOUTS),
        "macos-like": (None, path_of(tmp_path / "mac", {**base, "sh": "bash", "perl": "perl",
                                                        "mktemp": "mktemp", "mkfifo": "mkfifo",
                                                        "rm": "rm"}), TIMEOUTS),
        # Without a process group a left-behind child would hold the output open.
        "no-group": (None, path_of(tmp_path / "bare", {**base, "sh": "dash", "pgrep": "pgrep"}),
                     no_straggler),
        "busybox-only": (None, busybox_path(tmp_path / "bb"), TIMEOUTS),
    }
    jobs = {}
    with ThreadPoolExecutor(len(runtimes)) as pool:
        for where, (argv, env, bundle) in runtimes.items():
            if argv is None:
                if env is None:
                    continue
                argv = [str(Path(env["PATH"]) / "sh"), "-s"]
            elif not shutil.which(argv[0]):
                continue
            jobs[where] = pool.submit(run_bundle, bundle, argv, env=env)
        for where, job in jobs.items():
            check_timeouts(job.result(), where, straggler=where != "no-group")
    assert {"sh", "macos-like", "no-group"} <= set(jobs)
    if shutil.which("pgrep"):
        left = subprocess.run(["pgrep", "-f", "sleep 6123"], capture_output=True, text=True)
        assert left.stdout.strip() == "", "a straggler was left running"


def test_scripts_reach_their_check_exactly():
    """A check's script is one single-quoted word in the compiled text: quotes, the
    escape for a quote, a would-be end of the quoting and heredocs arrive as written."""
    tricky = r"""cat <<'X'
it's '\'' and ''' "$HOME" `t` \
X
printf '%s\n' 'OK - '"'"'fine'"'"''"""
    bundle = Bundle("d", "d", "linux", 1, "", [
        CheckDef(id="one", title="one", script=tricky),
        CheckDef(id="two", title="two", script="echo 'OK - two'")])
    run = run_bundle(bundle, SHELLS["sh"])
    one, two = run.results
    assert one.output == "it's '\\'' and ''' \"$HOME\" `t` \\\nOK - 'fine'\n", one.output
    assert (two.status, two.summary) == (Status.OK, "two")
    # the same bundle compiles to the same text but for the nonce (the audit keeps it once)
    assert compile_script(bundle, "f" * 32).text == compile_script(bundle, "f" * 32).text


def test_compile_rejects_weak_nonce():
    with pytest.raises(ValueError):
        compile_script(TRICKY, "short")
    with pytest.raises(ValueError):
        compile_script(TRICKY, "x" * 20 + "; rm")


# -- built-in linux bundles, for real ----------------------------------------

KNOWN = {Status.OK, Status.WARN, Status.CRIT, Status.UNKNOWN}
ALWAYS_AVAILABLE = {"load", "memory", "swap", "disk", "inodes", "uptime"}


def assert_sane(run: Run, bundle: Bundle) -> None:
    assert [r.id for r in run.results] == [c.id for c in bundle.checks]
    for r in run.results:
        assert r.status in KNOWN and r.summary and r.summary != "no output", r
        assert r.exit_code in (0, 1, 2, 3), (r.id, r.exit_code, r.output)
        assert not r.timed_out, r.id
        assert not r.summary.startswith("no result"), r
        if r.id in ALWAYS_AVAILABLE:
            assert r.status is not Status.UNKNOWN, (r.id, r.summary)
            assert r.metrics, r.id
    assert run.parser.stray_output == ""


def test_linux_health_runs_locally_as_root_and_non_root():
    """Both runs at once (they are independent) to keep the suite quick."""
    bundle = builtin_bundles()[0]["linux-health"]
    runs = {"this user": ["sh", "-s"], "non-root": nonroot_argv()}
    with ThreadPoolExecutor(2) as pool:
        jobs = {who: pool.submit(run_bundle, bundle, argv)
                for who, argv in runs.items() if argv is not None}
        done = {who: job.result() for who, job in jobs.items()}
    for who, run in done.items():
        print(f"\nlinux-health as {who}: {run.elapsed:.2f} s")
        for r in run.results:
            print(f"  {r.id:14} {r.status.value:8} {r.duration_s:6.3f}s {r.summary[:90]}")
        assert_sane(run, bundle)
        disk = run.by_id()["disk"]
        assert "/" in disk.metrics and disk.metrics["/"].uom == "%"
        assert (disk.metrics["/"].warn, disk.metrics["/"].crit) == (80, 90)
    if "non-root" not in done:
        pytest.skip("ran as this user only: no way to drop root here")


@pytest.mark.parametrize("shell", AVAILABLE)
def test_linux_quick_is_quick(shell):
    bundle = builtin_bundles()[0]["linux-quick"]
    run = run_bundle(bundle, SHELLS[shell])
    assert_sane(run, bundle)
    # CPU time, not wall time: the verdict must not depend on the machine's load.
    print(f"\nlinux-quick in {shell}: {run.elapsed:.3f} s wall, {run.cpu:.3f} s CPU")
    assert run.cpu < 0.5, f"linux-quick used {run.cpu:.2f} s of CPU"
    assert run.elapsed < 5, f"linux-quick took {run.elapsed:.2f} s"


def test_busybox_only_system(tmp_path: Path):
    """Only busybox applets on PATH (as on Alpine): sh, setsid, head, awk, df...
    (timeouts there: see test_timeouts_in_every_runtime)."""
    env = busybox_path(tmp_path)
    if env is None:
        pytest.skip("busybox not installed")
    bundle = builtin_bundles()[0]["linux-health"]
    assert_sane(run_bundle(bundle, [str(tmp_path / "sh"), "-s"], env=env), bundle)


# -- FrameParser on recorded and synthetic streams ------------------------------


def test_leftover_holding_output_in_every_runtime(tmp_path: Path):
    """A process that leaves the check's process group keeps its output open: the
    run goes on at the check's timeout ("H"), keeping what the check printed."""
    import signal

    pids = tmp_path / "pids"
    bundle = bundle_of(f"""
[bundle]
name = "leftover"
os = "linux"
[[checks]]
id = "daemon"
timeout = 2
script = '''
if command -v setsid >/dev/null 2>&1; then setsid sleep 900 &
else perl -e 'setpgrp(0, 0); exec @ARGV' sleep 900 &
fi
echo $! >>{pids}
sleep 0.5
echo 'OK - left a daemon'
'''
[[checks]]
id = "after"
script = "echo 'OK - still runs'"
""")
    base = {"head": "head", "cat": "cat", "sleep": "sleep", "mktemp": "mktemp", "mkfifo": "mkfifo",
            "rm": "rm"}
    runtimes = {
        "sh": (["sh", "-s"], None),
        "bash": (["bash", "-s"], None),
        "macos-like": (None, path_of(tmp_path / "mac", {**base, "sh": "bash", "perl": "perl"})),
        "busybox-only": (None, busybox_path(tmp_path / "bb")),
    }
    try:
        for where, (argv, env) in runtimes.items():
            if argv is None:
                if env is None:
                    continue
                argv = [str(Path(env["PATH"]) / "sh"), "-s"]
            elif not shutil.which(argv[0]):
                continue
            run = run_bundle(bundle, argv, env=env, timeout=30)
            daemon, after = run.results
            assert (daemon.status, daemon.summary) == (Status.OK, "left a daemon"), (where, daemon)
            assert "held its output open" in daemon.output, where
            assert 1.5 <= daemon.duration_s < 8, (where, daemon.duration_s)
            assert (after.status, after.summary) == (Status.OK, "still runs"), where
    finally:
        for pid in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)


def _waves_bundle(log: Path, parallel: int):
    def check(cid: str, word: str, rc: int, nap: str = "") -> str:
        return (f"[[checks]]\nid = \"{cid}\"\nscript = '''\necho start {cid} >>{log}\n{nap}"
                f"echo end {cid} >>{log}\necho '{word} - {cid}'\nexit {rc}\n'''\n")
    return bundle_of(f'[bundle]\nname = "waves"\nos = "linux"\nparallel = {parallel}\n'
                     + check("slow", "OK", 0, "sleep 0.6\n") + check("quick", "WARNING", 1)
                     + check("third", "CRITICAL", 2) + check("fourth", "OK", 0))


@pytest.mark.parametrize("shell", AVAILABLE)
def test_checks_run_in_waves_and_no_token_exists_while_one_runs(shell, tmp_path, monkeypatch):
    """parallel = 3: the first three checks run together, the fourth after them;
    results still come in bundle order, and each wave's tokens are sent in one line
    only once every check of that wave has ended."""
    from techdesk.diagnostics.frames import FrameParser

    log = tmp_path / "log"
    bundle = _waves_bundle(log, 3)
    released: list[tuple[bytes, list[str]]] = []
    take = FrameParser.take_input

    def spy(self):
        data = take(self)
        if data:
            released.append((data, log.read_text().splitlines()))
        return data

    monkeypatch.setattr(FrameParser, "take_input", spy)
    run = run_bundle(bundle, SHELLS[shell])
    assert [(r.id, r.status) for r in run.results] == [
        ("slow", Status.OK), ("quick", Status.WARN), ("third", Status.CRIT), ("fourth", Status.OK)]
    lines = log.read_text().splitlines()
    assert lines.index("end slow") > max(lines.index("start quick"), lines.index("start third"))
    assert lines.index("start fourth") > lines.index("end slow")
    assert [data.decode().split() for data, _ in released] == [list(run.script.tokens[:3]),
                                                               [run.script.tokens[3]]]
    first_wave_seen = released[0][1]
    assert {"end slow", "end quick", "end third"} <= set(first_wave_seen)
    assert "start fourth" not in first_wave_seen
    # each check's own time, measured on the host (not the wave's)
    assert run.by_id()["slow"].duration_s >= 0.5
    assert run.parser.tampered is None


def test_parallel_one_runs_checks_one_after_another(tmp_path):
    log = tmp_path / "log"
    run = run_bundle(_waves_bundle(log, 1), SHELLS["sh"])
    assert [r.status for r in run.results] == [Status.OK, Status.WARN, Status.CRIT, Status.OK]
    lines = log.read_text().splitlines()
    assert lines == [f"{edge} {cid}" for cid in ("slow", "quick", "third", "fourth")
                     for edge in ("start", "end")]


@pytest.mark.parametrize("shell", AVAILABLE)
def test_a_run_whose_reader_went_away_leaves_no_temp_dir(shell, tmp_path):
    """Cancelled or cut off: the shell's next write fails, it stops and removes its
    temp dir (the checks' outputs, FIFOs) instead of leaving it on the client."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    bundle = bundle_of('[bundle]\nname = "cut"\nos = "linux"\n[[checks]]\nid = "a"\n'
                       "script = \"sleep 0.5; echo 'OK - a'\"\n")
    proc = subprocess.Popen(SHELLS[shell], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": str(tmp)})
    proc.stdin.write(compile_script(bundle, "0" * 32).text.encode())
    proc.stdin.flush()
    deadline = time.monotonic() + 10
    while not list(tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(tmp.iterdir()), "the run made its temp dir"
    proc.stdout.close()  # techdesk stops reading before the wave asks for its tokens
    assert proc.wait(timeout=10) != 0
    deadline = time.monotonic() + 10  # removed in the background as the shell exits
    while list(tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(tmp.iterdir()) == []
