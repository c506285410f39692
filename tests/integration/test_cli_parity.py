"""What the window can do, the CLI can too: alerts fed by `run`, ack and snooze; clients
rename and remove; a past run as text and two runs compared."""

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


def test_clients_rename_and_remove_from_the_cli(cli):
    for name, site in (("fs01", "HQ"), ("web01", "HQ")):
        assert cli("hosts", "add", name, "--address", "10.0.0.1", "--client", "Acme", "--site", site)[0] == 0
    code, out, _ = cli("clients", "rename", "Acme", "Acme Logistics")
    assert code == 0 and "renamed Acme to Acme Logistics" in out
    code, out, _ = cli("clients", "remove", "Acme Logistics", "--site", "HQ")
    assert code == 1 and "2 host(s), which would be removed: fs01, web01" in out and "nothing changed" in out
    code, out, _ = cli("clients", "remove", "Acme Logistics", "--site", "HQ", "--keep-hosts", "--yes")
    assert code == 0 and "2 host(s) kept" in out
    assert [h["site"] for h in json.loads(cli("hosts", "list", "--json")[1])] == [None, None]
    code, _, err = cli("clients", "rename", "Nobody", "X")
    assert code == 64 and err == "techdesk: error: no client named 'Nobody'\n"


def test_runs_show_and_compare_from_the_cli(cli, workspace_dir):
    from techdesk.core.severity import Status
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace
    from tests.unit.test_attach_findings import store_run

    svc = Services(Workspace(workspace_dir))
    svc.roster.add(HostSpec(name="web1", address="10.0.0.1"))
    store_run(svc, "run-old", "web1", {"disk": Status.OK, "load": Status.OK})
    store_run(svc, "run-new", "web1", {"disk": Status.CRIT, "load": Status.OK})
    svc.close()
    code, out, _ = cli("runs", "show", "run-new")
    assert code == 0 and "-- CRIT     Disk [disk]: disk is crit\n   | raw disk" in out
    code, out, _ = cli("runs", "compare", "web1", "run-old", "run-new")
    assert code == 0 and out.splitlines()[2].split()[:4] == ["WORSE", "disk", "OK", "CRIT"] and "load" not in out
    code, _, err = cli("runs", "show", "nope")
    assert code == 64 and "no run with id 'nope'" in err
