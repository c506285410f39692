"""Text from outside reaches the terminal only cleaned: an SSH server's banner and
errors (they arrive before any host key is checked), imported or synced names and
notes, check output — through `run`, `--progress`, `history`, `audit`, `hosts list`
and `notes list`, in text and JSON."""

from __future__ import annotations

import json
import sqlite3

import pytest

from techdesk.ssh.errors import SshError
from tests.integration.hostile_servers import FakeServer
from tests.integration.test_run import _add, _bundle, _pin

pytestmark = pytest.mark.sshd

# ESC sequences (colour, clear screen, title, OSC 8 hyperlink), 8-bit CSI, BEL, bidi.
EVIL = ("\x1b[31mred\x1b[0m\x1b[2J\x1b]0;pwned title\x07"
        "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\x9b31m\u202eevil\u2066x\u2069")
NASTY = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u2069")


def _assert_clean(*texts: str) -> None:
    for text in texts:
        bad = [ch for ch in NASTY if ch in text]
        assert not bad, f"{bad!r} reached the terminal in {text!r}"


@pytest.mark.parametrize("greeting", [
    (EVIL.encode() + b"\r\n") * 100,               # paramiko quotes it: "Indecipherable ..."
    b"SSH-\x1b[31mred\x1b]0;t\x07\xc2\x9b2J\xe2\x80\xae-x\r\n",  # "Incompatible version (...)"
])
def test_hostile_ssh_banner_is_cleaned_everywhere(cli, workspace_dir, greeting):
    server = FakeServer(greeting)
    try:
        code, _, err = cli("hosts", "add", "evil", "--address", "127.0.0.1", "--port", str(server.port))
        assert code == 0, err
        code, out, err = cli("run", "linux-quick", "evil", "--progress")
        assert code == 3 and "evil" in out + err
        _assert_clean(out, err)
        code, out, err = cli("run", "linux-quick", "evil", "--json")
        _assert_clean(out, err)
        error = json.loads(out)["hosts"][0]["error"]
        assert error["kind"] == "protocol" and "red" in error["message"], error
        for args in (("history", "evil"), ("history", "evil", "--json"), ("audit",), ("audit", "--json")):
            code, out, err = cli(*args)
            _assert_clean(out, err)
    finally:
        server.close()


def test_ssh_error_messages_are_clean_at_the_source():
    assert SshError("protocol", "server said " + EVIL).message == "server said redclickevilx"


def test_synced_and_imported_names_and_notes_are_cleaned_on_output(cli, sshd, workspace_dir, tmp_path):
    _pin(workspace_dir, sshd)
    _add(cli, sshd)
    code, _, err = cli("notes", "add", "--host", "local", "--title", "plain", "--body", "b")
    assert code == 0, err
    # What the shared folder could bring in (sync keeps text literally): written to the store.
    db = sqlite3.connect(workspace_dir / "techdesk.db")
    with db:
        db.execute("UPDATE notes SET title = ?, body = ?", (EVIL, EVIL))
        db.execute("INSERT INTO clients (uid, name, updated) VALUES ('u1', ?, '2026-01-01')", (EVIL,))
        db.execute("UPDATE hosts SET client_id = (SELECT id FROM clients WHERE uid = 'u1')")
    db.close()
    # A bidi name arrives by import too (control characters are refused there).
    csv = tmp_path / "hosts.csv"
    csv.write_text("name,address,client,tags\nrtl,127.0.0.1,\u202eACME,\u2066t\u2069\n", encoding="utf-8")
    code, _, err = cli("hosts", "import", str(csv), "--format", "csv")
    assert code == 0, err
    # A check whose output is hostile, so history carries it too (cleaned at parse).
    _bundle(workspace_dir, "noisy", f'[[checks]]\nid = "n"\ntitle = "n"\nscript = "printf \'OK - {EVIL!r}\'"\n')
    for args in (("run", "noisy", "local", "--progress"), ("hosts", "list"), ("hosts", "list", "--json"),
                 ("hosts", "show", "local"), ("notes", "list"), ("notes", "list", "--json"),
                 ("history", "local"), ("audit",)):
        code, out, err = cli(*args)
        _assert_clean(out, err)
        if args[:2] == ("hosts", "list"):
            assert "red" in out and "ACME" in out  # cleaned, not dropped
