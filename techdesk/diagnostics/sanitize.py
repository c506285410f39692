"""Make check output safe to store and show.

Check output comes from the client machine: it may hold terminal escape
sequences, bidi controls, stray control characters and invalid UTF-8. It is
capped, decoded and cleaned here (the cleaning rule itself is core/text.py,
shared with everything else techdesk shows).
"""

from __future__ import annotations

from techdesk.core.text import clean_text

__all__ = ["TRUNCATION_MARK", "clean_output", "clean_text"]

TRUNCATION_MARK = "\n[… output truncated by techdesk …]\n"


def clean_output(data: bytes, cap: int) -> tuple[str, bool]:
    """Decode, cap at ``cap`` bytes and clean check output.

    Returns (text, truncated). When the input is longer than ``cap`` the rest is
    dropped and a visible marker is appended, so nobody mistakes a cut output
    for the whole of it.
    """
    truncated = len(data) > cap
    if truncated:
        data = data[:cap]
    text = clean_text(data.decode("utf-8", errors="replace"))
    if truncated:
        text = text.rstrip("\n") + TRUNCATION_MARK
    return text, truncated
