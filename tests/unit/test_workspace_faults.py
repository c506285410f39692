"""A broken workspace gives one line and exit 1 (details in logs/techdesk.log), never a
traceback; the workspace is private to its user."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("techdesk: error: "), err
    assert "Traceback" not in err
    return lines[0]


@posix
def test_new_workspace_is_private(cli, workspace_dir):
    code, _, err = cli("hosts", "add", "a", "--address", "127.0.0.1")
    assert code == 0, err
    assert _mode(workspace_dir) == 0o700
    assert _mode(workspace_dir / "techdesk.db") == 0o600
    for extra in ("techdesk.db-wal", "techdesk.db-shm", "settings.json"):
        if (workspace_dir / extra).exists():
            assert _mode(workspace_dir / extra) & 0o077 == 0, extra


@posix
def test_existing_workspace_is_tightened(cli, workspace_dir):
    cli("hosts", "list")
    os.chmod(workspace_dir, 0o755)
    os.chmod(workspace_dir / "techdesk.db", 0o644)
    code, _, err = cli("hosts", "list")
    assert code == 0, err
    assert (_mode(workspace_dir), _mode(workspace_dir / "techdesk.db")) == (0o700, 0o600)


def _garbage(path):
    path.write_bytes(b"this is not a database at all\n" * 100)


def _truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _bad_page(path):
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page: sqlite_master unreadable
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_garbage, _truncated, _bad_page])
@pytest.mark.parametrize("command", [("hosts", "list"), ("history", "a"), ("audit",),
                                     ("notes", "list", "--json")])
def test_broken_database_is_one_line_exit_1_and_logged(cli, workspace_dir, damage, command):
    for i in range(40):  # a database of several pages
        assert cli("hosts", "add", f"h{i}", "--address", "127.0.0.1")[0] == 0
    db = workspace_dir / "techdesk.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    damage(db)
    before = db.read_bytes()
    code, out, err = cli(*command)
    line = _one_error_line(err)
    assert code == 1, (code, err)
    assert "techdesk.db" in line and "logs/techdesk.log" in line.replace(os.sep, "/")
    assert db.read_bytes() == before  # nothing was changed
    log = (workspace_dir / "logs" / "techdesk.log").read_text()
    assert "Traceback" in log and "sqlite3" in log


def test_internal_error_is_one_line_with_the_log(cli, workspace_dir, monkeypatch):
    from techdesk.services import roster

    def boom(*a, **k):
        raise RuntimeError("multi\nline\x1b[31m bug")

    monkeypatch.setattr(roster.RosterService, "hosts", boom)
    code, _, err = cli("hosts", "list")
    line = _one_error_line(err)
    assert code == 70 and "multi line" in line and "\x1b" not in line
    assert "RuntimeError" in (workspace_dir / "logs" / "techdesk.log").read_text()


def _read_only(path) -> bool:
    """Make ``path`` read-only even for root (chattr +i); False if this system can't."""
    if os.geteuid() != 0:
        os.chmod(path, 0o400)
        return True
    import shutil
    import subprocess

    if not shutil.which("chattr"):
        return False
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0


@pytest.mark.parametrize("command", [("hosts", "add", "b", "--address", "127.0.0.1"), ("hosts", "list")])
def test_read_only_database_is_one_line_exit_1(cli, workspace_dir, command):
    import subprocess

    assert cli("hosts", "add", "a", "--address", "127.0.0.1")[0] == 0
    db = workspace_dir / "techdesk.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")  # no -wal/-shm left to write through
    conn.close()
    if not _read_only(db):
        pytest.skip("cannot make a file read-only here")
    try:
        before = db.read_bytes()
        code, _, err = cli(*command)
        line = _one_error_line(err)
        assert code == 1 and "techdesk.db" in line and "readonly" in line.replace("-", ""), line
        assert db.read_bytes() == before
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(db)], check=False)
        else:
            os.chmod(db, 0o600)
