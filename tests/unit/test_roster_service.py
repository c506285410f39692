import pytest

from techdesk.core.roster import HostSpec, RosterError
from techdesk.services.roster import RosterService
from techdesk.store.db import open_database


@pytest.fixture
def roster(tmp_path):
    return RosterService(open_database(tmp_path / "t.db"))


def test_add_and_get_with_defaults(roster):
    host = roster.add(HostSpec(name="web1", address="10.0.0.5"))
    assert host.address == "10.0.0.5"
    assert host.port == 22
    assert host.sources["port"] == "default"
    assert host.os == "linux"


def test_inheritance_host_over_site_over_client(roster):
    roster.add(HostSpec(name="a", address="a.example", client="Acme", site="HQ"))
    roster.add(HostSpec(name="b", address="b.example", client="Acme", site="HQ", user="root", port=2222))
    roster.set_defaults("Acme", user="admin", port=2200)
    roster.set_defaults("Acme", "HQ", user="siteuser")
    a, b = roster.get("a"), roster.get("b")
    assert (a.user, a.sources["user"]) == ("siteuser", "site")
    assert (a.port, a.sources["port"]) == (2200, "client")
    assert (b.user, b.sources["user"]) == ("root", "host")
    assert (b.port, b.sources["port"]) == (2222, "host")


def test_set_defaults_merges_with_existing(roster):
    roster.add(HostSpec(name="a", address="a", client="Acme"))
    roster.set_defaults("Acme", user="admin")
    roster.set_defaults("Acme", port=2200)
    host = roster.get("a")
    assert (host.user, host.port) == ("admin", 2200)


def test_duplicate_name_is_refused(roster):
    roster.add(HostSpec(name="web1", address="x"))
    with pytest.raises(RosterError, match="already exists"):
        roster.add(HostSpec(name="web1", address="y"))
    assert roster.get("web1").address == "x"


def test_hostile_names_are_stored_literally(roster):
    name = "Büro PC \"1\"; $(rm -rf /) 'x' ☃"
    roster.add(HostSpec(name=name, address="host with space;`id`", client="Müller & Söhne"))
    host = roster.get(name)
    assert host.name == name
    assert host.address == "host with space;`id`"
    assert host.spec.client == "Müller & Söhne"


@pytest.mark.parametrize("bad", ["a\x1b[31mred", "line\nbreak", "nul\x00"])
def test_control_characters_are_refused(roster, bad):
    with pytest.raises(RosterError, match="control character"):
        roster.add(HostSpec(name=bad, address="x"))
    assert roster.hosts() == []


def test_site_needs_client(roster):
    with pytest.raises(RosterError, match="site belongs to a client"):
        roster.add(HostSpec(name="a", address="a", site="HQ"))


def test_bad_port_and_os(roster):
    with pytest.raises(RosterError, match="out of range"):
        roster.add(HostSpec(name="a", port=70000))
    with pytest.raises(RosterError, match="not a number"):
        roster.add(HostSpec(name="a", port="twenty"))
    with pytest.raises(RosterError, match="os must be"):
        roster.add(HostSpec(name="a", os="beos"))


def test_jump_chain_and_loops(roster):
    roster.add(HostSpec(name="bastion", address="b"))
    roster.add(HostSpec(name="inner", address="i", jump="bastion"))
    roster.add(HostSpec(name="deep", address="d", jump="inner"))
    assert [h.name for h in roster.jump_chain("deep")] == ["bastion", "inner", "deep"]
    with pytest.raises(RosterError, match="loop"):
        roster.edit("bastion", jump="deep")
    assert roster.get("bastion").jump is None
    with pytest.raises(RosterError, match="not in the roster"):
        roster.add(HostSpec(name="x", address="x", jump="nowhere"))
    with pytest.raises(RosterError, match="jump host of inner"):
        roster.remove("bastion")


def test_rename_updates_jump_references(roster):
    roster.add(HostSpec(name="bastion", address="b"))
    roster.add(HostSpec(name="inner", address="i", jump="bastion"))
    roster.edit("bastion", name="gateway")
    assert roster.get("inner").jump == "gateway"


def test_import_is_all_or_nothing(roster):
    roster.add(HostSpec(name="existing", address="e"))
    specs = [HostSpec(name="new1", address="n1"), HostSpec(name="existing", address="other")]
    with pytest.raises(RosterError, match="already exists; nothing was imported"):
        roster.import_hosts(specs)
    assert [h.name for h in roster.hosts()] == ["existing"]
    result = roster.import_hosts(specs, update=True, client="Acme")
    assert result == {"added": ["new1"], "updated": ["existing"]}
    assert roster.get("existing").address == "other"
    assert roster.get("new1").spec.client == "Acme"


def test_filters(roster):
    roster.add(HostSpec(name="a", client="Acme", site="HQ", tags=["web"]))
    roster.add(HostSpec(name="b", client="Acme", site="Lab", tags=["db"]))
    roster.add(HostSpec(name="c", client="Beta", tags=["web"]))
    assert [h.name for h in roster.hosts(client="Acme")] == ["a", "b"]
    assert [h.name for h in roster.hosts(site="Lab")] == ["b"]
    assert [h.name for h in roster.hosts(tag="web")] == ["a", "c"]
    assert [c.name for c in roster.clients()] == ["Acme", "Beta"]
