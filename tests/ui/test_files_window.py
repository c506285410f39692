"""The SFTP tab against OpenSSH's real sshd: browse, transfer with progress, Cancel, folder work."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from techdesk.core.roster import HostSpec
from techdesk.terminal.files import PART
from techdesk.ui.views.files_view import COLUMNS

pytestmark = pytest.mark.sshd
SHOT = os.environ.get("TECHDESK_FILES_SHOT")


def test_files_tab_browse_transfer_cancel_and_folder_work(window, qloop, qtbot, services, sshd, tmp_path):
    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    services.roster.add(HostSpec(name="acme-fs01", address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path), client="Acme", site="HQ"))
    remote = tmp_path / "remote"
    (remote / "logs").mkdir(parents=True)
    (remote / "backup.tar").write_bytes(os.urandom(12 * 1024 * 1024))
    (remote / "notes.txt").write_text("hello\n")
    (remote / "evil\x1b[31mname.txt").write_text("x")     # a name from the host is data, not markup
    window.roster.refresh()
    window.roster.files_requested.emit("acme-fs01")
    tab = window.files.open_tabs[-1]
    assert qloop.run_until_complete(tab.task)
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Files — acme-fs01"
    assert qloop.run_until_complete(tab.go(str(remote)))
    view = tab.view
    names = [view.list.topLevelItem(i).text(0) for i in range(view.list.topLevelItemCount())]
    assert names[0] == "logs" and "backup.tar" in names and "evil?[31mname.txt" in names
    row = names.index("backup.tar")
    assert view.list.topLevelItem(row).text(COLUMNS.index("Size")) == "12.0 MB"
    assert view.list.topLevelItem(row).text(COLUMNS.index("Permissions")).startswith("-rw")

    # download with progress; the result matches byte for byte
    down = tmp_path / "down"
    down.mkdir()
    view.select_name("backup.tar")
    got = qloop.run_until_complete(tab.download(folder=down))
    assert got == [down / "backup.tar"]
    assert hashlib.sha256(got[0].read_bytes()).digest() == hashlib.sha256((remote / "backup.tar").read_bytes()).digest()
    assert view.progress.value() == view.progress.maximum() and not view.progress_row.isVisible()

    # Cancel from the progress row: nothing left under the final name, nor a partial file
    (down / "backup.tar").unlink()
    view.select_name("backup.tar")
    view.set_progress = lambda done, total: view.cancel.click()   # the technician clicks Cancel at once
    assert qloop.run_until_complete(tab.download(folder=down)) == []
    assert not (down / "backup.tar").exists() and not list(down.glob("*" + PART))
    assert "cancelled" in view.status.text()
    del view.set_progress

    # upload, new folder, rename, delete (confirmed / not confirmed)
    local = tmp_path / "report.pdf"
    local.write_bytes(os.urandom(300_000))
    assert qloop.run_until_complete(tab.upload([local])) == 1
    assert (remote / "report.pdf").read_bytes() == local.read_bytes()
    assert qloop.run_until_complete(tab.mkdir("archive"))
    assert (remote / "archive").is_dir()
    view.select_name("report.pdf")
    assert qloop.run_until_complete(tab.rename("report-2026.pdf"))
    assert (remote / "report-2026.pdf").exists() and not (remote / "report.pdf").exists()
    asked = []
    view.select_name("archive")
    assert not qloop.run_until_complete(tab.delete(confirm=lambda text: asked.append(text) or False))
    assert (remote / "archive").exists() and "archive/ (and everything in it)" in asked[0]
    assert qloop.run_until_complete(tab.delete(confirm=lambda text: True))
    assert not (remote / "archive").exists()

    # a path that does not exist: one line, the listing stays where it was
    assert not qloop.run_until_complete(tab.go(str(remote / "nope")))
    assert "Cannot open" in view.status.text() and tab.cwd == str(remote)
    if SHOT:
        view.select_name("backup.tar")
        view.set_busy("Downloading backup.tar")
        view.set_progress(5_400_000, 12 * 1024 * 1024)
        qloop.run_until_complete(asyncio.sleep(0.1))
        window.grab().save(SHOT)
        view.set_busy(None)
    window.files.close(tab)
    assert not window.files.open_tabs


def test_attach_remote_file_to_the_open_note(window, qloop, qtbot, services, sshd, tmp_path):
    from techdesk.core.work import ATTACHMENT_CAP

    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    services.roster.add(HostSpec(name="acme-fs01", address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path), client="Acme"))
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "cups.log").write_text("E [paper] jam in tray 2\n" * 40)
    (remote / "core.bin").write_bytes(b"\0ELF" * 100)
    (remote / "disk.img").write_bytes(b"\0" * (ATTACHMENT_CAP + 1))
    note = services.notes.add("printer jams", host="acme-fs01")
    window.roster.refresh()
    window.notes.show_for_host("acme-fs01")
    window.notes.open_note(note.id)
    window.roster.files_requested.emit("acme-fs01")
    tab = window.files.open_tabs[-1]
    assert qloop.run_until_complete(tab.task) and qloop.run_until_complete(tab.go(str(remote)))
    view = tab.view

    view.select_name("cups.log")
    assert view.attach.isEnabled()
    view.attach.click()                                   # the button, on the note open for this host
    qloop.run_until_complete(tab.task)
    assert "Attached cups.log" in view.status.text()
    atts = services.notes.get(note.id).attachments
    assert [(a.name, a.size) for a in atts] == [("cups.log", 960)]
    assert window.notes_panel.attachments.item(0).text() == f"cups.log · 960 B · acme-fs01:{remote}/cups.log"

    for name, why in (("core.bin", "core.bin is not a text file"), ("disk.img", "disk.img is 2.0 MB")):
        view.select_name(name)
        assert not qloop.run_until_complete(tab.attach_to_note())
        assert view.status.text().startswith(f"Not attached: {why}") and "\n" not in view.status.text()
    assert len(services.notes.get(note.id).attachments) == 1
    view.select_name("cups.log")
    window.files.close(tab)


def test_drag_and_drop_upload_and_download(window, qloop, qtbot, services, sshd, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    from techdesk.ui.views.files_view import OWN_DRAG

    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    services.roster.add(HostSpec(name="acme-fs01", address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path)))
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "backup.tar").write_bytes(os.urandom(3 * 1024 * 1024))
    window.roster.refresh()
    window.roster.files_requested.emit("acme-fs01")
    tab = window.files.open_tabs[-1]
    assert qloop.run_until_complete(tab.task) and qloop.run_until_complete(tab.go(str(remote)))
    view = tab.view

    # drop from the desktop: the local files are uploaded; a folder and a web address are not
    local = tmp_path / "desk"
    (local / "folder").mkdir(parents=True)
    (local / "report.pdf").write_bytes(os.urandom(200_000))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(local / "report.pdf")), QUrl.fromLocalFile(str(local / "folder")),
                  QUrl("https://evil.example/x.sh")])
    where = QPointF(view.list.viewport().rect().center())
    enter = QDragEnterEvent(where.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    view.list.dragEnterEvent(enter)
    assert enter.isAccepted()
    view.list.dropEvent(QDropEvent(where, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                   Qt.KeyboardModifier.NoModifier))
    assert qloop.run_until_complete(tab.task) == 1
    assert (remote / "report.pdf").read_bytes() == (local / "report.pdf").read_bytes()
    assert sorted(p.name for p in remote.iterdir()) == ["backup.tar", "report.pdf"]

    # drag out: fetched through the download path into a private folder, then dragged as a file
    dragged = []
    tab._exec_drag = dragged.append
    view.select_name("backup.tar")
    view.list.startDrag(Qt.DropAction.CopyAction)
    mime_out = qloop.run_until_complete(tab.task)
    assert "fetched: drag again" in view.status.text()       # the button was up when it arrived
    view.list.startDrag(Qt.DropAction.CopyAction)              # now it is a local file: Qt's own drag
    assert len(dragged) == 1 and dragged[0].hasFormat(OWN_DRAG)
    out = [u.toLocalFile() for u in dragged[0].urls()]
    assert out == [u.toLocalFile() for u in mime_out.urls()] and out[0].endswith("/backup.tar")
    assert hashlib.sha256(Path(out[0]).read_bytes()).digest() == \
        hashlib.sha256((remote / "backup.tar").read_bytes()).digest()
    assert oct(os.stat(os.path.dirname(out[0])).st_mode & 0o777) == "0o700"

    # our own drag dropped back on the listing is not an upload
    enter = QDragEnterEvent(where.toPoint(), Qt.DropAction.CopyAction, dragged[0], Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    view.list.dragEnterEvent(enter)
    assert not enter.isAccepted()

    # the file changed on the host: dragging fetches it again
    (remote / "backup.tar").write_bytes(b"new contents")
    assert qloop.run_until_complete(tab.go(str(remote)))
    view.select_name("backup.tar")
    view.list.startDrag(Qt.DropAction.CopyAction)
    qloop.run_until_complete(tab.task)
    assert Path(out[0]).read_bytes() == b"new contents"
    window.files.close(tab)
    assert not os.path.exists(os.path.dirname(out[0]))         # nothing left behind
