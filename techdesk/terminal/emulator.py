"""The VT emulator behind a terminal tab: pyte's Screen plus what a shell in a tab needs.

pyte gives the xterm-compatible parser and screen. Added here:
- scrollback: lines scrolled off the top of the main screen go to a bounded deque
  (pyte.HistoryScreen wraps every single event in Python calls and pages by mutating the
  screen; ours costs one append per scrolled line and the view reads it directly);
- the alternate screen (modes 47/1047/1049) that vim, less and htop switch to;
- answers to the host's queries (cursor position, device attributes) go back to the host;
- the window title the host sets is kept as plain, capped text. Every other OSC (52 =
  clipboard write, 8 = hyperlink...) is parsed and dropped: output from a client machine
  never reaches the system clipboard.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from copy import copy
from itertools import chain

import pyte
from pyte.screens import Char

SCROLLBACK_LINES = 10_000
TITLE_MAX = 120
APP_CURSOR = 1 << 5          # DECCKM: arrows send ESC O A instead of ESC [ A
BRACKETED_PASTE = 2004 << 5
_ALT_MODES = {47 << 5, 1047 << 5, 1049 << 5}


CELL = 1 + len(Char._fields)   # a flat row holds, per written cell: column, data, fg, bg, bold, ...


def _compact(line) -> tuple:
    """A row as one flat tuple (column, data, fg, bg, bold, ..., column, data, ...): one object
    per scrollback row. pyte's Char is a namedtuple, which Python's GC never untracks, and a
    tuple per cell made ~350 new objects per row: with the scrollback full, each row evicted
    freed as many as a new one made, the young generation's count stayed near zero and
    millions of young objects piled up until one collection walked them all (0.4-1.7 s)."""
    return tuple(chain.from_iterable((x, *c) for x, c in line.items())) if line else ()


class TerminalScreen(pyte.Screen):
    def __init__(self, columns: int, lines: int, *, scrollback: int = SCROLLBACK_LINES,
                 reply: Callable[[str], None] | None = None) -> None:
        self.scrollback: deque = deque(maxlen=scrollback)
        self._reply = reply or (lambda data: None)
        self._main: tuple | None = None  # (buffer, cursor) of the main screen while the alternate one shows
        super().__init__(columns, lines)

    @property
    def alternate(self) -> bool:
        return self._main is not None

    # -- scrollback ----------------------------------------------------------------------
    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and self._main is None:
            line = self.buffer.get(top)
            self.scrollback.append(_compact(line))
        super().index()

    def erase_in_display(self, how: int = 0, *args, **kwargs) -> None:
        super().erase_in_display(how, *args, **kwargs)
        if how == 3:  # "clear scrollback" (clear(1) sends it)
            self.scrollback.clear()

    # -- the alternate screen ------------------------------------------------------------
    def set_mode(self, *modes: int, **kwargs) -> None:
        super().set_mode(*modes, **kwargs)
        if kwargs.get("private") and _ALT_MODES & {m << 5 for m in modes} and self._main is None:
            self._main = (dict(self.buffer), copy(self.cursor))
            self.buffer.clear()
            self.dirty.update(range(self.lines))

    def reset_mode(self, *modes: int, **kwargs) -> None:
        super().reset_mode(*modes, **kwargs)
        if kwargs.get("private") and _ALT_MODES & {m << 5 for m in modes} and self._main is not None:
            saved, cursor = self._main
            self._main = None
            self.buffer.clear()
            self.buffer.update({y: line for y, line in saved.items() if y < self.lines})
            self.cursor = cursor
            self.ensure_hbounds()
            self.ensure_vbounds()
            self.dirty.update(range(self.lines))

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines = lines or self.lines
        if lines < self.lines and self._main is None:
            # shrinking drops lines at the top: keep them in the scrollback like xterm
            for y in range(self.lines - lines):
                self.scrollback.append(_compact(self.buffer.get(y, {})))
        super().resize(lines, columns)

    # -- what the host may ask and set ---------------------------------------------------
    def write_process_input(self, data: str) -> None:
        self._reply(data)

    def set_title(self, param: str) -> None:
        self.title = plain_title(param)

    def set_icon_name(self, param: str) -> None:
        self.icon_name = plain_title(param)


def plain_title(text: str) -> str:
    """A title from the host as one line of printable text, capped."""
    cleaned = "".join(ch for ch in text[: TITLE_MAX * 4] if ch.isprintable())
    return cleaned[:TITLE_MAX]


class _SafeStream(pyte.ByteStream):
    """pyte's parser, kept alive through sequences it chokes on.

    pyte re-raises whatever a sequence's handler raises (a 5,000-digit CSI parameter is a
    ValueError from int()) and drops the rest of the chunk: one hostile line would end
    the session. Here the bad sequence is dropped and parsing resumes in the ground state.
    """

    def _send_to_parser(self, data: str) -> bool | None:
        try:
            return super()._send_to_parser(data)
        except Exception:  # the parser was reset by pyte; carry on with plain text
            return self._taking_plain_text


# Plain lines: printable ASCII, each ended by CR LF (what `seq`, `cat log`, `find /` send).
_PLAIN_BYTES = bytes(range(0x20, 0x7f)) + b"\r\n"


def scrolled_away(data: bytes | bytearray, keep_lines: int, limit: int = 1 << 20) -> int:
    """How many leading bytes of `data` can be dropped unparsed because every row they would
    draw scrolls out of the screen and the scrollback anyway: a flood of plain lines
    followed by at least `keep_lines` more. Bytes with any escape, control or non-ASCII
    byte are never dropped (they may change modes, colours or the title). 0 = none;
    at most about `limit` bytes.
    C-speed scans only (translate, count): this runs over megabytes on the GUI thread."""
    # The tail to keep: grown until it holds keep_lines lines (up to twice as many are kept;
    # a few C calls, not a Python loop per line, so the GUI thread is not held).
    tail = min(len(data), max(64, keep_lines * 8))
    while data.count(b"\r\n", len(data) - tail) < keep_lines:
        if tail == len(data):
            return 0
        tail = min(len(data), tail * 2)
    # At most `limit` bytes per call: each scan holds the GIL (and the GUI thread) for its length.
    cut = data.rfind(b"\r\n", 0, min(len(data) - tail + 1, limit))   # a line end before the tail
    if cut <= 0:
        return 0
    head = bytes(data[:cut + 2])
    if head.translate(None, _PLAIN_BYTES):          # an escape, a control or a non-ASCII byte
        return 0
    pairs = head.count(b"\r\n")
    if head.count(b"\r") != pairs or head.count(b"\n") != pairs:   # a lone CR or LF
        return 0
    return cut + 2


class Emulator:
    """Bytes from the host in, a screen (plus scrollback) out. GUI-thread only."""

    def __init__(self, columns: int = 80, lines: int = 24, *, scrollback: int = SCROLLBACK_LINES,
                 reply: Callable[[bytes], None] | None = None) -> None:
        send = reply or (lambda data: None)
        self.screen = TerminalScreen(columns, lines, scrollback=scrollback,
                                     reply=lambda text: send(text.encode("utf-8")))
        self.stream = _SafeStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)

    def flood_keep_lines(self) -> int | None:
        """For scrolled_away(): the lines a flood must still have to push everything now on
        screen and in the scrollback out (with a screen's margin); None when dropping would
        not be the same as parsing: the alternate screen, scroll margins, or the parser or
        the UTF-8 decoder in the middle of a sequence."""
        screen, stream = self.screen, self.stream
        if screen.alternate or (screen.margins and screen.margins != (0, screen.lines - 1)):
            return None
        if stream._taking_plain_text is not True or stream.utf8_decoder.getstate()[0]:
            return None
        return (screen.scrollback.maxlen or 0) + 2 * screen.lines

    def resize(self, columns: int, lines: int) -> None:
        self.screen.resize(lines, columns)

    @property
    def columns(self) -> int:
        return self.screen.columns

    @property
    def lines(self) -> int:
        return self.screen.lines

    @property
    def total_lines(self) -> int:
        """Scrollback plus screen: the rows a view can show (row 0 = oldest)."""
        return len(self.screen.scrollback) + self.screen.lines

    def row(self, index: int) -> dict[int, Char]:
        """Row `index` of scrollback + screen as {column: Char} (missing = blank)."""
        back = self.screen.scrollback
        if index < len(back):
            flat = back[index]
            return {flat[i]: Char(*flat[i + 1:i + CELL]) for i in range(0, len(flat), CELL)}
        return self.screen.buffer.get(index - len(back), {})

    def row_cells(self, index: int) -> tuple:
        """Row `index` as a flat tuple (column, data, fg, bg, ... per written cell, CELL items
        each): its whole content, hashable, so the view can key a row's rendering on it. A
        screen row and the same row once scrolled into the scrollback are equal."""
        back = self.screen.scrollback
        if index < len(back):
            return back[index]
        return _compact(self.screen.buffer.get(index - len(back)))

    def row_text(self, index: int, start: int = 0, end: int | None = None) -> str:
        back = self.screen.scrollback
        if index < len(back):
            flat = back[index]
            chars = dict(zip(flat[::CELL], flat[1::CELL], strict=True))
        else:
            chars = {x: c.data for x, c in self.screen.buffer.get(index - len(back), {}).items()}
        end = self.screen.columns if end is None else end
        return "".join(chars.get(x, " ") for x in range(start, end))

    def text(self) -> list[str]:
        """The visible screen as text lines (trailing blanks kept)."""
        base = len(self.screen.scrollback)
        return [self.row_text(base + y) for y in range(self.screen.lines)]

    def find(self, needle: str, before: int | None = None) -> tuple[int, int] | None:
        """(row, column) of the last match above row `before` (None = everywhere), case-insensitive."""
        if not needle:
            return None
        needle = needle.lower()
        last = self.total_lines if before is None else max(0, min(before, self.total_lines))
        for index in range(last - 1, -1, -1):
            col = self.row_text(index).lower().rfind(needle)
            if col >= 0:
                return index, col
        return None

    @property
    def app_cursor_keys(self) -> bool:
        return APP_CURSOR in self.screen.mode

    @property
    def bracketed_paste(self) -> bool:
        return BRACKETED_PASTE in self.screen.mode
