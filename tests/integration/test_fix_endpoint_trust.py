"""Trust rule 1 for exec and fix: a stored secret (key passphrase, sudo password) goes
only to the endpoint it belongs to, exactly as for runs. The hostile peer is a revision
in the shared folder that moves a host to another (loopback) sshd."""

from __future__ import annotations

import json
import os
import shutil
import uuid

import pytest

from techdesk.sync import SharedFolder, make_revision

from .test_fix import SUDO_USER, sudo_login  # noqa: F401 - the fixture
from .test_sync_service import folder_heads

pytestmark = pytest.mark.sshd


def _move(cli, shared, port: int) -> None:
    """A teammate's (or an intruder's) synced edit: the host now listens on `port`."""
    [head] = folder_heads(shared, "host").values()
    body = dict(head[0].body, port=port)
    SharedFolder(shared).write(make_revision("host", head[0].id, body, [head[0].rev], "mallory", "mallory-pc"))
    assert cli("--shared", str(shared), "sync")[0] == 0


def _know(workspace_dir, server) -> None:
    """This machine already trusts the new server's host key (another host it knows):
    the host-key check passes, only the secret rule stands in the way."""
    with open(workspace_dir / "known_hosts", "a") as fh:
        fh.write(server.known_hosts_path.read_text())


def test_exec_does_not_send_a_stored_passphrase_to_a_moved_host(cli, sshd, sshd_factory, workspace_dir,
                                                                 tmp_path):
    shared = tmp_path / "shared"
    workspace_dir.mkdir(parents=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")
    assert cli("hosts", "add", "web", "--address", sshd.host, "--port", str(sshd.port), "--user", sshd.user,
               "--key", str(sshd.encrypted_key_path))[0] == 0
    assert cli("password", "set", "web", "--passphrase", stdin=sshd.passphrase + "\n")[0] == 0
    marker = tmp_path / "ran"
    code, out, err = cli("exec", "web", "--json", "--", "touch", str(marker))
    assert code == 0, (out, err)
    assert marker.exists()
    assert cli("--shared", str(shared), "sync", "--init")[0] == 0

    evil = sshd_factory()
    _know(workspace_dir, evil)
    _move(cli, shared, evil.port)
    marker.unlink()
    code, out, err = cli("exec", "web", "--json", "--", "touch", str(marker))
    [result] = json.loads(out)
    assert code != 0 and result["error"]["kind"] == "auth", result
    assert "passphrase stored for web was not sent" in result["error"]["message"]
    assert "techdesk hosts confirm web" in result["error"]["message"]
    assert not marker.exists()
    assert "Accepted publickey" not in evil.log_path.read_text()  # the key was never unlocked for it

    assert cli("hosts", "confirm", "web")[0] == 0
    code, out, err = cli("exec", "web", "--json", "--timeout", "30", "--", "touch", str(marker))
    assert code == 0 and marker.exists(), (out, err)


def test_fix_does_not_send_the_sudo_password_to_a_moved_host(cli, sudo_login, sshd_factory,  # noqa: F811
                                                             workspace_dir, tmp_path):
    sshd, password = sudo_login
    shared = tmp_path / "shared"
    workspace_dir.mkdir(parents=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")
    (workspace_dir / "bundles").mkdir()
    (workspace_dir / "bundles" / "who.toml").write_text(
        '[bundle]\nname = "who"\ntitle = "who"\nos = "linux"\nversion = 1\n\n'
        '[[checks]]\nid = "who"\ntitle = "who"\nscript = "echo OK - fine"\n\n'
        '[[checks.fixes]]\nid = "asroot"\ntitle = "as root"\nroot = true\ntimeout = 20\nscript = "id -u"\n')
    assert cli("hosts", "add", "app", "--address", sshd.host, "--port", str(sshd.port), "--user", SUDO_USER,
               "--key", str(sshd.client_key_path))[0] == 0
    assert cli("password", "set", "app", stdin=password + "\n")[0] == 0
    code, out, err = cli("fix", "app", "who", "--yes", "--json")
    assert code == 0 and json.loads(out)[0]["fix"]["output"].strip() == "0", (out, err)
    assert cli("--shared", str(shared), "sync", "--init")[0] == 0

    # The new machine records every byte it is sent (as a hostile server could).
    captured = f"/var/tmp/techdesk-captured-{uuid.uuid4().hex}"
    with open(captured, "w"):
        pass
    os.chmod(captured, 0o666)
    try:
        evil = sshd_factory(extra_config=f"ForceCommand timeout 3 cat >>{captured}\n{sshd.extra_config}")
        _know(workspace_dir, evil)
        _move(cli, shared, evil.port)
        code, out, err = cli("fix", "app", "who", "--yes", "--json")
        with open(captured) as fh:
            assert password not in fh.read()
        [outcome] = json.loads(out)
        assert code != 0 and outcome["fix"]["error"]["kind"] == "auth", (out, err)
        assert "password stored for app was not sent" in outcome["fix"]["error"]["message"]
    finally:
        os.unlink(captured)
