"""Alerts from the command line: `run` feeds alert state like `sweep`; ack and snooze."""

from __future__ import annotations

import json

from techdesk.core.roster import HostSpec
from tests.ui.test_alerts_window import _closed_port


def test_cli_run_feeds_alerts_and_ack_snooze_from_the_cli(workspace_dir, cli):
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace

    svc = Services(Workspace(workspace_dir))
    svc.settings.update(alert_unreachable_after=1)
    svc.roster.add(HostSpec(name="dead", address="127.0.0.1", port=_closed_port(), user="nobody"))
    svc.close()
    code, _, _ = cli("run", "linux-quick", "dead")
    assert code == 3
    [alert] = json.loads(cli("alerts", "--json")[1])
    assert alert["check"] == "host-unreachable"
    code, out, _ = cli("alerts", "--ack", "dead", "host-unreachable")
    assert code == 0 and "acknowledged by" in out
    code, out, _ = cli("alerts", "--snooze", "dead", "host-unreachable", "--for", "1d")
    assert code == 0 and "snoozed until" in out
    assert json.loads(cli("alerts", "--json")[1]) == []
    code, _, err = cli("alerts", "--ack", "dead", "disk")
    assert code == 64 and err.startswith("techdesk: error: no open alert for dead disk")
