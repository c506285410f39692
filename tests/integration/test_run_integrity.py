"""Hostile checks over the real sshd: a check that reads the runtime's memory, one
that rewrites the rest of the script through the shell's stdin, one that leaves a
process holding its output. None may forge a result silently or stall the host."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import pytest

from tests.integration.test_run import _add, _bundle, _pin

pytestmark = pytest.mark.sshd

# Reads every writable mapping of each shell above it (as any process of the same
# user can, where ptrace is not restricted) and collects the mark and anything
# that looks like a token.
STEAL = r"""
loot=$(mktemp)
p=$$
while [ "$p" -gt 1 ]; do
  p=$(cut -d' ' -f4 /proc/$p/stat)
  case $(cat /proc/$p/comm) in sshd*) break ;; esac
  grep ' rw' /proc/$p/maps | while read -r range perms rest; do
    start=${range%-*}; end=${range#*-}
    dd if=/proc/$p/mem bs=4096 skip=$((0x$start / 4096)) \
       count=$(( (0x$end - 0x$start) / 4096 )) 2>/dev/null
  done
done | grep -ao '@@TD-[0-9a-f]\{32\}\|[0-9a-f]\{32\}' | sort -u >"$loot"
mark=$(grep '^@@TD-' "$loot" | head -n 1)
"""

THIEF = STEAL + r"""
[ -n "$mark" ] || { echo "UNKNOWN - found no mark"; exit 3; }
# Straight into the session's output (the topmost "sh -s": its subshells have the
# same command line), past techdesk's cap and its buffering.
p=$$ sh_pid=
while [ "$p" -gt 1 ]; do
  p=$(cut -d' ' -f4 /proc/$p/stat)
  [ "$(tr '\0' ' ' </proc/$p/cmdline)" = "sh -s " ] && sh_pid=$p
done
exec >/proc/$sh_pid/fd/1
# This check's own END, then the next check's frames, with every token found...
for t in $(grep -v '^@@TD-' "$loot"); do
  printf '\n%s END thief %s 0 -\n' "$mark" "$t"
  printf '\n%s NEXT later\n' "$mark"
  printf '\n%s BEGIN later %s\nOK - forged by thief\n' "$mark" "$t"
  printf '\n%s END later %s 0 -\n' "$mark" "$t"
done
# ...and in the framing of earlier techdesk versions (one nonce per run).
printf '\n%s END thief 0 -\n\n%s BEGIN later\nOK - forged by thief\n\n%s END later 0 -\n' \
  "$mark" "$mark" "$mark"
sleep 15  # and keep the session busy: techdesk must not wait for it
exit 2
"""

# Replaces the part of the script the shell has not read yet: the shell's stdin
# is a pipe (saved on another fd while a check runs); steal what is left in it and
# put a script of our own in its place.
REWRITER = r"""
# Every "sh -s" above this check (the session's shell and its subshells, which
# share its command line), up to the topmost.
p=$$ shells=
while [ "$p" -gt 1 ]; do
  p=$(cut -d' ' -f4 /proc/$p/stat)
  [ "$(tr '\0' ' ' </proc/$p/cmdline)" = "sh -s " ] && shells="$shells $p"
done
for fd in $(for s in $shells; do echo /proc/$s/fd/*; done); do
  case $(ls -l "$fd") in lr-x*pipe:*) ;; *) continue ;; esac
  timeout 1 cat "$fd" >/dev/null 2>&1
  printf '%s\n' 'printf "\n%s BEGIN later\nOK - rewritten\n\n%s END later 0 -\n" "$td_m" "$td_m"; exit 0' \
    >"$fd" 2>/dev/null
done
echo "OK - rewrote the script"
"""

PADDING = "#" + "x" * 400 + "\n"


def _hostile(name: str, script: str, later_padding: int = 0) -> str:
    pad = PADDING * later_padding
    return (f"[[checks]]\nid = \"{name}\"\ntitle = \"{name}\"\ntimeout = 20\nscript = '''\n{script}\n'''\n\n"
            f"[[checks]]\nid = \"later\"\ntitle = \"later\"\nscript = '''\n{pad}"
            "echo 'CRITICAL - the genuine result'; exit 2\n'''\n")


def _run(cli, sshd, workspace_dir, name: str, checks: str):
    _pin(workspace_dir, sshd)
    _add(cli, sshd)
    _bundle(workspace_dir, name, checks)
    code, out, err = cli("run", name, "local", "--json")
    return code, json.loads(out)["hosts"][0], err


def test_check_reading_the_runtime_memory_cannot_forge_results(cli, sshd, workspace_dir):
    t0 = time.monotonic()
    code, host, _ = _run(cli, sshd, workspace_dir, "thief", _hostile("thief", THIEF))
    assert time.monotonic() - t0 < 12  # stopped at the first forged frame, not after 15 s
    assert host["error"] and host["error"]["kind"] == "tampered", host
    assert "results not trusted" in host["error"]["message"]
    assert host["status"] == "unknown" and code == 3
    # Nothing forged survives as a result: every check is UNKNOWN, "not trusted".
    assert all(c["status"] == "unknown" for c in host["checks"]), host["checks"]
    assert all("forged" not in c["summary"] or "not trusted" in c["summary"] for c in host["checks"])
    # Stored as such: history shows the tampered run.
    code, out, _ = cli("history", "local", "--json")
    assert json.loads(out)["runs"][0]["error_kind"] == "tampered"


def test_check_rewriting_the_unread_script_changes_nothing(cli, sshd, workspace_dir):
    # The later check padded to 60 KB (a script is at most 64 KiB), the whole script over
    # the 64 KB a pipe holds: before the fix the shell had not read it yet.
    code, host, _ = _run(cli, sshd, workspace_dir, "rewriter",
                         _hostile("rewriter", REWRITER, later_padding=150))
    by_id = {c["id"]: c for c in host["checks"]}
    assert "rewritten" not in json.dumps(host)
    # What it wrote into the shell's stdin is read as the next token: tampering.
    assert host["error"] and host["error"]["kind"] == "tampered", json.dumps(host, indent=1)
    assert by_id["later"]["status"] == "unknown"


def test_leftover_process_holding_output_does_not_stall_the_host(cli, sshd, workspace_dir, tmp_path):
    pids = tmp_path / "daemons"
    checks = (
        '[[checks]]\nid = "daemon"\ntitle = "daemon"\ntimeout = 3\n'
        f'script = "setsid sleep 900 & echo $! >>{pids}; sleep 0.5; echo \'OK - started a daemon\'"\n\n'
        '[[checks]]\nid = "detached"\ntitle = "detached"\ntimeout = 3\n'
        f'script = "setsid sleep 900 >/dev/null 2>&1 & echo $! >>{pids}; sleep 0.5; '
        'echo \'OK - detached properly\'"\n\n'
        '[[checks]]\nid = "after"\ntitle = "after"\nscript = "echo \'WARNING - still here\'; exit 1"\n'
    )
    t0 = time.monotonic()
    try:
        code, host, _ = _run(cli, sshd, workspace_dir, "leftover", checks)
    finally:
        for pid in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
    took = time.monotonic() - t0
    by_id = {c["id"]: c for c in host["checks"]}
    assert host["error"] is None, host
    daemon = by_id["daemon"]
    # Its own output is kept, and the run went on at the check's timeout (3 s + 1).
    assert daemon["status"] == "ok" and daemon["summary"] == "started a daemon", daemon
    assert "held its output open" in daemon["output"]
    assert 2.5 <= daemon["duration_s"] < 10, daemon["duration_s"]
    # A process that let go of the output costs nothing.
    detached = by_id["detached"]
    assert detached["status"] == "ok" and detached["duration_s"] < 2.5, detached
    assert "held" not in detached["output"]
    assert by_id["after"]["status"] == "warn" and code == 1
    assert took < 30, took
