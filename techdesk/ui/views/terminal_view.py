"""One terminal tab: paints the emulator's screen and scrollback, sends keys and pastes.

Output is fed on the GUI thread in time slices (a few ms each, then back to the event
loop) and repaints are coalesced by a timer, so a flood of output never freezes the
window. The system clipboard is only ever touched by the technician (copy/paste):
whatever the host prints, OSC 52 included, stays in the emulator.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QGuiApplication, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from techdesk.terminal.emulator import CELL, Emulator

SLICE_S = 0.003          # feed at most this long before letting the event loop run
TAKE = 512             # bytes fed to the emulator per step: pyte parses ~0.2-1 MB/s on a busy machine, so 1-3 ms
FLOOD_WAIT_MS = 10     # how long a pump waits for a flood's backlog to build
FLOOD = 256 * 1024       # a backlog this large may drop its head that scrolls away unseen
REPAINT_MS = 16
FONT_SIZES = (8, 30)
DEFAULT_FONT_SIZE = 11
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
_KEYS = {
    Qt.Key.Key_Return: b"\r", Qt.Key.Key_Enter: b"\r", Qt.Key.Key_Backspace: b"\x7f",
    Qt.Key.Key_Tab: b"\t", Qt.Key.Key_Backtab: b"\x1b[Z", Qt.Key.Key_Escape: b"\x1b",
    Qt.Key.Key_Insert: b"\x1b[2~", Qt.Key.Key_Delete: b"\x1b[3~",
    Qt.Key.Key_PageUp: b"\x1b[5~", Qt.Key.Key_PageDown: b"\x1b[6~",
    Qt.Key.Key_F1: b"\x1bOP", Qt.Key.Key_F2: b"\x1bOQ", Qt.Key.Key_F3: b"\x1bOR", Qt.Key.Key_F4: b"\x1bOS",
    Qt.Key.Key_F5: b"\x1b[15~", Qt.Key.Key_F6: b"\x1b[17~", Qt.Key.Key_F7: b"\x1b[18~",
    Qt.Key.Key_F8: b"\x1b[19~", Qt.Key.Key_F9: b"\x1b[20~", Qt.Key.Key_F10: b"\x1b[21~",
    Qt.Key.Key_F11: b"\x1b[23~", Qt.Key.Key_F12: b"\x1b[24~",
}
_CURSOR_KEYS = {Qt.Key.Key_Up: b"A", Qt.Key.Key_Down: b"B", Qt.Key.Key_Right: b"C", Qt.Key.Key_Left: b"D",
                Qt.Key.Key_Home: b"H", Qt.Key.Key_End: b"F"}
_CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
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


def key_bytes(key: int, modifiers, text: str, app_cursor: bool) -> bytes:
    """What a key press sends to the host (b"" = nothing)."""
    if key in _CURSOR_KEYS:
        return (b"\x1bO" if app_cursor else b"\x1b[") + _CURSOR_KEYS[key]
    if key in _KEYS:
        return _KEYS[key]
    ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
    if ctrl and Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
        return bytes([key - Qt.Key.Key_A + 1])
    if ctrl and key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_Backslash, Qt.Key.Key_BracketRight):
        return bytes([key - Qt.Key.Key_BracketLeft + 0x1b])
    if ctrl and key == Qt.Key.Key_Space:
        return b"\x00"
    data = text.encode("utf-8") if text else b""
    if data and modifiers & Qt.KeyboardModifier.AltModifier:
        return b"\x1b" + data
    return data


def paste_bytes(text: str, bracketed: bool) -> bytes:
    """Clipboard text as the host should get it: CR line ends, no escape characters (a
    pasted ESC could end bracketed paste early and run the rest as typed commands)."""
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    text = "".join(ch for ch in text if ch in "\r\t" or ch >= " " and ch != "\x7f")
    data = text.encode("utf-8")
    return b"\x1b[200~" + data + b"\x1b[201~" if bracketed else data


class _Wake(QObject):
    """Carries "data arrived" from the reader thread to the GUI thread (queued signal)."""

    data = Signal()


class TerminalView(QWidget):
    size_changed = Signal(int, int)          # columns, lines (after the resize settles)
    reconnect_requested = Signal()
    font_size_changed = Signal(int)
    closed = Signal()                        # the host ended the shell or the connection dropped

    def __init__(self, font_size: int = DEFAULT_FONT_SIZE, parent=None) -> None:
        super().__init__(parent)
        self.emulator = Emulator(80, 24, reply=self._send)
        self.session = None
        self.ended = True
        self._offset = 0                     # rows scrolled up from the bottom
        self._anchor: tuple[int, int] | None = None
        self._sel: tuple[tuple[int, int], tuple[int, int]] | None = None
        self._pump_queued = False
        self._flood_retry_at = 0              # session.bytes_in from which a flood drop is tried again
        self.stall_max = 0.0                 # longest single feed step, seconds (bench reads it)
        self.timings: dict[str, list[float]] | None = None   # bench: {"feed": [s...], "paint": [...]}
        self._wake = _Wake()
        self._wake.data.connect(self._pump, Qt.ConnectionType.QueuedConnection)
        self._repaint = QTimer(self, singleShot=True, interval=REPAINT_MS)
        self._repaint.timeout.connect(self._refresh)
        self._resize_timer = QTimer(self, singleShot=True, interval=80)
        self._resize_timer.timeout.connect(self._apply_size)

        self.canvas = _Canvas(self)
        self.scrollbar = QScrollBar(Qt.Orientation.Vertical)
        self.scrollbar.valueChanged.connect(self._scrolled)
        self.find_edit = QLineEdit(placeholderText="Find in scrollback (Enter: previous match)")
        self.find_edit.returnPressed.connect(self.find_next)
        close_find = QToolButton(text="✕", autoRaise=True)
        close_find.clicked.connect(self.hide_find)
        self.find_row = QWidget()
        row = QHBoxLayout(self.find_row)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.find_edit, 1)
        row.addWidget(close_find)
        self.find_row.hide()
        # An offer above the screen (quick connect: "save this host to a client").
        self.offer_label = QLabel()
        self.offer_label.setTextFormat(Qt.TextFormat.PlainText)
        self.offer_button = QPushButton()
        self._offer_action = None
        self.offer_button.clicked.connect(self._offer_taken)
        self.offer_row = QWidget()
        offer = QHBoxLayout(self.offer_row)
        offer.setContentsMargins(6, 2, 6, 2)
        offer.addWidget(self.offer_label, 1)
        offer.addWidget(self.offer_button)
        self.offer_row.hide()
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.canvas, 1)
        body.addWidget(self.scrollbar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.offer_row)
        layout.addLayout(body, 1)
        layout.addWidget(self.find_row)
        self.set_font_size(font_size)
        self.setFocusProxy(self.canvas)

    # -- the session -----------------------------------------------------------------------
    def attach(self, session) -> None:
        """Show `session` (a ShellChannel): its output from now on, our keys to it."""
        self.session = session
        self._flood_retry_at = 0
        self.ended = False
        session.on_data = self._wake.data.emit   # from the reader thread: queued to us
        session.resize(self.emulator.columns, self.emulator.lines)
        self._wake.data.emit()

    def offer(self, text: str, button: str, action) -> None:
        """Show a one-line offer above the screen; the button runs `action` and hides it."""
        self.offer_label.setText(text)
        self.offer_button.setText(button)
        self._offer_action = action
        self.offer_row.show()

    def _offer_taken(self) -> None:
        self.offer_row.hide()
        if self._offer_action is not None:
            self._offer_action()

    def note(self, text: str) -> None:
        """A line of our own (connecting, disconnected...) on the screen, dimmed."""
        self.emulator.feed(b"\r\n\x1b[2;7m " + text.encode("utf-8") + b" \x1b[0m\r\n")
        self._schedule_repaint()

    def clear_note(self) -> None:
        """Erase the last note (the "Connecting to …" banner) once the shell is up: the cursor
        is still on the line below it, nothing has been written since."""
        self.emulator.feed(b"\x1b[A\r\x1b[2K")
        self._schedule_repaint()

    def _send(self, data: bytes) -> None:
        if self.session is not None and not self.ended:
            self.session.send(data)

    def _pump(self) -> None:
        """Feed what arrived, a time slice at a time; come back later for the rest."""
        self._pump_queued = False
        session = self.session
        if session is None:
            return
        before = self.emulator.total_lines
        started = time.perf_counter()
        # A flood's head may be dropped unparsed. When it cannot be (a 3 MB line, escapes),
        # look again only after another FLOOD bytes arrived: each look scans the backlog.
        if session.pending() >= FLOOD and session.bytes_in >= self._flood_retry_at \
                and (keep := self.emulator.flood_keep_lines()) is not None \
                and not session.drop_scrolled_away(keep):
            self._flood_retry_at = session.bytes_in + FLOOD
        while time.perf_counter() - started < SLICE_S:
            chunk = session.take(TAKE)
            if not chunk:
                break
            self.emulator.feed(chunk)
        took = time.perf_counter() - started
        self.stall_max = max(self.stall_max, took)
        if self.timings is not None:
            self.timings["feed"].append(took)
        if self._offset:  # keep a scrolled-back view on the same lines while output arrives
            self._offset = min(self._offset + self.emulator.total_lines - before,
                               len(self.emulator.screen.scrollback))
        self._schedule_repaint()
        if pending := session.pending():
            # Falling behind a flood: let the reader fill the backlog for a moment instead of
            # parsing it as it trickles in (pyte parses ~0.6 MB/s); a backlog of FLOOD bytes
            # drops its head unparsed. Small outputs never wait.
            self._pump_queued = True
            QTimer.singleShot(FLOOD_WAIT_MS if FLOOD // 8 <= pending < FLOOD else 0, self, self._pump)
        elif session.ended and not self.ended:
            self.ended = True
            self.note("Connection closed — press Enter to reconnect")
            self.closed.emit()


    def _schedule_repaint(self) -> None:
        if not self._repaint.isActive():
            self._repaint.start()

    def _refresh(self) -> None:
        back = len(self.emulator.screen.scrollback)
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, back)
        self.scrollbar.setPageStep(self.emulator.lines)
        self.scrollbar.setValue(back - self._offset)
        self.scrollbar.blockSignals(False)
        self.canvas.update()

    def _scrolled(self, value: int) -> None:
        self._offset = max(0, len(self.emulator.screen.scrollback) - value)
        self.canvas.update()

    def scroll_by(self, rows: int) -> None:
        """Positive = back into the scrollback."""
        self._offset = max(0, min(self._offset + rows, len(self.emulator.screen.scrollback)))
        self._refresh()

    # -- size and font ---------------------------------------------------------------------
    def set_font_size(self, size: int) -> None:
        size = max(FONT_SIZES[0], min(FONT_SIZES[1], int(size)))
        font = QFont("monospace", size)
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        font.setFixedPitch(True)
        self.canvas.set_font(font)
        self.font_size = size
        self._resize_timer.start()
        self.font_size_changed.emit(size)

    def grid_for(self, width: float, height: float) -> tuple[int, int]:
        return max(2, int(width // self.canvas.cell_w)), max(1, int(height // self.canvas.cell_h))

    def _apply_size(self) -> None:
        columns, lines = self.grid_for(self.canvas.width() - 2 * MARGIN, self.canvas.height() - 2 * MARGIN)
        if (columns, lines) != (self.emulator.columns, self.emulator.lines):
            self.emulator.resize(columns, lines)
            if self.session is not None and not self.ended:
                self.session.resize(columns, lines)   # window-change: the host's program redraws
            self.size_changed.emit(columns, lines)
        self._refresh()

    # -- selection, copy, paste, find ------------------------------------------------------
    def top_row(self) -> int:
        return self.emulator.total_lines - self.emulator.lines - self._offset

    def selected_text(self) -> str:
        if self._sel is None:
            return ""
        (r0, c0), (r1, c1) = sorted(self._sel)
        lines = []
        for row in range(r0, r1 + 1):
            start = c0 if row == r0 else 0
            end = c1 + 1 if row == r1 else self.emulator.columns
            lines.append(self.emulator.row_text(row, start, end).rstrip())
        return "\n".join(lines)

    def select(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        self._sel = (start, end)
        self.canvas.update()

    def copy(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def paste(self) -> None:
        text = QGuiApplication.clipboard().text()
        if text:
            self._offset = 0
            self._send(paste_bytes(text, self.emulator.bracketed_paste))

    def show_find(self) -> None:
        self.find_row.show()
        self.find_edit.setFocus()
        self.find_edit.selectAll()
        self._find_from = None

    def hide_find(self) -> None:
        self.find_row.hide()
        self.canvas.setFocus()

    def find_next(self) -> bool:
        """Select the previous match of the find text (searching upwards); False if none."""
        needle = self.find_edit.text()
        hit = self.emulator.find(needle, getattr(self, "_find_from", None))
        if hit is None:
            self._find_from = None
            self.find_edit.setStyleSheet("background: #5a1d1d;")
            return False
        self.find_edit.setStyleSheet("")
        row, col = hit
        self._find_from = row
        self.select((row, col), (row, col + len(needle) - 1))
        lines = self.emulator.lines
        bottom_top = self.emulator.total_lines - lines
        if not (self.top_row() <= row < self.top_row() + lines):
            self._offset = max(0, min(bottom_top - row + lines // 2, len(self.emulator.screen.scrollback)))
        self._refresh()
        return True

    def context_menu(self, global_pos) -> None:
        menu = QMenu(self)
        copy = menu.addAction("Copy", self.copy)
        copy.setShortcut(QKeySequence("Ctrl+Shift+C"))
        copy.setEnabled(bool(self.selected_text()))
        paste = menu.addAction("Paste", self.paste)
        paste.setShortcut(QKeySequence("Ctrl+Shift+V"))
        paste.setEnabled(not self.ended)
        menu.addAction("Select all", lambda: self.select((0, 0), (self.emulator.total_lines - 1,
                                                                  self.emulator.columns - 1)))
        menu.addAction("Find…", self.show_find).setShortcut(QKeySequence("Ctrl+Shift+F"))
        menu.addSeparator()
        menu.addAction("Larger text", lambda: self.set_font_size(self.font_size + 1)).setShortcut(
            QKeySequence("Ctrl+Shift++"))
        menu.addAction("Smaller text", lambda: self.set_font_size(self.font_size - 1)).setShortcut(
            QKeySequence("Ctrl+Shift+-"))
        if self.ended:
            menu.addSeparator()
            menu.addAction("Reconnect", self.reconnect_requested.emit)
        menu.exec(global_pos)

    # -- keys ------------------------------------------------------------------------------
    def handle_key(self, event) -> bool:
        key, mods = event.key(), event.modifiers()
        if (mods & _CTRL_SHIFT) == _CTRL_SHIFT:
            actions = {Qt.Key.Key_C: self.copy, Qt.Key.Key_V: self.paste, Qt.Key.Key_F: self.show_find,
                       Qt.Key.Key_Plus: lambda: self.set_font_size(self.font_size + 1),
                       Qt.Key.Key_Equal: lambda: self.set_font_size(self.font_size + 1),
                       Qt.Key.Key_Minus: lambda: self.set_font_size(self.font_size - 1),
                       Qt.Key.Key_Underscore: lambda: self.set_font_size(self.font_size - 1)}
            if key in actions:
                actions[key]()
                return True
        if mods & Qt.KeyboardModifier.ShiftModifier and key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            self.scroll_by(self.emulator.lines if key == Qt.Key.Key_PageUp else -self.emulator.lines)
            return True
        if self.ended:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.reconnect_requested.emit()
            return True
        data = key_bytes(key, mods, event.text(), self.emulator.app_cursor_keys)
        if data:
            self._offset = 0
            self._sel = None
            self._send(data)
            self._refresh()
        return bool(data)


class _Canvas(QWidget):
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
            ours = key in _TERMINAL_SHORTCUTS if (mods & _CTRL_SHIFT) == _CTRL_SHIFT else not (
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
