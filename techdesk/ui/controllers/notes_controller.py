"""Wires the notes panel to the notes service: list, edit, save, attach findings."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from techdesk.core.roster import RosterError
from techdesk.core.work import Followup, WorkError
from techdesk.ui.views.notes_panel import ID_ROLE


class NotesController(QObject):
    notes_changed = Signal()

    def __init__(self, services, panel, window) -> None:
        super().__init__(window)
        self.services = services
        self.panel = panel
        self.window = window
        self.host: str | None = None
        self.client: str | None = None
        panel.new_clicked.connect(self.new_note)
        panel.save_clicked.connect(self.save)
        panel.attach_clicked.connect(self.attach_latest)
        panel.note_selected.connect(self.open_note)

    def show_for_host(self, host: str) -> None:
        self.host, self.client = host, None
        self._reload()

    def show_for_client(self, client: str) -> None:
        self.host, self.client = None, client
        self._reload()

    def _reload(self, select: str | None = None) -> None:
        notes = self.services.notes.list(host=self.host, client=self.client)
        scope = f"Notes for {self.host}" if self.host else f"Notes for {self.client}"
        self.panel.set_notes(scope, notes)
        current = select or (notes[0].id if notes else None)
        self.panel.show_note(self.services.notes.get(current) if current else None)
        if current:
            for row in range(self.panel.list.count()):
                if self.panel.list.item(row).data(ID_ROLE) == current:
                    self.panel.list.blockSignals(True)
                    self.panel.list.setCurrentRow(row)
                    self.panel.list.blockSignals(False)

    def open_note(self, note_id: str) -> None:
        self.panel.show_note(self.services.notes.get(note_id))

    def new_note(self) -> None:
        self.panel.list.clearSelection()
        self.panel.show_note(None)
        self.panel.title.setFocus()

    def save(self) -> str | None:
        p = self.panel
        followups = [Followup(text, done) for text, done in p.followup_values()]
        try:
            if p.current_id is None:
                if not (self.host or self.client):
                    raise WorkError("select a host or client first")
                note = self.services.notes.add(p.title.text(), p.body.toPlainText(), host=self.host,
                                               client=self.client)
                note = self.services.notes.edit(note.id, status=p.status.currentText(), followups=followups)
            else:
                note = self.services.notes.edit(p.current_id, title=p.title.text(), body=p.body.toPlainText(),
                                                status=p.status.currentText(), followups=followups)
        except (WorkError, RosterError) as exc:
            QMessageBox.warning(self.window, "Note not saved", str(exc))
            return None
        self._reload(select=note.id)
        self.notes_changed.emit()
        self.window.statusBar().showMessage(f"Saved note “{note.title}”", 4000)
        return note.id

    def attach_latest(self) -> None:
        if not self.host:
            return
        latest = self.services.history.latest(self.host)
        if latest is None:
            QMessageBox.information(self.window, "No run yet", f"{self.host} has not been checked yet.")
            return
        note_id = self.panel.current_id or self.save()
        if note_id:
            self.attach_run(note_id, latest[0].run_id)

    def attach_run(self, note_id: str, run_id: str) -> None:
        try:
            self.services.notes.attach_run(note_id, run_id)
        except WorkError as exc:
            QMessageBox.warning(self.window, "Not attached", str(exc))
            return
        self._reload(select=note_id)
        self.notes_changed.emit()
