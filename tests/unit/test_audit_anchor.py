"""The audit log notices entries removed from its end (or all of them) and stored
scripts deleted, not only edits in the middle; `techdesk audit` then exits 1."""

from __future__ import annotations

import json
import sqlite3

import pytest

from techdesk.store import audit
from techdesk.store.db import open_database


@pytest.fixture
def conn(tmp_path):
    conn = open_database(tmp_path / "t.db")
    for i in range(5):
        audit.append(conn, technician="ann", device="d", host=f"h{i}", action="run",
                     script=f"echo {i % 2}", outcome="sent")
    yield conn
    conn.close()


def test_intact_log_verifies(conn):
    assert audit.verify(conn) == []


def test_entries_removed_from_the_end(conn):
    conn.execute("DELETE FROM audit WHERE seq > 3")
    assert audit.verify(conn) == ["2 entries were removed: the log ends at entry 3 but entry 5 was written"]


def test_last_entry_removed(conn):
    conn.execute("DELETE FROM audit WHERE seq = 5")
    assert audit.verify(conn) == ["1 entry was removed: the log ends at entry 4 but entry 5 was written"]


def test_all_entries_removed(conn):
    conn.execute("DELETE FROM audit")
    assert audit.verify(conn) == ["all 5 entries were removed (entries up to 5)"]


def test_anchor_removed(conn):
    conn.execute("DELETE FROM audit_anchor")
    assert audit.verify(conn) == [
        "the audit anchor is missing (it records how many entries there are; deleted)"]


def test_stored_script_deleted(conn):
    sha = conn.execute("SELECT script_sha256 FROM audit WHERE seq = 2").fetchone()[0]
    conn.execute("DELETE FROM audit_scripts WHERE sha256 = ?", (sha,))
    problems = audit.verify(conn)
    # entries 2 and 4 sent "echo 1"
    assert problems == [f"entry {n}: the script it sent ({sha[:12]}) is missing from the stored "
                        "scripts (deleted)" for n in (2, 4)]


def test_middle_deletion_still_found(conn):
    conn.execute("DELETE FROM audit WHERE seq = 2")
    problems = audit.verify(conn)
    assert problems[0].startswith("entry 3: does not follow the previous entry")
    assert "1 entry was removed" in problems[-1]


def test_cli_audit_exits_1_and_says_what_is_missing(cli, workspace_dir):
    assert cli("hosts", "add", "a", "--address", "127.0.0.1")[0] == 0
    db = workspace_dir / "techdesk.db"
    conn = open_database(db)
    for _ in range(3):
        audit.append(conn, technician="t", device="d", host="a", action="run", script="x")
    conn.close()
    assert cli("audit")[0] == 0
    c = sqlite3.connect(db)
    with c:
        c.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    c.close()
    code, out, err = cli("audit", "--json")
    assert code == 1
    report = json.loads(out)
    assert not report["verified"]
    assert report["problems"] == ["1 entry was removed: the log ends at entry 2 but entry 3 was written"]
    assert "techdesk: audit: 1 entry was removed" in err
