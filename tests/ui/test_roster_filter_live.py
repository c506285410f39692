"""The roster filter under changing states: a host turning critical while "status:crit"
is typed shows at once with its client and site (their search lines hold its state),
and hides again when it recovers — without retyping the filter."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QModelIndex

from techdesk.core.findings import CheckResult, HostResult
from techdesk.core.severity import Status
from techdesk.store import runs as runs_repo
from techdesk.ui.models.roster_model import NAME_ROLE


def _result(svc, host: str, status: Status, run_id: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    runs_repo.create_run(svc.conn, run_id, "linux-quick", 1, "ann", stamp)
    runs_repo.save_host_result(svc.conn, run_id, HostResult(host, [CheckResult(
        "disk", "Disk space", status, "/ 97% used", int(status.rank), 0.1)]), stamp)
    runs_repo.finish_run(svc.conn, run_id)


def _shown(panel) -> list[str]:
    rows = []

    def walk(parent, path):
        for row in range(panel.proxy.rowCount(parent)):
            index = panel.proxy.index(row, 0, parent)
            rows.append(path + index.data(NAME_ROLE))
            walk(index, path + index.data(NAME_ROLE) + "/")

    walk(QModelIndex(), "")
    return rows


def test_a_host_changing_state_under_a_status_filter_shows_and_hides(qtbot, sample_roster, window):
    panel = window.roster_panel
    panel.filter.setText("status:crit")
    assert _shown(panel) == [] and panel.no_matches.isVisibleTo(panel)

    _result(sample_roster, "web01", Status.CRIT, "r1")
    window._hosts_finished(["web01"])
    assert _shown(panel) == ["Acme", "Acme/HQ", "Acme/HQ/web01"]

    _result(sample_roster, "web01", Status.OK, "r2")
    window._hosts_finished(["web01"])
    assert _shown(panel) == []
    panel.filter.setText("status:ok acme")
    assert _shown(panel) == ["Acme", "Acme/HQ", "Acme/HQ/web01"]
