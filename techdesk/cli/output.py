"""Printing for the CLI: JSON on stdout, tables, progress on stderr."""

from __future__ import annotations

import json
import sys
import time


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
