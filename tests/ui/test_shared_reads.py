"""The roster tree and the dashboard share one read of the store at start-up
(store/snapshot.py); what another process writes afterwards — a new host, a new
state — shows on the next refresh of either, never the shared read."""

from __future__ import annotations

from datetime import UTC, datetime

from techdesk.core.findings import CheckResult, HostResult
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.services.context import Services
from techdesk.store import runs as runs_repo
from techdesk.ui.models.roster_model import STATUS_ROLE


def test_a_change_by_another_process_shows_after_the_shared_start_up_read(qloop, qtbot, sample_roster, window):
    qtbot.waitUntil(lambda: window.dashboard.tiles["never"].count.text() == "4")
    model = window.roster_panel.model
    assert model._host_items["web01"].data(STATUS_ROLE) == "never"

    other = Services(sample_roster.workspace)  # a cron sweep or the CLI: its own connection
    try:
        other.roster.add(HostSpec(name="db9", address="10.0.0.99", client="Acme"))
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        runs_repo.create_run(other.conn, "r1", "linux-quick", 1, "ann", stamp)
        runs_repo.save_host_result(other.conn, "r1", HostResult("web01", [CheckResult(
            "disk", "Disk space", Status.CRIT, "/ 97% used", 2, 0.1)]), stamp)
        runs_repo.finish_run(other.conn, "r1")
    finally:
        other.close()

    window.act_refresh.trigger()
    window.dashboard_ctl.refresh()
    assert model._host_items["web01"].data(STATUS_ROLE) == "crit"
    assert "db9" in model.host_names()
    assert window.dashboard.tiles["crit"].count.text() == "1"
    assert window.dashboard.tiles["never"].count.text() == "4"  # db9 joined, web01 left
