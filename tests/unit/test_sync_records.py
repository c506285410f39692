"""Sync records: local rows -> body -> local rows (in another store) are identical, for
every kind, with hostile text; untrusted bodies are refused field by field; merges."""

from __future__ import annotations

import json

import pytest

from techdesk.core.findings import CheckResult, HostError, HostResult, Metric
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.services.roster import RosterService
from techdesk.services.work import NotesService, VisitService
from techdesk.store import runs as runs_repo
from techdesk.store.db import open_database, transaction
from techdesk.sync import canonical_json
from techdesk.sync.engine import records
from techdesk.sync.engine import runs as sync_runs
from techdesk.sync.engine import state as syncstate
from techdesk.sync.engine.codec import BodyError, Context
from techdesk.sync.engine.merge import merge_body

HOSTILE = [
    "Büro \"PC\" 'eins'; $(rm -rf /) `id` && echo ☃ 🚀 ∑ — ñ",
    "<script>alert(1)</script> \\ \\\\ \t tab \u202e rtl",
    "# Title\n\n" + "- item with **bold** and `code` and [link](http://x)\n" * 8000,  # ~500 KB of Markdown
]


@pytest.fixture
def stores(tmp_path):
    a, b = open_database(tmp_path / "a.db"), open_database(tmp_path / "b.db")
    yield a, b
    a.close()
    b.close()


def copy(kind: str, src, dst, ids=None) -> dict[str, dict]:
    """What a sync does: read bodies here, normalize through JSON, apply there."""
    table, key, _ = syncstate.LOCAL[kind]
    ids = ids or [r[0] for r in src.execute(f"SELECT {key} FROM {table}")]
    bodies = records.read_bodies(src, kind, ids)
    with transaction(dst):
        ctx = Context(dst)
        for rid, body in bodies.items():
            records.apply(ctx, kind, rid, json.loads(canonical_json(body)))
    return bodies


def _value(v):
    """JSON columns compare by content (a body's keys travel sorted)."""
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            pass
    return v


def dump(conn, sql: str) -> list[tuple]:
    return [tuple(_value(v) for v in r) for r in conn.execute(sql)]


HOSTS_SQL = ("SELECT h.uid, h.name, h.address, h.port, h.user, h.tags, h.os, h.jump, h.key, h.created, h.updated,"
             " c.uid, c.name, c.user, c.port, c.jump, c.key, s.uid, s.name, s.user, s.port, s.jump, s.key"
             " FROM hosts h LEFT JOIN clients c ON c.id = h.client_id LEFT JOIN sites s ON s.id = h.site_id"
             " ORDER BY h.uid")


@pytest.mark.parametrize("text", [HOSTILE[0], HOSTILE[1].replace("\t", " ")])
def test_roster_round_trip(stores, text):
    a, b = stores
    roster = RosterService(a)
    roster.add(HostSpec(name=f"web {text[:40]}", address="10.0.0.1", client=f"Client {text[:30]}",
                        site=f"Site {text[:20]}", tags=["prod", "Ü"], key="~/.ssh/id_ed25519", user="root",
                        port=2222, os="windows"))
    roster.add(HostSpec(name="db1", address="db.example", client=f"Client {text[:30]}",
                        jump=f"web {text[:40]}"))
    roster.set_defaults(f"Client {text[:30]}", user="admin", port=2200, key="C:\\keys\\id_rsa")
    roster.set_defaults(f"Client {text[:30]}", f"Site {text[:20]}", user="site-user", port=2022)
    for kind in ("client", "site", "host"):
        copy(kind, a, b)
    assert dump(a, HOSTS_SQL) == dump(b, HOSTS_SQL)
    for kind in ("client", "site", "host"):  # and read back: the same bodies
        table, key, _ = syncstate.LOCAL[kind]
        ids = [r[0] for r in a.execute(f"SELECT {key} FROM {table}")]
        assert records.read_bodies(a, kind, ids) == records.read_bodies(b, kind, ids)
    assert RosterService(b).jump_chain("db1")[0].name == f"web {text[:40]}"


def test_host_body_never_carries_secrets(stores):
    a, _ = stores
    RosterService(a).add(HostSpec(name="web1", address="x", key="/home/ann/.ssh/id_rsa"))
    uid = a.execute("SELECT uid FROM hosts").fetchone()[0]
    body = records.read_bodies(a, "host", [uid])[uid]
    assert body["key"] == "/home/ann/.ssh/id_rsa"
    assert not any(word in key for key in body for word in ("pass", "secret", "token"))


@pytest.mark.parametrize("text", HOSTILE)
def test_note_and_visit_round_trip(stores, text, tmp_path):
    a, b = stores
    RosterService(a).add(HostSpec(name="web1", address="x", client="Acme"))
    roster = RosterService(a)
    visits = VisitService(a, roster, "ann ☃", tmp_path, 15)
    visit = visits.start("Acme")
    notes = NotesService(a, roster, "ann ☃")
    note = notes.add(text[:200] or "t", text, host="web1", followups=[text[:50], "call back"])
    notes.edit(note.id, status="resolved")
    notes.add("client note", "", client="Acme")
    visits.update(visit.id, summary=text, check=(0, True))
    visits.stop(visit.id)
    for kind in ("note", "visit"):
        copy(kind, a, b)
    assert dump(a, "SELECT * FROM notes ORDER BY id") == dump(b, "SELECT * FROM notes ORDER BY id")
    assert dump(a, "SELECT * FROM visits ORDER BY id") == dump(b, "SELECT * FROM visits ORDER BY id")


def _save_run(conn, run_id: str, output: str, hosts: int = 2, checks: int = 2) -> None:
    runs_repo.create_run(conn, run_id, "linux-health", 3, "ann", "2024-05-01T09:00:00+00:00")
    for h in range(hosts):
        result = HostResult(host=f"web{h} \"x\"", duration_s=1.25, checks=[
            CheckResult(id=f"c{c}", title=f"Check {c} ☃", status=Status.WARN, summary="/ 86% used $(id)",
                        exit_code=1, duration_s=0.04,
                        metrics={"/": Metric("/", 86.0, "%", 80.0, 90.0, 0.0, 100.0),
                                 "load": Metric("load", 0.5)},
                        output=output) for c in range(checks)])
        runs_repo.save_host_result(conn, run_id, result, "2024-05-01T09:00:01+00:00")
    failed = HostResult(host="down", error=HostError("unreachable", "no route"), duration_s=10.0)
    runs_repo.save_host_result(conn, run_id, failed, "2024-05-01T09:00:02+00:00")
    runs_repo.finish_run(conn, run_id)


RUN_TABLES = ["SELECT * FROM runs ORDER BY id", "SELECT * FROM run_hosts ORDER BY run_id, host",
              "SELECT * FROM check_results ORDER BY run_id, host, check_id",
              "SELECT * FROM metrics ORDER BY run_id, host, check_id, label"]


def test_run_round_trip(stores):
    a, b = stores
    _save_run(a, "run1", HOSTILE[0] + "\nline 2\n")
    copy("run", a, b)
    for sql in RUN_TABLES:
        assert dump(a, sql) == dump(b, sql)


def test_run_outputs_are_capped_to_fit_one_file(stores):
    a, b = stores
    _save_run(a, "big", "é" * 200_000, hosts=20, checks=5)  # 100 checks x 400 KB of output
    body = copy("run", a, b)["big"]
    assert len(canonical_json(body)) <= sync_runs.RUN_BUDGET
    outputs = [c["output"] for h in body["hosts"] for c in h["checks"]]
    assert all(o.endswith(sync_runs.TRUNCATED) and o.startswith("é") for o in outputs)
    # Everything but the outputs arrived intact.
    assert dump(a, RUN_TABLES[3]) == dump(b, RUN_TABLES[3])
    assert dump(a, "SELECT host, status FROM run_hosts ORDER BY host") == \
        dump(b, "SELECT host, status FROM run_hosts ORDER BY host")


NOTE = {"title": "t", "body": "b", "author": "ann", "created": "2024-05-01T09:00:00+00:00",
        "updated": "2024-05-01T09:00:00+00:00", "status": "open", "host": "web1", "client": None,
        "site": None, "followups": [], "runs": [], "visit": None}


@pytest.mark.parametrize("kind,body,why", [
    ("note", {**NOTE, "title": 5}, "title"),
    ("note", {**NOTE, "followups": [{"text": "x", "done": True, "evil": 1}]}, "followups"),
    ("note", {**NOTE, "runs": [{"run_id": "r"}]}, "runs"),
    ("note", {**NOTE, "created": "yesterday"}, "created"),
    ("note", {k: v for k, v in NOTE.items() if k != "body"}, "body"),
    ("host", {"name": "evil\x1b[31m", "tags": [], "created": "x", "updated": "x"}, "control"),
    ("host", {"name": "h", "tags": "prod", "created": "x", "updated": "x"}, "tags"),
    ("host", {"name": "h", "tags": [], "port": 70000, "created": "x", "updated": "x"}, "port"),
    ("client", {"name": "", "updated": "x"}, "name"),
    ("visit", {"client": "Acme", "technician": "ann", "started": "2024-05-01T09:00:00", "summary": "",
               "checklist": [], "hosts": [1], "runs": []}, "hosts"),
    ("run", {"bundle": "b", "started": "2024-05-01T09:00:00", "technician": "a", "trigger": "manual",
             "hosts": [{"host": "h", "status": "evil", "started": "2024-05-01T09:00:00", "duration_s": 1,
                        "checks": []}]}, "status"),
])
def test_hostile_bodies_are_refused(stores, kind, body, why):
    a, _ = stores
    with pytest.raises(BodyError, match=why):
        if kind == "host":
            from techdesk.sync.engine.roster import check_host

            check_host(body)
        records.apply(Context(a), kind, "rec1", body)
    assert a.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 0


def test_tombstones_have_one_content_and_bodies_are_told_apart():
    assert syncstate.content_sha(True, {"x": 1}) == syncstate.content_sha(True, {}) == syncstate.TOMBSTONE_SHA
    assert syncstate.content_sha(False, {"a": 1}) != syncstate.content_sha(False, {"a": 2})
    assert syncstate.content_sha(False, {}) != syncstate.TOMBSTONE_SHA


class _Head:
    def __init__(self, author, time, body, deleted=False):
        self.author, self.time, self.body, self.deleted, self.device = author, time, body, deleted, f"{author}-pc"


def test_merge_notes_keeps_every_text_and_the_newest_title():
    a = _Head("ann", "2024-05-01T09:00:00.000000Z",
              {**NOTE, "title": "old", "body": "ann's text $(x)", "followups": [{"text": "f1", "done": False}]})
    b = _Head("bob", "2024-05-01T10:00:00.000000Z",
              {**NOTE, "title": "new", "body": "bob's text ☃", "status": "resolved",
               "followups": [{"text": "f1", "done": True}, {"text": "f2", "done": False}]})
    gone = _Head("cy", "2024-05-01T11:00:00.000000Z", {}, deleted=True)
    merged = merge_body("note", [a, b, gone])
    assert merged["title"] == "new" and merged["status"] == "open"
    text = merged["body"]
    assert "ann's text $(x)" in text and "bob's text ☃" in text
    assert text.index("by ann, 2024-05-01 09:00:00 UTC") < text.index("ann's text") < text.index("by bob")
    assert merged["followups"] == [{"text": "f1", "done": True}, {"text": "f2", "done": False}]
    assert merge_body("note", [a, _Head("bob", b.time, {**a.body})])["body"] == "ann's text $(x)"


def test_merge_visits_unites_and_roster_is_not_mergeable():
    v = {"client": "Acme", "site": None, "technician": "ann", "started": "2024-05-01T09:00:00+00:00",
         "stopped": None, "summary": "fixed printer", "checklist": [{"text": "a", "done": False}],
         "hosts": ["web1"], "runs": ["r1"], "billable_minutes": None}
    w = {**v, "stopped": "2024-05-01T10:00:00+00:00", "summary": "replaced UPS",
         "checklist": [{"text": "a", "done": True}, {"text": "b", "done": False}], "hosts": ["db1"],
         "runs": ["r2"], "billable_minutes": 60}
    merged = merge_body("visit", [_Head("ann", "2024-05-01T09:00:00Z", v), _Head("bob", "2024-05-01T10:00:00Z", w)])
    assert merged["summary"] == "fixed printer\n\nreplaced UPS"
    assert merged["hosts"] == ["web1", "db1"] and merged["runs"] == ["r1", "r2"]
    assert merged["checklist"] == [{"text": "a", "done": True}, {"text": "b", "done": False}]
    assert merged["stopped"] == w["stopped"] and merged["billable_minutes"] == 60
    from techdesk.core.work import WorkError

    with pytest.raises(WorkError, match="--keep"):
        merge_body("host", [_Head("ann", "t", {}), _Head("bob", "t", {})])
