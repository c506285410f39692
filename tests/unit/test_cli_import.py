"""`hosts import` / `hosts export` through the CLI, on realistic files."""

import json
from pathlib import Path

DATA = Path(__file__).parent.parent / "data"


def _hosts(cli) -> dict:
    code, out, err = cli("hosts", "list", "--json")
    assert code == 0, err
    return {h["name"]: h for h in json.loads(out)}


def test_import_ssh_config(cli):
    code, out, err = cli("hosts", "import", str(DATA / "ssh_config"), "--format", "ssh-config",
                         "--client", "Field laptop")
    assert code == 0, err
    hosts = _hosts(cli)
    bastion = hosts["acme-bastion"]
    assert (bastion["address"], bastion["port"], bastion["user"]) == ("bastion.acme.example.com", 2222, "jdoe")
    assert hosts["acme-fs01"]["address"] == "acme-fs01.acme.lan"
    assert hosts["acme-fs01"]["jump"] == "acme-bastion"
    assert hosts["acme-dc01"]["user"] == "Administrator"
    assert (hosts["mueller-nas"]["port"], hosts["mueller-nas"]["key"]) == (8022, "~/.ssh/keys/müller nas")
    assert hosts["homelab"]["user"] == "pi"
    assert all(h["client"] == "Field laptop" for h in hosts.values())
    assert not any("*" in name for name in hosts)


def test_import_csv_and_ansible(cli, workspace_dir):
    assert cli("hosts", "import", str(DATA / "hosts.csv"), "--format", "csv")[0] == 0
    hosts = _hosts(cli)
    nas = hosts["mueller-nas"]
    assert (nas["client"], nas["site"], nas["port"], nas["tags"]) == ("Bäckerei Müller", "Filiale Süd", 8022, ["nas"])
    assert hosts["acme-dc01"]["os"] == "windows" and hosts["acme-dc01"]["jump"] == "acme-bastion"
    assert "Praxis Dr. Weiß – Empfang" in hosts

    code, _, err = cli("hosts", "import", str(DATA / "inventory.ini"), "--format", "ansible")
    assert code == 0, err
    hosts = _hosts(cli)
    assert {"web01.acme.lan", "web02.acme.lan", "web03.acme.lan"} <= set(hosts)
    db01 = hosts["db01"]
    assert (db01["address"], db01["port"], db01["user"]) == ("10.20.2.11", 5522, "postgres")
    assert "dbservers" in db01["tags"] and "acme" in db01["tags"]
    assert (db01["client"], db01["site"]) == ("Acme GmbH", "HQ")


def test_malformed_import_names_file_and_line_and_imports_nothing(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,address,port\nok1,10.0.0.1,22\nbad,10.0.0.2,notaport\n")
    code, out, err = cli("hosts", "import", str(bad), "--format", "csv")
    assert code == 64
    assert f"{bad}:3:" in err and "Traceback" not in err
    assert _hosts(cli) == {}

    yml = tmp_path / "inv.yml"
    yml.write_text("all:\n  hosts:\n    a: {ansible_host: \"10.0.0.1}\n")
    code, _, err = cli("hosts", "import", str(yml), "--format", "ansible")
    assert code == 64 and f"{yml}:" in err
    cfg = tmp_path / "cfg"
    cfg.write_text("Host ok\n  HostName 1.2.3.4\nHost\n  User x\n")
    code, _, err = cli("hosts", "import", str(cfg), "--format", "ssh-config")
    assert code == 64 and f"{cfg}:3:" in err
    assert _hosts(cli) == {}


def test_duplicate_import_needs_update(cli):
    cli("hosts", "add", "db01", "--address", "old", "--tag", "keep")
    code, _, err = cli("hosts", "import", str(DATA / "inventory.ini"), "--format", "ansible")
    assert code == 64 and "--update" in err
    assert list(_hosts(cli)) == ["db01"]
    assert cli("hosts", "import", str(DATA / "inventory.ini"), "--format", "ansible", "--update")[0] == 0
    db01 = _hosts(cli)["db01"]
    assert db01["address"] == "10.20.2.11" and "keep" in db01["tags"]


def test_export_imports_back_identically(cli, tmp_path, workspace_dir):
    cli("hosts", "import", str(DATA / "inventory.ini"), "--format", "ansible")
    cli("hosts", "add", "odd \"name\"; $(x)", "--address", "a b", "--client", "Ü & Co", "--tag", "t1")
    original = _hosts(cli)
    for fmt, suffix in (("csv", "csv"), ("ansible", "ini")):
        out_file = tmp_path / f"export.{suffix}"
        assert cli("hosts", "export", "--format", fmt, "-o", str(out_file))[0] == 0
        other = tmp_path / f"ws-{fmt}"
        from techdesk.cli import main

        assert main(["--workspace", str(other), "hosts", "import", str(out_file), "--format", fmt]) == 0
        assert main(["--workspace", str(other), "hosts", "list", "--json"]) == 0
        import sys

        sys.stdout.flush()

    # Compare through the service to avoid mixing captured outputs.
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace

    def by_name(path):
        svc = Services(Workspace(path))
        try:
            return {h.name: {k: v for k, v in h.as_json().items() if k != "sources"} for h in svc.roster.hosts()}
        finally:
            svc.close()

    expected = {n: {k: v for k, v in h.items() if k != "sources"} for n, h in original.items()}
    assert by_name(tmp_path / "ws-csv") == expected
    assert by_name(tmp_path / "ws-ansible") == expected
