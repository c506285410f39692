"""A compromised client machine against fixes: nothing it forged may drive a fix (which
may run as root), over OpenSSH's real sshd."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.integration.test_fix import SUDO_USER, sudo_login  # noqa: F401 - the fixture
from tests.integration.test_run_integrity import STEAL

pytestmark = pytest.mark.sshd

# After its genuine END, a process outside the check's process group writes a
# frame of its own into the session (while the next check still runs): techdesk
# marks the run tampered. The check's summary names a file the "fix" below would remove.
FORGER = STEAL + r"""
p=$$ sh_pid=
while [ "$p" -gt 1 ]; do
  p=$(cut -d' ' -f4 /proc/$p/stat)
  [ "$(tr '\0' ' ' </proc/$p/cmdline)" = "sh -s " ] && sh_pid=$p
done
setsid sh -c ': >"$3.detached"; sleep 1; printf "\n%s NEXT flag\n" "$1" >"/proc/$2/fd/1"; touch "$3"' \
  forger "$mark" "$sh_pid" "@DONE@" </dev/null >/dev/null 2>&1 &
# out of this check's process group before the check ends (its group is then killed)
while [ ! -e "@DONE@.detached" ]; do sleep 0.1; done
@DURING@
echo "WARNING - leftover file: @VICTIM@"
exit 1
"""
# Keeps the session open until the forger has written (at most 20 s).
WAITER = """
i=0
while [ ! -e @DONE@ ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
echo "OK - waited"
"""


def _bundle(victim, done, during: bool = False) -> str:
    """during: the check waits until its forged frame is out (the run has one check)."""
    forger = FORGER.replace("@DURING@", WAITER if during else "")
    # One check at a time: the flag's genuine result is in before the forger writes
    # (in one wave, the forged frame would come first and no result would be kept).
    return f"""[bundle]
name = "files"
title = "Files"
os = "linux"
version = 1
parallel = 1

[[checks]]
id = "flag"
title = "Flag file"
timeout = 20
script = '''
{forger.replace("@VICTIM@", str(victim)).replace("@DONE@", str(done))}
'''

[[checks.fixes]]
id = "remove"
title = "Remove the leftover file"
risk = "safe"
timeout = 20
script = '''
rm -f -- "$TECHDESK_FINDING_UNIT" && echo "$TECHDESK_FINDING_UNIT removed"
'''

[[checks]]
id = "wait"
title = "Wait for the forger"
timeout = 30
script = '''
{WAITER.replace("@DONE@", str(done))}
'''
"""


@pytest.fixture(params=[False])
def forging_host(request, cli, sshd, workspace_dir, tmp_path):
    workspace_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")
    code, _, err = cli("hosts", "add", "web", "--address", sshd.host, "--port", str(sshd.port),
                       "--user", sshd.user, "--key", str(sshd.client_key_path))
    assert code == 0, err
    victim = tmp_path / "precious.db"
    victim.write_text("the client's data")
    (workspace_dir / "bundles").mkdir(exist_ok=True)
    (workspace_dir / "bundles" / "files.toml").write_text(_bundle(victim, tmp_path / "forged", request.param))
    return victim


def test_a_tampered_finding_never_becomes_a_fix_s_variables(cli, forging_host):
    victim = forging_host
    code, out, err = cli("run", "files", "web", "--json")
    host = json.loads(out)["hosts"][0]
    assert host["error"] and host["error"]["kind"] == "tampered", (host, err)
    assert str(victim) in host["checks"][0]["summary"]  # stored, as "not trusted (...)"
    # The technician presses Fix on that finding: techdesk must not feed the forged
    # file name to the fix (as root, this would be an unprivileged forger's rm).
    code, out, err = cli("fix", "web", "flag", "--yes")
    assert victim.exists(), (out, err)
    assert "not trusted" in out + err and "fix was not run" in out + err, (out, err)
    assert "removed" not in out and code == 3, (out, err)  # the run rules: a host failure
    assert "not trusted: the fix will not run here" in err  # said before anything runs
    assert str(victim) not in err.split("Script")[1]  # the forged name is not even shown as a variable
    actions = [e["action"] for e in json.loads(cli("audit", "--json")[1])["entries"]]
    assert "run" in actions and "fix" not in actions  # nothing was sent to the host for this fix


@pytest.mark.parametrize("forging_host", [True], indirect=True)
def test_a_finding_checked_first_by_the_fix_is_refused_when_tampered(cli, forging_host):
    victim = forging_host  # never checked: the fix checks first (one check), and that run is tampered
    code, out, err = cli("fix", "web", "flag", "--yes", "--json")
    [outcome] = json.loads(out)
    assert victim.exists(), (out, err)
    assert outcome["fix"]["error"]["kind"] == "tampered" and "fix was not run" in outcome["line"]
    assert outcome["after"] is None and code == 3


def test_a_shell_that_echoes_its_input_never_shows_the_sudo_password(sudo_login,  # noqa: F811
                                                                      sshd_factory, tmp_path):
    """A machine whose sh echoes what it reads (set -v, as SHELLOPTS or BASH_ENV can make
    bash do): the sudo password is in the script text, and must not come back in the output,
    which is shown, kept in notes and synced."""
    import asyncio

    from techdesk import secrets
    from techdesk.core.roster import HostSpec
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace

    login, password = sudo_login
    server = sshd_factory(extra_config=f"ForceCommand sh -v -s\n{login.extra_config}")
    ws = Workspace(tmp_path / "ws")
    shutil.copy(server.known_hosts_path, ws.known_hosts_path)
    svc = Services(ws)
    try:
        host = svc.roster.add(HostSpec(name="app", address=server.host, port=server.port, user=SUDO_USER,
                                       key=str(server.client_key_path)))
        secrets.set_secret("password", "app", password, endpoint=svc.roster.endpoint("app"))
        [r] = asyncio.run(svc.actions.execute([host], {"app": "id -u\n"}, action="exec", detail="t",
                                              root=True, timeout=30))
        assert r.error is None and r.output.strip().endswith("0"), (r.error, r.output)
        assert password not in r.output
        svc.actions.attach_notes([r], "id -u")
        assert not any(password in body for (body,) in svc.conn.execute("SELECT body FROM notes"))
    finally:
        svc.close()


FORGED_REPORT = "```\n**After:** OK — everything fixed, forged by the client\n# All clear\n````\n"


def _rendered_outside_code(body: str) -> str:
    """The note's HTML with its code blocks taken out: what the report shows as prose."""
    import re

    from techdesk.reports.markdown import markdown

    return re.sub(r"<pre>.*?</pre>", "", str(markdown(body)), flags=re.S)


def test_output_cannot_break_out_of_its_code_block_in_notes(cli, sshd, workspace_dir, tmp_path):
    """Output kept in a note (exec --note, a fix's output) is a code block the client
    machine cannot close: it cannot write prose, an After line or a heading in the report."""
    workspace_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")
    assert cli("hosts", "add", "web", "--address", sshd.host, "--port", str(sshd.port), "--user", sshd.user,
               "--key", str(sshd.client_key_path))[0] == 0
    script = tmp_path / "forge.sh"
    script.write_text(f"cat <<'EOF'\n{FORGED_REPORT}EOF\n")
    assert cli("exec", "web", "--note", "--script", str(script))[0] == 0
    (workspace_dir / "bundles").mkdir()
    (workspace_dir / "bundles" / "forge.toml").write_text(
        '[bundle]\nname = "forge"\ntitle = "forge"\nos = "linux"\nversion = 1\n\n'
        '[[checks]]\nid = "c"\ntitle = "c"\nscript = "echo WARNING - x; exit 1"\n\n'
        f"[[checks.fixes]]\nid = \"f\"\ntitle = \"f\"\nscript = '''\ncat <<'EOF'\n{FORGED_REPORT}EOF\n'''\n")
    assert cli("fix", "web", "c", "--yes")[0] == 1  # the re-check is still WARNING
    notes = json.loads(cli("notes", "list", "--json")[1])
    assert len(notes) == 2
    for listed in notes:
        body = json.loads(cli("notes", "show", listed["id"], "--json")[1])["body"]
        assert "forged by the client" in body
        prose = _rendered_outside_code(body)
        assert "forged" not in prose and "All clear" not in prose, prose


def test_a_silent_server_ends_a_fix_within_the_connect_timeouts(tmp_path):
    """Accepts TCP, never says a word: connecting counts against the deadlines, and a host
    the check-first could not reach is not dialled again for the fix."""
    import asyncio
    import time

    from techdesk.core.roster import HostSpec
    from techdesk.services.context import Services
    from techdesk.ssh.connect import Timeouts
    from techdesk.workspace import Workspace
    from tests.integration.hostile_servers import FakeServer
    from tests.integration.test_fix import _bundle

    ws = Workspace(tmp_path / "ws")
    svc = Services(ws)
    listener = FakeServer()
    try:
        ws.bundles_dir.mkdir(parents=True, exist_ok=True)
        (ws.bundles_dir / "files.toml").write_text(_bundle(tmp_path / "flag"))
        svc.bundles.reload()
        host = svc.roster.add(HostSpec(name="mute", address="127.0.0.1", port=listener.port))
        # the fix's own deadline (2 s) bounds its connect too, not the 10 s greeting timeout
        t0 = time.monotonic()
        [r] = asyncio.run(svc.actions.execute([host], {"mute": "true\n"}, action="exec", detail="t",
                                              timeout=2))
        assert r.error is not None and r.error.kind in ("timeout", "unreachable"), r.error
        assert time.monotonic() - t0 < 5
        listener.held.clear()
        plan = svc.fixes.plan([host], "flag")
        t0 = time.monotonic()
        [outcome] = asyncio.run(svc.fixes.apply(plan, timeouts=Timeouts(connect=2, banner=1, auth=2)))
        took = time.monotonic() - t0
        assert outcome.action.error is not None and outcome.action.error.kind in ("timeout", "unreachable")
        assert took < 4, took
        assert len(listener.held) == 1  # one try (the check first), not a second for the fix
    finally:
        listener.close()
        svc.close()
