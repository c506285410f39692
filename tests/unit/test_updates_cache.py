"""linux-health's `updates` check reuses apt's last answer while nothing apt reads
has changed (docs/bundles.md "Built-in bundles"); run for real with a stand-in
`apt` first on PATH that counts how often it is asked."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from techdesk.diagnostics.registry import builtin_bundles

pytestmark = pytest.mark.skipif(
    not shutil.which("apt-get") or not glob.glob("/var/lib/apt/lists/*Packages*"),
    reason="needs a Debian-like system with apt package lists")

SCRIPT = next(c.script for c in builtin_bundles()[0]["linux-health"].checks if c.id == "updates")


def _fake_apt(bin_dir: Path, calls: Path, lines: list[str]) -> None:
    bin_dir.mkdir(exist_ok=True)
    body = "".join(f"echo '{line}'\n" for line in lines)
    apt = bin_dir / "apt"
    apt.write_text(f"#!/bin/sh\necho x >>{calls}\necho Listing...\n{body}")
    apt.chmod(0o755)


def _run(env: dict[str, str]) -> list[str]:
    out = subprocess.run(["sh", "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60)
    return out.stdout.splitlines()


def _calls(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_apt_is_asked_again_only_when_what_it_reads_changed(tmp_path: Path):
    bin_dir, calls, home = tmp_path / "bin", tmp_path / "calls", tmp_path / "home"
    home.mkdir()
    _fake_apt(bin_dir, calls, ["libssl3/stable-security 3.1 amd64 [upgradable from: 3.0]"])
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(home)}

    first = _run(env)
    assert first[0].startswith("WARNING - 1 updates pending, 1 of them security"), first
    second = _run(env)
    assert _calls(calls) == 1  # the second run reused the first answer
    assert second[0] == first[0] and second[-1].startswith("(apt's last answer, reused")
    cache = home / ".cache/techdesk/apt-pending"
    assert cache.stat().st_mode & 0o777 == 0o600

    # apt itself changed (as an upgrade changes it, or dpkg's status): asked again
    _fake_apt(bin_dir, calls, ["tzdata/stable-updates 2025a amd64 [upgradable from: 2024a]",
                               "curl/stable-updates 8.1 amd64 [upgradable from: 8.0]"])
    third = _run(env)
    assert _calls(calls) == 2
    assert third[0].startswith("OK - 2 updates pending, none for security"), third
    assert not third[-1].startswith("(apt's last answer")

    # a cache that does not match (edited, or from another machine) is never used
    cache.write_text("123 456\nfake/stable-security 1 amd64 [upgradable from: 0]\n")
    assert _run(env)[0].startswith("OK - 2 updates pending") and _calls(calls) == 3


def test_no_cache_under_a_fixture_root_or_without_a_home(tmp_path: Path):
    bin_dir, calls, home = tmp_path / "bin", tmp_path / "calls", tmp_path / "home"
    home.mkdir()
    _fake_apt(bin_dir, calls, [])
    root = tmp_path / "root"
    (root / "var/lib/apt/lists").mkdir(parents=True)
    (root / "var/lib/apt/lists/x_Packages").write_text("")
    path = f"{bin_dir}:{os.environ['PATH']}"
    for env in ({"PATH": path, "HOME": str(home), "TECHDESK_ROOT": str(root)},
                {"PATH": path, "HOME": str(tmp_path / "missing")}):
        assert _run(env)[0].startswith("OK - 0 updates pending")
        assert _run(env)[0].startswith("OK - 0 updates pending")
    assert _calls(calls) == 4 and not (home / ".cache").exists()


def test_a_cache_planted_by_another_user_or_keyed_on_nothing_is_not_used(tmp_path: Path):
    """Hostile side: a cache file (or its folder) owned by someone else says
    "nothing pending"; and a find without -printf lists nothing, whose checksum is
    a constant that would match forever."""
    bin_dir, calls, home = tmp_path / "bin", tmp_path / "calls", tmp_path / "home"
    home.mkdir()
    _fake_apt(bin_dir, calls, ["libssl3/stable-security 3.1 amd64 [upgradable from: 3.0]"])
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(home)}
    _run(env)
    cache = home / ".cache/techdesk/apt-pending"
    key = cache.read_text().splitlines()[0]
    if os.geteuid() == 0:  # only root can hand a file to another user
        cache.write_text(f"{key}\n")
        os.chown(cache, 65534, 65534)
        assert _run(env)[0].startswith("WARNING - 1 updates pending"), "someone else's cache"
        cache.unlink()
        cache.write_text(f"{key}\n")
        os.chown(cache.parent, 65534, 65534)
        assert _run(env)[0].startswith("WARNING - 1 updates pending"), "someone else's folder"
        os.chown(cache.parent, 0, 0)
    # a find that prints nothing: every run would have the same key
    fake_find = bin_dir / "find"
    fake_find.write_text("#!/bin/sh\nexit 1\n")
    fake_find.chmod(0o755)
    cache.write_text("4294967295 0\n")
    before = _calls(calls)
    assert _run(env)[0].startswith("WARNING - 1 updates pending")
    assert _calls(calls) == before + 1
