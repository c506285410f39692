"""The shared-folder engine: revisions, hashing, heads, atomic writes, hostile folders."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from techdesk.sync import (
    MARKER_NAME,
    InvalidRevision,
    SharedFolder,
    SharedFolderError,
    canonical_json,
    heads,
    make_revision,
    merge_revision,
    revision_from_bytes,
)
from techdesk.sync.format import atomic, names

T0 = "2024-05-01T08:00:00.000000Z"
T1 = "2024-05-01T09:00:00.000000Z"
T2 = "2024-05-01T10:00:00.000000Z"
T3 = "2024-05-01T11:00:00.000000Z"


def rev_of(record_id="n1", body=None, parents=(), author="ann", device="ann-laptop",
           time=T0, kind="note", deleted=False):
    return make_revision(kind, record_id, {"text": "hello"} if body is None else body,
                         list(parents), author, device, deleted=deleted, time=time)


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its size and mtime: proves nothing was changed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            out[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def folder(tmp_path: Path) -> SharedFolder:
    shared = SharedFolder(tmp_path / "shared")
    shared.open(create=True)
    return shared


def place(folder: SharedFolder, relpath: str, data: bytes) -> Path:
    path = folder.root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def reads(monkeypatch):
    """Count the files the scan opens for reading."""
    calls: list[str] = []
    real = atomic.read_file_limited

    def counting(path, limit):
        calls.append(os.path.basename(path))
        return real(path, limit)

    monkeypatch.setattr(atomic, "read_file_limited", counting)
    return calls


# ------------------------------------------------------------------ revisions and hashing

def test_rev_is_sha256_of_canonical_json_without_rev():
    rev = rev_of(body={"b": 1, "a": "é"})
    doc = rev.to_dict()
    del doc["rev"]
    expected = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert rev.rev == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert b'"a":"\xc3\xa9"' in canonical_json(doc)  # UTF-8, not \u00e9


def test_known_answer_hash_is_stable():
    rev = make_revision("note", "n1", {"title": "Drucker", "text": "Grüße ✓ 日本"}, [],
                        "ann", "ann-laptop", time=T0)
    doc = ('{"author":"ann","body":{"text":"Grüße ✓ 日本","title":"Drucker"},"deleted":false,'
           '"device":"ann-laptop","format":1,"id":"n1","kind":"note","parents":[],'
           '"time":"2024-05-01T08:00:00.000000Z"}')
    assert rev.rev == hashlib.sha256(doc.encode("utf-8")).hexdigest()


def test_same_body_in_any_key_order_gives_same_rev():
    one = rev_of(body={"title": "x", "tags": ["a", "b"], "meta": {"z": 1, "y": 2}})
    two = rev_of(body={"meta": {"y": 2, "z": 1}, "tags": ["a", "b"], "title": "x"})
    assert one.rev == two.rev
    assert rev_of(body={"title": "y"}).rev != one.rev
    assert rev_of(body={"title": "x"}, author="bob").rev != rev_of(body={"title": "x"}).rev


def test_make_revision_normalizes_and_validates():
    a, b = rev_of().rev, rev_of(body={"x": 1}).rev
    merged = rev_of(parents=[b, a, b])
    assert merged.parents == sorted([a, b])
    assert rev_of(body={"t": (1, 2)}).body == {"t": [1, 2]}
    when = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert rev_of(time=when).time == "2024-05-01T10:00:00.000000Z"
    assert rev_of(time=None).time.endswith("Z")
    for bad in (dict(kind="Note!"), dict(record_id="a/b"), dict(record_id="x" * 65),
                dict(record_id="con"), dict(parents=["xyz"]), dict(author=""),
                dict(device="a\x1b[31m"), dict(body={"x": {1, 2}}), dict(body=["list"]),
                dict(time=datetime(2024, 5, 1)), dict(time="yesterday")):
        with pytest.raises(ValueError):
            rev_of(**bad)


def test_revision_from_bytes_round_trip_and_rejections():
    rev = rev_of(body={"text": "ünïcode"})
    assert revision_from_bytes(rev.to_bytes()) == rev
    doc = rev.to_dict()
    for change, reason in (
        ({"body": ["x"]}, "body must be a JSON object"),
        ({"deleted": "yes"}, "deleted must be true or false"),
        ({"parents": "abc"}, "parents must be a list"),
        ({"kind": "widget"}, "unknown kind"),
        ({"extra": 1}, "unexpected field"),
        ({"time": "May 1st"}, "time is not"),
        ({"format": 2}, "newer techdesk"),
        ({"format": "1"}, "format"),
        ({"rev": "0" * 64}, "does not match its hash"),
    ):
        with pytest.raises(InvalidRevision, match=reason):
            revision_from_bytes(json.dumps({**doc, **change}).encode())
    with pytest.raises(InvalidRevision, match="missing field 'author'"):
        revision_from_bytes(json.dumps({k: v for k, v in doc.items() if k != "author"}).encode())


def test_every_prefix_of_a_revision_is_a_torn_write():
    body = {"text": "café ☕ line\nnext\x01", "n": -12.5e3, "ok": True, "no": False,
            "none": None, "q": '"quoted" \\ back', "list": [1, 2.5, {"x": []}]}
    data = rev_of(body=body).to_bytes().rstrip(b"\n")
    for cut in range(len(data)):
        with pytest.raises(InvalidRevision, match="truncated|empty"):
            revision_from_bytes(data[:cut])


# ------------------------------------------------------------------ heads

def test_heads_linear_history_has_one_head():
    a = rev_of(time=T0)
    b = rev_of(body={"text": "b"}, parents=[a.rev], time=T1)
    c = rev_of(body={"text": "c"}, parents=[b.rev], time=T2)
    assert heads([c, a, b]) == {("note", "n1"): [c]}


def test_heads_fork_is_a_conflict_in_time_order_and_merge_resolves_it():
    a = rev_of(time=T0)
    ann = rev_of(body={"text": "ann"}, parents=[a.rev], time=T2)
    bob = rev_of(body={"text": "bob"}, parents=[a.rev], author="bob", device="bob-pc", time=T1)
    forked = heads([a, ann, bob, ann])
    assert forked[("note", "n1")] == [bob, ann]
    merged = merge_revision("note", "n1", forked[("note", "n1")], {"text": "ann + bob"},
                            "ann", "ann-laptop")
    assert merged.parents == sorted([ann.rev, bob.rev])
    assert heads([a, ann, bob, merged])[("note", "n1")] == [merged]
    with pytest.raises(ValueError):
        merge_revision("note", "n2", [ann], {}, "ann", "ann-laptop")


def test_heads_same_time_orders_by_rev_and_records_are_separate():
    x = rev_of(body={"text": "x"}, time=T1)
    y = rev_of(body={"text": "y"}, time=T1)
    other = rev_of(record_id="n2", time=T0)
    result = heads([y, other, x])
    assert result[("note", "n1")] == sorted([x, y], key=lambda r: r.rev)
    assert result[("note", "n2")] == [other]


def test_tombstone_is_the_head_of_a_deleted_record():
    a = rev_of(time=T0)
    gone = make_revision("note", "n1", {}, [a.rev], "ann", "ann-laptop", deleted=True, time=T1)
    assert heads([a, gone])[("note", "n1")] == [gone] and gone.deleted
    edit = rev_of(body={"text": "edited offline"}, parents=[a.rev], author="bob", time=T2)
    assert heads([a, gone, edit])[("note", "n1")] == [gone, edit]  # delete vs edit: a conflict
    kept = merge_revision("note", "n1", [gone, edit], edit.body, "bob", "bob-pc", time=T3)
    assert heads([a, gone, edit, kept])[("note", "n1")] == [kept] and not kept.deleted


# ------------------------------------------------------------------ open / refusals

def test_open_refuses_missing_folder_and_creates_nothing(tmp_path):
    root = tmp_path / "mnt" / "share"
    with pytest.raises(SharedFolderError, match="missing or not mounted.*outbox") as err:
        SharedFolder(root).open()
    assert "\n" not in str(err.value)
    with pytest.raises(SharedFolderError, match="missing or not mounted"):
        SharedFolder(root).write(rev_of())
    assert not (tmp_path / "mnt").exists()


def test_open_refuses_folder_without_marker_and_writes_nothing(tmp_path):
    root = tmp_path / "share"
    (root / "notes").mkdir(parents=True)  # an empty mount point, or a wiped folder
    before = tree(root)
    shared = SharedFolder(root)
    with pytest.raises(SharedFolderError, match=f"no {MARKER_NAME}"):
        shared.open()
    with pytest.raises(SharedFolderError):
        shared.scan()
    with pytest.raises(SharedFolderError):
        shared.write(rev_of())
    assert tree(root) == before


def test_open_refuses_newer_format_read_only(tmp_path):
    root = tmp_path / "share"
    root.mkdir()
    (root / MARKER_NAME).write_text('{"format": 2, "created": "2030-01-01T00:00:00Z"}')
    place_rev = rev_of()
    (root / "notes" / "n1").mkdir(parents=True)
    (root / "notes" / "n1" / f"{place_rev.rev}.json").write_bytes(place_rev.to_bytes())
    before = tree(root)
    shared = SharedFolder(root)
    for attempt in (shared.open, lambda: shared.open(create=True), shared.scan,
                    lambda: shared.write(rev_of(record_id="n2"))):
        with pytest.raises(SharedFolderError, match="newer techdesk"):
            attempt()
    assert tree(root) == before


def test_folder_upgraded_by_a_newer_techdesk_while_open_is_refused(folder):
    folder.write(rev_of())
    (folder.root / MARKER_NAME).write_text('{"format": 2}')
    with pytest.raises(SharedFolderError, match="newer techdesk"):
        folder.scan()
    with pytest.raises(SharedFolderError, match="newer techdesk"):
        folder.write(rev_of(record_id="n2"))
    assert not (folder.root / "notes" / "n2").exists()


@pytest.mark.parametrize("content", [b"", b"not json", b"[1]", b'{"format": "one"}', b"\xff"])
def test_open_refuses_unreadable_marker_and_never_overwrites_it(tmp_path, content):
    root = tmp_path / "share"
    root.mkdir()
    (root / MARKER_NAME).write_bytes(content)
    with pytest.raises(SharedFolderError, match="unreadable"):
        SharedFolder(root).open(create=True)
    assert (root / MARKER_NAME).read_bytes() == content


def test_open_create_sets_up_marker_once(tmp_path):
    root = tmp_path / "share"
    SharedFolder(root).open(create=True)
    marker = json.loads((root / MARKER_NAME).read_text())
    assert marker["format"] == 1 and marker["created"].endswith("Z")
    before = tree(root)
    SharedFolder(root).open(create=True)
    SharedFolder(root).open()
    assert tree(root) == before
    (tmp_path / "file").write_text("x")
    with pytest.raises(SharedFolderError, match="not a directory"):
        SharedFolder(tmp_path / "file").open()


def test_folder_vanishing_after_open_is_refused(folder):
    folder.write(rev_of())
    (folder.root / MARKER_NAME).unlink()  # unmounted, or emptied by a sync client
    with pytest.raises(SharedFolderError, match="missing or not mounted"):
        folder.scan()
    with pytest.raises(SharedFolderError):
        folder.write(rev_of(record_id="n2"))
    assert not (folder.root / "notes" / "n2").exists()


# ------------------------------------------------------------------ write / scan

def test_write_scan_round_trip(folder):
    a = rev_of(time=T0)
    b = rev_of(body={"text": "second"}, parents=[a.rev], time=T1)
    host = rev_of(kind="host", record_id="h-1", body={"name": "srv01"})
    gone = make_revision("visit", "v1", {}, [], "bob", "bob-pc", deleted=True, time=T2)
    for rev in (a, b, host, gone):
        assert folder.write(rev) is True
    assert (folder.root / "notes" / "n1" / f"{a.rev}.json").read_bytes() == a.to_bytes()
    result = SharedFolder(folder.root).scan()
    assert not result.skipped
    assert sorted(result.revisions, key=lambda r: r.rev) == sorted([a, b, host, gone],
                                                                   key=lambda r: r.rev)
    assert result.seen == {r.relpath for r in (a, b, host, gone)}
    assert not [p for p in tree(folder.root) if ".tmp-" in p]


def test_write_is_idempotent_and_never_rewrites(folder):
    rev = rev_of()
    assert folder.write(rev) is True
    path = folder.root / rev.relpath
    before = tree(folder.root)
    time.sleep(0.01)
    assert folder.write(rev) is False
    assert tree(folder.root) == before and path.read_bytes() == rev.to_bytes()


def test_write_rejects_unregistered_kind_and_tampered_revision(folder):
    with pytest.raises(ValueError, match="not registered"):
        folder.write(rev_of(kind="widget"))
    rev = rev_of()
    rev.body["text"] = "changed after hashing"
    with pytest.raises(ValueError, match="does not match"):
        folder.write(rev)
    forged = dataclasses.replace(rev_of(), id="../../escape")
    with pytest.raises(ValueError, match="invalid record id"):
        folder.write(forged)
    assert sorted(os.listdir(folder.root)) == [MARKER_NAME]


def test_write_beside_a_corrupt_final_file_never_touches_it(folder):
    rev = rev_of()
    torn = place(folder, rev.relpath, rev.to_bytes()[:40])
    assert folder.write(rev) is True
    assert torn.read_bytes() == rev.to_bytes()[:40]
    copies = [p.name for p in torn.parent.iterdir() if ".copy-" in p.name]
    assert len(copies) == 1
    assert folder.write(rev) is False  # a valid copy is there now
    result = folder.scan()
    assert result.revisions == [rev]
    assert [s.path for s in result.skipped] == [rev.relpath]


def test_write_refuses_to_follow_a_symlinked_directory(folder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder.root / "notes").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SharedFolderError, match="symbolic link"):
        folder.write(rev_of())
    assert list(outside.iterdir()) == []


# ------------------------------------------------------------------ hostile folder contents

def _cases(folder: SharedFolder, tmp_path: Path) -> dict[str, str]:
    """Place every hostile file; return {relative path: expected reason fragment}."""
    good = rev_of(record_id="n1")
    other = rev_of(record_id="n2", body={"text": "other"})
    n1 = folder.root / "notes" / "n1"
    n1.mkdir(parents=True)
    expected = {}

    def put(name, data, reason, directory=n1):
        (directory / name).write_bytes(data)
        expected[f"{directory.relative_to(folder.root).as_posix()}/{name}"] = reason

    fake = hashlib.sha256(b"fake").hexdigest()
    (n1 / f"{fake}.json").symlink_to("/etc/passwd")
    expected[f"notes/n1/{fake}.json"] = "symbolic link"
    outside = tmp_path / "outside" / "n9"
    outside.mkdir(parents=True)
    trap = rev_of(record_id="n9")
    (outside / f"{trap.rev}.json").write_bytes(trap.to_bytes())
    (folder.root / "notes" / "n9").symlink_to(outside, target_is_directory=True)
    expected["notes/n9"] = "symbolic link"
    (folder.root / "visits").symlink_to(tmp_path / "outside", target_is_directory=True)
    expected["visits"] = "symbolic link"
    put("..evil.json", good.to_bytes(), "'..'")
    put(f"{good.rev[:10]}..json", good.to_bytes(), "'..'")
    put("x\\..\\y.json", good.to_bytes(), "separator")
    big = hashlib.sha256(b"big").hexdigest() + ".json"
    with open(n1 / big, "wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: costs no disk
    expected[f"notes/n1/{big}"] = "file too large (209715200 bytes"
    put(f"{hashlib.sha256(b'j').hexdigest()}.json", b'{"format": 1, "kind": "note",,}',
        "invalid JSON")
    put(f"{good.rev}.json", good.to_bytes()[:-20], "truncated JSON")
    put(f"{hashlib.sha256(b'e').hexdigest()}.json", b"", "empty file")
    latin = good.to_bytes().replace(b'"hello"', b'"h\xe9llo"')
    put(f"{hashlib.sha256(b'u').hexdigest()}.json", latin, "not valid UTF-8")
    victim = rev_of(record_id="n1", body={"text": "original"})
    tampered = json.loads(victim.to_bytes())
    tampered["body"]["text"] = "tampered"  # rev and file name kept: the hash no longer fits
    put(f"{victim.rev}.json", json.dumps(tampered).encode(), "does not match its hash")
    put(f"{hashlib.sha256(b'n').hexdigest()}.json", rev_of(body={"text": "3"}).to_bytes(),
        "rev does not match the file name")
    put(f"{other.rev}.json", other.to_bytes(), "record id does not match its directory")
    host = rev_of(kind="host", record_id="n1")
    put(f"{host.rev}.json", host.to_bytes(), "kind does not match")
    newer = {**json.loads(good.to_bytes()), "format": 2}
    put(f"{hashlib.sha256(b'f').hexdigest()}.json", json.dumps(newer).encode(), "newer techdesk")
    put("notes.txt", b"hello", "unexpected file name")
    (folder.root / "notes" / "bad id!").mkdir()
    expected["notes/bad id!"] = "not a valid record id"
    (folder.root / "notes" / "stray.json").write_bytes(good.to_bytes())
    expected["notes/stray.json"] = "not a valid record id"
    (folder.root / "notes" / "n3").write_bytes(b"a file where a record directory belongs")
    expected["notes/n3"] = "not a directory"
    os.mkfifo(n1 / f"{hashlib.sha256(b'fifo').hexdigest()}.json")
    expected[f"notes/n1/{hashlib.sha256(b'fifo').hexdigest()}.json"] = "not a regular file"
    (n1 / f"{hashlib.sha256(b'd').hexdigest()}.json").mkdir()
    expected[f"notes/n1/{hashlib.sha256(b'd').hexdigest()}.json"] = "not a regular file"
    fd = os.open(os.fsencode(str(n1)) + b"/\xff\xfe.json", os.O_CREAT | os.O_WRONLY, 0o644)
    os.close(fd)
    expected["notes/n1/\\xff\\xfe.json"] = "undecodable"
    return expected


def test_hostile_files_are_skipped_with_reasons_and_never_followed(folder, tmp_path, reads):
    expected = _cases(folder, tmp_path)
    survivor = rev_of(record_id="n4", body={"text": "valid neighbour"})
    folder.write(survivor)
    reads.clear()
    result = folder.scan()
    assert result.revisions == [survivor]
    got = {s.path: s.reason for s in result.skipped}
    assert set(got) == set(expected), set(got) ^ set(expected)
    for path, fragment in expected.items():
        assert fragment in got[path], (path, got[path])
    judged_by_listing = ("file too large", "symbolic link", "not a regular file", "unsafe",
                         "unexpected file name", "not a valid record id", "not a directory")
    never_opened = {os.path.basename(path) for path, reason in got.items()
                    if reason.startswith(judged_by_listing)}
    assert len(never_opened) == 14 and not never_opened & set(reads)
    assert "n9" not in {r.id for r in result.revisions}


def test_temporary_and_metadata_files_are_ignored_silently(folder, reads):
    rev = rev_of()
    folder.write(rev)
    n1 = folder.root / "notes" / "n1"
    temp_names = [
        f".{rev.rev}.json.tmp-0123456789abcdef", f".syncthing.{rev.rev}.json.tmp",
        f"~syncthing~{rev.rev}.json.tmp", ".dropbox", ".dropbox.attr", f"{rev.rev}.json.partial",
        "~$report.docx", ".~lock.notes.odt#", "desktop.ini", ".DS_Store", "Thumbs.db",
        f"._{rev.rev}.json", f".{rev.rev}.json.~a1b2c3", "Icon\r",
    ]
    for name in temp_names:
        (n1 / name).write_bytes(b"{partial")
    for name in (".stversions", ".dropbox.cache"):
        (folder.root / "notes" / name).mkdir()
    for name in ("desktop.ini", ".DS_Store", "Thumbs.db"):
        (folder.root / "notes" / name).write_bytes(b"x")
    reads.clear()
    result = folder.scan()
    assert result.revisions == [rev] and result.skipped == []
    assert reads == [f"{rev.rev}.json"]


@pytest.mark.parametrize("copy_name", [
    "{rev}.sync-conflict-20240501-101500-ABCDEF7.json",
    "{rev} (Bob's conflicted copy 2024-05-01).json",
    "{rev} (conflicted copy 2024-05-01 101500).json",
    "{rev}-BOB-PC.json",
    "{rev}-BOB-PC-2.json",
    "{rev} (1).json",
])
def test_conflict_copies_valid_count_once_invalid_skipped(folder, copy_name):
    rev = rev_of()
    folder.write(rev)
    n1 = folder.root / "notes" / "n1"
    (n1 / copy_name.format(rev=rev.rev)).write_bytes(rev.to_bytes())
    only_copy = rev_of(body={"text": "only in a copy"}, parents=[rev.rev], time=T1)
    (n1 / copy_name.format(rev=only_copy.rev)).write_bytes(only_copy.to_bytes())
    bad = rev_of(body={"text": "bad"}, time=T2)
    (n1 / copy_name.format(rev=bad.rev)).write_bytes(bad.to_bytes()[:-30])
    result = folder.scan()
    assert sorted(r.rev for r in result.revisions) == sorted([rev.rev, only_copy.rev])
    assert [(s.path, s.reason.split(":")[0]) for s in result.skipped] == [
        (f"notes/n1/{copy_name.format(rev=bad.rev)}", "conflict copy with invalid content")]
    assert heads(result.revisions)[("note", "n1")] == [only_copy]
    again = folder.scan({rev.relpath})  # the original was read in an earlier sync
    assert sorted(r.rev for r in again.revisions) == [only_copy.rev]


def test_name_classification():
    rev = "a" * 64
    assert names.classify_file(f"{rev}.json") == (names.REVISION, rev)
    assert names.classify_file(f"{rev}.copy-0011aabb.json") == (names.COPY, rev)
    assert names.classify_file(f"{rev}_conflict-20240501-101500.json") == (names.COPY, rev)
    assert names.classify_file(f"{rev.upper()}.json")[0] == names.UNEXPECTED
    assert names.classify_file("a\x1b]0;pwned\x07.json")[0] == names.UNSAFE
    assert names.classify_record_dir("Host_01-a") == (names.REVISION, "Host_01-a")
    assert names.classify_record_dir("NUL")[0] == names.UNEXPECTED
    assert names.display("\udcff\x1b.json") == "\\xff\\x1b.json"


def test_windows_junctions_count_as_links_but_cloud_placeholders_do_not():
    class FakeStat:
        def __init__(self, tag):
            self.st_mode, self.st_reparse_tag = 0o040755, tag

    assert atomic.is_link(FakeStat(0xA0000003))  # junction
    assert atomic.is_link(FakeStat(0xA000000C))  # symlink
    assert not atomic.is_link(FakeStat(0x9000701A))  # OneDrive cloud placeholder
    assert not atomic.is_link(FakeStat(0))


# ------------------------------------------------------------------ the seen set

def test_second_scan_with_seen_reads_zero_files(folder, reads):
    revs = [rev_of(record_id=f"n{i}", body={"i": i}) for i in range(20)]
    for rev in revs:
        folder.write(rev)
    place(folder, "notes/n0/" + hashlib.sha256(b"x").hexdigest() + ".json", b"{not json")
    first = folder.scan()
    assert len(first.revisions) == 20 and len(first.skipped) == 1
    assert len(reads) == 21
    reads.clear()
    second = folder.scan(first.seen)
    assert reads == []
    assert second.revisions == [] and second.skipped == first.skipped
    assert second.seen == first.seen
    new = rev_of(record_id="n99")
    folder.write(new)
    third = folder.scan(second.seen)
    assert third.revisions == [new] and reads == [f"{new.rev}.json"]


def test_skipped_file_is_reread_once_completed(folder, reads):
    rev = rev_of()
    path = place(folder, rev.relpath, rev.to_bytes()[:50])  # a sync client mid-download
    first = folder.scan()
    assert first.revisions == [] and "truncated" in first.skipped[0].reason
    reads.clear()
    assert folder.scan(first.seen).skipped == first.skipped and reads == []
    path.write_bytes(rev.to_bytes())  # the download completes
    third = folder.scan(first.seen)
    assert third.revisions == [rev] and third.skipped == [] and reads == [f"{rev.rev}.json"]
    assert third.seen == {rev.relpath}


def test_cached_verdicts_expire_when_the_rules_change(folder):
    rev = rev_of(body={"text": "x" * 5000})
    folder.write(rev)
    small = SharedFolder(folder.root, max_file_bytes=1000)
    first = small.scan()
    assert "too large" in first.skipped[0].reason
    assert SharedFolder(folder.root).scan(first.seen).revisions == [rev]


# ------------------------------------------------------------------ atomic writes, Windows

def test_retry_on_permission_error_backs_off_then_succeeds():
    sleeps, calls = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise PermissionError(13, "held by another program")
        return "done"

    assert atomic.retry_on_permission_error(flaky, sleep=sleeps.append) == "done"
    assert sleeps == [0.05, 0.1, 0.2]


def test_retry_on_permission_error_gives_up_after_ten_tries():
    sleeps, calls = [], []

    def always():
        calls.append(1)
        raise PermissionError(13, "held")

    with pytest.raises(PermissionError):
        atomic.retry_on_permission_error(always, sleep=sleeps.append)
    assert len(calls) == 10
    assert sleeps == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0]


def test_windows_write_retries_a_held_rename(folder):
    attempts, sleeps = [], []

    def held_twice(src, dst):
        attempts.append(dst)
        if len(attempts) <= 2:
            raise PermissionError(13, "The process cannot access the file")
        if os.path.exists(dst):  # Windows rename never replaces
            raise FileExistsError(17, "exists")
        os.rename(src, dst)

    folder._io.update(windows=True, rename=held_twice, sleep=sleeps.append)
    rev = rev_of()
    assert folder.write(rev) is True
    assert len(attempts) == 3 and sleeps == [0.05, 0.1]
    assert (folder.root / rev.relpath).read_bytes() == rev.to_bytes()
    assert folder.write(rev) is False
    assert os.listdir(folder.root / "notes" / "n1") == [f"{rev.rev}.json"]


def test_windows_rename_losing_a_race_returns_false(folder):
    rev = rev_of()

    def someone_else_won(src, dst):
        raise FileExistsError(17, "exists")

    folder._io.update(windows=True, rename=someone_else_won)
    assert folder.write(rev) is False
    assert os.listdir(folder.root / "notes" / "n1") == []


def test_link_unsupported_falls_back_to_rename(folder):
    def no_links(src, dst):
        raise OSError(1, "Operation not permitted")

    folder._io.update(link=no_links)
    rev = rev_of()
    assert folder.write(rev) is True
    assert os.listdir(folder.root / "notes" / "n1") == [f"{rev.rev}.json"]


def test_failed_write_leaves_no_final_file(folder, monkeypatch):
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    (folder.root / "notes" / "n1").mkdir(parents=True)
    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(SharedFolderError, match="No space left"):
        folder.write(rev_of())
    assert os.listdir(folder.root / "notes" / "n1") == []


def test_only_own_stale_temp_files_are_removed(tmp_path):
    root = tmp_path / "shared"
    SharedFolder(root).open(create=True)
    mine = SharedFolder(root, device="ann-laptop")
    rev = rev_of()
    mine.write(rev)
    n1 = root / "notes" / "n1"
    tag = mine._tag()
    other_tag = hashlib.sha256(b"bob-pc").hexdigest()[:8]
    old_mine = n1 / f".{rev.rev}.json.tmp-{tag}00000001"
    new_mine = n1 / f".{rev.rev}.json.tmp-{tag}00000002"
    old_other = n1 / f".{rev.rev}.json.tmp-{other_tag}00000003"
    old_foreign = n1 / f".syncthing.{rev.rev}.json.tmp"
    for path in (old_mine, new_mine, old_other, old_foreign):
        path.write_bytes(b"{")
    two_hours_ago = time.time() - 7200
    for path in (old_mine, old_other, old_foreign):
        os.utime(path, (two_hours_ago, two_hours_ago))
    SharedFolder(root).scan()  # without a device: removes nothing
    assert old_mine.exists()
    result = mine.scan()
    assert result.revisions == [rev] and result.skipped == []
    assert not old_mine.exists()
    assert new_mine.exists() and old_other.exists() and old_foreign.exists()


def test_unchanged_record_directories_are_not_listed_again(tmp_path):
    folder = SharedFolder(tmp_path)
    folder.open(create=True)
    a = rev_of("n1", body={"text": "a"})
    folder.write(a)
    record_dir = tmp_path / "notes" / "n1"
    old = time.time_ns() - 3600 * 10**9
    os.utime(record_dir, ns=(old, old))
    first = folder.scan()
    assert [r.rev for r in first.revisions] == [a.rev]
    assert f"notes/n1\t{old}" in first.seen  # settled: remembered

    b = rev_of("n1", body={"text": "b"}, parents=[a.rev], time=T1)
    folder.write(b)  # a new file changes the directory's mtime: listed again
    second = folder.scan(first.seen)
    assert [r.rev for r in second.revisions] == [b.rev]
    assert not any(t.startswith("notes/n1\t") for t in second.seen)  # just changed: not settled yet

    c = rev_of("n1", body={"text": "c"}, parents=[b.rev], time=T2)
    folder.write(c)
    os.utime(record_dir, ns=(old, old))  # as if c had landed within the remembered mtime tick
    quiet = folder.scan(first.seen | {p for p in second.seen if "\t" not in p})
    assert quiet.revisions == [] and f"notes/n1\t{old}" in quiet.seen
    assert [r.rev for r in folder.scan(quiet.seen, relist=True).revisions] == [c.rev]  # sync --full


def test_a_file_hashed_over_its_own_bytes_is_still_fully_checked():
    """The fast hash path (file bytes without "rev") accepts nothing the long way refuses."""
    good = rev_of("n1", body={"text": "é ☃"})
    assert revision_from_bytes(good.to_bytes()) == good
    for text in ('"\\ud800"', '"\\uD800"'):  # a lone surrogate, escaped: valid JSON, not valid text
        doc = good.to_bytes()[:-1].replace(b'"text":"\xc3\xa9 \xe2\x98\x83"', b'"text":' + text.encode())
        without = doc.replace(b',"rev":"' + good.rev.encode() + b'"', b"")
        rev = hashlib.sha256(without).hexdigest()
        forged = doc.replace(good.rev.encode(), rev.encode()) + b"\n"
        with pytest.raises(InvalidRevision):
            revision_from_bytes(forged)
    spaced = json.dumps(good.to_dict(), sort_keys=True).encode() + b"\n"  # not canonical: the long way
    assert revision_from_bytes(spaced) == good
