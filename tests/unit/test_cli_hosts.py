import json
import subprocess
import sys

import pytest


def test_version_and_python_m(tmp_path):
    from techdesk import __version__

    out = subprocess.run([sys.executable, "-m", "techdesk", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == f"techdesk {__version__}"


@pytest.mark.parametrize("argv", [["frobnicate"], ["hosts", "list", "--bogus"], ["hosts"]])
def test_usage_errors_exit_64_with_one_line(cli, argv):
    code, out, err = cli(*argv)
    assert code == 64
    assert out == ""
    assert "techdesk: error:" in err
    assert "Traceback" not in err


def test_add_list_show_json_shape(cli):
    code, out, _ = cli("hosts", "add", "web1", "--address", "10.0.0.5", "--port", "2222", "--user", "admin",
                       "--client", "Acme", "--site", "HQ", "--tag", "web", "--tag", "prod", "--json")
    assert code == 0
    host = json.loads(out)
    assert {k: host[k] for k in ("name", "address", "port", "user", "client", "site", "tags", "os", "jump",
                                 "key")} == {
        "name": "web1", "address": "10.0.0.5", "port": 2222, "user": "admin", "client": "Acme",
        "site": "HQ", "tags": ["prod", "web"], "os": "linux", "jump": None, "key": None}
    code, out, _ = cli("hosts", "list", "--json")
    assert code == 0
    assert [h["name"] for h in json.loads(out)] == ["web1"]
    code, out, _ = cli("hosts", "show", "web1")
    assert code == 0
    assert "address:  10.0.0.5" in out


def test_show_says_where_inherited_values_come_from(cli):
    cli("hosts", "add", "a", "--address", "a.lan", "--client", "Acme", "--site", "HQ")
    assert cli("hosts", "defaults", "--client", "Acme", "--user", "admin")[0] == 0
    assert cli("hosts", "defaults", "--client", "Acme", "--site", "HQ", "--port", "2200")[0] == 0
    code, out, _ = cli("hosts", "show", "a")
    assert "user:     admin  (from client Acme)" in out
    assert "port:     2200  (from site HQ)" in out
    code, out, _ = cli("hosts", "show", "a", "--json")
    assert json.loads(out)["sources"] == {"user": "client", "port": "site", "jump": "default", "key": "default"}


def test_unknown_host_is_one_line_exit_64(cli):
    code, out, err = cli("hosts", "show", "nope")
    assert code == 64
    assert err.strip() == "techdesk: error: no host named 'nope'"


def test_duplicate_add_fails_and_changes_nothing(cli):
    cli("hosts", "add", "web1", "--address", "a")
    code, _, err = cli("hosts", "add", "web1", "--address", "b")
    assert code == 64 and "already exists" in err
    assert json.loads(cli("hosts", "show", "web1", "--json")[1])["address"] == "a"


def test_edit_and_remove(cli):
    cli("hosts", "add", "web1", "--address", "a", "--tag", "x")
    assert cli("hosts", "edit", "web1", "--address", "b", "--tag", "y", "--user", "root")[0] == 0
    host = json.loads(cli("hosts", "show", "web1", "--json")[1])
    assert (host["address"], host["tags"], host["user"]) == ("b", ["y"], "root")
    assert cli("hosts", "edit", "web1", "--user", "")[0] == 0
    assert json.loads(cli("hosts", "show", "web1", "--json")[1])["user"] is None
    assert cli("hosts", "remove", "web1")[0] == 0
    assert json.loads(cli("hosts", "list", "--json")[1]) == []
    assert cli("hosts", "remove", "web1")[0] == 64


def test_hostile_names_round_trip_literally(cli):
    name = "srv \"quoted\"; $(touch /tmp/pwned) `id` Ümlaut ☃"
    code, _, err = cli("hosts", "add", name, "--address", "a b;c", "--client", "O'Brien & Co")
    assert code == 0, err
    host = json.loads(cli("hosts", "show", name, "--json")[1])
    assert host["name"] == name and host["address"] == "a b;c" and host["client"] == "O'Brien & Co"
    code, out, _ = cli("hosts", "list")
    assert name in out


def test_bad_port_is_one_line(cli):
    code, _, err = cli("hosts", "add", "x", "--address", "a", "--port", "99999")
    assert code == 64 and err.strip() == "techdesk: error: port 99999 is out of range 1-65535"


def test_password_set_reads_stdin_into_keyring(cli, isolated):
    cli("hosts", "add", "web1", "--address", "a")
    code, out, err = cli("password", "set", "web1", stdin="s3cret\n")
    assert code == 0, err
    assert isolated.store[("techdesk", "password:web1")] == "s3cret"
    code, _, err = cli("password", "set", "nope", stdin="x\n")
    assert code == 64


def test_password_refused_on_insecure_backend(cli, monkeypatch):
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    cli("hosts", "add", "web1", "--address", "a")
    code, _, err = cli("password", "set", "web1", stdin="s3cret\n")
    assert code == 1
    assert "no usable system keyring" in err and "nothing was stored" in err


def test_unknown_bundle_is_one_line_exit_64(cli):
    cli("hosts", "add", "web1", "--address", "a")
    code, out, err = cli("run", "nosuch", "web1")
    assert code == 64
    assert err.startswith("techdesk: error: no bundle named 'nosuch' (known: ")
    code, _, err = cli("bundles", "show", "nosuch")
    assert code == 64 and "no bundle named" in err


def test_host_progress_lines(capsys):
    from techdesk.cli.output import HostProgress
    from techdesk.core.findings import HostError, HostResult
    from techdesk.services.runner import RunEvent

    progress = HostProgress(2)
    progress.event(RunEvent("host-started", host="a"))
    progress.event(RunEvent("host-done", host="a", result=HostResult("a", error=HostError("auth", "no key"))))
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("[1/2 ") and err[0].endswith("a: UNKNOWN (auth: no key)")
