"""Output sanitizing: escapes, control and bidi characters, invalid UTF-8, cap."""

from __future__ import annotations

import time

import pytest

from techdesk.diagnostics.sanitize import TRUNCATION_MARK, clean_output, clean_text


@pytest.mark.parametrize(("raw", "expected"), [
    (b"\x1b[31mred\x1b[0m", "red"),
    (b"\x1b[1;38;5;196mbold\x1b[K", "bold"),
    (b"a\x1b]0;evil title\x07b", "ab"),
    (b"a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
    (b"a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),            # DCS (sixel)
    (b"a\x1b_apc payload\x1b\\b", "ab"),             # APC
    (b"a\x1b(Bb\x1b7c\x1b8", "abc"),                 # charset, save/restore cursor
    (b"a\xc2\x9b31mb", "ab"),                        # 8-bit CSI (U+009B)
    (b"a\xc2\x9d0;t\xc2\x9cb", "ab"),                # 8-bit OSC ... ST
    (b"a\x1b]0;never terminated", "a"),              # unterminated: dropped
    (b"line1\r\nline2\rline3\n", "line1\nline2\nline3\n"),
    (b"tab\tkept\x00\x07\x08\x0b\x0c\x7f!", "tab\tkept!"),
    (b"bell\x07 and \x1b", "bell and "),
    ("\u202eevil\u202c \u2066iso\u2069 \u200eltr\u200f \u061calm".encode(), "evil iso ltr alm"),
    (b"bad \xff\xfe utf8", "bad \ufffd\ufffd utf8"),
    ("caf\u00e9 \u2713 \u4e2d".encode(), "caf\u00e9 \u2713 \u4e2d"),
])
def test_clean(raw, expected):
    assert clean_output(raw, 1 << 20) == (expected, False)


def test_cap_truncates_with_visible_marker():
    text, truncated = clean_output(b"x" * 100, 10)
    assert truncated
    assert text == "x" * 10 + TRUNCATION_MARK
    assert clean_output(b"x" * 10, 10) == ("x" * 10, False)


def test_clean_text_on_str():
    assert clean_text("\x1b[2Jok\u202e") == "ok"


def test_fast_on_megabytes():
    chunk = ("plain text \x1b[31mred\x1b[0m \u202eoverride\u202c tab\t"
             "\x1b]0;title\x07 \x00\x01").encode() + b"\xff\n"
    data = chunk * (4 * 1024 * 1024 // len(chunk))
    start = time.process_time()  # CPU time: robust on a loaded machine
    text, truncated = clean_output(data, len(data))
    elapsed = time.process_time() - start
    assert not truncated
    assert "\x1b" not in text and "\u202e" not in text and "\x00" not in text
    assert elapsed < 2.0, f"cleaning 4 MB took {elapsed:.2f} s of CPU"
