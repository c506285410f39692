"""Shared fixtures: isolation from the developer's machine, workspaces, the CLI, sshd."""

from __future__ import annotations

import os

import keyring
import pytest

from tests.fixtures.keyring_backend import MemoryKeyring

pytest_plugins = ["tests.fixtures.sshd", "tests.fixtures.webhook"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    """Keep the developer's ~/.ssh, settings and keychain out of every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for var in ("TECHDESK_WORKSPACE", "TECHDESK_SHARED", "TECHDESK_TECHNICIAN", "SSH_AUTH_SOCK"):
        monkeypatch.delenv(var, raising=False)
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def workspace_dir(tmp_path):
    return tmp_path / "ws"


@pytest.fixture
def cli(workspace_dir, capsys):
    """Run `techdesk --workspace <tmp> ARGS...` in-process; returns (exit code, stdout, stderr)."""
    from techdesk.cli import main

    def run(*args: str, stdin: str | None = None):
        import io
        import sys

        old_stdin = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            try:
                code = main(["--workspace", str(workspace_dir), *args])
            except SystemExit as exc:  # argparse usage errors and --version
                code = exc.code if isinstance(exc.code, int) else 0
        finally:
            sys.stdin = old_stdin
        out, err = capsys.readouterr()
        return code, out, err

    return run
