"""The terminal tab's character grid: paints the emulator's rows (each row's drawing kept,
keyed by its cells and selected span, so a repaint builds only rows it has not drawn) and
turns mouse and keyboard input into the view's selection and keys."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QWidget

from techdesk.terminal.emulator import CELL

if TYPE_CHECKING:
    from techdesk.ui.views.terminal_view import TerminalView

MARGIN = 4               # pixels between the tab's edge and the text
BACKGROUND = QColor("#1e1f22")
FOREGROUND = QColor("#d4d4d4")
SELECTION = QColor("#264f78")
_NAMED = {  # pyte's colour names -> the palette (dark theme, like most terminals)
    "black": "#000000", "red": "#cd3131", "green": "#0dbc79", "brown": "#e5e510", "yellow": "#e5e510",
    "blue": "#2472c8", "magenta": "#bc3fbc", "cyan": "#11a8cd", "white": "#e5e5e5",
    "brightblack": "#666666", "brightred": "#f14c4c", "brightgreen": "#23d18b", "brightbrown": "#f5f543",
    "brightyellow": "#f5f543", "brightblue": "#3b8eea", "brightmagenta": "#d670d6", "brightcyan": "#29b8db",
    "brightwhite": "#ffffff",
}
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
# Ctrl+Shift+these belong to the terminal; other Ctrl+Shift shortcuts stay the window's.
_TERMINAL_SHORTCUTS = {Qt.Key.Key_C, Qt.Key.Key_V, Qt.Key.Key_F, Qt.Key.Key_Plus, Qt.Key.Key_Equal,
                       Qt.Key.Key_Minus, Qt.Key.Key_Underscore, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}
_WINDOW_CTRL_KEYS = {Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Q}  # switch tabs, quit


def _colour(name: str, default: QColor) -> QColor:
    if name == "default":
        return default
    if name in _NAMED:
        return QColor(_NAMED[name])
    if len(name) == 6:
        colour = QColor("#" + name)
        if colour.isValid():
            return colour
    return default


class TerminalCanvas(QWidget):
    """The character grid."""

    def __init__(self, view: TerminalView) -> None:
        super().__init__(view)
        self.view = view
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
        self.setMinimumSize(200, 100)
        self.setCursor(Qt.CursorShape.IBeamCursor)

    def set_font(self, font: QFont) -> None:
        self.font_ = font
        self.bold = QFont(font)
        self.bold.setBold(True)
        metrics = QFontMetricsF(font)
        self.cell_w = max(1.0, metrics.horizontalAdvance("M"))
        self.cell_h = max(1.0, metrics.lineSpacing())
        self.ascent = metrics.ascent()
        self._fonts: dict[tuple, QFont] = {}
        self._rows: dict[tuple, list] = {}   # (row cells, selected span) -> draw operations
        self._rows_columns = 0
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.view._resize_timer.start()

    # Keys: the terminal gets them all (Tab, Esc, F5...), not the window's shortcuts.
    def event(self, event) -> bool:
        if event.type() == event.Type.ShortcutOverride:
            mods, key = event.modifiers(), event.key()
            ours = key in _TERMINAL_SHORTCUTS if (mods & CTRL_SHIFT) == CTRL_SHIFT else not (
                mods & Qt.KeyboardModifier.ControlModifier and key in _WINDOW_CTRL_KEYS)
            if ours:  # e.g. Ctrl+Shift+C copies here, not the window's "Copy run"; Esc goes to the host
                event.accept()
                return True
        if event.type() == event.Type.KeyPress and self.view.handle_key(event):
            event.accept()
            return True
        return super().event(event)

    def focusNextPrevChild(self, _next: bool) -> bool:  # noqa: N802 - Qt API: Tab goes to the host
        return False

    def inputMethodEvent(self, event) -> None:  # noqa: N802 - composed characters (dead keys, IMEs)
        if event.commitString():
            self.view._send(event.commitString().encode("utf-8"))

    def cell_at(self, pos) -> tuple[int, int]:
        column = max(0, min(self.view.emulator.columns - 1, int((pos.x() - MARGIN) // self.cell_w)))
        row = max(0, min(self.view.emulator.lines - 1, int((pos.y() - MARGIN) // self.cell_h)))
        return self.view.top_row() + row, column

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus()
        if event.button() == Qt.MouseButton.LeftButton:
            self.view._anchor = self.cell_at(event.position())
            self.view._sel = None
            self.update()
        elif event.button() == Qt.MouseButton.MiddleButton:
            self.view.paste()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self.view._anchor is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.view.select(self.view._anchor, self.cell_at(event.position()))

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self.view._anchor = None

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - select a word
        row, col = self.cell_at(event.position())
        text = self.view.emulator.row_text(row)
        start = end = col
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) - 1 and not text[end + 1].isspace():
            end += 1
        if not text[col].isspace():
            self.view.select((row, start), (row, end))

    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.angleDelta().y() // 40
        if steps:
            self.view.scroll_by(steps)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        self.view.context_menu(event.globalPos())

    # -- painting ---------------------------------------------------------------------------
    # Each row is turned into draw operations once and kept, keyed by the row's content and
    # its selected span: a repaint (cursor blink, a key echoed, one row scrolled) only builds
    # the rows it has not seen, and a row that scrolls up or into the scrollback is a hit.
    # Building a row costs ~0.1-0.3 ms in Python; drawing its kept operations a few Qt calls.
    def paintEvent(self, event) -> None:  # noqa: N802
        started = time.perf_counter()
        view, emu = self.view, self.view.emulator
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.translate(MARGIN, MARGIN)
        top = view.top_row()
        sel = sorted(view._sel) if view._sel else None
        cw, ch = self.cell_w, self.cell_h
        columns = emu.columns
        if columns != self._rows_columns:
            self._rows, self._rows_columns = {}, columns
        rows, seen = self._rows, {}
        area = event.rect()     # only the rows Qt asked for (a partial update)
        first = max(0, int((area.top() - MARGIN) // ch))
        last = min(emu.lines - 1, int((area.bottom() - MARGIN) // ch))
        for y in range(first, last + 1):
            index = top + y
            sel_from, sel_to = _selected_span(sel, index, columns)
            cells = emu.row_cells(index)
            key = (cells, sel_from, sel_to)
            ops = rows.get(key)
            if ops is None:
                ops = self._row_ops(cells, columns, sel_from, sel_to)
            seen[key] = ops
            if ops:
                painter.translate(0, y * ch)
                for rect, bg, font, fg, at, text in ops:
                    if bg is not None:
                        painter.fillRect(rect, bg)
                    if text:
                        painter.setFont(font)
                        painter.setPen(fg)
                        painter.drawText(at, text)
                painter.translate(0, -y * ch)
        # Keep what this paint used, plus older rows up to a bound (scrolling back and forth).
        if len(rows) + len(seen) > 4 * emu.lines + 64:
            rows.clear()
        rows.update(seen)
        cursor = emu.screen.cursor
        if view._offset == 0 and not cursor.hidden and not view.ended:
            rect = QRectF(cursor.x * cw, (cursor.y) * ch, cw, ch)
            if self.hasFocus():
                painter.fillRect(rect, QColor(212, 212, 212, 170))
            else:
                painter.setPen(FOREGROUND)
                painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()
        if view.timings is not None:
            view.timings["paint"].append(time.perf_counter() - started)

    def _row_ops(self, cells: tuple, columns: int, sel_from: int, sel_to: int) -> list:
        """One row's draw operations: [(rect, background or None, font, pen, text origin, text)].
        Runs of cells with one style are drawn as one text; a wide character (and the empty
        cell after it) and any other non-ASCII character are drawn alone, on their own cell.
        Cells past the last written one and outside the selection are blank: nothing to draw."""
        by_x = {cells[i]: cells[i + 1:i + CELL] for i in range(0, len(cells), CELL) if cells[i] < columns}
        end = min(columns, max(max(by_x, default=-1) + 1, sel_to))
        ops: list = []
        run: list[str] = []
        run_x, run_style, run_sel, joinable = 0, None, False, False
        for x in range(end + 1):
            if x < end:
                c = by_x.get(x)
                data, style = (" ", _PLAIN) if c is None else (c[0], c[1:])
                selected = sel_from <= x < sel_to
                if joinable and style == run_style and selected == run_sel and data and data.isascii():
                    run.append(data)
                    continue
            if run:
                self._add_op(ops, run_x, run, run_style, run_sel)
            if x < end:
                run, run_x, run_style, run_sel = [data], x, style, selected
                joinable = bool(data) and data.isascii()
        return ops

    def _add_op(self, ops: list, x: int, run: list[str], style: tuple, selected: bool) -> None:
        fg_name, bg_name, bold, italics, underscore, _strike, reverse, _blink = style
        fg, bg = _colour(fg_name, FOREGROUND), _colour(bg_name, BACKGROUND)
        if reverse:
            fg, bg = bg, fg
        if selected:
            bg = SELECTION
        text = "".join(run)
        if not text.strip():
            text = ""
        fill = bg if bg != BACKGROUND else None
        if fill is None and not text:
            return
        rect = QRectF(x * self.cell_w, 0, len(run) * self.cell_w, self.cell_h)
        ops.append((rect, fill, self._font_for(bold, italics, underscore), fg,
                    QPointF(rect.x(), self.ascent), text))

    def _font_for(self, bold: bool, italics: bool, underscore: bool) -> QFont:
        key = (bold, italics, underscore)
        font = self._fonts.get(key)
        if font is None:
            font = QFont(self.bold if bold else self.font_)
            font.setItalic(italics)
            font.setUnderline(underscore)
            self._fonts[key] = font
        return font


_PLAIN = ("default", "default", False, False, False, False, False, False)  # a blank cell's style


def _selected_span(sel, index: int, columns: int) -> tuple[int, int]:
    if not sel:
        return 0, 0
    (r0, c0), (r1, c1) = sel
    if not r0 <= index <= r1:
        return 0, 0
    return (c0 if index == r0 else 0), (c1 + 1 if index == r1 else columns)
