"""Attached files in the Notes tab: attach a local file, see it listed, open it inside the
window (never by the system), save a copy; too big is one line and nothing attached."""

from __future__ import annotations

import hashlib

from techdesk.core.roster import HostSpec
from techdesk.core.work import ATTACHMENT_CAP


def test_attach_open_and_save_a_local_file(window, services, tmp_path, monkeypatch):
    services.roster.add(HostSpec(name="pc1", address="10.0.0.1", client="Acme"))
    window.roster.refresh()
    window.notes.show_for_host("pc1")
    panel = window.notes_panel
    panel.title.setText("slow logon")
    log = tmp_path / "gpresult.txt"
    log.write_bytes(b"\x1b]52;c;ZXZpbA==\x07GPO applied\r\n" * 3)   # an OSC 52 write is data here
    assert window.notes.attach_file(log)                        # a new note is saved first
    note = services.notes.get(panel.current_id)
    assert note.title == "slow logon" and [a.name for a in note.attachments] == ["gpresult.txt"]
    assert panel.attachments.item(0).text() == f"gpresult.txt · {log.stat().st_size} B · local"
    assert not panel.open_attachment_button.isEnabled()
    panel.attachments.setCurrentRow(0)
    assert panel.open_attachment_button.isEnabled()

    opened = []
    monkeypatch.setattr("PySide6.QtGui.QDesktopServices.openUrl", lambda url: opened.append(url))
    viewer = window.notes.open_attachment(0)
    assert "GPO applied" in viewer.text.toPlainText() and "\x1b" not in viewer.text.toPlainText()
    assert opened == []                                          # never handed to the desktop
    viewer.close()

    copy = tmp_path / "out" / "copy.txt"
    copy.parent.mkdir()
    assert window.notes.save_attachment(0, copy) == copy
    assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(log.read_bytes()).digest()

    # the stored blob was changed behind our back: not shown, not saved, said in one line
    (services.workspace.path / "attachments" / note.attachments[0].sha256).write_bytes(b"tampered")
    assert window.notes.open_attachment(0) is None
    assert "Cannot open the attachment" in panel.info.text()

    big = tmp_path / "disk.img"
    with open(big, "wb") as f:
        f.truncate(ATTACHMENT_CAP + 1)
    assert not window.notes.attach_file(big)
    assert panel.info.text() == "Not attached: disk.img is 2.0 MB; a note's attachments are capped at 2 MB each"
    assert len(services.notes.get(note.id).attachments) == 1


def test_attach_file_button_asks_for_a_file(window, services, tmp_path, monkeypatch):
    services.roster.add(HostSpec(name="pc1", address="10.0.0.1"))
    window.roster.refresh()
    window.notes.show_for_host("pc1")
    window.notes_panel.title.setText("screenshot of the error")
    shot = tmp_path / "error.png"
    from PySide6.QtGui import QImage

    img = QImage(20, 10, QImage.Format.Format_RGB32)
    img.fill(0xFF0000)
    img.save(str(shot))
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName", lambda *a, **k: (str(shot), ""))
    window.notes_panel.attach_file_button.click()
    note = services.notes.get(window.notes_panel.current_id)
    assert [a.name for a in note.attachments] == ["error.png"]
    viewer = window.notes.open_attachment(0)
    assert viewer.text is None                               # a picture is shown as a picture
    viewer.close()
