"""The Briefing view: before a visit, what to know about a client (and site).

Only widgets: BriefingController fills it and acts on its signals.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

ALL_SITES = "All sites"


class BriefingView(QWidget):
    target_changed = Signal(str, str)  # client, site ("" = all)
    refresh_clicked = Signal()
    save_clicked = Signal()
    care_clicked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.client_box = QComboBox()
        self.client_box.setMinimumContentsLength(18)
        self.site_box = QComboBox()
        self.site_box.setMinimumContentsLength(12)
        self.refresh_button = QPushButton("Refresh")
        self.save_button = QPushButton("Save as PDF…")
        self.save_button.setToolTip("The briefing as a PDF, to read on the way")
        self.care_button = QPushButton("Care report…")
        self.care_button.setToolTip("The client's care report of the last complete month (PDF or HTML)")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Client"))
        bar.addWidget(self.client_box, 1)
        bar.addWidget(QLabel("Site"))
        bar.addWidget(self.site_box, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.save_button)
        bar.addWidget(self.care_button)
        self.page = QTextBrowser()
        self.page.setOpenLinks(False)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.page, 1)
        self.client_box.currentTextChanged.connect(lambda _text: self._emit_target())
        self.site_box.currentTextChanged.connect(lambda _text: self._emit_target())
        self.refresh_button.clicked.connect(self.refresh_clicked)
        self.save_button.clicked.connect(self.save_clicked)
        self.care_button.clicked.connect(self.care_clicked)
        self._filling = False

    def _emit_target(self) -> None:
        if not self._filling:
            self.target_changed.emit(*self.target())

    def target(self) -> tuple[str, str]:
        site = self.site_box.currentText()
        return self.client_box.currentText(), "" if site == ALL_SITES else site

    def set_clients(self, clients: list[str]) -> None:
        current = self.client_box.currentText()
        self._filling = True
        self.client_box.clear()
        self.client_box.addItems(clients)
        if current in clients:
            self.client_box.setCurrentText(current)
        self._filling = False

    def set_sites(self, sites: list[str]) -> None:
        current = self.site_box.currentText()
        self._filling = True
        self.site_box.clear()
        self.site_box.addItems([ALL_SITES, *sites])
        if current in sites:
            self.site_box.setCurrentText(current)
        self._filling = False

    def show_html(self, html: str) -> None:
        self.page.setHtml(html)
        enabled = bool(self.client_box.currentText())
        self.save_button.setEnabled(enabled)
        self.care_button.setEnabled(enabled)
