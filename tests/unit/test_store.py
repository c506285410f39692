import sqlite3

import pytest

from techdesk.store.db import SchemaTooNew, open_database
from techdesk.store.migrations import SCHEMA_VERSION
from techdesk.workspace import Workspace, WorkspaceError


def test_new_database_is_migrated_and_in_wal(tmp_path):
    conn = open_database(tmp_path / "t.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"clients", "sites", "hosts", "runs", "run_hosts", "check_results", "metrics", "audit"} <= tables


def test_reopening_keeps_data(tmp_path):
    conn = open_database(tmp_path / "t.db")
    conn.execute("INSERT INTO clients (uid, name, updated) VALUES ('u', 'Acme', 'now')")
    conn.close()
    conn = open_database(tmp_path / "t.db")
    assert conn.execute("SELECT name FROM clients").fetchone()[0] == "Acme"


def test_newer_schema_is_refused_and_file_untouched(tmp_path):
    path = tmp_path / "t.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    raw.execute("CREATE TABLE future (x)")
    raw.commit()
    raw.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew, match="newer than this techdesk"):
        open_database(path)
    assert path.read_bytes() == before


def test_workspace_creates_settings_and_honours_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TECHDESK_WORKSPACE", str(tmp_path / "from-env"))
    ws = Workspace()
    assert ws.path == tmp_path / "from-env"
    assert ws.settings_path.exists()
    monkeypatch.setenv("TECHDESK_TECHNICIAN", "Dana")
    assert ws.technician == "Dana"
    ws.settings.shared = str(tmp_path / "share")
    ws.save_settings()
    assert Workspace(tmp_path / "from-env").shared == tmp_path / "share"


def test_broken_settings_file_is_a_clear_error(tmp_path):
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(WorkspaceError, match="settings file .* is unreadable"):
        Workspace(tmp_path)


def test_last_durations_are_each_hosts_latest_completed_run(tmp_path):
    from techdesk.store import runs as runs_repo
    from techdesk.store.db import open_database

    conn = open_database(tmp_path / "d.db")
    conn.execute("PRAGMA foreign_keys = OFF")
    rows = [("r1", "a", "ok", "2026-11-01T10:00:00+00:00", 5.0),
            ("r2", "a", "ok", "2026-11-02T10:00:00+00:00", 7.0),
            ("r0", "a", "ok", "2026-10-30T10:00:00+00:00", 9.0),
            ("r1", "b", "ok", "2026-11-01T10:00:00+00:00", 1.0),
            ("r2", "c", "ok", "2026-11-02T10:00:00+00:00", 3.0)]
    conn.executemany("INSERT INTO run_hosts (run_id, host, status, started, duration_s) VALUES (?,?,?,?,?)",
                     rows)
    assert runs_repo.last_durations(conn, ["a", "b", "never", "a"]) == {"a": 7.0, "b": 1.0}
    conn.close()
