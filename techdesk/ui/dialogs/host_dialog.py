"""Add or edit a host, with validation and the inherited values shown."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from techdesk.core.roster import OS_CHOICES, HostSpec, RosterError, address_problem


class HostDialog(QDialog):
    """Collects a HostSpec; the roster service validates and saves it."""

    def __init__(self, roster, host=None, parent=None) -> None:
        super().__init__(parent)
        self.roster = roster
        self.original = host
        self.setWindowTitle(f"Edit {host.name}" if host else "Add host")
        self.setMinimumWidth(460)
        s = host.spec if host else HostSpec(name="")
        self.name = QLineEdit(s.name)
        self.address = QLineEdit(s.address or "")
        self.address.setPlaceholderText("DNS name or IP address (default: the name)")
        self.port = QLineEdit("" if s.port is None else str(s.port))
        self.user = QLineEdit(s.user or "")
        self.client = QComboBox()
        self.client.setEditable(True)
        self.client.addItems([""] + [c.name for c in roster.clients()])
        self.client.setCurrentText(s.client or "")
        self.site = QComboBox()
        self.site.setEditable(True)
        self.client.currentTextChanged.connect(self._fill_sites)
        self._fill_sites(s.client or "")
        self.site.setCurrentText(s.site or "")
        self.tags = QLineEdit(", ".join(s.tags))
        self.tags.setPlaceholderText("comma separated")
        self.os = QComboBox()
        self.os.addItems(OS_CHOICES)
        self.os.setCurrentText(s.os or "linux")
        self.jump = QComboBox()
        self.jump.addItems([""] + [h.name for h in roster.hosts() if not host or h.name != host.name])
        self.jump.setCurrentText(s.jump or "")
        self.key = QLineEdit(s.key or "")
        self.key.setPlaceholderText("private key file (default: agent, or inherited)")
        self.inherited = QLabel()
        self.inherited.setTextFormat(Qt.TextFormat.PlainText)
        self.inherited.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet("color: #d64541")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)

        self.address.textChanged.connect(self._check_address)

        form = QFormLayout()
        for label, widget in (("Name", self.name), ("Address", self.address), ("Port", self.port),
                              ("User", self.user), ("Client", self.client), ("Site", self.site),
                              ("Tags", self.tags), ("OS", self.os), ("Jump host", self.jump),
                              ("Key file", self.key)):
            form.addRow(label + ":", widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.inherited)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        if host:
            inherited = [f"{f}: {host.effective[f]} (from {src})" for f, src in host.sources.items()
                         if src in ("site", "client")]
            self.inherited.setText("Inherited: " + "; ".join(inherited) if inherited else "")
        self.saved = None

    def _check_address(self, text: str) -> None:
        """Said under the form as it is typed (not only in a tooltip); Save refuses it too."""
        problem = address_problem(text) if text.strip() else None
        self.error.setText(f"Address: {problem}" if problem else "")
        self.address.setStyleSheet("border: 1px solid #d64541" if problem else "")

    def _fill_sites(self, client: str) -> None:
        current = self.site.currentText()
        self.site.clear()
        self.site.addItems([""] + [s.name for s in self.roster.sites(client)] if client else [""])
        self.site.setCurrentText(current)

    def spec(self) -> HostSpec:
        text = lambda w: (w.currentText() if isinstance(w, QComboBox) else w.text()).strip() or None  # noqa: E731
        return HostSpec(name=self.name.text().strip(), address=text(self.address), port=text(self.port),
                        user=text(self.user), client=text(self.client), site=text(self.site),
                        tags=[t.strip() for t in self.tags.text().split(",") if t.strip()],
                        os=self.os.currentText(), jump=text(self.jump), key=text(self.key))

    def accept(self) -> None:
        spec = self.spec()
        try:
            if self.original is None:
                self.saved = self.roster.add(spec)
            else:
                values = spec.as_dict()
                values = {k: ("" if v is None else v) for k, v in values.items()}
                self.saved = self.roster.edit(self.original.name, **values)
        except RosterError as exc:
            self.error.setText(str(exc))  # stay open: nothing was saved
            return
        super().accept()
