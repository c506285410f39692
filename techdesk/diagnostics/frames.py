"""Read the framed output of a compiled bundle back into CheckResults.

The stream (see compile.py) is parsed incrementally: a frame may be split
across chunks at any byte. The only frame accepted is the exact next one:
NEXT, BEGIN and END of each check in the bundle's order, with that check's
token. Any other line starting with this run's mark can only come from someone
who read the mark out of the machine: it marks the run as ``tampered`` (kept,
with the reason), and from then on nothing more is accepted or sent.
For a conversing script the parser also produces what to send on stdin: each
check's token, once the shell asks for it (NEXT) after the previous check ended.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from techdesk.core.findings import CheckResult
from techdesk.core.perfdata import apply_thresholds, parse_output, strip_status_word
from techdesk.core.severity import Status
from techdesk.diagnostics.bundle import CheckDef
from techdesk.diagnostics.compile import DEFAULT_OUTPUT_CAP, CompiledScript, mark
from techdesk.diagnostics.sanitize import clean_output

Thresholds = Mapping[str, Mapping[str, Any]]
_MAX_FRAME_LINE = 16 * 1024  # a real frame line is far shorter (a wave's NEXT names its checks)
_STRAY_CAP = 64 * 1024     # text outside frames (shell errors, banners) we keep
_FLAGS = set("THE")
_ORDER = ("NEXT", "BEGIN", "END")
DEFAULT_FINISH_REASON = "the output ended before the check finished"
HELD_NOTE = ("\n[techdesk: a process the check left running held its output open; "
             "stopped waiting for it at the check's timeout]\n")


def untrusted(result: CheckResult, why: str) -> CheckResult:
    """The same result, UNKNOWN: it came from a run that was tampered with."""
    return dataclasses.replace(result, status=Status.UNKNOWN,
                               summary=f"not trusted ({why}): {result.summary}")


class FrameParser:
    """Turn the bytes of one run into CheckResults, as they arrive.

    ``thresholds`` optionally overrides per check id: {check_id: {label: spec}},
    merged over the bundle's own thresholds (client/site/host overrides).
    """

    def __init__(self, script: CompiledScript, checks: list[CheckDef],
                 thresholds: Mapping[str, Thresholds] | None = None,
                 output_cap: int = DEFAULT_OUTPUT_CAP,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if len(script.tokens) != len(checks):
            raise ValueError("one token per check")
        self._mark = mark(script.nonce).encode("ascii")
        self._needle = b"\n" + self._mark
        self._checks = list(checks)
        self._tokens = list(script.tokens)
        self._converse = script.converse
        self._overrides = thresholds or {}
        self._cap = output_cap
        self._clock = clock
        # A virtual newline so a frame at the very start of the stream is found.
        self._buf = bytearray(b"\n")
        self._next = 0                        # index of the check whose frames come next
        self._stage = "NEXT"                  # the frame expected for it: NEXT, BEGIN, END
        self._released = 0                    # checks whose tokens were asked for (NEXT)
        self._current: CheckDef | None = None  # the check whose output we read
        self._out = bytearray()
        self._started = 0.0
        self._stray = bytearray()
        self._finished = False
        self._input = bytearray()
        self.tampered: str | None = None       # why the run is not to be trusted
        self.results: list[CheckResult] = []

    @property
    def done(self) -> bool:
        """True once every check of the bundle has its END frame."""
        return len(self.results) == len(self._checks) and self._current is None

    @property
    def input_closed(self) -> bool:
        """Nothing more will be sent: close stdin (the shell then stops)."""
        return not self._converse or self.done or self.tampered is not None or self._finished

    def take_input(self) -> bytes:
        """Bytes to send on the script's stdin now (tokens asked for)."""
        data = bytes(self._input)
        self._input.clear()
        return data

    @property
    def stray_output(self) -> str:
        """Cleaned text seen outside any frame (e.g. a remote shell error)."""
        return clean_output(bytes(self._stray), _STRAY_CAP)[0].strip()

    def feed(self, data: bytes, now: float | None = None) -> list[CheckResult]:
        """Consume a chunk; return the results completed by it, in order."""
        if self._finished or self.tampered is not None or not data:
            return []
        now = self._clock() if now is None else now
        self._buf += data
        completed: list[CheckResult] = []
        while self.tampered is None:
            at = self._buf.find(self._needle)
            if at < 0:
                # Keep a tail that may be the start of a split frame.
                self._take(len(self._buf) - (len(self._needle) - 1))
                return completed
            self._take(at)  # the buffer now starts with "\nMARK"
            line_end = self._buf.find(b"\n", 1)
            if line_end < 0:
                if len(self._buf) > _MAX_FRAME_LINE:
                    self._tamper("a frame line that does not end")
                return completed  # wait for the rest of the frame line
            result = self._frame(bytes(self._buf[1:line_end]), now)
            del self._buf[: line_end + 1]
            if isinstance(result, CheckResult):
                completed.append(result)
        return completed

    def finish(self, reason: str | None = None) -> list[CheckResult]:
        """End of stream: every check without a result becomes UNKNOWN."""
        if self._finished:
            return []
        self._finished = True
        why = reason or ("techdesk stopped the run: it was tampered with" if self.tampered
                         else DEFAULT_FINISH_REASON)
        completed: list[CheckResult] = []
        if self.tampered is None:
            self._take(len(self._buf))
        if self._current is not None:
            check, self._current = self._current, None
            duration = max(0.0, self._clock() - self._started)
            completed.append(self._build(check, None, "", duration,
                                         summary=f"no result: {why} (check was running)"))
            self._next += 1
        for check in self._checks[self._next:]:
            completed.append(CheckResult(
                id=check.id, title=check.title, status=Status.UNKNOWN,
                summary=f"no result: {why} (check did not start)", exit_code=None,
                duration_s=0.0))
        self._next = len(self._checks)
        self.results += completed
        return completed

    # -- internals ---------------------------------------------------------

    def _take(self, n: int) -> None:
        """Move the first n buffered bytes to the current output (or stray)."""
        if n <= 0:
            return
        chunk = self._buf[:n]
        del self._buf[:n]
        if self._current is not None:
            room = self._cap + 1 - len(self._out)
            if room > 0:
                self._out += chunk[:room]
        else:
            room = _STRAY_CAP + 1 - len(self._stray)
            if room > 0:
                self._stray += chunk[:room]

    def _tamper(self, why: str) -> None:
        if self.tampered is None:
            self.tampered = why
            self._input.clear()

    def _frame(self, line: bytes, now: float) -> CheckResult | None:
        """Handle one line that starts with the mark: the exact next frame, or tampering."""
        rest = line[len(self._mark):]
        words = rest.decode("ascii", "replace").split(" ")
        if not rest.startswith(b" ") or len(words) < 3:
            self._tamper("a malformed frame line")
            return None
        kind, cid, args = words[1], words[2], words[3:]
        if self._next >= len(self._checks):
            self._tamper(f"a {kind[:8]} frame after the last check ended")
            return None
        check, token = self._checks[self._next], self._tokens[self._next]
        misplaced = self._misplaced(kind, cid, check)
        if misplaced:
            self._tamper(misplaced)
            return None
        if kind == "NEXT":
            return self._release([cid, *args])
        if not args or args[0] != token:
            self._tamper(f"a {kind} frame for check {cid!r} with a wrong token")
            return None
        if kind == "BEGIN":
            if len(args) != 1:
                self._tamper("a malformed frame line")
                return None
            self._stage, self._current = "END", check
            self._out, self._started = bytearray(), now
            return None
        if (len(args) not in (3, 4) or not args[1].isdigit()
                or not (args[2] == "-" or set(args[2]) <= _FLAGS)
                or (len(args) == 4 and not (args[3] == "-" or args[3].isdigit()))):
            self._tamper("a malformed frame line")
            return None
        self._current = None
        self._next += 1
        self._stage = "BEGIN" if self._next < self._released else "NEXT"
        # A check run in a wave says how long it ran (centiseconds); otherwise
        # BEGIN to END as seen here is its time.
        duration = (int(args[3]) / 100 if len(args) == 4 and args[3].isdigit()
                    else max(0.0, now - self._started))
        result = self._build(check, int(args[1]), args[2], duration)
        self.results.append(result)
        return result

    def _release(self, ids: list[str]) -> None:
        """NEXT for one check, or for a wave of checks that all ended: exactly the
        checks due next, in order. Their tokens go out together, on one line."""
        due = [c.id for c in self._checks[self._next:self._next + len(ids)]]
        if ids != due:
            if len(set(ids)) != len(ids):
                self._tamper(f"a NEXT frame naming a check twice ({ids[0][:40]!r}...)")
            else:
                self._tamper(f"a NEXT frame for checks out of order ({' '.join(ids)[:80]!r})")
            return None
        self._released = self._next + len(ids)
        self._stage = "BEGIN"
        if self._converse:
            self._input += " ".join(self._tokens[self._next:self._released]).encode("ascii") + b"\n"
        return None

    def _misplaced(self, kind: str, cid: str, check: CheckDef) -> str | None:
        """Why a frame line is not the one due next (for `check`, at this stage), or None."""
        if cid != check.id:
            if cid not in {c.id for c in self._checks}:
                return f"a frame for a check that was not sent ({cid[:40]!r})"
            if any(r.id == cid for r in self.results):
                return f"a second {kind[:8]} frame for check {cid!r}"
            return f"frames out of order: {kind[:8]} for {cid!r} while {self._stage} for {check.id!r} was due"
        if kind != self._stage:
            if kind not in _ORDER:
                return "a malformed frame line"
            if _ORDER.index(kind) < _ORDER.index(self._stage):
                return f"a second {kind} frame for check {cid!r}"
            return f"frames out of order: {kind} for {cid!r} before its {self._stage}"
        return None

    def _build(self, check: CheckDef, exit_code: int | None, flags: str, duration: float,
               summary: str | None = None) -> CheckResult:
        text, truncated = clean_output(bytes(self._out), self._cap)
        self._out = bytearray()
        first_line, metrics = parse_output(text)
        timed_out = "T" in flags
        if timed_out:
            exit_code = 3
            summary = f"timed out after {check.timeout} s"
        status = Status.from_exit_code(exit_code)
        thresholds = {**check.thresholds, **self._overrides.get(check.id, {})}
        status = apply_thresholds(status, metrics, thresholds)
        if summary is None:
            summary = strip_status_word(first_line) if first_line else "no output"
        if "H" in flags:
            text += HELD_NOTE
        return CheckResult(id=check.id, title=check.title, status=status, summary=summary,
                           exit_code=exit_code, duration_s=duration, metrics=metrics,
                           output=text, truncated=truncated, timed_out=timed_out)


class ScriptFeed:
    """stdin of one run (ssh.execute.StdinFeed): the script, then each token the
    parser releases; closed once the parser expects nothing more."""

    def __init__(self, script: CompiledScript, parser: FrameParser) -> None:
        self._first: bytes | None = script.text.encode("utf-8")
        self._parser = parser

    def take(self) -> bytes:
        first, self._first = self._first or b"", None
        return first + self._parser.take_input()

    @property
    def closed(self) -> bool:
        return self._first is None and self._parser.input_closed

    @property
    def complete(self) -> bool:
        """Every check has its result: nothing more from the host counts (the run does
        not wait for the shell to exit, or for a process left holding its output)."""
        return self._first is None and self._parser.done and self._parser.tampered is None
