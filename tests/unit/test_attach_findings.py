"""Attach findings to a note: selected ones or every non-OK one; never twice."""

from __future__ import annotations

import pytest

from techdesk.core.findings import CheckResult, HostResult
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.core.work import WorkError
from techdesk.services.context import Services
from techdesk.store import runs as runs_repo
from techdesk.workspace import Workspace


def store_run(svc, run_id: str, host: str, statuses: dict[str, Status]) -> None:
    started = "2026-03-04T10:00:00+00:00"
    runs_repo.create_run(svc.conn, run_id, "linux-quick", 1, "ann", started)
    checks = [CheckResult(id=c, title=c.title(), status=s, summary=f"{c} is {s.value}",
                          exit_code=0, duration_s=0.1, output=f"raw {c}") for c, s in statuses.items()]
    runs_repo.save_host_result(svc.conn, run_id, HostResult(host=host, checks=checks), started)


@pytest.fixture
def svc(tmp_path):
    services = Services(Workspace(tmp_path / "ws"))
    services.roster.add(HostSpec(name="web1", address="10.0.0.1", client="Acme"))
    store_run(services, "r1", "web1", {"disk": Status.CRIT, "load": Status.OK, "swap": Status.WARN})
    yield services
    services.close()


def test_without_a_selection_every_non_ok_finding_is_attached_once(svc):
    note = svc.notes.add("Disk trouble", host="web1")
    note, added = svc.notes.attach_findings(note.id, "r1", "web1")
    assert added == 2 and [f["id"] for f in note.runs[0].findings] == ["disk", "swap"]
    note, added = svc.notes.attach_findings(note.id, "r1", "web1")
    assert added == 0 and len(note.runs) == 1 and len(note.runs[0].findings) == 2
    note, added = svc.notes.attach_findings(note.id, "r1", "web1", ["load", "disk"])
    assert added == 1 and [f["id"] for f in svc.notes.get(note.id).runs[0].findings] == ["disk", "swap", "load"]


def test_selected_findings_only_and_bad_input_changes_nothing(svc):
    note = svc.notes.add("Swap", host="web1")
    note, added = svc.notes.attach_findings(note.id, "r1", "web1", ["swap"])
    assert added == 1 and [f["id"] for f in note.runs[0].findings] == ["swap"]
    assert "output" not in note.runs[0].findings[0]
    with pytest.raises(WorkError, match="no check 'nope'"):
        svc.notes.attach_findings(note.id, "r1", "web1", ["nope"])
    store_run(svc, "r2", "web1", {"disk": Status.OK})
    with pytest.raises(WorkError, match="every check of web1 was OK"):
        svc.notes.attach_findings(note.id, "r2", "web1")
    assert [r.run_id for r in svc.notes.get(note.id).runs] == ["r1"]
