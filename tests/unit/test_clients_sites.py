"""Clients and sites: rename (notes, visits, schedules follow), remove with or without
their hosts, all or nothing."""

from __future__ import annotations

import pytest

from techdesk.core.roster import HostSpec, RosterError
from techdesk.services.context import Services
from techdesk.workspace import Workspace


@pytest.fixture
def svc(tmp_path):
    services = Services(Workspace(tmp_path / "ws"))
    r = services.roster
    r.add(HostSpec(name="fs01", address="10.0.0.10", client="Acme", site="HQ"))
    r.add(HostSpec(name="web01", address="10.0.0.20", client="Acme", site="HQ", jump="fs01"))
    r.add(HostSpec(name="lager", address="10.0.0.30", client="Acme", site="Warehouse"))
    r.add(HostSpec(name="pos1", address="10.0.1.1", client="Beta"))
    yield services
    services.close()


def test_rename_client_carries_notes_visits_and_schedules(svc):
    note = svc.notes.add("Backups", client="Acme", site="HQ")
    visit = svc.visits.start("Acme", "HQ")
    by_client = svc.monitor.add_schedule("linux-quick", "client:Acme", "6h")
    by_site = svc.monitor.add_schedule("linux-quick", "site:Acme/HQ", "1d")
    svc.roster.rename("Acme", "Acme Logistics")
    assert [c.name for c in svc.roster.clients()] == ["Acme Logistics", "Beta"]
    assert svc.roster.get("fs01").spec.client == "Acme Logistics"
    assert svc.notes.get(note.id).client == "Acme Logistics" and svc.visits.get(visit.id).client == "Acme Logistics"
    assert svc.monitor.schedule(by_client["id"])["target"] == "client:Acme Logistics"
    assert svc.monitor.schedule(by_site["id"])["target"] == "site:Acme Logistics/HQ"
    assert svc.monitor.schedule(by_site["id"])["hosts"] == 2


def test_rename_site_and_bad_names_change_nothing(svc):
    s = svc.monitor.add_schedule("linux-quick", "site:Acme/HQ", "1d")
    svc.roster.rename("Acme", "Head office", site="HQ")
    assert svc.roster.get("web01").spec.site == "Head office"
    assert svc.monitor.schedule(s["id"])["target"] == "site:Acme/Head office"
    for bad, message in (("", "needs a name"), ("A/B", "may not contain '/'"), ("Beta", "already exists")):
        with pytest.raises(RosterError, match=message):
            svc.roster.rename("Acme", bad)
    with pytest.raises(RosterError, match="already exists at Acme"):
        svc.roster.rename("Acme", "Warehouse", site="Head office")
    with pytest.raises(RosterError, match="no client named"):
        svc.roster.rename("Nobody", "X")
    assert [c.name for c in svc.roster.clients()] == ["Acme", "Beta"]


def test_remove_site_keeping_its_hosts_at_the_client(svc):
    s = svc.monitor.add_schedule("linux-quick", "site:Acme/HQ", "1d")
    done = svc.roster.remove_holder("Acme", "HQ", keep_hosts=True)
    assert done == {"hosts": ["fs01", "web01"], "kept": True, "schedules": [s["id"]]}
    assert [s.name for s in svc.roster.sites("Acme")] == ["Warehouse"]
    assert (svc.roster.get("web01").spec.client, svc.roster.get("web01").spec.site) == ("Acme", None)
    assert svc.monitor.schedules() == []


def test_remove_client_with_its_hosts_jumps_among_them_do_not_block(svc):
    note = svc.notes.add("Old work", client="Acme")
    done = svc.roster.remove_holder("Acme")
    assert sorted(done["hosts"]) == ["fs01", "lager", "web01"] and not done["kept"]
    assert [h.name for h in svc.roster.hosts()] == ["pos1"]
    assert [c.name for c in svc.roster.clients()] == ["Beta"] and svc.roster.sites() == []
    assert svc.notes.get(note.id).title == "Old work"  # the record of the work stays


def test_remove_is_all_or_nothing_when_an_outside_host_jumps_through_one(svc):
    svc.roster.edit("pos1", jump="fs01")
    with pytest.raises(RosterError, match="jump host of pos1"):
        svc.roster.remove_holder("Acme")
    assert sorted(h.name for h in svc.roster.hosts(client="Acme")) == ["fs01", "lager", "web01"]
    assert svc.roster.get("web01").jump == "fs01"  # the jump cleared inside the transaction came back
