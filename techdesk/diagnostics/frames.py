"""Read the framed output of a compiled bundle back into CheckResults.

The stream (see compile.py) is parsed incrementally: a frame may be split
across chunks at any byte. Only frames carrying this run's nonce count, and
only in the bundle's order; anything else is plain output of the running check
(or stray text between checks, kept apart in ``stray_output``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from techdesk.core.findings import CheckResult
from techdesk.core.perfdata import apply_thresholds, parse_output, strip_status_word
from techdesk.core.severity import Status
from techdesk.diagnostics.bundle import CheckDef
from techdesk.diagnostics.compile import DEFAULT_OUTPUT_CAP, mark
from techdesk.diagnostics.sanitize import clean_output

Thresholds = Mapping[str, Mapping[str, Any]]
_MAX_FRAME_LINE = 512      # a real frame line is far shorter; longer is output
_STRAY_CAP = 64 * 1024     # text outside frames (shell errors, banners) we keep
DEFAULT_FINISH_REASON = "the output ended before the check finished"


class FrameParser:
    """Turn the bytes of one run into CheckResults, as they arrive.

    ``thresholds`` optionally overrides per check id: {check_id: {label: spec}},
    merged over the bundle's own thresholds (client/site/host overrides).
    """

    def __init__(self, nonce: str, checks: list[CheckDef],
                 thresholds: Mapping[str, Thresholds] | None = None,
                 output_cap: int = DEFAULT_OUTPUT_CAP,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._mark = mark(nonce).encode("ascii")
        self._needle = b"\n" + self._mark + b" "
        self._checks = list(checks)
        self._overrides = thresholds or {}
        self._cap = output_cap
        self._clock = clock
        # A virtual newline so a frame at the very start of the stream is found.
        self._buf = bytearray(b"\n")
        self._next = 0                        # index of the next check to begin
        self._current: CheckDef | None = None  # the check whose output we read
        self._out = bytearray()
        self._started = 0.0
        self._stray = bytearray()
        self._finished = False
        self.results: list[CheckResult] = []

    @property
    def done(self) -> bool:
        """True once every check of the bundle has its END frame."""
        return len(self.results) == len(self._checks) and self._current is None

    @property
    def stray_output(self) -> str:
        """Cleaned text seen outside any frame (e.g. a remote shell error)."""
        return clean_output(bytes(self._stray), _STRAY_CAP)[0].strip()

    def feed(self, data: bytes, now: float | None = None) -> list[CheckResult]:
        """Consume a chunk; return the results completed by it, in order."""
        if self._finished or not data:
            return []
        now = self._clock() if now is None else now
        self._buf += data
        completed: list[CheckResult] = []
        while True:
            at = self._buf.find(self._needle)
            if at < 0:
                # Keep a tail that may be the start of a split frame.
                self._take(len(self._buf) - (len(self._needle) - 1))
                return completed
            self._take(at)  # the buffer now starts with "\nMARK "
            line_end = self._buf.find(b"\n", 1)
            if line_end < 0:
                if len(self._buf) > _MAX_FRAME_LINE:
                    self._take(1)  # too long for a frame: plain text, go on
                    continue
                return completed  # wait for the rest of the frame line
            result = self._frame(bytes(self._buf[1:line_end]), now)
            if result is False:
                self._take(1)  # not a frame we expect now: plain text
                continue
            del self._buf[: line_end + 1]
            if isinstance(result, CheckResult):
                completed.append(result)

    def finish(self, reason: str | None = None) -> list[CheckResult]:
        """End of stream: every check without a result becomes UNKNOWN."""
        if self._finished:
            return []
        self._finished = True
        why = reason or DEFAULT_FINISH_REASON
        completed: list[CheckResult] = []
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

    def _frame(self, line: bytes, now: float) -> CheckResult | bool:
        """Handle one frame line: True for a BEGIN, a result for an END, False
        when the line is not a frame we expect now."""
        parts = line[len(self._mark) + 1:].split(b" ")
        try:
            words = [p.decode("ascii") for p in parts]
        except UnicodeDecodeError:
            return False
        if self._current is None:
            if (len(words) == 2 and words[0] == "BEGIN" and self._next < len(self._checks)
                    and words[1] == self._checks[self._next].id):
                self._current = self._checks[self._next]
                self._out, self._started = bytearray(), now
                return True
            return False
        if len(words) == 4 and words[0] == "END" and words[1] == self._current.id:
            check, self._current = self._current, None
            self._next += 1
            exit_code = int(words[2]) if words[2].isdigit() else None
            result = self._build(check, exit_code, words[3], max(0.0, now - self._started))
            self.results.append(result)
            return result
        return False

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
        return CheckResult(id=check.id, title=check.title, status=status, summary=summary,
                           exit_code=exit_code, duration_s=duration, metrics=metrics,
                           output=text, truncated=truncated, timed_out=timed_out)
