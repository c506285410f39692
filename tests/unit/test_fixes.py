"""The [[checks.fixes]] format and the fix script's finding variables."""

from __future__ import annotations

import subprocess

import pytest

from techdesk.diagnostics.bundle import BundleError, FixDef, parse_bundle
from techdesk.diagnostics.fixscript import SudoFeed, finding_env, finding_items, wrap
from techdesk.services.bundles import BundleService

HEAD = "[bundle]\nname = 'x'\nos = 'linux'\n[[checks]]\nid = 'a'\nscript = 'echo OK'\n"


def test_fixes_belong_to_the_check_above_them():
    b = parse_bundle(HEAD + "[[checks.fixes]]\nid = 'f'\nscript = 'true'\nrisk = 'disruptive'\nroot = true\n"
                     "[[checks]]\nid = 'b'\nscript = 'echo OK'\n")
    assert b.checks[0].fixes == [FixDef(id="f", title="f", script="true", risk="disruptive", root=True)]
    assert b.checks[1].fixes == []


@pytest.mark.parametrize("body, message", [
    ("id = 'f'\nscript = 'x'\nrisk = 'maybe'\n", "risk must be"),
    ("id = 'f'\nscript = ''\n", "script is required"),
    ("id = 'f'\nscript = 'x'\nroot = 'yes'\n", "root must be true or false"),
    ("id = 'f'\nscript = 'x'\ntimeout = 0\n", "timeout must be"),
    ("id = 'f'\nscript = 'x'\nsudo = true\n", "unknown key 'sudo'"),
    ("id = 'a b'\nscript = 'x'\n", "fix id is required"),
])
def test_bad_fixes_are_one_clear_error(body, message):
    with pytest.raises(BundleError) as err:
        parse_bundle(HEAD + "[[checks.fixes]]\n" + body, filename="x.toml")
    assert message in str(err.value) and str(err.value).startswith("x.toml:")


def test_builtin_linux_health_fixes():
    b = BundleService([]).get("linux-health")
    fixes = {c.id: {f.id: f for f in c.fixes} for c in b.checks}
    assert set(fixes["failed_units"]) == {"restart-unit"}
    assert set(fixes["disk"]) == {"vacuum-journal", "clean-package-cache", "clean-temp"}
    assert fixes["clock"]["ntp-on"].risk == "safe"
    assert fixes["updates"]["install-security-updates"].risk == "disruptive"
    assert fixes["reboot"]["reboot"].risk == "disruptive"
    assert all(f.root for c in fixes.values() for f in c.values())


def test_finding_items_take_only_name_like_words():
    assert finding_items("2 failed: nginx.service foo@1.service |failed_units=2") == \
        ["nginx.service", "foo@1.service"]
    assert finding_items("leftover: $(reboot) `x` ok.txt") == ["ok.txt"]
    assert finding_items("no colon here") == []


def test_hostile_summary_is_data_not_code(tmp_path):
    """A summary from the client machine can never run as shell code in the fix."""
    marker = tmp_path / "pwned"
    env = finding_env("warn", f"x: a'; touch {marker}; echo ' $(touch {marker}) `touch {marker}`")
    text = wrap(env + 'printf "%s" "$TECHDESK_FINDING_SUMMARY"\n', root=False, password=None,
                nonce="0" * 32)
    out = subprocess.run(["sh", "-s"], input=text, capture_output=True, text=True, check=True)
    assert not marker.exists()
    assert f"touch {marker}" in out.stdout


def test_fix_never_reads_the_rest_of_stdin():
    text = wrap("cat; echo after\n", root=False, password=None, nonce="1" * 32) + "echo tail-ran\n"
    out = subprocess.run(["sh", "-s"], input=text, capture_output=True, text=True)
    assert out.stdout == "after\ntail-ran\n"  # cat read nothing: the rest of stdin stayed put


def test_the_sudo_password_goes_only_to_the_hosts_question_before_anything_ran():
    nonce = "2" * 32
    text = wrap("id -u\n", root=True, password="pw", nonce=nonce)
    assert "pw" not in text.replace("td_pw", "")  # never in the script itself
    ask, root = f"@@TD-{nonce} SUDO-PASSWORD\n".encode(), f"@@TD-{nonce} ROOT\n".encode()

    feed = SudoFeed(text, "s3cret", nonce)
    assert feed.take() == text.encode() and not feed.closed  # waits for the host's word
    feed.see(b"motd line\n" + ask[:7])
    feed.see(ask[7:])  # split across chunks
    assert feed.take() == b"s3cret\n" and feed.closed
    assert feed.shown(b"motd line\n" + ask + b"0\n") == b"motd line\n0\n"

    feed = SudoFeed(text, "s3cret", nonce)  # root: a fix that prints the question later is not answered
    feed.take()
    feed.see(root + b"whatever\n" + ask)
    assert feed.closed and feed.take() == b""
    assert feed.shown(root + b"0\n" + ask) == b"0\n" + ask

    feed = SudoFeed(text, "s3cret", nonce)  # another nonce's question, then silence: never sent
    feed.take()
    feed.see(f"@@TD-{'3' * 32} SUDO-PASSWORD\n".encode() + b"x" * (SudoFeed._LOOK + 1))
    assert feed.closed and feed.take() == b""
