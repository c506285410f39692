"""One terminal tab: paints the emulator's screen and scrollback, sends keys and pastes.

Output is fed on the GUI thread in time slices (a few ms each, then back to the event
loop) and repaints are coalesced by a timer, so a flood of output never freezes the
window. The system clipboard is only ever touched by the technician (copy/paste):
whatever the host prints, OSC 52 included, stays in the emulator.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QGuiApplication, QKeySequence
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

from techdesk.terminal.emulator import Emulator
from techdesk.ui.views.terminal_canvas import CTRL_SHIFT, MARGIN, TerminalCanvas

SLICE_S = 0.003          # feed at most this long before letting the event loop run
TAKE = 512             # bytes fed to the emulator per step: pyte parses ~0.2-1 MB/s on a busy machine, so 1-3 ms
FLOOD_WAIT_MS = 10     # how long a pump waits for a flood's backlog to build
FLOOD = 256 * 1024       # a backlog this large may drop its head that scrolls away unseen
REPAINT_MS = 16
FONT_SIZES = (8, 30)
DEFAULT_FONT_SIZE = 11
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

        self.canvas = TerminalCanvas(self)
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
        if (mods & CTRL_SHIFT) == CTRL_SHIFT:
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
