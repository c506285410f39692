"""The shell text sent to a host for a fix or an ad-hoc command (POSIX sh, on stdin to `sh -s`).

What the finding said reaches the fix as shell variables (quoted here; the values came
from the client machine and are never trusted as code):
  TECHDESK_FINDING_STATUS   ok | warn | crit | unknown
  TECHDESK_FINDING_SUMMARY  the summary line
  TECHDESK_FINDING_ITEMS    the names the summary lists after its last ": " (one a line),
                            e.g. the failed units "nginx.service"
  TECHDESK_FINDING_UNIT     the first of those (what the CLI contract's example uses)

Root: the host decides. Its shell says first whether the login is root (`id -u`): then the
fix runs as is and the password is never sent. Otherwise it asks for the password on its
stdin (SudoFeed sends it only then), `sudo -S -k -v` proves it (given to sudo by the
shell's builtin printf, never on a command line); when sudo refuses, one marker line
comes back and nothing of the fix has run.
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


def _line(nonce: str, word: str) -> str:
    return f"@@TD-{nonce} {word}"


def wrap(body: str, *, root: bool, password: str | None, nonce: str) -> str:
    """The whole text to send: `body` run by `sh -c` with stdin closed, through sudo if needed.

    It never holds the password: with one (`password` is then only a flag), a shell that
    is not root asks for it on stdin (SudoFeed). Audit `body` (what the technician saw).
    """
    delim = f"TD_FIX_{nonce}"
    if any(line == delim for line in body.splitlines()):
        raise ValueError("script contains the heredoc delimiter")
    # First: a shell that echoes what it reads or runs (set -v/-x from SHELLOPTS, BASH_ENV)
    # stops before anything else.
    text = ("set +vx\n"
            f"td_fix=$(cat <<'{delim}'\n"
            "exec </dev/null\n"  # never reads stdin (the rest of this text, or a password)
            f"{body if body.endswith(chr(10)) else body + chr(10)}{delim}\n)\n")
    if not root:
        return text + 'sh -c "$td_fix"\n'
    marker = refused_marker(nonce)
    if password is not None:
        # Say root or ask, before anything of the fix runs: what the fix prints comes later
        # and cannot ask in its place. `read` takes only the line sent after the question.
        as_root = f"echo '{_line(nonce, 'ROOT')}'; "
        get_pw = f"echo '{_line(nonce, 'SUDO-PASSWORD')}'\nIFS= read -r td_pw || td_pw=\n"
        check_sudo = "printf '%s\\n' \"$td_pw\" | sudo -S -k -p '' -v >/dev/null 2>&1"
        run_sudo = "printf '%s\\n' \"$td_pw\" | sudo -S -p '' -- sh -c \"$td_fix\""
    else:
        as_root, get_pw = "", ""
        check_sudo, run_sudo = "sudo -n -v >/dev/null 2>&1", "sudo -n -- sh -c \"$td_fix\""
    # One compound command: the shell has read all of this text before it asks, so the
    # password line can only reach `read`.
    return text + (
        "{\n"
        f'if [ "$(id -u)" = 0 ]; then {as_root}sh -c "$td_fix"; exit $?; fi\n'
        f"command -v sudo >/dev/null 2>&1 || {{ echo '{marker} sudo is not installed'; "
        f"exit {SUDO_REFUSED_EXIT}; }}\n"
        f"{get_pw}"
        f"{check_sudo} || {{ echo '{marker}'; exit {SUDO_REFUSED_EXIT}; }}\n"
        f"{run_sudo}\n"
        "exit $?\n"
        "}\n"
    )


class SudoFeed:
    """stdin of a root fix with a sudo password (ssh.execute.StdinFeed): the script, then
    the password only if the host's first word is the question (its login is not root).
    "Root" first, or no word at all in the first 64 KiB, closes stdin with nothing more."""

    _LOOK = 64 * 1024

    def __init__(self, text: str, password: str, nonce: str) -> None:
        self._pending = text.encode("utf-8")
        self._password = password
        self._ask = (_line(nonce, "SUDO-PASSWORD") + "\n").encode()
        self._root = (_line(nonce, "ROOT") + "\n").encode()
        self._seen = bytearray()
        self._decided = False

    def see(self, chunk: bytes) -> None:
        """Output of the run, as it arrives (before anything else reads it)."""
        if self._decided:
            return
        self._seen += chunk
        ask, root = self._seen.find(self._ask), self._seen.find(self._root)
        if ask >= 0 and (root < 0 or ask < root):
            self._pending += self._password.encode("utf-8") + b"\n"
            self._decided = True
        elif root >= 0 or len(self._seen) > self._LOOK:
            self._decided = True

    def take(self) -> bytes:
        data, self._pending = self._pending, b""
        return data

    @property
    def closed(self) -> bool:
        return self._decided and not self._pending

    def shown(self, raw: bytes) -> bytes:
        """`raw` output without the root/question line (protocol, not the fix's output)."""
        found = [(at, line) for line in (self._ask, self._root) if (at := raw.find(line)) >= 0]
        if not found:
            return raw
        at, line = min(found)
        return raw[:at] + raw[at + len(line):]


def fix_body(fix: FixDef, status: str | None, summary: str | None, header: str) -> str:
    """What the technician sees and confirms: the finding's variables, then the fix script."""
    script = fix.script.replace("\r\n", "\n").replace("\r", "\n")
    return f"# {' '.join(header.split())}\n{finding_env(status, summary)}{script}"


def new_nonce() -> str:
    return secrets.token_hex(16)
