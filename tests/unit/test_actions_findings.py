"""What a client machine's finding can put into a fix script: data only, bounded, and
never an option or a path out of its folder (the fix may run as root)."""

from __future__ import annotations

import subprocess

from techdesk.diagnostics.fixscript import finding_env, finding_items, wrap


def _value(env: str, name: str) -> str:
    text = wrap(env + f'printf "%s" "$TECHDESK_FINDING_{name}"\n', root=False, password=None, nonce="0" * 32)
    return subprocess.run(["sh", "-s"], input=text.encode(), capture_output=True, check=True).stdout.decode()


def test_items_are_never_options_or_parent_paths():
    summary = "5 failed: -rf --no-preserve-root ../../etc/shadow /srv/../etc x/.. a..b.service /srv"
    assert finding_items(summary) == ["a..b.service", "/srv"]
    env = finding_env("warn", "leftover: --help ../x")
    assert "TECHDESK_FINDING_UNIT=''" in env and "TECHDESK_FINDING_ITEMS=''" in env


def test_control_characters_never_reach_the_script(tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"x: a\x00'; touch {marker}; '\x1b]0;title\x07\x1b[31m\r\x7f\u202e b.service"
    env = finding_env("warn", hostile)
    assert not any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) < 0xa0 or c == "\u202e" for c in env)
    summary = _value(env, "SUMMARY")
    assert not marker.exists() and f"touch {marker}" in summary and "\x00" not in summary
    assert _value(env, "ITEMS").split("\n") == ["touch", "b.service"]  # name-like words only


def test_huge_values_are_capped():
    env = finding_env("warn", "x: " + " ".join(f"u{i}.service" for i in range(200_000)) + "y" * 5_000_000)
    assert len(env) < 16_000
    assert _value(env, "ITEMS").count("\n") == 49  # at most 50 names
