"""The whole-store reads shared by the window's views (store/snapshot.py): one read serves
readers of the same moment, and any change to the store — through this connection or
committed by another (a second process, the sync) — is seen by the next read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from techdesk.core.findings import CheckResult, HostResult
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.services.context import Services
from techdesk.store import runs as runs_repo
from techdesk.workspace import Workspace

STALE = timedelta(hours=24)


def _result(svc: Services, host: str, status: Status, run_id: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    runs_repo.create_run(svc.conn, run_id, "linux-quick", 1, "ann", stamp)
    runs_repo.save_host_result(svc.conn, run_id, HostResult(host, [CheckResult(
        "disk", "Disk space", status, "/ 95% used", int(status.rank), 0.1)]), stamp)
    runs_repo.finish_run(svc.conn, run_id)


def test_one_read_serves_the_readers_of_one_moment(tmp_path, monkeypatch):
    svc = Services(Workspace(tmp_path / "ws"))
    svc.roster.add(HostSpec(name="web1", address="10.0.0.1", client="Acme"))
    calls = []
    real = runs_repo.host_attempts
    monkeypatch.setattr(runs_repo, "host_attempts", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = svc.history.host_states(STALE)
    first.clear()  # a reader changing its copy changes nobody else's
    assert set(svc.history.host_states(STALE)) == {"web1"}
    assert len(calls) == 1
    assert svc.roster.hosts() is not svc.roster.hosts()  # each reader its own list
    svc.close()


def test_a_client_default_changed_on_this_connection_shows(tmp_path):
    svc = Services(Workspace(tmp_path / "ws"))
    svc.roster.add(HostSpec(name="web1", address="10.0.0.1", client="Acme"))
    assert svc.roster.hosts()[0].user != "admin"
    svc.roster.set_defaults("Acme", user="admin")
    assert svc.roster.hosts()[0].user == "admin"
    svc.close()


def test_a_state_written_on_this_connection_shows(tmp_path):
    svc = Services(Workspace(tmp_path / "ws"))
    svc.roster.add(HostSpec(name="web1", address="10.0.0.1", client="Acme"))
    assert svc.history.host_states(STALE)["web1"].status == "never"
    _result(svc, "web1", Status.CRIT, "r1")
    assert svc.history.host_states(STALE)["web1"].status == "crit"
    _result(svc, "web1", Status.OK, "r2")
    assert svc.history.host_states(STALE)["web1"].status == "ok"
    svc.close()


def test_changes_committed_by_another_connection_show(tmp_path):
    """Another process (a cron sweep, the CLI, a sync) writes the same store."""
    mine = Services(Workspace(tmp_path / "ws"))
    mine.roster.add(HostSpec(name="web1", address="10.0.0.1", client="Acme"))
    assert [h.name for h in mine.roster.hosts()] == ["web1"]
    assert mine.history.host_states(STALE)["web1"].status == "never"
    other = Services(Workspace(tmp_path / "ws"))
    other.roster.add(HostSpec(name="db1", address="10.0.0.2", client="Acme"))
    other.roster.edit("web1", address="10.0.0.9")
    _result(other, "web1", Status.WARN, "r1")
    assert {h.name: h.address for h in mine.roster.hosts()} == {"db1": "10.0.0.2", "web1": "10.0.0.9"}
    assert mine.history.host_states(STALE)["web1"].status == "warn"
    other.close()
    mine.close()


def test_another_moment_or_rule_is_not_served_from_the_shared_read(tmp_path):
    svc = Services(Workspace(tmp_path / "ws"))
    svc.roster.add(HostSpec(name="web1", address="10.0.0.1", client="Acme"))
    _result(svc, "web1", Status.OK, "r1")
    assert not svc.history.host_states(STALE)["web1"].stale
    later = datetime.now(UTC) + timedelta(days=3)  # a replay: the same data is stale by then
    assert svc.history.host_states(STALE, now=later)["web1"].stale
    assert svc.history.host_states(timedelta(seconds=0), now=later)["web1"].stale
    assert svc.history.host_states(timedelta(seconds=-1))["web1"].stale  # another rule: computed anew
    assert not svc.history.host_states(STALE)["web1"].stale
    svc.close()
