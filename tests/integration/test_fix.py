"""Fix, verify, report — and ad-hoc commands — against OpenSSH's real sshd."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from techdesk import secrets
from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.workspace import Workspace

pytestmark = pytest.mark.sshd


def _bundle(flag, risk: str = "safe", root: bool = False) -> str:
    return f"""[bundle]
name = "files"
title = "Files"
os = "linux"
version = 1

[[checks]]
id = "flag"
title = "Flag file"
script = '''
if [ -f {flag} ]; then echo "WARNING - leftover file: {flag}"; exit 1; fi
echo "OK - no leftover file"
'''

[[checks.fixes]]
id = "remove"
title = "Remove the leftover file"
risk = "{risk}"
root = {str(root).lower()}
timeout = 20
script = '''
rm -f -- "$TECHDESK_FINDING_UNIT" && echo "$TECHDESK_FINDING_UNIT removed"
'''
"""


@pytest.fixture
def fixture_ws(cli, sshd, workspace_dir, tmp_path):
    """Host "web" of client acme on the real sshd, a bundle whose check reads a file."""
    workspace_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")
    code, _, err = cli("hosts", "add", "web", "--address", sshd.host, "--port", str(sshd.port),
                       "--user", sshd.user, "--key", str(sshd.client_key_path), "--client", "acme")
    assert code == 0, err
    flag = tmp_path / "leftover.tmp"
    flag.write_text("junk")
    (workspace_dir / "bundles").mkdir(exist_ok=True)
    (workspace_dir / "bundles" / "files.toml").write_text(_bundle(flag))
    return flag


def _audit(cli) -> list[dict]:
    code, out, _ = cli("audit", "--json")
    data = json.loads(out)
    assert data["verified"]
    return data["entries"]


def test_fix_changes_state_recheck_shows_before_after_and_report_has_it(cli, sshd, fixture_ws,
                                                                         workspace_dir):
    flag = fixture_ws
    code, _, _ = cli("run", "files", "web")
    assert code == 1  # WARN: the file is there
    code, out, err = cli("visits", "start", "--client", "acme")
    assert code == 0, err
    since = sshd.log_size()
    code, out, err = cli("fix", "web", "flag", "--yes", "--json")
    assert code == 0, err
    [outcome] = json.loads(out)
    assert outcome["before"]["status"] == "warn"
    assert outcome["after"]["status"] == "ok"
    assert outcome["line"] == f"web: WARNING → OK, {flag} removed"
    assert not flag.exists()
    # one connection: the fix and the re-check share it (same process)
    assert sshd.log_text(since).count("Connection from 127.0.0.1") == 1
    # audit: the script (as sent, with the finding's variables) before its result
    entries = _audit(cli)
    actions = [e["action"] for e in entries]
    fix_i, result_i = actions.index("fix"), actions.index("fix-result")
    assert entries[fix_i]["seq"] < entries[result_i]["seq"]
    assert entries[fix_i]["script_sha256"] and entries[result_i]["outcome"] == "exit 0"
    # the visit report shows the work performed
    svc = Services(Workspace(workspace_dir))
    try:
        visit = svc.visits.current()
        html = svc.reports.render_html("visit", svc.reports.visit_data(visit.id))
        assert "Work performed" in html
        assert "Flag file on web: WARNING → OK" in html
        script = svc.conn.execute("SELECT text FROM audit_scripts WHERE sha256 = ?",
                                  (entries[fix_i]["script_sha256"],)).fetchone()[0]
        assert f"TECHDESK_FINDING_UNIT={flag}" in script and 'rm -f -- "$TECHDESK_FINDING_UNIT"' in script
    finally:
        svc.close()


def test_fix_without_a_visit_goes_into_a_host_note(cli, fixture_ws):
    code, _, err = cli("fix", "web", "flag", "--yes")
    assert code == 0, err
    code, out, _ = cli("notes", "list", "--host", "web", "--json")
    notes = json.loads(out)
    assert len(notes) == 1 and "→ OK" in notes[0]["title"] and notes[0]["visit"] is None


def test_disruptive_fix_without_confirmation_runs_nothing(cli, fixture_ws, workspace_dir):
    flag = fixture_ws
    (workspace_dir / "bundles" / "files.toml").write_text(_bundle(flag, risk="disruptive"))
    for extra in ([], ["--yes"], ["--yes", "--confirm", "web2"]):
        code, _, err = cli("fix", "web", "flag", *extra)
        assert code == 64, (extra, err)
        assert "nothing was run" in err and err.count("\n") <= 1 + err.count("Host:") + err.count("|") + 2
        assert flag.exists()
    assert "fix" not in [e["action"] for e in _audit(cli)]
    code, out, err = cli("fix", "web", "flag", "--yes", "--confirm", "web", "--json")
    assert code == 0, err
    assert not flag.exists()


def test_dry_run_shows_script_and_runs_nothing(cli, fixture_ws):
    code, out, _ = cli("fix", "web", "flag", "--dry-run")
    assert code == 0
    assert "Host: web" in out and 'rm -f -- "$TECHDESK_FINDING_UNIT"' in out
    assert fixture_ws.exists()
    assert "fix" not in [e["action"] for e in _audit(cli)]


def test_exec_command_and_script_per_host_output_exit_codes_audit(cli, fixture_ws, tmp_path):
    code, out, err = cli("exec", "web", "--json", "--", "sh", "-c", "printf 'hi\\033[31m red\\n'; exit 3")
    assert code == 1, err
    [r] = json.loads(out)
    assert r["exit_code"] == 3 and r["output"] == "hi red\n"  # the escape sequence is gone
    script = tmp_path / "s.sh"
    script.write_text("echo from-script; id -un\n")
    code, out, err = cli("exec", "web", "--script", str(script), "--note")
    assert code == 0, err
    assert "== web: exit 0" in out and "from-script" in out
    actions = [e["action"] for e in _audit(cli)]
    assert actions.count("exec") == 2 and actions.count("exec-result") == 2
    code, out, _ = cli("notes", "list", "--host", "web", "--json")
    assert any("Command on web" in n["title"] for n in json.loads(out))
    code, _, err = cli("exec", "web")
    assert code == 64 and err.startswith("techdesk: error:")


def test_bulk_stop_on_first_failure_skips_the_rest(cli, sshd, fixture_ws):
    code, _, err = cli("hosts", "add", "down", "--address", "127.0.0.1", "--port", "1",
                       "--user", sshd.user, "--client", "acme")
    assert code == 0, err
    marker = fixture_ws.parent / "ran"
    code, out, err = cli("exec", "down", "web", "--concurrency", "1", "--stop-on-failure", "--json",
                         "--", "touch", str(marker))
    results = {r["host"]: r for r in json.loads(out)}
    assert code == 1
    assert results["down"]["error"]["kind"] == "unreachable"
    assert results["web"]["skipped"] and not marker.exists()


# -- sudo: a real non-root login on the real sshd ------------------------------------------

SUDO_USER = f"tdfix{os.getpid()}"  # per process: helpers on one machine must not share it


@pytest.fixture
def sudo_login(sshd_factory, tmp_path_factory):
    """(sshd, password): a server where the throwaway non-root user SUDO_USER logs in by key."""
    if os.geteuid() != 0 or not shutil.which("sudo") or not shutil.which("useradd"):
        pytest.skip("needs root, sudo and useradd to make a throwaway sudo user")
    password = uuid.uuid4().hex
    # sshd reads authorized_keys as the user: put a copy where that user can read it
    keys_dir = Path(tempfile.mkdtemp(prefix="td-sudo-", dir="/var/tmp"))
    os.chmod(keys_dir, 0o755)
    with contextlib.suppress(KeyError):
        pwd.getpwnam(SUDO_USER)
        subprocess.run(["userdel", SUDO_USER], check=False)
    subprocess.run(["useradd", "-M", "-d", str(keys_dir), "-s", "/bin/sh", SUDO_USER], check=True)
    subprocess.run(["chpasswd"], input=f"{SUDO_USER}:{password}", text=True, check=True)
    sudoers = f"/etc/sudoers.d/{SUDO_USER}"
    with open(sudoers, "w") as fh:
        fh.write(f"{SUDO_USER} ALL=(ALL) ALL\nDefaults:{SUDO_USER} !lecture\n")
    os.chmod(sudoers, 0o440)
    try:
        probe = sshd_factory()  # only to learn the client key's public half
        keys = keys_dir / "authorized_keys"
        shutil.copy(probe.authorized_keys_path, keys)
        os.chmod(keys, 0o644)
        probe.stop()
        server = sshd_factory(extra_config=f"Match User {SUDO_USER}\n  AuthorizedKeysFile {keys}")
        yield server, password
    finally:
        os.unlink(sudoers)
        subprocess.run(["userdel", SUDO_USER], check=False)
        shutil.rmtree(keys_dir, ignore_errors=True)


def test_sudo_with_a_wrong_password_runs_nothing(sudo_login, tmp_path):
    sshd, password = sudo_login
    ws = Workspace(tmp_path / "ws")
    shutil.copy(sshd.known_hosts_path, ws.known_hosts_path)
    svc = Services(ws)
    marker = f"/var/tmp/techdesk-sudo-{uuid.uuid4().hex}"
    try:
        host = svc.roster.add(HostSpec(name="app", address=sshd.host, port=sshd.port, user=SUDO_USER,
                                       key=str(sshd.client_key_path)))
        body = f"touch {marker} && id -u\n"

        def run():
            return asyncio.run(svc.actions.execute([host], {"app": body}, action="exec", detail="t",
                                                   root=True, timeout=30))[0]

        secrets.set_secret("password", "app", "not-the-password")
        r = run()
        assert r.error is not None and r.error.kind == "auth", (r.error, r.output)
        assert "sudo refused on app" in r.error.message and "nothing was run" in r.error.message
        assert not os.path.exists(marker)
        secrets.delete_secret("password", "app")
        r = run()  # no password stored: sudo -n cannot either
        assert r.error is not None and "no password stored" in r.error.message
        assert not os.path.exists(marker)
        secrets.set_secret("password", "app", password)
        r = run()
        assert r.error is None and r.exit_code == 0, (r.error, r.output)
        assert r.output.strip() == "0" and os.stat(marker).st_uid == 0
        # the password is never in what was audited
        texts = [t for (t,) in svc.conn.execute("SELECT text FROM audit_scripts")]
        assert texts and not any(password in t for t in texts)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(marker)
        svc.close()


def test_bulk_fix_by_client_fixes_each_host_and_rechecks(cli, sshd, fixture_ws):
    code, _, err = cli("hosts", "add", "web2", "--address", sshd.host, "--port", str(sshd.port),
                       "--user", sshd.user, "--key", str(sshd.client_key_path), "--client", "acme")
    assert code == 0, err
    assert cli("run", "files", "--client", "acme")[0] == 1
    code, out, err = cli("fix", "--client", "acme", "flag", "remove", "--yes", "--json",
                         "--concurrency", "1")
    assert code == 0, err
    outcomes = {o["host"]: o for o in json.loads(out)}
    assert set(outcomes) == {"web", "web2"}
    assert all(o["before"]["status"] == "warn" and o["after"]["status"] == "ok" for o in outcomes.values())
    assert not fixture_ws.exists()
    code, _, err = cli("fix", "web", "flag", "nosuchfix", "--yes")
    assert code == 64 and "has no fix 'nosuchfix'" in err


def test_a_root_fix_never_sends_the_sudo_password_when_the_login_is_root(sshd_factory, tmp_path):
    """No --user: the login turns out to be root (as the fixture's sshd logs us in). The
    host's shell decides (`id -u`) and does not ask, so the stored sudo password is never
    written to that root shell's stdin. The hostile side: a server that records every byte
    it is sent on stdin (as a compromised host could)."""
    captured = tmp_path / "stdin.log"
    sshd = sshd_factory(extra_config=f"ForceCommand tee -a {captured} | sh -s\n")
    assert pwd.getpwnam(sshd.user).pw_uid == 0, "the fixture's sshd logs in as root"
    ws = Workspace(tmp_path / "ws")
    shutil.copy(sshd.known_hosts_path, ws.known_hosts_path)
    svc = Services(ws)
    password = uuid.uuid4().hex
    try:
        host = svc.roster.add(HostSpec(name="box", address=sshd.host, port=sshd.port,
                                       key=str(sshd.client_key_path)))
        assert host.user is None
        secrets.set_secret("password", "box", password)
        r = asyncio.run(svc.actions.execute([host], {"box": "id -u\n"}, action="exec", detail="t",
                                            root=True, timeout=30))[0]
        assert r.error is None and r.exit_code == 0, (r.error, r.output)
        assert r.output.strip() == "0"  # ran as root, no protocol lines in what is shown
        sent = captured.read_text()
        assert "id -u" in sent  # the recorder saw the script...
        assert password not in sent  # ...and never the password
    finally:
        svc.close()
