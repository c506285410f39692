"""The SFTP tab against OpenSSH's real sshd: browse, transfer with progress, Cancel, folder work."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil

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
