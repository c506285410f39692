"""Notes: the list for the current host or client, and a Markdown editor with preview."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from techdesk.core.text import clean_text
from techdesk.reports.markdown import MARKDOWN_CSS, markdown
from techdesk.ui.icons import status_icon
from techdesk.ui.labels import human_size
from techdesk.ui.timefmt import local_time

ID_ROLE = Qt.ItemDataRole.UserRole + 20


class NotesPanel(QWidget):
    new_clicked = Signal()
    save_clicked = Signal()
    discard_clicked = Signal()
    edited = Signal()  # the technician changed the note being edited
    attach_clicked = Signal()
    attach_file_clicked = Signal()
    open_attachment_clicked = Signal(int)     # row in note.attachments
    save_attachment_clicked = Signal(int)
    note_selected = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.scope = QLabel("No host selected")
        self.scope.setTextFormat(Qt.TextFormat.PlainText)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(self._selected)
        self.new_button = QPushButton("New note")
        self.new_button.clicked.connect(self.new_clicked)

        self.title = QLineEdit()
        self.title.setPlaceholderText("Title — what was the problem or the work?")
        self.status = QComboBox()
        self.status.addItems(["open", "resolved"])
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("What you found and what you did (Markdown).")
        self.preview = QTextBrowser()
        self.preview.setOpenExternalLinks(False)
        self.preview.document().setDefaultStyleSheet(MARKDOWN_CSS)
        self.body_tabs = QTabWidget()
        self.body_tabs.addTab(self.body, "Write")
        self.body_tabs.addTab(self.preview, "Preview")
        self.body_tabs.currentChanged.connect(self._render_preview)
        self.followups = QListWidget()
        self.followups.setMaximumHeight(110)
        self.followup_input = QLineEdit()
        self.followup_input.setPlaceholderText("Add a follow-up and press Enter")
        self.followup_input.returnPressed.connect(self._add_followup)
        self.findings = QListWidget()
        self.findings.setMaximumHeight(130)
        self.attach_button = QPushButton("Attach latest run")
        self.attach_button.clicked.connect(self.attach_clicked)
        self.attachments = QListWidget()
        self.attachments.setMaximumHeight(90)
        self.attachments.itemActivated.connect(lambda _item: self._attachment_signal(self.open_attachment_clicked))
        self.attachments.itemSelectionChanged.connect(self._attachment_buttons)
        self.attach_file_button = QPushButton("Attach file…")
        self.attach_file_button.setToolTip("Keep a local file (a log, a screenshot) with this note")
        self.attach_file_button.clicked.connect(self.attach_file_clicked)
        self.open_attachment_button = QPushButton("Open")
        self.open_attachment_button.setToolTip("Show the attachment here (never run by the system)")
        self.open_attachment_button.clicked.connect(lambda: self._attachment_signal(self.open_attachment_clicked))
        self.save_attachment_button = QPushButton("Save a copy…")
        self.save_attachment_button.clicked.connect(lambda: self._attachment_signal(self.save_attachment_clicked))
        self.save_button = QPushButton("Save note")
        self.save_button.setToolTip("Save note (Ctrl+S)")  # the shortcut is the window's "Save note" action
        self.save_button.clicked.connect(self.save_clicked)
        self.discard_button = QPushButton("Discard changes")
        self.discard_button.clicked.connect(self.discard_clicked)
        self.discard_button.hide()
        for signal in (self.title.textChanged, self.body.textChanged, self.status.currentIndexChanged,
                       self.followups.itemChanged, self.followups.model().rowsInserted):
            signal.connect(self._changed)
        self.info = QLabel()
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        # A long line (the draft notice) wraps instead of widening the panel and squeezing the roster.
        self.info.setWordWrap(True)
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        left = QVBoxLayout()
        left.addWidget(self.scope)
        left.addWidget(self.list, 1)
        left.addWidget(self.new_button)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left.setContentsMargins(0, 0, 0, 0)

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.status)
        editor = QVBoxLayout()
        editor.addLayout(head)
        editor.addWidget(self.body_tabs, 3)
        editor.addWidget(QLabel("Follow-ups"))
        editor.addWidget(self.followups)
        editor.addWidget(self.followup_input)
        attach_row = QHBoxLayout()
        attach_row.addWidget(QLabel("Attached findings"))
        attach_row.addStretch(1)
        attach_row.addWidget(self.attach_button)
        editor.addLayout(attach_row)
        editor.addWidget(self.findings)
        files_row = QHBoxLayout()
        files_row.addWidget(QLabel("Attached files"))
        files_row.addStretch(1)
        for button in (self.open_attachment_button, self.save_attachment_button, self.attach_file_button):
            files_row.addWidget(button)
        editor.addLayout(files_row)
        editor.addWidget(self.attachments)
        bottom = QHBoxLayout()
        bottom.addWidget(self.info, 1)
        bottom.addWidget(self.discard_button)
        bottom.addWidget(self.save_button)
        editor.addLayout(bottom)
        editor_widget = QWidget()
        editor_widget.setLayout(editor)
        editor.setContentsMargins(0, 0, 0, 0)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left_widget)
        split.addWidget(editor_widget)
        split.setSizes([260, 640])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.current_id: str | None = None
        self._loaded: dict = self.values()
        self._loading = False
        # Title, then straight into the body: the status box comes after.
        QWidget.setTabOrder(self.title, self.body)
        QWidget.setTabOrder(self.body, self.status)

    def set_notes(self, scope: str, notes: list) -> None:
        self.scope.setText(scope)
        self.list.blockSignals(True)
        self.list.clear()
        for note in notes:
            item = QListWidgetItem(f"{note.title}\n{local_time(note.updated)} · {note.author}"
                                   f" · {note.status}")
            item.setData(ID_ROLE, note.id)
            item.setIcon(status_icon("ok" if note.status == "resolved" else "warn"))
            self.list.addItem(item)
        self.list.blockSignals(False)

    # -- what the editor holds, and whether it differs from what was loaded --
    def values(self) -> dict:
        return {"title": self.title.text(), "body": self.body.toPlainText(), "status": self.status.currentText(),
                "followups": [[text, done] for text, done in self.followup_values()]}

    def set_values(self, values: dict) -> None:
        self._loading = True
        try:
            self.title.setText(str(values.get("title", "")))
            self.body.setPlainText(str(values.get("body", "")))
            self.status.setCurrentText(str(values.get("status", "open")))
            self.followups.clear()
            for item in values.get("followups") or []:
                if isinstance(item, list) and len(item) == 2:
                    self._followup_item(str(item[0]), bool(item[1]))
        finally:
            self._loading = False
        self.discard_button.setVisible(self.is_dirty())
        self.body.moveCursor(QTextCursor.MoveOperation.End)

    def is_dirty(self) -> bool:
        """Text typed that is not saved: an empty new note is not."""
        now = self.values()
        if self.current_id is None and not (now["title"].strip() or now["body"].strip() or now["followups"]):
            return False
        return now != self._loaded

    def _changed(self, *_args) -> None:
        if not self._loading:
            self.discard_button.setVisible(self.is_dirty())
            self.edited.emit()

    def show_note(self, note) -> None:
        self._loading = True
        try:
            self._show_note(note)
        finally:
            self._loading = False
        self._loaded = self.values()
        self.discard_button.hide()
        self.body.moveCursor(QTextCursor.MoveOperation.End)  # typing goes on where the text ends

    def _show_note(self, note) -> None:
        self.current_id = note.id if note else None
        self.title.setText(note.title if note else "")
        self.status.setCurrentText(note.status if note else "open")
        self.body.setPlainText(note.body if note else "")
        self.followups.clear()
        for f in note.followups if note else []:
            self._followup_item(f.text, f.done)
        self.findings.clear()
        for run in note.runs if note else []:
            order = {"crit": 0, "unknown": 1, "warn": 2, "ok": 3}
            for f in sorted(run.findings, key=lambda f: order.get(f["status"], 4)):
                item = QListWidgetItem(f"{run.host} · {f['title']}: {f['summary']}")
                item.setIcon(status_icon(f["status"]))
                self.findings.addItem(item)
            if run.error:
                self.findings.addItem(f"{run.host}: {run.error['kind']}: {run.error['message']}")
        self.attachments.clear()
        for att in note.attachments if note else []:
            # name and source come from a host or a teammate: shown as plain text, one line
            item = QListWidgetItem(clean_text(f"{att.name} · {human_size(att.size)} · {att.source or 'local'}")
                                   .replace("\n", " "))
            item.setToolTip(f"SHA-256 {att.sha256}")
            self.attachments.addItem(item)
        self._attachment_buttons()
        self.info.setText(f"by {note.author}, updated {local_time(note.updated)}" if note else "New note — not saved yet")
        self.body_tabs.setCurrentIndex(0)

    def _attachment_signal(self, signal) -> None:
        row = self.attachments.currentRow()
        if row >= 0:
            signal.emit(row)

    def _attachment_buttons(self) -> None:
        chosen = self.attachments.currentRow() >= 0 and bool(self.attachments.selectedItems())
        self.open_attachment_button.setEnabled(chosen)
        self.save_attachment_button.setEnabled(chosen)

    def followup_values(self) -> list[tuple[str, bool]]:
        return [(self.followups.item(i).text(), self.followups.item(i).checkState() == Qt.CheckState.Checked)
                for i in range(self.followups.count())]

    def _followup_item(self, text: str, done: bool) -> None:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if done else Qt.CheckState.Unchecked)
        self.followups.addItem(item)

    def _add_followup(self) -> None:
        text = self.followup_input.text().strip()
        if text:
            self._followup_item(text, False)
            self.followup_input.clear()

    def _render_preview(self, index: int) -> None:
        if self.body_tabs.widget(index) is self.preview:
            # The report's own renderer (no raw HTML, addresses as text): what the
            # technician sees here is what the client gets.
            self.preview.setHtml(markdown(self.body.toPlainText()))

    def _selected(self, current, _previous) -> None:
        if current is not None:
            self.note_selected.emit(current.data(ID_ROLE))
