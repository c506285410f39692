"""Trust rule 1: a stored secret follows the machine it was used with, not the host's
name; host-key pins are kept per route. The hostile peer is a revision in the shared
folder that moves a host to another (loopback) SSH server."""

from __future__ import annotations

import json
import shutil

import pytest

from techdesk.sync import SharedFolder, make_revision

from .test_sync_service import folder_heads

pytestmark = pytest.mark.sshd


def _bundle(workspace_dir, marker) -> None:
    folder = workspace_dir / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "touch.toml").write_text('[bundle]\nname = "touch"\ntitle = "touch"\nos = "linux"\nversion = 1\n\n'
                                       f'[[checks]]\nid = "t"\ntitle = "t"\nscript = "touch {marker}; echo OK"\n')


def test_a_synced_endpoint_change_keeps_the_secret_until_confirmed_here(cli, sshd, sshd_factory, workspace_dir,
                                                                      tmp_path):
    shared = tmp_path / "shared"
    workspace_dir.mkdir(parents=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")
    marker = tmp_path / "ran"
    _bundle(workspace_dir, marker)
    assert cli("hosts", "add", "web1", "--address", sshd.host, "--port", str(sshd.port), "--user", sshd.user,
               "--key", str(sshd.encrypted_key_path))[0] == 0
    assert cli("password", "set", "web1", "--passphrase", stdin=sshd.passphrase + "\n")[0] == 0
    code, out, _ = cli("run", "touch", "web1", "--json")
    assert code == 0, out
    assert cli("--shared", str(shared), "sync", "--init")[0] == 0

    # A hostile peer moves web1 to another machine (here: another sshd on loopback).
    evil = sshd_factory()
    [head] = folder_heads(shared, "host").values()
    body = dict(head[0].body, port=evil.port)
    SharedFolder(shared).write(make_revision("host", head[0].id, body, [head[0].rev], "mallory", "mallory-pc"))
    assert cli("--shared", str(shared), "sync")[0] == 0
    assert json.loads(cli("hosts", "show", "web1", "--json")[1])["port"] == evil.port

    marker.unlink()
    code, out, _ = cli("run", "touch", "web1", "--json", "--accept-new-hostkeys")
    error = json.loads(out)["hosts"][0]["error"]
    assert code != 0 and error["kind"] == "auth"
    assert "passphrase stored for web1 was not sent" in error["message"]
    assert f":{sshd.port}" in error["message"] and f":{evil.port}" in error["message"]
    assert "techdesk hosts confirm web1" in error["message"]
    assert not marker.exists()

    code, out, _ = cli("hosts", "confirm", "web1")
    assert code == 0 and f"now belongs to {sshd.user}@{sshd.host}:{evil.port}" in out
    code, out, _ = cli("run", "touch", "web1", "--json")
    assert code == 0, out
    assert marker.exists()
    assert "nothing to confirm" in cli("hosts", "confirm", "web1")[1]


def test_host_key_pins_are_per_route_and_forget_touches_only_the_host_named(cli, workspace_dir):
    import paramiko

    from techdesk.services.context import Services
    from techdesk.services.runner import plan_route
    from techdesk.workspace import Workspace

    for args in (("gw-a", "--address", "203.0.113.1"), ("gw-b", "--address", "203.0.113.2"),
                 ("a", "--address", "10.0.0.5", "--jump", "gw-a"), ("b", "--address", "10.0.0.5", "--jump", "gw-b"),
                 ("direct", "--address", "10.0.0.5")):
        assert cli("hosts", "add", *args)[0] == 0
    key_a, key_b, key_d = (paramiko.Ed25519Key.generate() if hasattr(paramiko.Ed25519Key, "generate")
                           else paramiko.RSAKey.generate(1024) for _ in range(3))
    svc = Services(Workspace(workspace_dir))
    try:
        def route_of(name):  # the trust a run, shell or fix connects with
            return plan_route(svc.roster, svc.trust, name).trust

        # forget unpins the name a connection pins under: one rule (plan_route), not two
        for name in ("a", "b", "direct", "gw-a"):
            assert svc.hostkeys.pin_name(name) == plan_route(svc.roster, svc.trust, name).pin

        route_of("a").add("10.0.0.5", 22, key_a)  # as connect() pins a new key on first use
        route_of("b").add("10.0.0.5", 22, key_b)
        route_of("direct").add("10.0.0.5", 22, key_d)
        assert route_of("a").verify("10.0.0.5", 22, key_a) == "known"
        assert route_of("b").verify("10.0.0.5", 22, key_b) == "known"
        assert route_of("a").verify("10.0.0.5", 22, key_b) == "changed"  # never shares b's pin
        assert svc.trust.verify("10.0.0.5", 22, key_d) == "known"  # the direct one, as OpenSSH pins it
    finally:
        svc.close()
    code, out, _ = cli("hostkeys", "forget", "a")
    assert code == 0 and "forgot 1 key" in out
    listed = {k["host"] for k in json.loads(cli("hostkeys", "list", "--json")[1])}
    assert listed == {"10.0.0.5:22~via~203.0.113.2:22", "10.0.0.5"}
