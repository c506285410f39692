"""Clean untrusted text for a terminal or a window: one rule for all of techdesk.

Text from outside (check output, SSH banners and errors, imported or synced
names, notes) may hold terminal escape sequences (which could rewrite a
technician's terminal, set its title or add hyperlinks), bidi controls (which
can make a line display reversed), stray control characters. All of that is
removed here, with regexes and str.translate only: this runs over megabytes.
"""

from __future__ import annotations

import re

# ESC-introduced sequences (7-bit) and their 8-bit C1 forms:
#   CSI  ESC [ ... final byte          | U+009B ... final
#   OSC  ESC ] ... BEL or ST (ESC \)   | U+009D ... ST
#   DCS/SOS/PM/APC  ESC P/X/^/_ ... ST | U+0090/0098/009E/009F ... ST
#   other two-byte escapes             ESC + one char
# An unterminated string sequence runs to the end of the text: it is dropped
# rather than leaving its payload visible.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                 # CSI
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])           # OSC, DCS, SOS, PM, APC
        [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?
  | \x1b[ -/]*[0-~]?                                  # other ESC sequences
    """,
    re.VERBOSE,
)

_NEWLINES = re.compile(r"\r\n?")

# C0 controls except \t and \n, DEL, C1 controls, and the bidi controls
# (embeddings/overrides U+202A-E, isolates U+2066-9, LRM/RLM, ALM).
_DROP = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0),
     *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C],
)


def clean_text(text: str) -> str:
    """Strip escape sequences, control characters and bidi controls from text."""
    text = _ESCAPES.sub("", text)
    text = _NEWLINES.sub("\n", text)
    return text.translate(_DROP)


def is_clean(text: str) -> bool:
    """True if clean_text leaves ``text`` unchanged (no escape, control or bidi character
    other than tab and newline)."""
    return clean_text(text) == text
