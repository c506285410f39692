"""Ctrl+F in check output: a small find bar floating over a read-only text view.

It lives inside the view it searches (top right, over the text), so any output pane
gets it without changing its layout: ``FindBar.attach(editor)``. Enter/F3 finds the
next match, Shift+Enter/Shift+F3 the previous one, Esc closes; every match is
highlighted and the count is shown ("3 of 12", "no matches")."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import (
    QColor,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
)

HIGHLIGHT = QColor(255, 214, 0, 130)


class FindBar(QFrame):
    @classmethod
    def attach(cls, editor: QPlainTextEdit, shortcut: bool = True) -> FindBar:
        """The editor's find bar (made once). ``shortcut``: Ctrl+F inside the editor
        (leave it off where the window has its own Ctrl+F action: two would be ambiguous)."""
        bar = editor.findChild(FindBar)
        if bar is None:
            bar = cls(editor)
        if shortcut and editor.findChild(QShortcut) is None:
            find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), editor)
            find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            find.activated.connect(bar.open)
        return bar

    def __init__(self, editor: QPlainTextEdit) -> None:
        super().__init__(editor)
        self.editor = editor
        self.setObjectName("find-bar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.field = QLineEdit()
        self.field.setPlaceholderText("Find in output")
        self.field.setClearButtonEnabled(True)
        self.field.setMinimumWidth(200)
        self.count = QLabel("")
        self.count.setMinimumWidth(80)
        buttons = []
        for text, tip, slot in (("↑", "Previous (Shift+Enter)", self.previous), ("↓", "Next (Enter)", self.next),
                                ("✕", "Close (Esc)", self.close_bar)):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.append(button)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 3, 3)
        layout.addWidget(self.field)
        layout.addWidget(self.count)
        for button in buttons:
            layout.addWidget(button)
        self.field.textChanged.connect(self._search)
        self.field.installEventFilter(self)
        editor.installEventFilter(self)
        self._matches: list[QTextCursor] = []
        self._current = -1
        self.hide()

    # -- opening, placing ---------------------------------------------------
    def open(self) -> None:
        cursor = self.editor.textCursor()
        if cursor.hasSelection() and "\u2029" not in cursor.selectedText():
            self.field.setText(cursor.selectedText())
        self._place()
        self.show()
        self.raise_()
        self.field.setFocus()
        self.field.selectAll()
        self._search()

    def close_bar(self) -> None:
        self.hide()
        self.editor.setExtraSelections([])
        self.editor.setFocus()

    def _place(self) -> None:
        self.adjustSize()
        viewport = self.editor.viewport().geometry()
        self.move(max(0, viewport.right() - self.width() - 4), viewport.top() + 4)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.editor and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F3):
                (self.previous if shift else self.next)()
                return True
        return super().eventFilter(watched, event)

    # -- searching ----------------------------------------------------------
    def _search(self) -> None:
        text = self.field.text()
        self._matches = []
        document = self.editor.document()
        if text:
            cursor = QTextCursor(document)
            while True:
                cursor = document.find(text, cursor, QTextDocument.FindFlag(0))
                if cursor.isNull():
                    break
                self._matches.append(QTextCursor(cursor))
        start = self.editor.textCursor().selectionStart()
        self._current = next((i for i, c in enumerate(self._matches) if c.selectionStart() >= start), 0) \
            if self._matches else -1
        self._show()

    def next(self) -> None:
        if self._matches:
            self._current = (self._current + 1) % len(self._matches)
            self._show()

    def previous(self) -> None:
        if self._matches:
            self._current = (self._current - 1) % len(self._matches)
            self._show()

    def matches(self) -> int:
        return len(self._matches)

    def _show(self) -> None:
        highlight = QTextCharFormat()
        highlight.setBackground(HIGHLIGHT)
        selections = []
        for cursor in self._matches[:2000]:  # a huge output stays responsive
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            selection.format = highlight
            selections.append(selection)
        self.editor.setExtraSelections(selections)
        if not self.field.text():
            self.count.setText("")
        elif not self._matches:
            self.count.setText("no matches")
            self.count.setStyleSheet("color: #d64541")
        else:
            self.count.setStyleSheet("")
            self.count.setText(f"{self._current + 1} of {len(self._matches)}")
            self.editor.setTextCursor(self._matches[self._current])
            self.editor.ensureCursorVisible()
