"""Attach findings to a note: the selected ones (or every one that is not OK) of one
host's run, to a new note or an existing one; attaching twice adds nothing twice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from techdesk.core.roster import RosterError
from techdesk.core.work import WorkError
from techdesk.ui.icons import STATUS_LABELS, status_icon
from techdesk.ui.labels import error_label

ID_ROLE = Qt.ItemDataRole.UserRole + 90


class AttachDialog(QDialog):
    def __init__(self, services, run_id: str, hosts: list[str], host: str | None = None,
                 selected: dict[str, set[str]] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.run_id = run_id
        self.selected = selected or {}
        self.note_id: str | None = None
        self.added = 0
        self.setWindowTitle("Attach findings to a note")
        self.setMinimumSize(620, 480)
        self.host = QComboBox()
        self.host.addItems(hosts)
        if host in hosts:
            self.host.setCurrentText(host)
        self.findings = QListWidget()
        pick = QHBoxLayout()
        for label, rule in (("Not OK", "not-ok"), ("All", "all"), ("None", "none")):
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, r=rule: self._check(r))
            pick.addWidget(button)
        pick.addStretch(1)
        self.new = QRadioButton("New note:")
        self.title = QLineEdit()
        self.existing = QRadioButton("Existing note:")
        self.notes = QComboBox()
        group = QButtonGroup(self)
        group.addButton(self.new)
        group.addButton(self.existing)
        form = QFormLayout()
        form.addRow("Host:", self.host)
        form.addRow(self.new, self.title)
        form.addRow(self.existing, self.notes)
        self.error = error_label()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Attach", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Findings to attach:"))
        layout.addWidget(self.findings, 1)
        layout.addLayout(pick)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.host.currentTextChanged.connect(self._load)
        self._load()

    def _load(self) -> None:
        host = self.host.currentText()
        result = self.services.history.host_result(self.run_id, host)
        bundle = self.services.conn.execute("SELECT bundle FROM runs WHERE id = ?", (self.run_id,)).fetchone()
        self.findings.clear()
        chosen = self.selected.get(host)
        for check in result.checks if result else []:
            item = QListWidgetItem(status_icon(check.status.value),
                                   f"{check.title} — {STATUS_LABELS[check.status.value]}: {check.summary}")
            item.setData(ID_ROLE, check.id)
            item.setData(ID_ROLE + 1, check.status.value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            wanted = check.id in chosen if chosen else check.status.value != "ok"
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
            self.findings.addItem(item)
        status = result.status.value.upper() if result else ""
        self.title.setText(f"{bundle[0] if bundle else 'run'} on {host}: {status}")
        self.notes.clear()
        for note in self.services.notes.list(host=host):
            self.notes.addItem(f"{note.title} ({note.status})", note.id)
        self.existing.setEnabled(self.notes.count() > 0)
        self.notes.setEnabled(self.notes.count() > 0)
        # A note that already holds this run is the likely target; else a new one.
        (self.existing if self.notes.count() and self._has_this_run(host) else self.new).setChecked(True)

    def _has_this_run(self, host: str) -> bool:
        note_id = self.notes.currentData()
        return bool(note_id) and any(r.run_id == self.run_id and r.host == host
                                     for r in self.services.notes.get(note_id).runs)

    def _check(self, rule: str) -> None:
        for row in range(self.findings.count()):
            item = self.findings.item(row)
            on = rule == "all" or (rule == "not-ok" and item.data(ID_ROLE + 1) != "ok")
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def checked(self) -> list[str]:
        return [self.findings.item(r).data(ID_ROLE) for r in range(self.findings.count())
                if self.findings.item(r).checkState() == Qt.CheckState.Checked]

    def accept(self) -> None:
        host, checks = self.host.currentText(), self.checked()
        if not checks and self.findings.count():
            self.error.setText("Tick at least one finding to attach.")
            return
        notes = self.services.notes
        try:
            if self.new.isChecked():
                if not self.title.text().strip():
                    raise WorkError("a note needs a title")
                note = notes.add(self.title.text(), "", host=host)
            else:
                note = notes.get(self.notes.currentData())
            _, self.added = notes.attach_findings(note.id, self.run_id, host, checks)
        except (WorkError, RosterError) as exc:
            self.error.setText(str(exc))
            return
        self.note_id = note.id
        super().accept()
