"""The shell text sent to a host for a fix or an ad-hoc command (POSIX sh, on stdin to `sh -s`).

What the finding said reaches the fix as shell variables (quoted here; the values came
from the client machine and are never trusted as code):
  TECHDESK_FINDING_STATUS   ok | warn | crit | unknown
  TECHDESK_FINDING_SUMMARY  the summary line
  TECHDESK_FINDING_ITEMS    the names the summary lists after its last ": " (one a line),
                            e.g. the failed units "nginx.service"
  TECHDESK_FINDING_UNIT     the first of those (what the CLI contract's example uses)

Root: when the fix needs root and the login is not root, `sudo -S -k -v` first proves the
password (given on stdin by the shell's builtin printf, never on a command line); when
sudo refuses, one marker line comes back and nothing of the fix has run.
"""

from __future__ import annotations

import re
import secrets
import shlex

from techdesk.core.text import clean_text
from techdesk.diagnostics.bundle import FixDef

SUDO_REFUSED_EXIT = 97  # with the marker line: sudo said no, nothing ran
_ITEM = re.compile(r"[A-Za-z0-9@._:/+-]{1,200}")


def finding_items(summary: str) -> list[str]:
    """The names a summary lists after its last ": " ("3 failed: a.service b.service").
    Never an option ("-rf") or a path with a ".." step: a root fix may use them as arguments."""
    tail = summary.split("|", 1)[0].rpartition(": ")[2] if ": " in summary else ""
    return [w for w in tail.split() if _ITEM.fullmatch(w) and not w.startswith("-")
            and ".." not in w.split("/")][:50]


def finding_env(status: str | None, summary: str | None) -> str:
    """`NAME='value'` assignments (exported) for the fix, from the finding before it."""
    summary = " ".join(clean_text(summary or "").split())[:1000]  # stored text is cleaned; once more here
    items = finding_items(summary)
    values = {"STATUS": status or "", "SUMMARY": summary, "ITEMS": "\n".join(items),
              "UNIT": items[0] if items else ""}
    lines = [f"TECHDESK_FINDING_{k}={shlex.quote(v)}" for k, v in values.items()]
    lines.append("export " + " ".join(f"TECHDESK_FINDING_{k}" for k in values))
    return "\n".join(lines) + "\n"


def refused_marker(nonce: str) -> str:
    return f"@@TD-{nonce} SUDO-REFUSED"


def wrap(body: str, *, root: bool, password: str | None, nonce: str) -> str:
    """The whole text to send: `body` run by `sh -c` with stdin closed, through sudo if needed.

    The password (if any) is inside this text only: never log or audit the result;
    audit `body` (what the technician saw and confirmed).
    """
    delim = f"TD_FIX_{nonce}"
    if any(line == delim for line in body.splitlines()):
        raise ValueError("script contains the heredoc delimiter")
    # First: a shell that echoes what it reads or runs (set -v/-x from SHELLOPTS, BASH_ENV)
    # stops before the line with the password.
    text = ("set +vx\n"
            f"td_fix=$(cat <<'{delim}'\n"
            "exec </dev/null\n"  # never reads stdin (the rest of this text, or a password)
            f"{body if body.endswith(chr(10)) else body + chr(10)}{delim}\n)\n")
    if not root:
        return text + 'sh -c "$td_fix"\n'
    marker = refused_marker(nonce)
    if password is not None:
        pw = shlex.quote(password)
        check_sudo = f"printf '%s\\n' {pw} | sudo -S -k -p '' -v >/dev/null 2>&1"
        run_sudo = f"printf '%s\\n' {pw} | sudo -S -p '' -- sh -c \"$td_fix\""
    else:
        check_sudo, run_sudo = "sudo -n -v >/dev/null 2>&1", "sudo -n -- sh -c \"$td_fix\""
    return text + (
        'if [ "$(id -u)" = 0 ]; then sh -c "$td_fix"; exit $?; fi\n'
        f"command -v sudo >/dev/null 2>&1 || {{ echo '{marker} sudo is not installed'; "
        f"exit {SUDO_REFUSED_EXIT}; }}\n"
        f"{check_sudo} || {{ echo '{marker}'; exit {SUDO_REFUSED_EXIT}; }}\n"
        f"{run_sudo}\n"
    )


def fix_body(fix: FixDef, status: str | None, summary: str | None, header: str) -> str:
    """What the technician sees and confirms: the finding's variables, then the fix script."""
    script = fix.script.replace("\r\n", "\n").replace("\r", "\n")
    return f"# {' '.join(header.split())}\n{finding_env(status, summary)}{script}"


def new_nonce() -> str:
    return secrets.token_hex(16)
