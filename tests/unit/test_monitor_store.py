"""Monitoring store (migration 4), the sweep lock, schedule sync records, the OS entries
of `schedule install`. Real SQLite files; nothing mocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from techdesk.core.alerts import AlertEvent, AlertState
from techdesk.core.severity import Status
from techdesk.services.monitor import SweepLock, sweep_exit_code
from techdesk.store import monitor as repo
from techdesk.store.db import open_database, transaction
from techdesk.store.migrations import SCHEMA_VERSION
from techdesk.sync.engine import records
from techdesk.sync.engine.codec import BodyError, Context

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path):
    c = open_database(tmp_path / "t.db")
    yield c
    c.close()


def test_migration_4_creates_the_monitoring_tables(conn):
    assert SCHEMA_VERSION >= 4
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"schedules", "schedule_hosts", "host_health", "alert_states", "alert_events"} <= tables


def test_schedules_crud_and_prefix(conn):
    repo.insert_schedule(conn, "ab12cd34" + "0" * 24, "linux-quick", "client:Acme", 3600,
                         "Sun 02:00-04:00 Europe/Berlin", "2026-03-01T00:00:00+00:00")
    repo.insert_schedule(conn, "ab99" + "1" * 28, "linux-health", "all", 86400, "", "2026-03-02T00:00:00+00:00")
    rows = repo.list_schedules(conn)
    assert [r["bundle"] for r in rows] == ["linux-quick", "linux-health"]
    assert rows[0]["enabled"] is True and rows[0]["windows"] == "Sun 02:00-04:00 Europe/Berlin"
    assert len(repo.find_schedules(conn, "ab")) == 2
    assert [r["bundle"] for r in repo.find_schedules(conn, "AB12")] == ["linux-quick"]
    assert repo.find_schedules(conn, "a%") == [] and repo.find_schedules(conn, "a_") == []
    repo.set_enabled(conn, rows[0]["uid"], False, "2026-03-03T00:00:00+00:00")
    assert repo.list_schedules(conn)[0]["enabled"] is False
    repo.mark_runs(conn, [(rows[0]["uid"], "web1", repo.iso(T0), None)])
    repo.mark_runs(conn, [(rows[0]["uid"], "web1", repo.iso(T0 + timedelta(hours=1)), "run1")])
    assert repo.last_runs(conn) == {(rows[0]["uid"], "web1"): T0 + timedelta(hours=1)}
    repo.delete_schedule(conn, rows[0]["uid"])
    assert [r["bundle"] for r in repo.list_schedules(conn)] == ["linux-health"]
    assert repo.last_runs(conn) == {}


def test_health_round_trip(conn):
    row = {"host": "web1", "last_attempt": T0, "last_success": None, "failures": 2,
           "next_retry": T0 + timedelta(minutes=10), "last_error": "unreachable: refused"}
    repo.save_health(conn, [row])
    assert repo.health(conn) == {"web1": row}


def test_alert_states_events_and_notification_marks(conn):
    opened = AlertState("web1", "disk", failing=2, severity=Status.CRIT, opened_at=T0, notified=Status.CRIT,
                        summary="/srv 95%", title="Disk space")
    quiet = AlertState("web1", "load", passing=3)
    event = AlertEvent("opened", "web1", "disk", "check", Status.CRIT, "web1: Disk space CRITICAL", T0, T0)
    seqs = repo.save_alerts(conn, {("web1", "disk"): opened, ("web1", "load"): quiet}, [event], repo.iso(T0))
    assert repo.alert_states(conn) == {("web1", "disk"): opened, ("web1", "load"): quiet}
    assert repo.alert_states(conn, open_only=True) == {("web1", "disk"): opened}
    assert repo.alert_states(conn, ["db1"]) == {}
    [stored] = repo.events(conn, seqs)
    assert (stored["event"], stored["severity"], stored["notified"], stored["attempts"]) == ("opened", "crit", False, 0)
    assert repo.events(conn, open_only=True) == [stored]
    # Never tried: not retried (a channel configured later must not flood old alerts).
    assert repo.unsent_events(conn, repo.iso(T0 - timedelta(days=1)), 5) == []
    repo.mark_notified(conn, seqs, delivered=False)
    assert [e["seq"] for e in repo.unsent_events(conn, repo.iso(T0 - timedelta(days=1)), 5)] == seqs
    assert repo.unsent_events(conn, repo.iso(T0 + timedelta(seconds=1)), 5) == []  # too old
    repo.mark_notified(conn, seqs, delivered=True)
    assert repo.events(conn, seqs)[0]["notified"] is True and repo.events(conn, seqs)[0]["attempts"] == 2
    assert repo.unsent_events(conn, repo.iso(T0 - timedelta(days=1)), 5) == []


# ---------------------------------------------------------------------------- sync records
def _schedule_body(**over):
    body = {"bundle": "linux-quick", "target": "site:Acme/HQ", "interval_s": 21600,
            "windows": ["Sun 02:00-04:00 Europe/Berlin", "daily 22:00-02:00 UTC alerts"], "enabled": True,
            "created": "2026-03-01T00:00:00+00:00", "updated": "2026-03-01T00:00:00+00:00"}
    body.update(over)
    return body


def test_schedule_record_round_trip_and_tracking(tmp_path):
    a, b = open_database(tmp_path / "a.db"), open_database(tmp_path / "b.db")
    try:

        uid = "5" * 32
        repo.insert_schedule(a, uid, "linux-quick", "site:Acme/HQ", 21600,
                             "Sun 02:00-04:00 Europe/Berlin; daily 22:00-02:00 UTC alerts",
                             "2026-03-01T00:00:00+00:00")
        assert ("schedule", uid) in {tuple(r) for r in a.execute("SELECT kind, id FROM sync_dirty")}
        body = records.read_bodies(a, "schedule", [uid])[uid]
        assert body == _schedule_body()
        assert records.title("schedule", body) == "linux-quick on site:Acme/HQ"
        with transaction(b):
            records.apply(Context(b), "schedule", uid, json.loads(json.dumps(body)))
        assert records.read_bodies(b, "schedule", [uid]) == {uid: body}
        with transaction(b):  # an update of a row marked dirty already
            records.apply(Context(b), "schedule", uid, _schedule_body(enabled=False, interval_s=600))
        assert repo.list_schedules(b)[0]["enabled"] is False and repo.list_schedules(b)[0]["interval_s"] == 600
        with transaction(b):
            records.remove(Context(b), "schedule", uid)
        assert repo.list_schedules(b) == []
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("bad", [
    {"interval_s": 10}, {"interval_s": "6h"}, {"interval_s": True}, {"enabled": 1},
    {"windows": "Sun 02:00-04:00 UTC"}, {"windows": ["Sun 02:00-04:00 Mars/Olympus"]},
    {"target": "planet:earth"}, {"bundle": ""}, {"bundle": 3}, {"created": None},
])
def test_untrusted_schedule_bodies_are_refused(conn, bad):
    with pytest.raises(BodyError), transaction(conn):
        records.apply(Context(conn), "schedule", "6" * 32, _schedule_body(**bad))
    assert repo.list_schedules(conn) == []


# ---------------------------------------------------------------------------- the sweep lock
def test_lock_is_exclusive_and_released(tmp_path):
    first, second = SweepLock(tmp_path / "sweep.lock"), SweepLock(tmp_path / "sweep.lock")
    assert first.acquire() is None
    reason = second.acquire()
    assert reason and f"pid {os.getpid()}" in reason and "another sweep is running" in reason
    first.release()
    assert not (tmp_path / "sweep.lock").exists()
    assert second.acquire() is None
    second.release()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(proc.stdout)
    path = tmp_path / "sweep.lock"
    import socket

    path.write_text(json.dumps({"pid": dead, "host": socket.gethostname(), "started": "2026-01-01T00:00:00+00:00"}))
    lock = SweepLock(path)
    assert lock.acquire() is None
    assert json.loads(path.read_text())["pid"] == os.getpid()
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.lock"]  # nothing left aside
    lock.release()


def test_old_or_garbage_locks_are_stale(tmp_path):
    path = tmp_path / "sweep.lock"
    path.write_text("{half")
    old = 1_000_000_000
    os.utime(path, (old, old))
    lock = SweepLock(path)
    assert lock.acquire() is None
    lock.release()
    path.write_text(json.dumps({"pid": os.getpid(), "host": "x", "started": "x"}))  # alive, but 12 h old
    os.utime(path, (old, old))
    assert SweepLock(path).acquire() is None


def test_a_lock_being_written_is_busy(tmp_path):
    (tmp_path / "sweep.lock").write_text("")
    assert "starting" in SweepLock(tmp_path / "sweep.lock").acquire()


def test_sweep_exit_codes():
    ok = {"host": "a", "status": "ok", "error": None}
    assert sweep_exit_code({"hosts": [ok], "alerts": []}) == 0
    assert sweep_exit_code({"hosts": [ok], "alerts": [{"event": "resolved"}]}) == 0
    assert sweep_exit_code({"hosts": [ok], "alerts": [{"event": "opened"}]}) == 1
    assert sweep_exit_code({"hosts": [ok, {"host": "b", "status": "warn", "error": None}], "alerts": []}) == 1
    failed = {"host": "c", "status": "unknown", "error": {"kind": "unreachable", "message": "x"}}
    assert sweep_exit_code({"hosts": [ok, failed], "alerts": []}) == 3
    assert sweep_exit_code({"hosts": [failed, {"host": "d", "status": "crit", "error": None}], "alerts": []}) == 2


# ---------------------------------------------------------------------------- schedule install
WS = Path("/home/ann/techdesk ws")
CMD = ["/opt/td/bin/python", "-m", "techdesk", "--workspace", str(WS), "sweep"]


def test_install_entries_for_every_os(tmp_path, monkeypatch):
    from techdesk.services.os_scheduler import install_plan

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    cron = install_plan("cron", WS, CMD)
    assert cron["entry"].startswith("*/5 * * * * /opt/td/bin/python -m techdesk --workspace "
                                    "'/home/ann/techdesk ws' sweep >> ")
    assert cron["files"] == {}
    systemd = install_plan("systemd", WS, CMD + ["50%"])
    service = next(t for p, t in systemd["files"].items() if p.endswith(".service"))
    timer = next(t for p, t in systemd["files"].items() if p.endswith(".timer"))
    assert all(p.startswith(str(tmp_path / "cfg" / "systemd" / "user")) for p in systemd["files"])
    assert 'ExecStart="/opt/td/bin/python" "-m" "techdesk" "--workspace" "/home/ann/techdesk ws" "sweep" "50%%"' \
        in service
    assert "OnUnitActiveSec=5min" in timer and "WantedBy=timers.target" in timer
    assert "enable --now" in systemd["commands"][0]
    launchd = install_plan("launchd", WS, CMD)
    import plistlib

    plist = plistlib.loads(next(iter(launchd["files"].values())).encode())
    assert plist["ProgramArguments"] == CMD and plist["StartInterval"] == 300
    windows = install_plan("windows", Path("C:/Users/ann/techdesk"), [r"C:\Py\pythonw.exe", "-m", "techdesk",
                                                                     "--workspace", r"C:\Users\ann\my ws", "sweep"])
    assert windows["entry"].startswith('schtasks /Create /F /SC MINUTE /MO 5 /TN "techdesk sweep ')
    assert r'/TR "C:\Py\pythonw.exe -m techdesk --workspace \"C:\Users\ann\my ws\" sweep"' in windows["entry"]
    # Two workspaces never overwrite each other's entries.
    assert install_plan("systemd", WS / "other", CMD)["files"].keys().isdisjoint(systemd["files"])
