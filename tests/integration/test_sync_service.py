"""Team sync end to end: two (or more) workspaces sharing one real folder, driven through
the real CLI (in-process, and as separate processes for concurrency and SIGKILL).
Real SQLite files, real folders; nothing of the store is mocked."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from techdesk.cli import main
from techdesk.services.context import Services
from techdesk.sync import MARKER_NAME, SharedFolder, heads, make_revision
from techdesk.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(os.name != "posix", reason="uses symlinks, sparse files, SIGKILL")


class Device:
    """One technician's workspace; calls `techdesk --workspace W --shared S ...` in-process."""

    def __init__(self, path: Path, shared: Path, technician: str, capsys, monkeypatch) -> None:
        self.path, self.shared, self.technician = path, shared, technician
        self._capsys, self._monkeypatch = capsys, monkeypatch

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self._monkeypatch.setenv("TECHDESK_TECHNICIAN", self.technician)
        try:
            code = main(["--workspace", str(self.path), "--shared", str(self.shared), *args])
        except SystemExit as exc:
            code = exc.code
        out, err = self._capsys.readouterr()
        return code, out, err

    def json(self, *args: str):
        code, out, err = self(*args, "--json")
        assert out, err
        return code, json.loads(out)

    def services(self) -> Services:
        self._monkeypatch.setenv("TECHDESK_TECHNICIAN", self.technician)
        return Services(Workspace(self.path, shared=str(self.shared)))

    def pending(self) -> int:
        svc = self.services()
        try:
            return svc.sync.pending()
        finally:
            svc.close()

    def dump(self) -> dict[str, list]:
        """Every row of every table: "nothing local changed" means this is equal."""
        conn = sqlite3.connect(self.path / "techdesk.db")
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in tables}
        finally:
            conn.close()


def folder_heads(shared: Path, kind: str = "note") -> dict[str, list]:
    result = SharedFolder(shared).scan()
    return {rid: hs for (k, rid), hs in heads(result.revisions).items() if k == kind}


def files_of(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*")}


# ---------------------------------------------------------------------------- flows
def test_roster_and_notes_travel_conflict_shows_and_merge_resolves(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1", "--client", "Acme", "--site", "HQ", "--tag", "prod")
    ann("hosts", "add", "db1", "--address", "10.0.0.2", "--client", "Acme", "--jump", "web1")
    nid = ann.json("notes", "add", "--host", "web1", "--title", "UPS", "--body", "Battery $(old) ☃")[1]["id"]
    assert ann.pending() == 5  # client, site, two hosts, a note
    code, report = ann.json("sync")
    assert (code, report["pushed"], report["conflicts"], report["skipped"]) == (0, 5, 0, [])
    assert ann.pending() == 0
    code, report = bob.json("sync")
    assert (code, report["pulled"], report["applied"]) == (0, 5, 5)
    assert bob.json("hosts", "show", "db1")[1]["jump"] == "web1"
    assert bob.json("hosts", "show", "web1")[1]["site"] == "HQ"
    assert bob.json("notes", "show", nid)[1]["body"] == "Battery $(old) ☃"

    # Both edit the same note offline, then sync: two heads, shown on both sides.
    ann("notes", "edit", nid, "--body", "ann: replaced the battery")
    bob("notes", "edit", nid, "--body", "bob: ordered a new UPS")
    assert ann("sync")[0] == 0
    assert bob("sync")[0] == 1
    assert ann("sync")[0] == 1
    for dev, mine in ((ann, "ann: replaced the battery"), (bob, "bob: ordered a new UPS")):
        conflicts = dev.json("conflicts")[1]
        assert [(c["id"], c["kind"], c["title"]) for c in conflicts] == [(nid, "note", "UPS")]
        assert sorted(h["author"] for h in conflicts[0]["heads"]) == ["ann", "bob"]
        assert all(h["device"] and h["time"] for h in conflicts[0]["heads"])
        note = dev.json("notes", "show", nid)[1]
        assert note["conflict"] is True and note["body"] == mine  # the local version stays
        assert [n["conflict"] for n in dev.json("notes", "list")[1]] == [True]
    texts = {h.body["body"] for h in folder_heads(ann.shared)[nid]}
    assert texts == {"ann: replaced the battery", "bob: ordered a new UPS"}
    cy = Device(ann.path.with_name("cy"), ann.shared, "cy", ann._capsys, ann._monkeypatch)
    assert cy("sync")[0] == 1  # joining during the conflict: the newest version, flagged
    assert cy.json("notes", "show", nid)[1]["conflict"] is True

    code, out, err = bob("conflicts", "resolve", nid[:6], "--merge")
    assert code == 0, err
    assert bob("sync")[0] == 0 and ann("sync")[0] == 0 and bob("sync")[0] == 0
    for dev in (ann, bob):
        note = dev.json("notes", "show", nid)[1]
        assert note["conflict"] is False
        assert "ann: replaced the battery" in note["body"] and "bob: ordered a new UPS" in note["body"]
        assert dev.json("conflicts")[1] == []
        assert dev.pending() == 0
    assert len(folder_heads(ann.shared)[nid]) == 1
    assert cy("sync")[0] == 0 and "ann: replaced" in cy.json("notes", "show", nid)[1]["body"]


def test_deleted_host_is_a_tombstone_and_disappears_elsewhere(team):
    ann, bob = team
    ann("hosts", "add", "old-nas", "--address", "10.0.0.9", "--client", "Acme")
    ann("hosts", "add", "keep", "--address", "10.0.0.8", "--client", "Acme")
    ann("sync")
    bob("sync")
    assert bob("hosts", "show", "old-nas")[0] == 0
    assert ann("hosts", "remove", "old-nas")[0] == 0
    assert ann.pending() == 1
    assert ann.json("sync")[1]["pushed"] == 1
    assert bob("sync")[0] == 0
    code, _, err = bob("hosts", "show", "old-nas")
    assert code == 64 and "no host named" in err
    assert [h["name"] for h in bob.json("hosts", "list")[1]] == ["keep"]
    (tomb,) = [hs[0] for hs in folder_heads(ann.shared, "host").values() if hs[0].deleted]
    assert tomb.author == "ann" and len(tomb.parents) == 1


def test_same_names_created_twice_keep_both_hosts_and_one_client(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1", "--client", "Acme")
    ann("hosts", "add", "db1", "--address", "10.0.0.2", "--client", "Acme", "--jump", "web1")
    bob("hosts", "add", "web1", "--address", "10.9.9.9", "--client", "Acme")
    assert ann("sync")[0] == 0
    code, report = bob.json("sync")
    assert code == 0
    assert report["renamed"] == [{"kind": "host", "id": report["renamed"][0]["id"], "name": "web1",
                                  "as": "web1 (from ann)"}]
    assert [m["kind"] for m in report["merged_by_name"]] == ["client"]
    assert ann("sync")[0] == 0
    hosts = {h["name"]: h for h in bob.json("hosts", "list")[1]}
    assert (hosts["web1"]["address"], hosts["web1 (from ann)"]["address"]) == ("10.9.9.9", "10.0.0.1")
    assert {h["client"] for h in hosts.values()} == {"Acme"}
    assert hosts["db1"]["jump"] == "web1 (from ann)"  # the jump host is ann's web1, never bob's
    hosts = {h["name"]: h for h in ann.json("hosts", "list")[1]}
    assert {n: h["address"] for n, h in hosts.items()} == \
        {"web1": "10.0.0.1", "db1": "10.0.0.2", "web1 (from bob)": "10.9.9.9"}
    assert hosts["db1"]["jump"] == "web1"
    for dev in (ann, bob):  # a host arriving later under either client uid lands in the one Acme
        svc = dev.services()
        assert [c.name for c in svc.roster.clients()] == ["Acme"]
        svc.close()
        assert dev.pending() == 0 and dev.json("conflicts")[1] == []


def test_renames_and_a_name_swap_travel_and_jump_users_follow(team):
    ann, bob = team
    for name, address in (("a", "10.0.0.1"), ("b", "10.0.0.2"), ("gw", "10.0.0.3")):
        ann("hosts", "add", name, "--address", address)
    ann("sync")
    bob("sync")
    bob("hosts", "add", "inner", "--address", "10.1.1.1", "--jump", "gw")  # offline, here only
    for old, new in (("a", "tmp"), ("b", "a"), ("tmp", "b"), ("gw", "gateway")):
        assert ann("hosts", "edit", old, "--name", new)[0] == 0
    ann("sync")
    code, report = bob.json("sync")
    assert code == 0 and report["renamed"] == []
    hosts = {h["name"]: h for h in bob.json("hosts", "list")[1]}
    assert {n: h["address"] for n, h in hosts.items() if n != "inner"} == \
        {"a": "10.0.0.2", "b": "10.0.0.1", "gateway": "10.0.0.3"}
    assert hosts["inner"]["jump"] == "gateway"
    assert ann("sync")[0] == 0
    assert ann.json("hosts", "show", "inner")[1]["jump"] == "gateway"
    assert ann.pending() == bob.pending() == 0


def test_roster_conflict_is_resolved_by_keeping_one_version(team):
    ann, bob = team
    ann("hosts", "add", "fw", "--address", "10.0.0.1")
    ann("sync")
    bob("sync")
    ann("hosts", "edit", "fw", "--address", "10.0.0.2")
    bob("hosts", "edit", "fw", "--address", "10.0.0.3")
    ann("sync")
    assert bob("sync")[0] == 1
    (conflict,) = bob.json("conflicts")[1]
    code, _, err = bob("conflicts", "resolve", conflict["id"][:8], "--merge")
    assert code == 64 and "--keep" in err
    ann_rev = next(h["rev"] for h in conflict["heads"] if h["author"] == "ann")
    code, result = bob.json("conflicts", "resolve", conflict["id"], "--keep", ann_rev[:10])
    assert code == 0 and result["published"] is True
    assert ann("sync")[0] == 0 and bob("sync")[0] == 0
    for dev in (ann, bob):
        assert dev.json("hosts", "show", "fw")[1]["address"] == "10.0.0.2"
        assert dev.json("conflicts")[1] == []


def test_runs_travel_with_their_results(team):
    from techdesk.core.findings import CheckResult, HostResult, Metric
    from techdesk.core.severity import Status
    from techdesk.store import runs as runs_repo

    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    svc = ann.services()
    runs_repo.create_run(svc.conn, "run-1", "linux-health", 1, "ann", "2024-05-01T09:00:00+00:00")
    check = CheckResult("disk", "Disk space", Status.WARN, "/ 86% used", 1, 0.04,
                        {"/": Metric("/", 86.0, "%", 80.0, 90.0)}, output="x" * 100_000)
    runs_repo.save_host_result(svc.conn, "run-1", HostResult("web1", [check], duration_s=1.5),
                               "2024-05-01T09:00:01+00:00")
    runs_repo.create_run(svc.conn, "run-2", "linux-health", 1, "ann", "2024-05-01T10:00:00+00:00")  # unfinished
    runs_repo.finish_run(svc.conn, "run-1")
    svc.close()
    assert ann.json("sync")[1]["pushed"] == 2  # the host and the finished run
    bob("sync")
    history = bob.json("history", "web1")[1]
    assert "86" in json.dumps(history)
    svc = bob.services()
    assert [r[0] for r in svc.conn.execute("SELECT id FROM runs")] == ["run-1"]
    assert svc.conn.execute("SELECT length(output) FROM check_results").fetchone()[0] >= 32_768
    svc.close()


def test_a_note_too_large_for_one_file_stays_here_and_says_so(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    nid = ann.json("notes", "add", "--host", "web1", "--title", "log", "--body", "x" * 1_100_000)[1]["id"]
    code, report = ann.json("sync")
    assert code == 0 and report["pushed"] == 1  # the host
    assert [(n["id"], "too large" in n["reason"]) for n in report["not_sent"]] == [(nid, True)]
    assert ann.pending() == 1
    ann("notes", "edit", nid, "--body", "the log, shortened")
    assert ann.json("sync")[1]["pushed"] == 1 and ann.pending() == 0
    bob("sync")
    assert bob.json("notes", "show", nid)[1]["body"] == "the log, shortened"
    ann("notes", "edit", nid, "--body", "y" * 1_100_000)  # a synced note grown too large
    for _ in range(2):  # said at every sync, pending all along
        code, report = ann.json("sync")
        assert (code, report["pushed"], [n["id"] for n in report["not_sent"]]) == (0, 0, [nid])
        assert ann.pending() == 1


def test_sync_async_for_the_window(team):
    import asyncio

    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    svc = ann.services()
    try:
        report = asyncio.run(svc.sync.sync_async())
        assert (report.pushed, report.conflicts) == (1, 0)
        assert svc.sync.status()["pending"] == 0 and svc.sync.status()["last_sync"]
    finally:
        svc.close()
    assert bob("sync")[0] == 0 and bob("hosts", "show", "web1")[0] == 0


# ---------------------------------------------------------------------------- the folder fails
@pytest.mark.parametrize("fault", ["folder removed", "marker removed", "emptied by the sync client"])
def test_missing_folder_changes_nothing_and_the_outbox_waits(team, fault):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    nid = ann.json("notes", "add", "--host", "web1", "--title", "t", "--body", "v1")[1]["id"]
    ann("sync")
    ann("notes", "edit", nid, "--body", "v2")
    ann("notes", "add", "--host", "web1", "--title", "second", "--body", "new")
    before, pending = ann.dump(), ann.pending()
    assert pending == 2
    backup = ann.shared.with_name("backup")
    shutil.copytree(ann.shared, backup)
    if fault == "folder removed":
        shutil.rmtree(ann.shared)
    elif fault == "marker removed":
        (ann.shared / MARKER_NAME).unlink()
    else:
        shutil.rmtree(ann.shared)
        ann.shared.mkdir()
    snapshot = files_of(ann.shared) if ann.shared.exists() else None
    code, out, err = ann("sync", "--json")
    assert code == 3 and out == ""
    assert err.startswith("techdesk: error: shared folder") and err.count("\n") == 1 and "outbox" in err
    assert ann.dump() == before and ann.pending() == pending
    assert (files_of(ann.shared) if ann.shared.exists() else None) == snapshot  # nothing written there
    assert bob("sync")[0] == 3  # a first sync into an empty workspace refuses too

    shutil.rmtree(ann.shared, ignore_errors=True)
    shutil.copytree(backup, ann.shared)  # mounted again: the outbox goes out
    code, report = ann.json("sync")
    assert (code, report["pushed"]) == (0, 2) and ann.pending() == 0
    assert bob("sync")[0] == 0 and bob.json("notes", "show", nid)[1]["body"] == "v2"


def test_a_wiped_folder_set_up_again_is_filled_again(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    nid = ann.json("notes", "add", "--host", "web1", "--title", "t", "--body", "kept")[1]["id"]
    ann("sync")
    bob("sync")
    shutil.rmtree(ann.shared)
    ann.shared.mkdir()  # the sync client emptied it
    assert ann("sync")[0] == 3 and bob("sync")[0] == 3
    assert bob("sync", "--init")[0] == 0  # someone sets it up again
    assert ann.json("sync")[1]["republished"] == 2
    cy = Device(ann.path.with_name("cy"), ann.shared, "cy", ann._capsys, ann._monkeypatch)
    assert cy("sync")[0] == 0
    assert cy.json("notes", "show", nid)[1]["body"] == "kept"
    assert ann("sync")[0] == bob("sync")[0] == 0 and ann.pending() == bob.pending() == 0


def test_newer_format_is_refused_and_left_untouched(team):
    ann, _ = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    ann("sync")
    (ann.shared / MARKER_NAME).unlink()
    (ann.shared / MARKER_NAME).write_text('{"format": 2, "created": "2030-01-01T00:00:00Z"}\n')
    ann("hosts", "add", "web2", "--address", "10.0.0.2")
    before, snapshot = ann.dump(), files_of(ann.shared)
    code, out, err = ann("sync")
    assert code == 3 and "newer techdesk" in err and out == ""
    assert files_of(ann.shared) == snapshot and ann.dump() == before and ann.pending() == 1


def test_no_shared_folder_configured_says_how_to_set_it(tmp_path, capsys):
    code = main(["--workspace", str(tmp_path / "ws"), "sync"])
    err = capsys.readouterr().err
    assert code == 3 and "--shared" in err and "TECHDESK_SHARED" in err


def test_init_refuses_a_non_empty_folder_and_remembers_a_new_one(tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "holiday.jpg").write_bytes(b"x")
    (full / ".stfolder").mkdir()
    assert main(["--workspace", str(tmp_path / "ws"), "--shared", str(full), "sync", "--init"]) == 3
    assert "not empty" in capsys.readouterr().err and not (full / MARKER_NAME).exists()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / ".stfolder").mkdir()  # Syncthing's own marker does not count
    assert main(["--workspace", str(tmp_path / "ws"), "--shared", str(fresh), "sync", "--init"]) == 0
    assert main(["--workspace", str(tmp_path / "ws"), "sync"]) == 0  # remembered in the settings


@posix_only
def test_hostile_files_are_skipped_and_the_sync_completes(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    nid = ann.json("notes", "add", "--host", "web1", "--title", "t", "--body", "real")[1]["id"]
    ann("sync")
    record = ann.shared / "notes" / nid
    fake = make_revision("note", nid, {"title": "forged"}, [], "mallory", "evil")
    (record / f"{'1' * 64}.json").write_text("{not json")
    forged = fake.to_dict() | {"body": {"title": "changed after hashing"}}
    (record / f"{fake.rev}.json").write_text(json.dumps(forged))
    os.symlink("/etc/passwd", record / f"{'2' * 64}.json")
    with open(record / f"{'3' * 64}.json", "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB that take no disk
    (record / "..evil.json").write_text("{}")
    code, report = bob.json("sync")
    assert code == 0
    reasons = {item["path"].rsplit("/", 1)[-1]: item["reason"] for item in report["skipped"]}
    assert reasons[f"{'1' * 64}.json"].startswith("invalid JSON")
    assert reasons[f"{fake.rev}.json"].startswith("content does not match its hash")
    assert reasons[f"{'2' * 64}.json"].startswith("symbolic link")
    assert reasons[f"{'3' * 64}.json"].startswith("file too large")
    assert reasons["..evil.json"].startswith("unsafe file name")
    assert bob.json("notes", "show", nid)[1]["body"] == "real"
    code, report = bob.json("sync")  # reported again, read no more
    assert code == 0 and len(report["skipped"]) == 5 and report["pulled"] == 0


# ---------------------------------------------------------------------------- processes
def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


CONCURRENT = textwrap.dedent("""
    import json, os, sys
    ws, shared, tech, common = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
    os.environ["TECHDESK_TECHNICIAN"] = tech
    from techdesk.cli import main
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace
    svc = Services(Workspace(ws, shared=shared))
    written = {}
    for i in range(40):
        note = svc.notes.add(f"{tech} note {i}", f"{tech} wrote note {i} ☃", client="Acme")
        written[note.id] = [note.body]
    for nid in common:
        body = f"{tech} edited {nid} offline"
        svc.notes.edit(nid, body=body)
        written.setdefault(nid, []).append(body)
    svc.close()
    print(json.dumps(written), flush=True)
    sys.stdin.readline()  # go: both sync at the same moment
    sys.stdout.flush()
    sys.exit(main(["--workspace", ws, "--shared", shared, "sync", "--json"]))
""")


@posix_only
def test_two_processes_syncing_at_once_lose_nothing(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1", "--client", "Acme")
    common = [ann.json("notes", "add", "--client", "Acme", "--title", f"shared {i}", "--body", "v0")[1]["id"]
              for i in range(10)]
    ann("sync")
    bob("sync")
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(dev.path), str(dev.shared),
                               dev.technician, ",".join(common)], env=_env(), cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for dev in (ann, bob)]
    written: dict[str, list[str]] = {}
    for proc in procs:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        for nid, texts in json.loads(line).items():
            written.setdefault(nid, []).extend(texts)
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, 1), err
        assert json.loads(out)["skipped"] == []
    for _ in range(2):
        for dev in (ann, bob):
            assert dev("sync")[0] in (0, 1)
    notes = {dev.technician: {n["id"]: n for n in dev.json("notes", "list")[1]} for dev in (ann, bob)}
    assert set(notes["ann"]) == set(notes["bob"]) and len(notes["ann"]) == 90
    assert {c["id"] for c in ann.json("conflicts")[1]} == {c["id"] for c in bob.json("conflicts")[1]} == set(common)
    in_folder = folder_heads(ann.shared)
    for nid, texts in written.items():
        for text in texts:
            assert any(text == n[nid]["body"] for n in notes.values()) or \
                any(text == h.body.get("body") for h in in_folder[nid]), (nid, text)
    assert ann.pending() == 0 and bob.pending() == 0


KILLABLE = textwrap.dedent("""
    import sys
    from techdesk.cli import build_parser, main
    import techdesk.services.context, techdesk.services.sync, techdesk.cli.sync  # the kill window is the sync
    build_parser()
    print("ready", flush=True)
    sys.exit(main(["--workspace", sys.argv[1], "--shared", sys.argv[2], "sync"]))
""")


@posix_only
def test_sync_killed_at_random_moments_leaves_a_sound_store_and_loses_nothing(team):
    ann, _ = team
    conn = sqlite3.connect(ann.path / "techdesk.db")
    with conn:  # 500 notes to push: a real window for the kills
        conn.executemany(
            "INSERT INTO notes (id, title, body, author, created, updated, client) VALUES (?,?,?,?,?,?,?)",
            [(os.urandom(16).hex(), f"note {i}", f"text {i} " + "lorem ipsum " * 40, "ann",
              "2024-05-01T09:00:00+00:00", "2024-05-01T09:00:00+00:00", "Acme") for i in range(500)])
    conn.close()
    rng = random.Random(os.environ.get("TECHDESK_FAULT_SEED", "sync-sigkill"))
    killed = 0
    for round_no in range(20):
        if round_no:  # more work for this round: edit half of the notes
            conn = sqlite3.connect(ann.path / "techdesk.db")
            with conn:
                conn.execute("UPDATE notes SET body = body || ? WHERE rowid % 2 = ?", (f" r{round_no}", round_no % 2))
            conn.close()
        proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(ann.path), str(ann.shared)], env=_env(),
                                cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        killed += proc.returncode == -signal.SIGKILL
        assert proc.returncode in (0, -signal.SIGKILL), err
    assert killed >= 5  # kills land inside the sync (not after it ended)

    conn = sqlite3.connect(ann.path / "techdesk.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    local = dict(conn.execute("SELECT id, body FROM notes"))
    conn.close()
    code, report = ann.json("sync")
    assert code == 0 and report["skipped"] == [] and ann.pending() == 0
    in_folder = folder_heads(ann.shared)
    assert len(local) == 500
    for nid, body in local.items():
        (head,) = in_folder[nid]
        assert head.body["body"] == body
