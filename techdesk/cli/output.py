"""Printing for the CLI: JSON on stdout, tables, progress on stderr, all of it cleaned."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time

from techdesk.core.text import clean_text


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain aligned text table."""
    cells = [headers] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def warn(message: str) -> None:
    print(f"techdesk: warning: {message}", file=sys.stderr)


class HostProgress:
    """Per-host lines on stderr as run results arrive (`run`, `sweep`)."""

    def __init__(self, total: int | None = None) -> None:
        self.total, self.done, self.t0 = total, 0, time.monotonic()

    def event(self, event) -> None:
        if event.kind != "host-done" or event.result is None:
            return
        self.done += 1
        r = event.result
        what = f"{r.error.kind}: {r.error.message}" if r.error else f"{len(r.checks)} checks"
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        print(f"[{count} {time.monotonic() - self.t0:5.1f}s] {r.host}: {r.status.value.upper()} ({what})",
              file=sys.stderr, flush=True)


class CleanStream(io.TextIOBase):
    """stdout/stderr for the CLI: everything written passes through clean_text, so
    no escape, control or bidi sequence from a client machine, an import, the shared
    folder or the store reaches the technician's terminal (main() installs it)."""

    def __init__(self, raw) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(clean_text(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.raw, "encoding", "utf-8")


@contextlib.contextmanager
def clean_output_streams():
    """Wrap sys.stdout and sys.stderr in CleanStream for the duration."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CleanStream(saved[0]), CleanStream(saved[1])
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = saved
