"""Alerts from the window: manual runs feed alert state like sweeps, the Since column
shows the time, alerts can be acknowledged, snoozed and woken."""

from __future__ import annotations

import socket

import pytest

from techdesk.core.roster import HostSpec
from techdesk.ui.dialogs.alerts_dialog import COLUMNS, AlertsDialog


def _closed_port() -> int:
    """A loopback port nobody listens on: a run there fails to connect at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dead_host(services):
    services.settings.update(alert_unreachable_after=2)
    services.roster.add(HostSpec(name="dead", address="127.0.0.1", port=_closed_port(), user="nobody",
                                 client="Acme"))
    return "dead"


def _run(window, qloop, qtbot, host):
    window.roster.refresh()
    window.run_on([host], "linux-quick")
    qloop.run_until_complete(window.runs.task)
    qloop.run_until_complete(window.tools.alert_task)
    qtbot.wait(50)


def _alert_rows(window):
    tree = window.dashboard.alerts
    return [[tree.topLevelItem(r).text(c) for c in range(tree.columnCount())] for r in range(tree.topLevelItemCount())]


def test_manual_runs_open_an_alert_like_sweeps_and_since_shows_the_time(qtbot, qloop, window, services, dead_host):
    _run(window, qloop, qtbot, dead_host)
    assert services.monitor.alerts() == []  # one failed run: not yet (unreachable after 2)
    _run(window, qloop, qtbot, dead_host)
    [alert] = services.monitor.alerts()
    assert (alert["host"], alert["check"], alert["severity"]) == ("dead", "host-unreachable", "unknown")
    assert alert["message"].startswith("dead unreachable for 2 runs")
    [row] = _alert_rows(window)
    assert row[1:3] == ["dead", "host-unreachable"]
    assert row[3].startswith("today ")  # the Since column: a readable local time, not empty
    health = services.monitor.health()
    assert [a["host"] for a in health["alerts"]] == ["dead"]


def test_acknowledge_snooze_and_wake_from_the_dashboard_and_the_dialog(qtbot, qloop, window, services, dead_host):
    _run(window, qloop, qtbot, dead_host)
    _run(window, qloop, qtbot, dead_host)
    window.alerts.acknowledge("dead", "host-unreachable")
    [row] = _alert_rows(window)
    assert row[4].startswith(f"✓ {services.workspace.technician} is on it")
    window.alerts.snooze("dead", "host-unreachable", "4h")
    assert _alert_rows(window) == []  # snoozed: out of the open list
    assert services.monitor.alerts() == [] and len(services.monitor.alerts(include_snoozed=True)) == 1
    dialog = AlertsDialog(services, window)
    qtbot.addWidget(dialog)
    dialog.changed.connect(window.dashboard_ctl.refresh)
    assert dialog.tree.topLevelItem(0).text(COLUMNS.index("State")).startswith("snoozed until ")
    dialog.tree.topLevelItem(0).setSelected(True)
    dialog.snooze_selected(None)  # Wake
    assert dialog.tree.topLevelItem(0).text(COLUMNS.index("State")).startswith("acknowledged by ")
    assert len(_alert_rows(window)) == 1


def test_a_cancelled_run_does_not_count_as_unreachable(services, qloop, dead_host):
    from techdesk.core.findings import HostError, HostResult
    from techdesk.services.runner import RunReport

    report = RunReport(run_id="r1", bundle="linux-quick", started="2026-01-01T00:00:00+00:00")
    report.results = [HostResult(host="dead", error=HostError("protocol", "cancelled by the technician"))]
    report.cancelled = True
    for _ in range(3):
        qloop.run_until_complete(services.monitor.record_run(report))
    assert services.monitor.alerts() == []
