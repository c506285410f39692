"""The shared folder as a hostile peer: each test writes revision files the way any
writer with access to the folder could (valid format, correct hashes), and shows the
trust rule holding (docs/sync-format.md, "Trust model")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from techdesk.core.findings import CheckResult, HostResult
from techdesk.core.severity import Status
from techdesk.store import runs as runs_repo
from techdesk.sync import SharedFolder, make_revision
from techdesk.sync.engine.records import KIND_ORDER

from .test_sync_service import Device, folder_heads


def forge(shared, kind, record_id, body, *, parents=(), deleted=False, author="mallory", device="mallory-pc",
          time=None):
    """Write one valid revision into the shared folder, as any writer could."""
    rev = make_revision(kind, record_id, body, list(parents), author, device, deleted=deleted, time=time)
    SharedFolder(shared, kinds=KIND_ORDER).write(rev)
    return rev


def device_id(dev: Device) -> str:
    svc = dev.services()
    try:
        return svc.workspace.settings.device_id
    finally:
        svc.close()


# ---------------------------------------------------------------------------- rule 2
def test_a_mass_deletion_is_held_everything_else_applies_and_deleted_bodies_are_restorable(team):
    ann, bob = team
    assert ann("hosts", "add", "web1", "--address", "10.0.0.1", "--client", "Acme")[0] == 0
    ids = [ann.json("notes", "add", "--client", "Acme", "--title", f"note {i}")[1]["id"] for i in range(20)]
    assert ann("sync")[0] == 0
    assert bob("sync")[0] == 0 and len(bob.json("notes", "list")[1]) == 20
    tips = folder_heads(bob.shared)
    for nid in ids[:15]:  # the hostile peer deletes 15 of the 20 notes ...
        forge(bob.shared, "note", nid, {}, parents=[tips[nid][0].rev], deleted=True)
    extra = forge(bob.shared, "note", "f" * 32, {"title": "harmless", "body": "", "author": "mallory",
                                                  "created": "2024-01-01T00:00:00+00:00",
                                                  "updated": "2024-01-01T00:00:00+00:00", "status": "open",
                                                  "host": None, "client": "Acme", "site": None,
                                                  "followups": [], "runs": [], "visit": None})
    code, out, err = bob("sync")  # ... which is held: exit 3, one line saying how to approve
    assert code == 3
    assert err.count("\n") == 1 and "15 notes" in err and "--allow-deletes" in err
    notes = {n["id"] for n in bob.json("notes", "list")[1]}
    assert set(ids) <= notes and extra.id in notes  # everything else was applied
    assert bob("sync")[0] == 3  # still held at the next sync
    assert bob.json("trash")[1] == []

    code, report = bob.json("sync", "--allow-deletes")
    assert code == 0 and report["held"] == {}
    assert {n["id"] for n in bob.json("notes", "list")[1]} == set(ids[15:]) | {extra.id}
    trash = bob.json("trash")[1]
    assert sorted(t["id"] for t in trash) == sorted(ids[:15])
    assert {t["title"] for t in trash} == {f"note {i}" for i in range(15)}

    code, out, err = bob("restore", ids[3][:8])
    assert code == 0 and "note 3" in out
    assert bob.json("notes", "show", ids[3])[1]["title"] == "note 3"
    assert ids[3] not in {t["id"] for t in bob.json("trash")[1]}
    assert bob.json("sync")[1]["pushed"] == 1  # a new revision, child of the tombstone
    [head] = folder_heads(bob.shared)[ids[3]]
    assert not head.deleted and head.author == "bob" and head.body["title"] == "note 3"


def test_a_few_deletions_apply_at_once_and_keep_their_bodies(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    ann("sync")
    bob("sync")
    ann("hosts", "remove", "web1")
    assert ann("sync")[0] == 0
    assert [(t["kind"], t["title"]) for t in ann.json("trash")[1]] == [("host", "web1")]
    assert bob("sync")[0] == 0  # 1 host of 1 is not "many": applied
    assert bob.json("hosts", "list")[1] == []
    assert "host" in {t["kind"] for t in bob.json("trash")[1]}
    assert bob("restore", [t["id"] for t in bob.json("trash")[1] if t["kind"] == "host"][0])[0] == 0
    assert [h["name"] for h in bob.json("hosts", "list")[1]] == ["web1"]
    assert bob("restore", "nonexistent")[0] != 0


# ---------------------------------------------------------------------------- rule 3
def test_a_revision_claiming_this_device_but_not_written_here_is_flagged_not_applied(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1", "--client", "Acme")
    ann("sync")
    bob("sync")
    spoof = forge(bob.shared, "note", "a" * 32, {
        "title": "pay this invoice", "body": "", "author": "bob", "created": "2024-01-01T00:00:00+00:00",
        "updated": "2024-01-01T00:00:00+00:00", "status": "open", "host": None, "client": "Acme", "site": None,
        "followups": [], "runs": [], "visit": None}, author="bob", device=device_id(bob))
    for _ in range(2):  # reported at every sync, never applied
        code, report = bob.json("sync")
        assert [s["path"] for s in report["suspicious"]] == [spoof.relpath]
        assert any(s["path"] == spoof.relpath and "suspicious" in s["reason"] for s in report["skipped"])
        assert bob.json("notes", "list")[1] == []
    code, out, err = bob("sync")
    assert "suspicious" in err and "this device" in err


# ---------------------------------------------------------------------------- rule 4
def test_a_run_dated_in_the_future_never_hides_todays_critical_result(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    ann("sync")
    bob("sync")
    svc = bob.services()
    now = datetime.now(UTC).replace(microsecond=0)
    runs_repo.create_run(svc.conn, "today", "linux-health", 1, "bob", now.isoformat())
    runs_repo.save_host_result(svc.conn, "today", HostResult("web1", [CheckResult(
        "disk", "Disk", Status.CRIT, "/ 99% used", 2, 0.1)], duration_s=1.0), now.isoformat())
    runs_repo.finish_run(svc.conn, "today")
    svc.close()
    late = "2099-01-01T00:00:00+00:00"
    soon = (now + timedelta(minutes=30)).isoformat()
    for rid, when in (("r2099", late), ("rsoon", soon)):
        forge(bob.shared, "run", rid, {"bundle": "linux-health", "bundle_version": 1, "started": when,
                                       "finished": when, "technician": "mallory", "trigger": "manual",
                                       "hosts": [{"host": "web1", "status": "ok", "started": when,
                                                  "duration_s": 1.0, "error": None, "checks": []}]})
    forge(bob.shared, "note", "b" * 32, {"title": "from the future", "body": "", "author": "m",
                                          "created": "2024-01-01T00:00:00+00:00", "updated": late,
                                          "status": "open", "host": "web1", "client": None, "site": None,
                                          "followups": [], "runs": [], "visit": None},
          time=datetime(2099, 1, 1, tzinfo=UTC))
    code, report = bob.json("sync")
    reasons = {s["path"].split("/")[1]: s["reason"] for s in report["skipped"]}
    assert "in the future" in reasons["r2099"] and "in the future" in reasons["rsoon"]
    assert "in the future" in reasons["b" * 32]
    svc = bob.services()
    try:
        assert svc.history.host_states(timedelta(hours=72))["web1"].status == "crit"
        assert [r[0] for r in svc.conn.execute("SELECT id FROM runs")] == ["today"]
    finally:
        svc.close()
    health = bob.json("health")[1]
    assert health["totals"]["crit"] == 1 and health["totals"]["ok"] == 0
    assert bob.json("notes", "list")[1] == []
    assert bob.json("sync")[1]["skipped"]  # still reported next time


# ---------------------------------------------------------------------------- rule 5
def test_synced_text_is_cleaned_like_remote_output(team):
    ann, bob = team
    ann("sync")
    evil = "\x1b]0;pwned\x07\x1b[2J\u202eexe.txt\x9b31m"
    forge(bob.shared, "client", "c" * 32, {"name": "Acme\u202e", "user": None, "port": None, "jump": None,
                                            "key": None, "updated": "2024-01-01T00:00:00+00:00"})
    forge(bob.shared, "host", "d" * 32, {
        "name": "web1", "address": "10.0.0.1", "port": None, "user": None, "tags": [f"prod{evil}"], "os": None,
        "jump": None, "key": None, "created": "2024-01-01T00:00:00+00:00", "updated": "2024-01-01T00:00:00+00:00",
        "client": "Acme\u202e", "client_uid": "c" * 32, "site": None, "site_uid": None, "jump_uid": None})
    forge(bob.shared, "note", "e" * 32, {
        "title": f"title {evil}", "body": f"line 1\r\nline 2 {evil}\n\ttabbed", "author": "m",
        "created": "2024-01-01T00:00:00+00:00", "updated": "2024-01-01T00:00:00+00:00", "status": "open",
        "host": "web1", "client": None, "site": None, "followups": [{"text": f"call {evil}", "done": False}],
        "runs": [], "visit": None})
    assert bob("sync")[0] == 0
    note = bob.json("notes", "show", "e" * 32)[1]
    assert note["title"] == "title exe.txt"
    assert note["body"] == "line 1\nline 2 exe.txt\n\ttabbed"
    assert note["followups"][0]["text"] == "call exe.txt"
    host = bob.json("hosts", "show", "web1")[1]
    assert host["tags"] == ["prodexe.txt"] and host["client"] == "Acme"
    dump = json.dumps(bob.dump(), ensure_ascii=False)
    assert "\x1b" not in dump and "\u202e" not in dump and "\x9b" not in dump
    assert bob.json("sync")[1]["pushed"] == 0  # cleaning is not a local change to send back


# ---------------------------------------------------------------------------- rule 7
def test_a_stored_run_can_always_be_published(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    svc = ann.services()
    runs_repo.create_run(svc.conn, "huge", "linux-health", 1, "ann", "2024-05-01T09:00:00+00:00")
    first_line = "disk /dev/sda1 " + "é" * 60_000  # a check whose first output line is enormous
    checks = [CheckResult(f"c{i}", f"check {i}", Status.WARN, first_line, 1, 0.1, output=first_line * 2)
              for i in range(300)]
    runs_repo.save_host_result(svc.conn, "huge", HostResult("web1", checks, duration_s=1.0),
                               "2024-05-01T09:00:01+00:00")
    runs_repo.finish_run(svc.conn, "huge")
    stored = svc.conn.execute("SELECT MAX(length(CAST(summary AS BLOB))) FROM check_results").fetchone()[0]
    svc.close()
    code, report = ann.json("sync")
    assert (code, report["not_sent"]) == (0, []) and report["pushed"] == 2
    assert stored <= 4096  # summaries are capped where results are stored
    assert bob("sync")[0] == 0
    history = bob.json("history", "web1")[1]
    assert "huge" in json.dumps(history)


# ---------------------------------------------------------------------------- rule 6
def test_a_synced_schedule_stays_inactive_until_enabled_here(team):
    ann, bob = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")  # data only: nothing here connects to it
    ann("sync")
    bob("sync")
    body = {"bundle": "linux-quick", "target": "all", "interval_s": 60, "windows": [], "enabled": True,
            "created": "2024-01-01T00:00:00+00:00", "updated": "2024-01-01T00:00:00+00:00"}
    first = forge(bob.shared, "schedule", "9" * 32, body)
    assert bob("sync")[0] == 0
    [listed] = bob.json("schedule", "list")[1]
    assert listed["enabled"] and not listed["enabled_here"] and listed["next_due"] is None

    def due():
        svc = bob.services()
        try:
            return [(s["id"], hosts) for s, hosts in svc.monitor.due()]
        finally:
            svc.close()

    assert due() == []
    code, _, err = bob("schedule", "enable", "9999")
    assert code == 64 and "--yes" in err and due() == []  # every host every minute: say so
    assert bob("schedule", "enable", "9999", "--yes")[0] == 0
    assert due() == [("9" * 32, ["web1"])]
    assert bob.json("sync")[1]["pushed"] == 0  # enabling here is this device's business

    # The peer changes what it does: inactive here again until enabled again.
    forge(bob.shared, "schedule", "9" * 32, dict(body, target="host:web1", interval_s=3600), parents=[first.rev])
    assert bob("sync")[0] == 0
    assert due() == [] and not bob.json("schedule", "list")[1][0]["enabled_here"]


def test_a_busy_schedule_on_every_host_needs_a_confirmation_here_too(team):
    ann, _ = team
    ann("hosts", "add", "web1", "--address", "10.0.0.1")
    code, _, err = ann("schedule", "add", "linux-quick", "--all", "--every", "5m")
    assert code == 64 and "every 15m" in err and "--yes" in err
    assert ann.json("schedule", "list")[1] == []
    assert ann("schedule", "add", "linux-quick", "--all", "--every", "5m", "--yes")[0] == 0
    assert ann("schedule", "add", "linux-quick", "--host", "web1", "--every", "5m")[0] == 0  # one host: fine
    assert all(s["enabled_here"] for s in ann.json("schedule", "list")[1])


def test_schedules_made_before_the_upgrade_keep_running(tmp_path):
    from techdesk.store import approvals
    from techdesk.store import monitor as repo
    from techdesk.store.db import _split, open_database
    from techdesk.store.migrations import MIGRATIONS

    db = open_database(tmp_path / "techdesk.db")
    repo.insert_schedule(db, "u1", "linux-quick", "all", 3600, "Sun 02:00-04:00 UTC", "2024-01-01T00:00:00+00:00")
    db.execute("DELETE FROM schedule_approvals")  # as before the migration
    [migration] = [m for m in MIGRATIONS if "INSERT INTO schedule_approvals" in m]
    db.execute(next(s for s in _split(migration) if s.startswith("INSERT INTO schedule_approvals")))
    [row] = repo.list_schedules(db)
    assert approvals.is_approved(row, approvals.approved(db))


def test_a_note_that_does_not_fit_is_skipped_and_the_others_apply(team):
    ann, bob = team
    ann("sync")
    good = {"title": "ok", "body": "", "author": "m", "created": "2024-01-01T00:00:00+00:00",
            "updated": "2024-01-01T00:00:00+00:00", "status": "open", "host": None, "client": "Acme", "site": None,
            "followups": [], "runs": [], "visit": None}
    forge(bob.shared, "note", "1" * 32, good)
    bad = forge(bob.shared, "note", "2" * 32, dict(good, title=["not", "text"]))
    forge(bob.shared, "note", "3" * 32, dict(good, title="also ok"))
    code, report = bob.json("sync")
    assert code == 0 and report["applied"] == 2
    assert [s["reason"] for s in report["skipped"] if s["path"] == bad.relpath] == [
        "cannot apply: title must be a string"]
    assert sorted(n["title"] for n in bob.json("notes", "list")[1]) == ["also ok", "ok"]
