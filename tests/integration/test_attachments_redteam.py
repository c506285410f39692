"""Red-team of note attachments: a hostile teammate (anyone who can write to the shared
folder) and a compromised host (the real sshd fixture), each refused in one line with
nothing written where it should not be."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import unicodedata
from pathlib import Path

import pytest

from techdesk.core.work import ATTACHMENT_CAP, WorkError
from techdesk.terminal.files import CHUNK, TransferError
from tests.fixtures.sshd import add_host

from .test_note_attachments import _hostile_note, _svc


@pytest.mark.parametrize("name", [
    "a\u200bb.log",              # zero-width space: two names that look the same
    "CON.txt", "nul", "COM1.log",  # Windows devices: "Save a copy" would write to the device
    "notes.txt.", "notes.txt ",  # Windows drops a trailing dot or space: another file than shown
    'what?.log', "a|b", "a<b>", 'say"hi"',   # not a file name on Windows teammates' machines
])
def test_a_spoofing_or_device_name_from_a_teammate_is_refused(tmp_path, monkeypatch, name):
    nid = _hostile_note(tmp_path, monkeypatch, [{"name": name, "sha256": "a" * 64, "size": 3, "source": ""}])
    bob = _svc(tmp_path, "bob", monkeypatch)
    report = bob.sync.sync()
    assert nid not in {n.id for n in bob.notes.list()}
    why = json.dumps([s for s in report.skipped if nid in json.dumps(s)])
    assert "is not a plain file name" in why and "\\n" not in why
    bob.close()


@pytest.mark.parametrize("name", ["invoice\u202efdp.exe", "report\u2066.txt", "next\u0085line.log"])
def test_bidi_and_c1_in_a_teammates_name_arrive_cleaned(tmp_path, monkeypatch, name):
    """Synced text is cleaned before it is checked (issue #10 rule 5): the name arrives plain."""
    nid = _hostile_note(tmp_path, monkeypatch, [{"name": name, "sha256": "a" * 64, "size": 3, "source": ""}])
    bob = _svc(tmp_path, "bob", monkeypatch)
    bob.sync.sync()
    got = bob.notes.get(nid).attachments[0].name
    assert got != name and not any(unicodedata.category(c) in ("Cc", "Cf") for c in got)
    bob.close()


def test_a_spoofing_name_is_refused_locally_too(tmp_path, monkeypatch):
    ann = _svc(tmp_path, "ann", monkeypatch)
    note = ann.notes.add("x", "", client="Acme")
    for name in ("invoice\u202efdp.exe", "next\u0085line.log", "a\u2028b"):   # e.g. a host's file name
        with pytest.raises(WorkError, match="is not a plain file name"):
            ann.attachments.attach(note.id, name, b"MZ")
    assert ann.notes.get(note.id).attachments == []
    assert not (ann.workspace.path / "attachments").exists()
    ann.close()


def test_a_linked_attachments_folder_is_never_written_or_read_through(tmp_path, monkeypatch):
    """mallory replaces `attachments/` in the shared folder with a link to a folder of her
    choosing: ann's files must not be copied there, and nothing is read through it."""
    ann = _svc(tmp_path, "ann", monkeypatch)
    ann.sync.sync(init=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "shared" / "attachments").symlink_to(elsewhere, target_is_directory=True)
    note = ann.notes.add("printer jam", "", client="Acme")
    note = ann.attachments.attach(note.id, "cups.log", b"jam in tray 2\n")
    ann.sync.sync()                                          # the sync itself still completes
    assert list(elsewhere.iterdir()) == []
    ann.close()

    data = b"jam in tray 2\n"
    (elsewhere / hashlib.sha256(data).hexdigest()).write_bytes(data)   # right bytes, wrong place
    bob = _svc(tmp_path, "bob", monkeypatch)
    bob.sync.sync()
    with pytest.raises(WorkError) as err:
        bob.attachments.data(bob.notes.get(note.id).attachments[0])
    assert str(err.value).startswith("cups.log refused") and "link" in str(err.value)
    assert not (bob.workspace.path / "attachments").exists()
    bob.close()


@pytest.mark.sshd
def test_a_host_cannot_stream_more_than_the_cap_into_the_workspace(sshd, tmp_path, monkeypatch):
    """The compromised host lists a 'log' of 0 bytes that is really a stream: a link to a
    /proc file (size 0, megabytes of content; /dev/zero or a file that keeps growing behave
    the same, endlessly, so the test uses this finite one). Attaching it must stop at what
    the host said and at the cap, not copy whatever the host sends into the workspace."""
    stream = "/proc/kallsyms"
    if not os.path.exists(stream) or len(Path(stream).read_bytes()) < 2 * ATTACHMENT_CAP:
        pytest.skip(f"needs a /proc file larger than {2 * ATTACHMENT_CAP} bytes")
    svc = _svc(tmp_path, "ann", monkeypatch)
    add_host(svc, sshd, "fs")
    remote = tmp_path / "remote"
    remote.mkdir()
    fifo = remote / "app.log"
    fifo.symlink_to(stream)
    note = svc.notes.add("disk errors", host="fs")

    async def scenario():
        files = await svc.sessions.open_files("fs")
        try:
            listed = {e.name: e for e in await files.list(str(remote))}
            with pytest.raises((WorkError, TransferError)) as err:
                await svc.attachments.attach_remote(note.id, files, str(fifo), listed["app.log"].size)
            return err.value
        finally:
            files.close()

    err = asyncio.run(scenario())
    assert "\n" not in str(err) and "app.log" in str(err)
    moved = [r[0] for r in svc.conn.execute("SELECT detail FROM audit WHERE action = 'download-result'")]
    got = int(re.search(r": (\d+) bytes", moved[-1]).group(1))
    assert got <= ATTACHMENT_CAP + CHUNK, f"{got} bytes copied from the host"
    assert svc.notes.get(note.id).attachments == []
    assert not list(svc.workspace.path.glob(".attach-*"))
    svc.close()
