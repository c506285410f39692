"""Note attachments: kept content-addressed, synced as blobs next to the revisions, and a
hostile teammate's record or blob refused with one line, nothing changed."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from techdesk.core.roster import HostSpec
from techdesk.core.work import ATTACHMENT_CAP, WorkError
from techdesk.services.context import Services
from techdesk.workspace import Workspace
from tests.fixtures.sshd import add_host


def _svc(tmp_path, who: str, monkeypatch) -> Services:
    monkeypatch.setenv("TECHDESK_TECHNICIAN", who)
    svc = Services(Workspace(tmp_path / who, shared=str(tmp_path / "shared")))
    if not svc.roster.hosts():
        svc.roster.add(HostSpec(name="pc1", address="127.0.0.1", client="Acme"))
    return svc


def test_attach_sync_and_read_on_another_device(tmp_path, monkeypatch):
    ann = _svc(tmp_path, "ann", monkeypatch)
    ann.sync.sync(init=True)
    note = ann.notes.add("printer jam", "see the log", client="Acme")
    log = tmp_path / "cups.log"
    log.write_bytes(b"E [paper] jam in tray 2\n" * 100)
    note = ann.attachments.attach_local(note.id, log)
    att = note.attachments[0]
    assert (att.name, att.size, att.sha256) == ("cups.log", 2400, hashlib.sha256(log.read_bytes()).hexdigest())
    assert (ann.workspace.path / "attachments" / att.sha256).read_bytes() == log.read_bytes()
    # too big: said before reading, in one line, nothing attached
    big = tmp_path / "disk.img"
    with open(big, "wb") as f:
        f.truncate(ATTACHMENT_CAP + 1)
    with pytest.raises(WorkError, match=r"disk.img is 2.0 MB; a note's attachments are capped at 2 MB"):
        ann.attachments.attach_local(note.id, big)
    assert len(ann.notes.get(note.id).attachments) == 1
    ann.sync.sync()
    assert (tmp_path / "shared" / "attachments" / att.sha256).is_file()
    ann.close()

    bob = _svc(tmp_path, "bob", monkeypatch)
    bob.sync.sync()
    theirs = bob.notes.get(note.id).attachments
    assert [a.name for a in theirs] == ["cups.log"]
    assert bob.attachments.data(theirs[0]) == log.read_bytes()
    assert (bob.workspace.path / "attachments" / att.sha256).is_file()   # kept after the check
    bob.close()


def _hostile_note(tmp_path, monkeypatch, attachments: list[dict], blob: bytes | None = None):
    """mallory's modified app publishes a note whose attachments are whatever she likes."""
    mal = _svc(tmp_path, "mallory", monkeypatch)
    mal.sync.sync(init=not (tmp_path / "shared").exists())
    note = mal.notes.add("harmless", "", client="Acme")
    mal.conn.execute("UPDATE notes SET attachments = ? WHERE id = ?", (json.dumps(attachments), note.id))
    mal.conn.commit()
    mal.sync.sync()
    mal.close()
    return note.id


@pytest.mark.parametrize("bad, reason", [
    ({"name": "../../.bashrc"}, "is not a plain file name"),
    ({"name": "C:\\evil"}, "is not a plain file name"),
    ({"size": ATTACHMENT_CAP + 1}, "capped at 2 MB"),
    ({"sha256": "../../etc/passwd"}, "not a SHA-256"),
])
def test_a_hostile_record_is_skipped_with_its_reason(tmp_path, monkeypatch, bad, reason):
    good = {"name": "x.log", "sha256": "a" * 64, "size": 3, "source": "local"}
    nid = _hostile_note(tmp_path, monkeypatch, [{**good, **bad}])
    bob = _svc(tmp_path, "bob", monkeypatch)
    report = bob.sync.sync()
    assert nid not in {n.id for n in bob.notes.list()}             # nothing applied
    why = [s for s in report.skipped if nid in json.dumps(s)]
    assert why and reason in json.dumps(why) and "\n" not in json.dumps(why)
    assert not (bob.workspace.path / "attachments").exists()
    bob.close()


@pytest.mark.parametrize("tamper, reason", [
    ("wrong-hash", "content does not match its hash"),
    ("oversize", "larger than the note says (9 bytes)"),
    ("symlink", "refused: the shared file is"),
])
def test_a_hostile_blob_is_refused_and_nothing_kept(tmp_path, monkeypatch, tamper, reason):
    data = b"real log\n"
    sha = hashlib.sha256(data).hexdigest()
    nid = _hostile_note(tmp_path, monkeypatch, [{"name": "x.log", "sha256": sha, "size": len(data), "source": "local"}])
    blob = tmp_path / "shared" / "attachments" / sha
    blob.parent.mkdir(exist_ok=True)
    if tamper == "wrong-hash":
        blob.write_bytes(b"evil log\n")                 # same size, other content
    elif tamper == "oversize":
        blob.write_bytes(data + b"x" * 4096)
    else:
        secret = tmp_path / "secret"
        secret.write_bytes(data)                        # even the right bytes: a link is never followed
        os.symlink(secret, blob)
    bob = _svc(tmp_path, "bob", monkeypatch)
    bob.sync.sync()
    att = bob.notes.get(nid).attachments[0]             # the record itself is fine
    with pytest.raises(WorkError) as err:
        bob.attachments.data(att)
    assert reason in str(err.value) and "\n" not in str(err.value) and str(err.value).startswith("x.log")
    assert not (bob.workspace.path / "attachments" / sha).exists()
    bob.close()


def test_the_visit_report_lists_a_notes_attachments(tmp_path, monkeypatch):
    ann = _svc(tmp_path, "ann", monkeypatch)
    visit = ann.visits.start("Acme")
    note = ann.notes.add("printer jam", "", client="Acme")
    ann.attachments.attach(note.id, "cups.log", b"jam\n", "pc1:/var/log/cups/error_log")
    ann.visits.stop(visit.id, "done")
    html = ann.reports.visit(visit.id, tmp_path / "visit.html").read_text()
    assert "cups.log" in html and "from pc1:/var/log/cups/error_log" in html
    ann.close()


@pytest.mark.sshd
def test_attach_remote_over_real_sshd_hash_compared(sshd, tmp_path, monkeypatch):
    """A host's text file reaches the note byte for byte; a binary or too-big one is refused in
    one line, nothing attached, no temporary file left in the workspace."""
    import asyncio

    svc = _svc(tmp_path, "ann", monkeypatch)
    add_host(svc, sshd, "fs")
    remote = tmp_path / "remote"
    remote.mkdir()
    log = remote / "syslog"
    log.write_bytes("kernel: ünïcode ok\n".encode() * 5000 + bytes(range(1, 200)))  # text, not ASCII
    (remote / "core.bin").write_bytes(b"\x7fELF\0\0\0" + os.urandom(5000))
    (remote / "huge.log").write_bytes(b"x" * (ATTACHMENT_CAP + 1))
    note = svc.notes.add("disk errors", host="fs")

    async def scenario():
        files = await svc.sessions.open_files("fs")
        try:
            got = await svc.attachments.attach_remote(note.id, files, str(log), log.stat().st_size)
            with pytest.raises(WorkError, match=r"^core.bin is not a text file"):
                await svc.attachments.attach_remote(note.id, files, str(remote / "core.bin"), 5007)
            # the listing said 10 bytes but the host sends more: the cap holds on what arrives
            with pytest.raises(WorkError, match=r"huge.log is 2.0 MB; a note's attachments are capped"):
                await svc.attachments.attach_remote(note.id, files, str(remote / "huge.log"), 10)
            return got
        finally:
            files.close()

    got = asyncio.run(scenario())
    att = got.attachments[0]
    want = hashlib.sha256(log.read_bytes()).hexdigest()
    assert (att.name, att.sha256, att.size, att.source) == ("syslog", want, log.stat().st_size, f"fs:{log}")
    assert hashlib.sha256(svc.attachments.data(att)).hexdigest() == want
    assert [a.name for a in svc.notes.get(note.id).attachments] == ["syslog"]
    assert not list(svc.workspace.path.glob(".attach-*"))
    svc.close()
