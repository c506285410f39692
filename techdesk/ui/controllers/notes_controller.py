"""Wires the notes panel to the notes service: list, edit, save, attach findings.

Unsaved text is never lost: it is kept as a draft (services/drafts.py) a moment
after each change and whenever the editor moves to another note or host, and comes
back when that note is opened again; closing the window asks (MainWindow.closeEvent)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from techdesk.core.roster import RosterError
from techdesk.core.work import Followup, WorkError
from techdesk.services.drafts import DraftStore, draft_key
from techdesk.ui.timefmt import local_time
from techdesk.ui.views.notes_panel import ID_ROLE

DRAFT_DELAY_MS = 800


class NotesController(QObject):
    notes_changed = Signal()

    def __init__(self, services, panel, window) -> None:
        super().__init__(window)
        self.services = services
        self.panel = panel
        self.window = window
        self.host: str | None = None
        self.client: str | None = None
        self.drafts = DraftStore(services.workspace.path / "drafts.json")
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.keep_draft)
        panel.edited.connect(self._draft_timer.start)
        panel.discard_clicked.connect(self.discard)
        panel.new_clicked.connect(self.new_note)
        panel.save_clicked.connect(self.save)
        panel.attach_clicked.connect(self.attach_latest)
        panel.note_selected.connect(self.open_note)
        panel.attach_file_clicked.connect(lambda: self.attach_file())
        panel.open_attachment_clicked.connect(self.open_attachment)
        panel.save_attachment_clicked.connect(lambda row: self.save_attachment(row))

    # -- drafts --------------------------------------------------------------
    def _key(self) -> str | None:
        if self.panel.current_id is None and not (self.host or self.client):
            return None
        return draft_key(self.panel.current_id, self.host, self.client)

    def keep_draft(self) -> None:
        """The editor's unsaved text, kept on disk (or dropped once it matches the note again)."""
        self._draft_timer.stop()
        key = self._key()
        if key is None:
            return
        if self.panel.is_dirty():
            self.drafts.put(key, self.panel.values())
        else:
            self.drafts.drop(key)

    def _restore_draft(self) -> None:
        key = self._key()
        draft = self.drafts.get(key) if key else None
        if draft:
            self.panel.set_values(draft)
            self.panel.info.setText(f"Unsaved draft from {local_time(draft.get('saved_at'))}, restored: "
                                    "Save note (Ctrl+S) keeps it, Discard changes drops it")

    def discard(self) -> None:
        key = self._key()
        if key:
            self.drafts.drop(key)
        note_id = self.panel.current_id
        self.panel.show_note(self.services.notes.get(note_id) if note_id else None)

    # -- showing ---------------------------------------------------------------
    def show_for_host(self, host: str) -> None:
        if (self.host, self.client) == (host, None):
            return  # the same host again (a refresh): the editor stays as it is
        self.keep_draft()
        self.host, self.client = host, None
        self._reload(kept=True)

    def show_for_client(self, client: str) -> None:
        if (self.host, self.client) == (None, client):
            return
        self.keep_draft()
        self.host, self.client = None, client
        self._reload(kept=True)

    def _reload(self, select: str | None = None, kept: bool = False) -> None:
        if not kept:
            self.keep_draft()  # a reload (after a sync) never drops what is being typed
        notes = self.services.notes.list(host=self.host, client=self.client)
        scope = f"Notes for {self.host}" if self.host else f"Notes for {self.client}"
        self.panel.set_notes(scope, notes)
        ids = [n.id for n in notes]
        current = select or (self.panel.current_id if self.panel.current_id in ids else None) \
            or (ids[0] if ids else None)
        if select is None and self.drafts.get(draft_key(None, self.host, self.client)):
            current = None  # a new note was being written here: back to it
        self.panel.show_note(self.services.notes.get(current) if current else None)
        self._restore_draft()
        if current:
            for row in range(self.panel.list.count()):
                if self.panel.list.item(row).data(ID_ROLE) == current:
                    self.panel.list.blockSignals(True)
                    self.panel.list.setCurrentRow(row)
                    self.panel.list.blockSignals(False)

    def open_note(self, note_id: str) -> None:
        self.keep_draft()
        self.panel.show_note(self.services.notes.get(note_id))
        self._restore_draft()

    def new_note(self) -> None:
        self.keep_draft()
        self.panel.list.clearSelection()
        self.panel.show_note(None)
        self._restore_draft()
        self.panel.title.setFocus()

    def save(self) -> str | None:
        p = self.panel
        self._draft_timer.stop()
        key = self._key()
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
        if key:
            self.drafts.drop(key)
        self._reload(select=note.id, kept=True)
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

    # -- attached files ------------------------------------------------------------
    def attach_file(self, path: str | Path | None = None) -> bool:
        """A local file kept with the open note (saved first if it is new)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Attach a file to the note", str(Path.home()))
            if not path:
                return False
        note_id = self.panel.current_id or self.save()
        if not note_id:
            return False
        try:
            self.services.attachments.attach_local(note_id, path)
        except WorkError as exc:
            self.panel.info.setText(f"Not attached: {exc}")   # one line: too big, unreadable
            return False
        self.attached(note_id, Path(path).name)
        return True

    def attached(self, note_id: str, name: str) -> None:
        """A file was attached to `note_id` (here or from a Files tab): show it if it is open."""
        if self.panel.current_id == note_id:
            self._reload(select=note_id)
        self.notes_changed.emit()
        self.window.statusBar().showMessage(f"Attached {name}", 4000)

    def _attachment(self, row: int):
        note = self.services.notes.get(self.panel.current_id) if self.panel.current_id else None
        if note is None or not 0 <= row < len(note.attachments):
            return None, None
        att = note.attachments[row]
        try:
            return att, self.services.attachments.data(att)   # checked against the note's hash
        except WorkError as exc:
            self.panel.info.setText(f"Cannot open the attachment: {exc}")
            return att, None

    def open_attachment(self, row: int):
        from techdesk.ui.dialogs.attachment_viewer import AttachmentViewer

        att, data = self._attachment(row)
        if data is None:
            return None
        viewer = AttachmentViewer(self.window, att.name, data)
        viewer.show()
        return viewer

    def save_attachment(self, row: int, path: str | Path | None = None) -> Path | None:
        att, data = self._attachment(row)
        if data is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Save a copy", str(Path.home() / att.name))
            if not path:
                return None
        try:
            Path(path).write_bytes(data)
        except OSError as exc:
            self.panel.info.setText(f"Not saved: {exc.strerror or exc}")
            return None
        self.window.statusBar().showMessage(f"Saved a copy of {att.name}", 4000)
        return Path(path)
