"""The terminal's painting: each row's rendering is kept, keyed by its content and selection,
so what is drawn must follow every change to a row, also one that leaves its text alone."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage

from techdesk.ui.views.terminal_view import MARGIN, TerminalView


def _view(qtbot) -> TerminalView:
    view = TerminalView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view._apply_size()
    return view


def _row_colours(view: TerminalView, y: int) -> tuple[int, int, int]:
    """(reddish, greenish, selection-blue) pixel counts in screen row `y`."""
    image: QImage = view.canvas.grab().toImage()
    top = MARGIN + int(y * view.canvas.cell_h)
    red = green = blue = 0
    for py in range(top + 1, top + int(view.canvas.cell_h) - 1):
        for px in range(MARGIN, MARGIN + int(12 * view.canvas.cell_w)):
            c = QColor(image.pixel(px, py))
            red += c.red() > 120 and c.green() < 90 and c.blue() < 90
            green += c.green() > 120 and c.red() < 90
            blue += (c.red(), c.green(), c.blue()) == (0x26, 0x4f, 0x78)
    return red, green, blue


def test_a_cached_row_is_redrawn_when_only_its_colour_changes(qtbot):
    view = _view(qtbot)
    view.emulator.feed(b"\x1b[31mhello world\x1b[0m")
    red, green, _ = _row_colours(view, 0)
    assert red > 20 and green == 0
    assert _row_colours(view, 0)[:2] == (red, green)   # painted again from the kept rendering
    view.emulator.feed(b"\r\x1b[32mhello world\x1b[0m")   # same text, new colour
    red, green, _ = _row_colours(view, 0)
    assert green > 20 and red == 0


def test_selection_change_redraws_a_cached_row(qtbot):
    view = _view(qtbot)
    view.emulator.feed(b"hello world\r\nsecond line")
    assert _row_colours(view, 0)[2] == 0
    top = view.top_row()                      # selections are in scrollback + screen rows
    view.select((top, 0), (top, 4))
    assert _row_colours(view, 0)[2] > 50
    view.select((top + 1, 0), (top + 1, 4))
    assert _row_colours(view, 0)[2] == 0 and _row_colours(view, 1)[2] > 50


def test_rows_are_built_once_and_reused_when_they_scroll(qtbot, monkeypatch):
    view = _view(qtbot)
    view.emulator.feed(b"".join(b"line %d\r\n" % i for i in range(view.emulator.lines - 1)))
    view.canvas.grab()
    built = []
    real = view.canvas._row_ops
    monkeypatch.setattr(view.canvas, "_row_ops", lambda *a: built.append(a) or real(*a))
    view.canvas.grab()
    assert built == []                          # nothing changed: every row from the cache
    view.emulator.feed(b"one more\r\nand another")   # the screen scrolls by one row
    view.canvas.grab()
    assert [a[0] for a in built] == [view.emulator.row_cells(view.emulator.total_lines - 2),
                                     view.emulator.row_cells(view.emulator.total_lines - 1)]


def test_text_after_a_wide_character_stays_on_its_own_cells(qtbot):
    view = _view(qtbot)
    view.emulator.feed("中ab".encode())
    ops = view.canvas._row_ops(view.emulator.row_cells(view.emulator.total_lines - view.emulator.lines),
                               view.emulator.columns, 0, 0)
    cw = view.canvas.cell_w
    assert [(round(rect.x() / cw), text) for rect, _bg, _f, _fg, _at, text in ops] == [(0, "中"), (2, "ab")]
