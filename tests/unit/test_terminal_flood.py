"""A flood of plain lines may drop its head unparsed only when that is the same as parsing it."""

import pytest

from techdesk.terminal.emulator import Emulator, scrolled_away


def _lines(n: int, start: int = 0) -> bytes:
    return b"".join(b"%d\r\n" % i for i in range(start, start + n))


def _rows(emu: Emulator) -> list[str]:
    return [emu.row_text(i) for i in range(emu.total_lines)]


@pytest.mark.parametrize("before", [b"", b"\x1b[31mred\x1b[0m start\r\n", b"half a line", b"\x1b]0;title\x07x"])
def test_dropping_the_head_gives_the_same_screen_and_scrollback(before):
    full, fast = Emulator(40, 5, scrollback=50), Emulator(40, 5, scrollback=50)
    full.feed(before)
    fast.feed(before)
    flood = _lines(600) + b"tail"
    dropped = scrolled_away(flood, fast.flood_keep_lines())
    assert dropped > 0
    full.feed(flood)
    fast.feed(flood[dropped:])
    assert _rows(full) == _rows(fast)
    assert (full.screen.cursor.x, full.screen.cursor.y) == (fast.screen.cursor.x, fast.screen.cursor.y)


@pytest.mark.parametrize("hostile", [
    b"\x1b]52;c;aGVsbG8=\x07",        # a clipboard write must be parsed (and dropped by the screen)
    b"\x1b[?1049h",                   # the alternate screen changes what scrolls
    b"\x1b]0;new title\x07",          # a title change must reach the tab
    "é".encode(),                     # not ASCII: could be half a character
    b"bare\rreturn\r\n",              # a lone CR rewrites a row
])
def test_anything_but_plain_lines_is_parsed(hostile):
    flood = _lines(300) + hostile + _lines(300, 300)
    assert scrolled_away(flood, 100) == 0      # it lies in the head that would be dropped
    assert scrolled_away(hostile + _lines(1000), 100) == 0


def test_no_drop_when_the_screen_state_would_differ():
    emu = Emulator(40, 5, scrollback=50)
    emu.feed(b"\x1b[?1049h")                 # alternate screen
    assert emu.flood_keep_lines() is None
    emu.feed(b"\x1b[?1049l\x1b[2;4r")        # scroll margins
    assert emu.flood_keep_lines() is None
    emu.feed(b"\x1b[r\x1b[3")                # in the middle of a CSI sequence
    assert emu.flood_keep_lines() is None
    emu.feed(b"m\xc3")                       # half a UTF-8 character
    assert emu.flood_keep_lines() is None
    emu.feed(b"\xa9")
    assert emu.flood_keep_lines() == 50 + 10
    assert scrolled_away(_lines(59), 60) == 0  # too few lines after it: nothing dropped
