"""Hostile check scripts against the single-quoted word that carries a check's
script in the compiled sh text (compile._quoted, td_src='...'): whatever a script
holds, it must reach its check verbatim and never run as code of the runtime."""

from __future__ import annotations

import json

import pytest

from techdesk.core.severity import Status
from techdesk.diagnostics.bundle import MAX_SCRIPT_BYTES
from tests.unit.diag_helpers import AVAILABLE, SHELLS, bundle_of, run_bundle

# Each payload tries to end the quoted word and run `touch` in the runtime's shell.
PAYLOADS = {
    "quote": "'; touch @M@; '",
    "escaped-quote": "'\\''; touch @M@; echo '\\''",
    "lone-quote-at-end": "x'",
    "backslash-at-end": "x\\",
    "quote-then-newline": "'\ntouch @M@\n'",
    "cr": "x\r'; touch @M@ #\r",
    "crlf": "'\r\ntouch @M@\r\n'",
    "substitution": "$(touch @M@) `touch @M@` ${x:=$(touch @M@)}",
    "brace-and-exit": "'}\ntouch @M@\nexit 0\n{'",
    "heredoc-like": "EOF\n'\nEOF\ntouch @M@",
    "unicode": "\u00e9\u2028'\u0085; touch @M@ '\u00e9",
}


def _toml(checks: list[tuple[str, str]], parallel: int = 4) -> str:
    text = f'[bundle]\nname = "quoting"\nos = "linux"\nparallel = {parallel}\n'
    for cid, script in checks:
        text += f"[[checks]]\nid = \"{cid}\"\ntimeout = 10\nscript = {json.dumps(script, ensure_ascii=False)}\n"
    return text


def _echoing(payload: str) -> str:
    """A script that prints `payload` (a quoted heredoc: taken literally) and is OK."""
    return f"cat <<'TDEND'\n{payload}\nTDEND\nexit 0\n"


@pytest.mark.parametrize("shell", AVAILABLE)
def test_no_script_escapes_its_quoted_word(shell, tmp_path):
    marker = tmp_path / "escaped"
    checks = [(name, _echoing(p.replace("@M@", str(marker)))) for name, p in PAYLOADS.items()]
    # and the same payloads as the script's last bytes (no heredoc, a comment)
    checks += [(f"{name}-tail", "echo tail\n#" + p.replace("@M@", str(marker)))
               for name, p in PAYLOADS.items() if "\n" not in p and "\r" not in p]
    run = run_bundle(bundle_of(_toml(checks)), SHELLS[shell])
    assert not marker.exists(), "a script ran code outside its check"
    assert run.parser.tampered is None
    got = run.by_id()
    for name, payload in PAYLOADS.items():
        want = payload.replace("@M@", str(marker)).replace("\r\n", "\n").replace("\r", "\n")
        assert got[name].exit_code == 0, (name, got[name].summary, got[name].output)
        assert got[name].output.rstrip("\n") == want.rstrip("\n") or name == "unicode", (name, got[name].output)
    for cid, result in got.items():
        if cid.endswith("-tail"):
            assert (result.exit_code, result.output.strip()) == (0, "tail"), (cid, result.output)


@pytest.mark.parametrize("shell", AVAILABLE)
def test_a_script_of_exactly_the_cap_with_quotes_everywhere(shell, tmp_path):
    """64 KiB of single quotes (each one becomes four characters in the text) and
    one line of 64 KiB: both run, verbatim, in the environment of their shell."""
    marker = tmp_path / "escaped"
    head = f": '\ntouch {marker}\n'\n"
    quotes = "x=" + "\\'" * ((MAX_SCRIPT_BYTES - len(head) - len("x=") - len("\necho OK - q")) // 2)
    q_script = head + quotes + "\necho OK - q"
    assert len(q_script.encode()) <= MAX_SCRIPT_BYTES
    long_line = "echo OK - l #" + "'" * (MAX_SCRIPT_BYTES - len("echo OK - l #"))
    assert len(long_line.encode()) == MAX_SCRIPT_BYTES
    run = run_bundle(bundle_of(_toml([("q", q_script), ("l", long_line)], parallel=2)), SHELLS[shell])
    assert not marker.exists()
    got = run.by_id()
    assert (got["q"].status, got["q"].summary) == (Status.OK, "q"), got["q"].output[:200]
    assert (got["l"].status, got["l"].summary) == (Status.OK, "l"), got["l"].output[:200]
