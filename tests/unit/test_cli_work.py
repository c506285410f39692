"""Notes and visits through the CLI and the services (real SQLite)."""

import json
import sqlite3

import pytest

from techdesk.core.findings import CheckResult, HostResult, Metric
from techdesk.core.severity import Status
from techdesk.core.work import billable
from techdesk.store import runs as runs_repo


@pytest.fixture
def roster(cli):
    assert cli("hosts", "add", "fs01", "--address", "10.0.0.1", "--client", "Acme", "--site", "HQ")[0] == 0
    assert cli("hosts", "add", "web01", "--address", "10.0.0.2", "--client", "Acme", "--site", "HQ")[0] == 0
    return cli


def _store_run(workspace_dir, host="fs01", value=86.0, run_id="run1", started="2026-11-28T09:00:00+00:00"):
    conn = sqlite3.connect(workspace_dir / "techdesk.db")
    conn.row_factory = sqlite3.Row
    conn.isolation_level = None
    runs_repo.create_run(conn, run_id, "linux-health", 1, "tech", started)
    check = CheckResult(id="disk", title="Disk space", status=Status.WARN, summary=f"/ {value:.0f}% used",
                        exit_code=1, duration_s=0.1, metrics={"/": Metric("/", value, "%", 80, 90)},
                        output="raw df output")
    runs_repo.save_host_result(conn, run_id, HostResult(host=host, checks=[check]), started)
    conn.close()


def test_note_for_host_with_attached_run_is_a_snapshot(roster, workspace_dir):
    _store_run(workspace_dir)
    code, out, err = roster("notes", "add", "--host", "fs01", "--title", "Disk filling up",
                            "--body", "Cleaned **/tmp**.", "--run", "run1", "--followup", "Order a bigger disk",
                            "--json")
    assert code == 0, err
    note = json.loads(out)
    assert note["host"] == "fs01" and note["author"] and note["conflict"] is False
    assert note["runs"][0]["findings"][0]["summary"] == "/ 86% used"
    assert "output" not in note["runs"][0]["findings"][0]
    # A later run does not change what the note recorded.
    _store_run(workspace_dir, value=95.0, run_id="run2", started="2026-11-28T10:00:00+00:00")
    shown = json.loads(roster("notes", "show", note["id"][:8], "--json")[1])
    assert shown["runs"][0]["findings"][0]["summary"] == "/ 86% used"
    assert shown["followups"] == [{"text": "Order a bigger disk", "done": False}]


def test_note_edit_status_followups_and_list(roster):
    code, out, _ = roster("notes", "add", "--client", "Acme", "--site", "HQ", "--title", "Printer", "--json")
    note_id = json.loads(out)["id"]
    assert roster("notes", "edit", note_id, "--status", "resolved", "--followup", "Check toner", "--done", "1")[0] == 0
    note = json.loads(roster("notes", "show", note_id, "--json")[1])
    assert note["status"] == "resolved" and note["followups"] == [{"text": "Check toner", "done": True}]
    listed = json.loads(roster("notes", "list", "--client", "Acme", "--json")[1])
    assert [n["id"] for n in listed] == [note_id]


def test_note_bad_input_is_one_line(roster):
    code, _, err = roster("notes", "add", "--host", "nope", "--title", "x")
    assert code == 64 and err.strip() == "techdesk: error: no host named 'nope'"
    code, _, err = roster("notes", "add", "--host", "fs01", "--title", "  ")
    assert code == 64 and "needs a title" in err
    code, _, err = roster("notes", "show", "ffffffff")
    assert code == 64 and "no note" in err
    code, _, err = roster("notes", "add", "--host", "fs01", "--title", "t", "--run", "missing")
    assert code == 64 and "no run" in err
    assert json.loads(roster("notes", "list", "--json")[1]) == []


def test_visit_start_stop_collects_runs_and_notes(roster, workspace_dir):
    code, out, err = roster("visits", "start", "--client", "Acme", "--site", "HQ", "--json")
    assert code == 0, err
    visit = json.loads(out)
    assert visit["running"] and len(visit["checklist"]) >= 5
    code, _, err = roster("visits", "start", "--client", "Acme")
    assert code == 64 and "still running" in err
    from datetime import UTC, datetime

    _store_run(workspace_dir, started=datetime.now(UTC).isoformat(timespec="seconds"))
    code, out, _ = roster("notes", "add", "--host", "fs01", "--title", "Work", "--json")
    assert json.loads(out)["visit"] == visit["id"]
    assert roster("visits", "check", visit["id"], "1")[0] == 0
    # Ten minutes on site (the run above is inside that window too).
    from datetime import timedelta

    conn = sqlite3.connect(workspace_dir / "techdesk.db")
    began = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="seconds")
    conn.execute("UPDATE visits SET started = ?", (began,))
    conn.commit()
    conn.close()
    code, out, err = roster("visits", "stop", "--summary", "All good", "--json")
    assert code == 0, err
    stopped = json.loads(out)
    assert stopped["hosts"] == ["fs01"] and stopped["runs"] == ["run1"] and len(stopped["notes"]) == 1
    assert stopped["billable_minutes"] == 15  # a started quarter hour counts
    assert stopped["checklist"][0]["done"] is True and stopped["summary"] == "All good"
    assert roster("visits", "stop")[0] == 64


def test_billable_rounding():
    assert billable(0, 15) == 0
    assert billable(1, 15) == 15
    assert billable(15, 15) == 15
    assert billable(15.1, 15) == 30
    assert billable(7.2, 1) == 8


def test_custom_checklist_template(roster, workspace_dir):
    (workspace_dir / "checklist.txt").write_text("# mine\nCheck the coffee machine\n\nBackups\n")
    visit = json.loads(roster("visits", "start", "--client", "Acme", "--json")[1])
    assert [c["text"] for c in visit["checklist"]] == ["Check the coffee machine", "Backups"]
