"""Compile a bundle into ONE script for one SSH session.

linux/macos: a POSIX sh script sent on stdin to ``sh -s`` (works in dash, bash
incl. macOS's bash 3.2, and busybox ash). windows: see powershell.py.

Output protocol, with MARK = "@@TD-<nonce>". sh runs checks in waves of
``bundle.parallel`` (docs/bundles.md "Checks run in waves"): once every check of a
wave has ended, one NEXT names them all, then each check's frames in bundle order.
PowerShell runs one check at a time (one id per NEXT, no time field).

    \nMARK NEXT <id> [<id>...]\n
    \nMARK BEGIN <id> <token>\n
    <check output, stdout+stderr, at most output_cap+1 bytes>
    \nMARK END <id> <token> <exit_code> <flags> [<centiseconds>]\n

flags is "-", or letters: "T" (stopped by its timeout; exit_code is then 3),
"H" (a process the check left running held its output open; techdesk stopped
waiting for it at the check's timeout), "E" (no exit code came back). The last
field is how long the check ran, measured on the host.

Why it is safe against a hostile check (docs/bundles.md "Integrity"):
- the whole sh script is one brace group, so the shell has read and parsed all
  of it before the first check starts: nothing a check writes into the shell's
  stdin can change what runs later;
- each check has its own random token. For sh (``converse``) the shell asks for
  a wave's tokens with its NEXT frame, once every check of the wave has ended,
  and techdesk sends them on stdin then: while any check runs, no token exists
  on the machine. A check's exit code reaches the shell as its job's exit status,
  not through a file another process could rewrite; PowerShell reads its whole
  script first, tokens included;
- frames.FrameParser accepts only the exact next frame, and treats anything
  else carrying the run's mark as tampering.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass

from techdesk.diagnostics.bundle import Bundle

DEFAULT_OUTPUT_CAP = 256 * 1024
SH_COMMAND = "sh -s"


@dataclass(frozen=True)
class CompiledScript:
    text: str     # what to send on stdin first
    command: str  # what to exec on the remote side
    sha256: str   # hex digest of text (UTF-8), for the audit log
    nonce: str = ""
    tokens: tuple[str, ...] = ()  # one framing token per check, in order
    converse: bool = False        # True: send tokens[i] + "\n" when the shell asks (NEXT)

    def for_host(self) -> CompiledScript:
        """The same script with fresh tokens, so no two hosts share one; only when
        the tokens are not part of the text (conversing), which stays the same."""
        if not self.converse:
            return self
        return dataclasses.replace(self, tokens=_new_tokens(len(self.tokens)))


def mark(nonce: str) -> str:
    return f"@@TD-{nonce}"


def new_nonce() -> str:
    """A fresh unguessable nonce for one run (letters and digits only)."""
    return secrets.token_hex(16)


def _new_tokens(n: int) -> tuple[str, ...]:
    return tuple(secrets.token_bytes(16).hex() for _ in range(n))


def _check_nonce(nonce: str) -> None:
    if not nonce.isascii() or not nonce.isalnum() or len(nonce) < 16:
        raise ValueError("nonce must be at least 16 ASCII letters/digits (use new_nonce())")


def compile_script(bundle: Bundle, nonce: str, output_cap: int = DEFAULT_OUTPUT_CAP, *,
                   converse: bool = True) -> CompiledScript:
    """Compile ``bundle`` for one run framed with ``nonce``.

    converse=False puts every token into the sh text, for tools that can only
    send a script and close stdin (the OpenSSH baseline of the benchmarks); a
    run by techdesk always converses.
    """
    _check_nonce(nonce)
    if output_cap < 1:
        raise ValueError("output_cap must be positive")
    tokens = _new_tokens(len(bundle.checks))
    if bundle.os == "windows":
        from techdesk.diagnostics.powershell import compile_powershell

        text, command = compile_powershell(bundle, mark(nonce), output_cap, tokens)
        converse = False
    else:
        text = _compile_sh(bundle, mark(nonce), output_cap, None if converse else tokens)
        command = SH_COMMAND
    return CompiledScript(text=text, command=command,
                          sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                          nonce=nonce, tokens=tokens, converse=converse)


# The runtime every sh script starts with. Why it is shaped like this:
# - the whole script is ONE brace group ending in `exit`: the shell parses all
#   of it before running anything, and never reads its stdin as script again;
# - each check's script is a single-quoted string in the script (quotes escaped,
#   nothing expanded); it reaches a fresh `sh -c` in the variable TD_CHECK (the
#   environment: no `cat` per check, and only this user can read it), which is
#   unset before the check runs, with stdin /dev/null, so a check that reads stdin
#   gets nothing;
# - `td_next` prints NEXT and reads the check's token from stdin (techdesk
#   sends it only then); at EOF techdesk has stopped the run: exit quietly;
# - `sh -n` first: a check with a syntax error is UNKNOWN, not a false CRITICAL;
# - the check runs in the background in its own process group (setsid, or perl
#   on macOS which has no setsid) so the watchdog can TERM then KILL the whole
#   group at its timeout; coreutils `timeout` does not exist on macOS;
# - output goes through a FIFO and a relay (`cat`, in a process group of its
#   own) to `head -c CAP+1` (then the rest is drained), so at most CAP+1 bytes
#   cross the network and the check keeps its exit code. A process the check
#   leaves outside its group (`setsid sleep 900 &`) keeps the FIFO open: the
#   relay is then stopped a second after the check's timeout ("H") instead of
#   stalling the run, and head, seeing EOF, still flushes what it holds. No
#   mktemp/mkfifo: a plain pipe, as before (no such protection);
# - "T"/"H" come back on fd 4 through a command substitution, not mixed with
#   the output; the exit code is that substitution's exit status (and, in a
#   wave, its job's): a same-user process can write into any pipe or file of
#   the run (/proc/<pid>/fd), not into an exit status;
# - once the check exits, what it left running in its group gets TERM, then
#   KILL if still there after ~0.3 s;
# - fds 3/4 are closed for the check; the mark and token live in unexported
#   variables;
# - the runtime's own noise ("Terminated", kill errors) goes to /dev/null, only
#   the check's stdout+stderr reach the output.
_SH_RUNTIME = r"""{
set +a
exec 3>&1
td_m='@MARK@'
td_n=@CAP1@
td_k=
td_emb=
td_grp=
if command -v setsid >/dev/null 2>&1; then td_grp=setsid
elif command -v perl >/dev/null 2>&1; then td_grp=perl
fi
td_head=
if head -c 1 </dev/null >/dev/null 2>&1; then td_head=1; fi
td_dir=$(umask 077; mktemp -d "${TMPDIR:-/tmp}/techdesk.XXXXXXXX" 2>/dev/null) || td_dir=
[ -d "$td_dir" ] || td_dir=
# Removed in the background: the shell exits (and its exit status goes out) at once.
trap '[ -z "$td_dir" ] || rm -rf "$td_dir" </dev/null >/dev/null 2>&1 &' EXIT
# techdesk gone (cancelled, connection lost): the next write fails; leave no temp dir.
trap 'exit 141' PIPE
trap 'exit 129' HUP
trap 'exit 143' TERM
td_i=0 td_jobs= td_wmax=0
td_runner='td_s=$TD_CHECK; unset TD_CHECK
if ! td_e=$(sh -n -c "$td_s" 2>&1); then
  printf "UNKNOWN - check script does not parse: %s\n" "$td_e"; exit 3
fi
eval "$td_s"'
td_spawn() {
  case $td_grp in
    setsid) exec setsid "$@" ;;
    perl) exec perl -e 'setpgrp(0, 0); exec @ARGV or exit 127' "$@" ;;
    *) exec "$@" ;;
  esac
}
td_sig() {
  if [ -n "$td_grp" ]; then
    kill -"$1" "-$2" 2>/dev/null || kill -"$1" "$2" 2>/dev/null
  else
    # No process group: the process and its direct children. It is stopped
    # first so it can neither start new children nor go on running once they
    # are gone.
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
  # The check may already be gone (only its output is held open): then no "T".
  if kill -0 "$2" 2>/dev/null; then printf 'T' >&4; fi
  td_sig TERM "$2"
  sleep 1 4>&- & td_w=$!
  wait "$td_w"
  td_sig KILL "$2"
  # The relay: a second to pass on what the check wrote, then it is stopped.
  [ -z "$3" ] || td_sig KILL "$3"
  exit 9
}
td_reap() {
  [ -n "$td_grp" ] || return 0
  kill -TERM "-$1" 2>/dev/null || return 0
  td_j=0
  while kill -0 "-$1" 2>/dev/null; do
    if [ "$td_j" -ge 3 ] || ! sleep 0.1 2>/dev/null; then kill -KILL "-$1" 2>/dev/null; break; fi
    td_j=$((td_j + 1))
  done
  return 0
}
td_body() {
  td_rpid=
  if [ -n "$2" ]; then
    # check -> FIFO o -> relay (cat, unbuffered) -> FIFO p -> cap -> the channel.
    # Only the relay is ever stopped: the cap then sees EOF and flushes.
    td_cap <"$2p" >&3 2>/dev/null 4>&- &
    td_cpid=$!
    td_spawn cat <"$2o" >"$2p" 2>/dev/null 4>&- &
    td_rpid=$!
    exec >"$2o"
  fi
  TD_CHECK=$td_src
  export TD_CHECK
  td_spawn sh -c "$td_runner" td-check </dev/null 2>&1 3>&- 4>&- &
  td_pid=$!
  unset TD_CHECK
  exec >/dev/null
  td_watch "$1" "$td_pid" "$td_rpid" </dev/null 2>&1 3>&- &
  td_wpid=$!
  wait "$td_pid"
  td_rc=$?
  td_reap "$td_pid"
  if [ -n "$td_rpid" ]; then
    wait "$td_rpid"
    [ $? -lt 128 ] || printf 'H' >&4
    wait "$td_cpid"
  fi
  kill "$td_wpid" 2>/dev/null
  wait "$td_wpid"
  printf '%s' "$td_rc" >&4
  return "$td_rc"
}
td_cap() {
  if [ -n "$td_head" ]; then head -c "$td_n"; cat >/dev/null; else cat; fi
}
td_next() {
  printf '\n%s NEXT %s\n' "$td_m" "$2"
  td_tok "$1" "$1"
}
td_tok() {
  # The tokens of checks $1..$2: embedded in the script (td_e<index>, only for
  # the OpenSSH baseline of the benchmarks), or one line from techdesk on stdin.
  if [ -n "$td_emb" ]; then
    td_k= td_q=$1
    while [ "$td_q" -le "$2" ]; do eval "td_k=\"\${td_k:+\$td_k }\$td_e$td_q\""; td_q=$((td_q + 1)); done
    return 0
  fi
  td_k=
  IFS= read -r td_k || [ -n "$td_k" ] || exit 0
}
td_run1() {
  # Run one check (timeout $1, FIFO prefix $2 or none; its script in td_src):
  # output to fd 3, td_rc and td_fl set.
  td_f=$2
  # A wave makes its checks' FIFOs in one go (td_all); otherwise one check's here.
  if [ -n "$td_f" ] && ! { [ -p "${td_f}o" ] && [ -p "${td_f}p" ]; }; then
    mkfifo "${td_f}o" "${td_f}p" 2>/dev/null || td_f=
  fi
  if [ -n "$td_f" ]; then
    # The exit code is the status of the command substitution (from the kernel),
    # not text on fd 4: another process of the user can write into that pipe.
    td_r=$( { td_body "$1" "$td_f" 2>/dev/null; } 4>&1 )
    td_rc=$? td_fl=
    case $td_r in *T*) td_fl=T ;; esac
    case $td_r in *H*) td_fl=${td_fl}H ;; esac
  else
    td_r=$( { td_body "$1" "" 2>/dev/null | td_cap 4>&-; } 4>&1 >&3 )
    td_fl=${td_r%%[0-9]*}
    td_rc=${td_r#"$td_fl"}
    case $td_rc in ''|*[!0-9]*) td_rc=3 td_fl=E ;; esac
  fi
  case $td_fl in *T*) td_rc=3 ;; esac
}
td_check() {
  # No temp dir: one check at a time, its output straight to the channel.
  printf '\n%s BEGIN %s %s\n' "$td_m" "$1" "$td_k"
  td_run1 "$2" ""
  printf '\n%s END %s %s %s %s\n' "$td_m" "$1" "$td_k" "$td_rc" "${td_fl:--}"
}
td_now() {
  # Centiseconds: /proc/uptime (read by the shell itself) or whole seconds.
  td_u=
  if [ -r /proc/uptime ]; then read td_u td_x </proc/uptime 2>/dev/null; fi
  case $td_u in *.*) td_u=${td_u%%.*}${td_u#*.} ;; *) td_u=$(date +%s 2>/dev/null)00 ;; esac
  td_u=${td_u#"${td_u%%[!0]*}"}
  case $td_u in ''|*[!0-9]*) td_u=0 ;; esac
}
td_start() {
  # Start check $td_i (id $1, timeout $2, script in td_src) in the background: its
  # output to file <i>x, "flags centiseconds" to file <i>r; its exit code is the
  # job's exit status (a sibling check can rewrite files in the temp dir, not that).
  td_i=$((td_i + 1))
  eval "td_id$td_i=\$1"
  td_o="$td_dir/$td_i"
  [ "$2" -le "$td_wmax" ] || td_wmax=$2
  {
    td_now; td_t0=$td_u
    td_run1 "$2" "$td_o" 3>"${td_o}x"
    td_now
    printf '%s %s\n' "${td_fl:--}" "$((td_u - td_t0))" >"${td_o}r"
    exit "$td_rc"
  } </dev/null >/dev/null 2>&1 &
  eval "td_pid$td_i=\$!"
  td_jobs="$td_jobs $!"
}
td_wave() {
  # Checks $1..$2 were started together. Wait for all of them, then ask for their
  # tokens in one round trip (none exists on the machine while a check runs) and
  # print their frames in order.
  td_a=$1 td_b=$2 td_j=$1 td_ids=
  # A job stuck opening a file a sibling replaced with a FIFO is killed once every
  # check of the wave is past its timeout (its check is then UNKNOWN).
  (
    trap 'kill "$td_w" 2>/dev/null; exit 0' TERM
    sleep "$((td_wmax + 3))" & td_w=$!
    wait "$td_w"
    # shellcheck disable=SC2086
    kill -KILL $td_jobs
  ) </dev/null >/dev/null 2>&1 3>&- &
  td_ww=$!
  while [ "$td_j" -le "$td_b" ]; do
    eval "wait \"\$td_pid$td_j\"; td_rc$td_j=\$?; td_ids=\"\$td_ids \$td_id$td_j\""
    td_j=$((td_j + 1))
  done
  kill "$td_ww" 2>/dev/null  # reaped after the frames: not on the way to NEXT
  td_jobs= td_wmax=0
  printf '\n%s NEXT%s\n' "$td_m" "$td_ids"
  td_tok "$td_a" "$td_b"
  set -f
  # shellcheck disable=SC2086
  set -- $td_k
  set +f
  # Frame lines come straight from the shell's printf: nothing on the machine holds
  # them where another process could rewrite them (a file named after the token
  # did: a process left behind read the tokens from the names and changed an END).
  td_j=$td_a
  while [ "$td_j" -le "$td_b" ]; do
    eval "td_id=\$td_id$td_j"
    td_o="$td_dir/$td_j"
    eval "td_rc=\$td_rc$td_j"
    td_fl=- td_el=-
    # Read only regular files: every check of the wave has ended, but one may
    # have left a FIFO or a symlink here.
    if [ -f "${td_o}r" ] && [ ! -h "${td_o}r" ]; then read td_fl td_el <"${td_o}r"; fi
    case $td_fl in *[!THE]*|'') td_fl=- ;; esac
    case $td_el in *[!0-9]*|'') td_el=- ;; esac
    printf '\n%s BEGIN %s %s\n' "$td_m" "$td_id" "$1"
    if [ -f "${td_o}x" ] && [ ! -h "${td_o}x" ]; then cat "${td_o}x" 2>/dev/null; fi
    printf '\n%s END %s %s %s %s %s\n' "$td_m" "$td_id" "$1" "$td_rc" "$td_fl" "$td_el"
    [ $# -eq 0 ] || shift
    td_j=$((td_j + 1))
  done
  wait "$td_ww"
}
td_all() {
  # $1 checks (functions td_c1..), in waves of at most $2 (no temp dir: one by one).
  td_ix=1
  while [ "$td_ix" -le "$1" ]; do
    if [ -z "$td_dir" ]; then eval "td_c$td_ix"; td_ix=$((td_ix + 1)); continue; fi
    td_ws=$td_ix td_we=$((td_ix + $2 - 1)) td_q=$td_ix td_old= td_new=
    [ "$td_we" -le "$1" ] || td_we=$1
    while [ "$td_q" -le "$td_we" ]; do
      td_old="$td_old ${td_q}x ${td_q}r" td_new="$td_new ${td_q}o ${td_q}p"
      td_q=$((td_q + 1))
    done
    # Whatever a check of an earlier wave left under this wave's names (a FIFO would
    # stall it) goes, and the wave's FIFOs are made: one rm and one mkfifo for the
    # wave, of names that are digits and a letter.
    # shellcheck disable=SC2086
    (cd "$td_dir" && rm -f $td_old $td_new && exec mkfifo $td_new) 2>/dev/null
    while [ "$td_ix" -le "$td_we" ]; do
      eval "td_c$td_ix"; td_ix=$((td_ix + 1))
    done
    td_wave "$td_ws" "$td_we"
  done
}
td_go() {
  if [ -n "$td_dir" ]; then td_start "$2" "$3"; else td_next "$1" "$2"; td_check "$2" "$3" </dev/null; fi
}
"""


def _compile_sh(bundle: Bundle, mark_text: str, output_cap: int,
                embedded: tuple[str, ...] | None) -> str:
    scripts = [c.script.replace("\r\n", "\n").replace("\r", "\n") for c in bundle.checks]
    header = (f"# techdesk bundle {bundle.name} version {_one_line(str(bundle.version))} "
              f"({len(bundle.checks)} checks)\n")
    runtime = _SH_RUNTIME.replace("@MARK@", mark_text).replace("@CAP1@", str(output_cap + 1))
    parts = [header, runtime]
    if embedded is not None:
        parts.append("td_emb=1\n" + "".join(f"td_e{i}={token}\n"
                                             for i, token in enumerate(embedded, 1)))
    for i, (check, script) in enumerate(zip(bundle.checks, scripts, strict=True), 1):
        parts.append(f"# check {check.id}: {_one_line(check.title)}\n"
                     f"td_c{i}() {{\ntd_src={_quoted(script)}\n"
                     f"td_go {i} {check.id} {check.timeout}\n}}\n")
    # Inside the group: the shell never reads past its closing brace.
    parts.append(f"td_all {len(bundle.checks)} {bundle.parallel}\nexit 0\n}}\n")
    return "".join(parts)


def _quoted(text: str) -> str:
    """`text` as one single-quoted sh word: taken literally, whatever it holds."""
    return "'" + text.replace("'", "'\\''") + "'"


def _one_line(text: str) -> str:
    """Text for a comment line: no line break can end the comment early."""
    return " ".join(text.split())
