"""Compile a bundle into ONE script for one SSH session.

linux/macos: a POSIX sh script sent on stdin to ``sh -s`` (works in dash, bash
incl. macOS's bash 3.2, and busybox ash). windows: see powershell.py.

Output protocol (both shells), with MARK = "@@TD-<nonce>":

    \\nMARK BEGIN <id>\\n
    <check output, stdout+stderr, at most output_cap+1 bytes>
    \\nMARK END <id> <exit_code> <flags>\\n

flags is "-" or "T" (the check was stopped by its timeout; exit_code is then 3).
The nonce is random per run and never reaches a check's environment, so a
check's output cannot forge a frame. frames.FrameParser reads this back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from techdesk.diagnostics.bundle import Bundle

DEFAULT_OUTPUT_CAP = 256 * 1024
SH_COMMAND = "sh -s"


@dataclass(frozen=True)
class CompiledScript:
    text: str     # what to send on stdin
    command: str  # what to exec on the remote side
    sha256: str   # hex digest of text (UTF-8), for the audit log


def mark(nonce: str) -> str:
    return f"@@TD-{nonce}"


def new_nonce() -> str:
    """A fresh unguessable nonce for one run (letters and digits only)."""
    return secrets.token_hex(16)


def _check_nonce(nonce: str) -> None:
    if not nonce.isascii() or not nonce.isalnum() or len(nonce) < 16:
        raise ValueError("nonce must be at least 16 ASCII letters/digits (use new_nonce())")


def compile_script(bundle: Bundle, nonce: str, output_cap: int = DEFAULT_OUTPUT_CAP) -> CompiledScript:
    """Compile ``bundle`` for one run framed with ``nonce``."""
    _check_nonce(nonce)
    if output_cap < 1:
        raise ValueError("output_cap must be positive")
    if bundle.os == "windows":
        from techdesk.diagnostics.powershell import compile_powershell

        text, command = compile_powershell(bundle, mark(nonce), output_cap)
    else:
        text, command = _compile_sh(bundle, mark(nonce), output_cap), SH_COMMAND
    return CompiledScript(text=text, command=command,
                          sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


# The runtime every sh script starts with. Why it is shaped like this:
# - each check's script arrives as a quoted heredoc on fd 5 (no expansion, so no
#   quoting bugs); a fresh `sh -c` reads it, then runs it with stdin /dev/null,
#   so a check that reads stdin cannot eat the rest of this script;
# - `sh -n` first: a check with a syntax error is UNKNOWN, not a false CRITICAL;
# - the check runs in the background in its own process group (setsid, or perl
#   on macOS which has no setsid) so the watchdog can TERM then KILL the whole
#   group at its timeout; coreutils `timeout` does not exist on macOS;
# - output goes through `head -c CAP+1` then the rest is drained to /dev/null,
#   so at most CAP+1 bytes cross the network and the check keeps its exit code;
# - the exit code (and "T" from the watchdog) comes back on fd 4 through a
#   command substitution, not mixed with the output;
# - once the check exits, what it left running in its group gets TERM, then
#   KILL if still there after ~0.3 s: leftovers would hold the output
#   pipe open and stall the run;
# - fds 3/4/5 are closed for the check; the mark lives in an unexported variable;
# - the runtime's own noise ("Terminated", kill errors) goes to /dev/null, only
#   the check's stdout+stderr reach the output.
_SH_RUNTIME = r"""set +a
exec 3>&1
td_m='@MARK@'
td_n=@CAP1@
td_grp=
if command -v setsid >/dev/null 2>&1; then td_grp=setsid
elif command -v perl >/dev/null 2>&1; then td_grp=perl
fi
td_head=
if head -c 1 </dev/null >/dev/null 2>&1; then td_head=1; fi
td_runner='td_s=$(cat <&5); exec 5<&-
if ! td_e=$(sh -n -c "$td_s" 2>&1); then
  printf "UNKNOWN - check script does not parse: %s\n" "$td_e"; exit 3
fi
eval "$td_s"'
td_launch() {
  case $td_grp in
    setsid) exec setsid sh -c "$td_runner" td-check ;;
    perl) exec perl -e 'setpgrp(0, 0); exec @ARGV or exit 127' sh -c "$td_runner" td-check ;;
    *) exec sh -c "$td_runner" td-check ;;
  esac
}
td_sig() {
  if [ -n "$td_grp" ]; then
    kill -"$1" "-$2" 2>/dev/null || kill -"$1" "$2" 2>/dev/null
  else
    # No process group: the check and its direct children. The check is
    # stopped first so it can neither start new children nor go on running
    # once they are gone.
    kill -STOP "$2" 2>/dev/null
    td_kids=$(pgrep -P "$2" 2>/dev/null)
    [ -z "$td_kids" ] || kill -"$1" $td_kids 2>/dev/null
    kill -"$1" "$2" 2>/dev/null
    kill -CONT "$2" 2>/dev/null
  fi
}
td_watch() {
  td_w=
  trap 'kill "$td_w" 2>/dev/null; exit 0' TERM
  sleep "$1" 4>&- & td_w=$!
  wait "$td_w"
  printf 'T' >&4
  td_sig TERM "$2"
  sleep 1 4>&- & td_w=$!
  wait "$td_w"
  td_sig KILL "$2"
  exit 9
}
td_reap() {
  [ -n "$td_grp" ] || return 0
  kill -TERM "-$1" 2>/dev/null || return 0
  td_i=0
  while kill -0 "-$1" 2>/dev/null; do
    if [ "$td_i" -ge 3 ] || ! sleep 0.1 2>/dev/null; then kill -KILL "-$1" 2>/dev/null; break; fi
    td_i=$((td_i + 1))
  done
  return 0
}
td_body() {
  td_launch </dev/null 2>&1 3>&- 4>&- &
  td_pid=$!
  exec 5<&-
  td_watch "$1" "$td_pid" </dev/null >/dev/null 2>&1 3>&- &
  td_wpid=$!
  wait "$td_pid"
  td_rc=$?
  kill "$td_wpid" 2>/dev/null
  wait "$td_wpid"
  # 9: the watchdog already sent KILL to the whole group; else end leftovers.
  [ $? = 9 ] || td_reap "$td_pid"
  printf '%s' "$td_rc" >&4
}
td_cap() {
  if [ -n "$td_head" ]; then head -c "$td_n"; cat >/dev/null; else cat; fi
}
td_check() {
  printf '\n%s BEGIN %s\n' "$td_m" "$1"
  td_r=$( { td_body "$2" 2>/dev/null | td_cap 4>&- 5<&-; } 4>&1 >&3 )
  case $td_r in
    T*) td_rc=3 td_f=T ;;
    ''|*[!0-9]*) td_rc=3 td_f=E ;;
    *) td_rc=$td_r td_f=- ;;
  esac
  printf '\n%s END %s %s %s\n' "$td_m" "$1" "$td_rc" "$td_f"
}
"""


def _heredoc_delimiter(scripts: list[str]) -> str:
    # Random, and checked against every line, so no script can end it early.
    lines = {line for script in scripts for line in script.splitlines()}
    while True:
        delim = f"TD_END_{secrets.token_hex(8)}"
        if delim not in lines:
            return delim


def _compile_sh(bundle: Bundle, mark_text: str, output_cap: int) -> str:
    scripts = [c.script.replace("\r\n", "\n").replace("\r", "\n") for c in bundle.checks]
    delim = _heredoc_delimiter(scripts)
    header = (f"# techdesk bundle {bundle.name} version {_one_line(str(bundle.version))} "
              f"({len(bundle.checks)} checks)\n")
    runtime = _SH_RUNTIME.replace("@MARK@", mark_text).replace("@CAP1@", str(output_cap + 1))
    parts = [header, runtime]
    for check, script in zip(bundle.checks, scripts, strict=True):
        body = script if script.endswith("\n") else script + "\n"
        parts.append(f"# check {check.id}: {_one_line(check.title)}\n"
                     f"td_check {check.id} {check.timeout} </dev/null 5<<'{delim}'\n"
                     f"{body}{delim}\n")
    parts.append("exit 0\n")
    return "".join(parts)


def _one_line(text: str) -> str:
    """Text for a comment line: no line break can end the comment early."""
    return " ".join(text.split())
