"""The visit panel: the running visit's timer, checklist, summary and report export."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from techdesk.ui.timefmt import local_time


class VisitPanel(QWidget):
    item_toggled = Signal(int, bool)
    summary_edited = Signal()
    export_clicked = Signal(str)  # "pdf" | "html"
    visit_selected = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.header = QLabel("No visit running. Select a client or site and press Start visit.")
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        font = self.header.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.header.setFont(font)
        self.timer = QLabel("")
        self.checklist = QListWidget()
        self.checklist.itemChanged.connect(self._toggled)
        self.summary = QPlainTextEdit()
        self.summary.setPlaceholderText("A short summary for the client's report (optional).")
        self.summary.setMaximumHeight(90)
        self.summary.textChanged.connect(self.summary_edited)
        self.details = QLabel("")
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.pdf_button = QPushButton("Export PDF…")
        self.pdf_button.clicked.connect(lambda: self.export_clicked.emit("pdf"))
        self.html_button = QPushButton("HTML…")
        self.html_button.clicked.connect(lambda: self.export_clicked.emit("html"))
        # Report options: raw output only where it explains a problem, by default.
        self.appendix = QComboBox()
        self.appendix.setToolTip("Raw check output in the report's appendix")
        for label, value in (("Output of problems", "problems"), ("Output of all checks", "all"),
                             ("No raw output", "none")):
            self.appendix.addItem(label, value)
        self.hide_unticked = QCheckBox("Hide unticked")
        self.hide_unticked.setToolTip("Leave checklist items that were not done out of the report")
        self.history = QListWidget()
        self.history.currentItemChanged.connect(
            lambda cur, _prev: cur is not None and self.visit_selected.emit(cur.data(Qt.ItemDataRole.UserRole)))

        check_box = QGroupBox("Checklist")
        QVBoxLayout(check_box).addWidget(self.checklist)
        summary_box = QGroupBox("Summary")
        QVBoxLayout(summary_box).addWidget(self.summary)
        history_box = QGroupBox("Past visits")
        QVBoxLayout(history_box).addWidget(self.history)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Report:"))
        buttons.addWidget(self.appendix)
        buttons.addWidget(self.hide_unticked)
        buttons.addStretch(1)
        buttons.addWidget(self.html_button)
        buttons.addWidget(self.pdf_button)
        main = QVBoxLayout()
        main.addWidget(self.header)
        main.addWidget(self.timer)
        main.addWidget(check_box, 3)
        main.addWidget(summary_box)
        main.addWidget(self.details)
        main.addLayout(buttons)
        layout = QHBoxLayout(self)
        left = QWidget()
        left.setLayout(main)
        main.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(left, 3)
        history_box.setMinimumWidth(200)  # "today 14:02  Client" readable
        layout.addWidget(history_box, 1)
        self.set_visit(None)

    def set_visit(self, visit, notes: int = 0) -> None:
        self.visit_id = visit.id if visit else None
        self.checklist.blockSignals(True)
        self.checklist.clear()
        for item in visit.checklist if visit else []:
            row = QListWidgetItem(item.text)
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            row.setCheckState(Qt.CheckState.Checked if item.done else Qt.CheckState.Unchecked)
            self.checklist.addItem(row)
        self.checklist.blockSignals(False)
        self.summary.blockSignals(True)
        self.summary.setPlainText(visit.summary if visit else "")
        self.summary.blockSignals(False)
        for widget in (self.checklist, self.summary, self.pdf_button, self.html_button):
            widget.setEnabled(visit is not None)
        if visit is None:
            self.header.setText("No visit running. Select a client or site and press Start visit.")
            self.timer.setText("")
            self.details.setText("")
            return
        where = visit.client + (f" / {visit.site}" if visit.site else "")
        self.header.setText(f"{'On site at' if visit.running else 'Visit at'} {where}")
        self.details.setText(f"{len(visit.hosts)} hosts touched · {len(visit.runs)} runs · {notes} notes"
                             + (f" · {visit.billable_minutes} billable min" if visit.billable_minutes else ""))

    def report_options(self) -> dict:
        return {"appendix": self.appendix.currentData(), "unticked": not self.hide_unticked.isChecked()}

    def set_history(self, visits: list) -> None:
        self.history.blockSignals(True)
        self.history.clear()
        for v in visits:
            item = QListWidgetItem(f"{local_time(v.started)}  {v.client}"
                                   + (" (running)" if v.running else f"  {v.billable_minutes or 0} min"))
            item.setData(Qt.ItemDataRole.UserRole, v.id)
            item.setToolTip(item.text())
            self.history.addItem(item)
        self.history.blockSignals(False)

    def _toggled(self, item: QListWidgetItem) -> None:
        self.item_toggled.emit(self.checklist.row(item), item.checkState() == Qt.CheckState.Checked)
