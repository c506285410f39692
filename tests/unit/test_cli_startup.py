"""A fast command line: each command imports only what it uses (scripts/bench_startup.py
has the figures). Checked with `python -X importtime`, which lists every module a real
`techdesk` process imports."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys

import pytest

from techdesk import cli

# Heavy or unrelated to listing the roster: the SSH stack, Qt, templates, the event loop,
# the sync engine, YAML (Ansible import), the bundle compiler.
NEVER_FOR_QUICK_COMMANDS = ("paramiko", "cryptography", "PySide6", "jinja2", "asyncio", "yaml",
                            "keyring", "techdesk.sync", "techdesk.ssh.connect", "techdesk.services.monitor",
                            "techdesk.cli.demo", "techdesk.cli.monitor", "techdesk.diagnostics.compile")


def imported_modules(args: list[str], workspace) -> tuple[set[str], str]:
    env = dict(os.environ, TECHDESK_WORKSPACE=str(workspace))
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "techdesk", *args],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert "techdesk.cli" in names  # the probe sees our own imports
    return names, out.stdout


def _loaded(names: set[str], heavy: str) -> list[str]:
    return sorted(n for n in names if n == heavy or n.startswith(heavy + "."))


@pytest.mark.parametrize("args", [["--version"], ["hosts", "list"]])
def test_quick_commands_do_not_import_heavy_modules(args, tmp_path):
    if args[0] == "hosts":
        subprocess.run([sys.executable, "-m", "techdesk", "hosts", "add", "web1", "--address", "10.0.0.5"],
                       env=dict(os.environ, TECHDESK_WORKSPACE=str(tmp_path)), check=True,
                       capture_output=True, timeout=120)
    names, stdout = imported_modules(args, tmp_path)
    assert ("web1" in stdout) if args[0] == "hosts" else stdout.startswith("techdesk ")
    for heavy in NEVER_FOR_QUICK_COMMANDS:
        assert not _loaded(names, heavy), f"techdesk {' '.join(args)} imports {_loaded(names, heavy)}"


@pytest.mark.parametrize("args", [["bundles", "list"], ["audit"], ["history", "web1"]])
def test_reading_commands_beside_run_do_not_load_the_event_loop_or_ssh(args, tmp_path):
    subprocess.run([sys.executable, "-m", "techdesk", "hosts", "add", "web1", "--address", "10.0.0.5"],
                   env=dict(os.environ, TECHDESK_WORKSPACE=str(tmp_path)), check=True,
                   capture_output=True, timeout=120)
    names, _ = imported_modules(args, tmp_path)
    for heavy in ("asyncio", "paramiko", "techdesk.ssh.connect", "techdesk.services.runner"):
        assert not _loaded(names, heavy), f"techdesk {' '.join(args)} imports {_loaded(names, heavy)}"


def test_command_table_names_every_command_its_module_registers():
    registered: dict[str, str] = {}
    for module in cli.MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"techdesk.cli.{module}").register(sub)
        for name in sub.choices:
            registered[name] = module
    missing = {n: m for n, m in registered.items() if cli.COMMANDS.get(n) != m}
    assert not missing, f"add to techdesk.cli.COMMANDS: {missing}"
    assert set(cli.COMMANDS) == set(registered)


@pytest.mark.parametrize(("argv", "word"), [
    (["hosts", "list"], "hosts"),
    (["--workspace", "hosts", "run", "x"], "run"),  # "hosts" is the folder's name here
    (["--shared=/s", "sync"], "sync"),
    (["--version"], None),
    ([], None),
    (["--", "notes"], "notes"),
])
def test_command_word(argv, word):
    assert cli._command_word(argv) == word


@pytest.mark.parametrize("argv", [["--help"], ["-h", "hosts"], ["--workspace", "w", "-h"]])
def test_help_and_unknown_commands_see_every_command(argv, capsys):
    with pytest.raises(SystemExit):
        cli.build_parser(argv).parse_args(argv)
    listed = capsys.readouterr().out
    assert all(name in listed for name in cli.COMMANDS)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["no-such-command"])
    assert exit_.value.code == cli.EX_USAGE
    err = capsys.readouterr().err
    assert "invalid choice: 'no-such-command'" in err and "'hosts'" in err and "'sweep'" in err


def test_the_ssh_layer_does_not_load_invoke():
    """paramiko's optional invoke (for ssh_config "Match exec") costs a third of its
    import time; techdesk never uses it."""
    probe = ("import sys, techdesk.ssh.connect, paramiko; "
             "print(sorted(m for m in sys.modules if m.startswith(('invoke.', 'yaml'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_finished_command_exits_without_teardown_but_in_the_interpreters_order(monkeypatch):
    """techdesk/__main__.py skips freeing modules one by one, not what an exit must do:
    threads joined, atexit handlers run, output flushed, then the command's exit code."""
    import atexit
    import threading

    from techdesk import __main__ as entry

    steps: list[object] = []

    class Stream:
        def __init__(self, name: str) -> None:
            self.name = name

        def flush(self) -> None:
            steps.append(f"flush {self.name}")

    class Exited(Exception):
        pass

    def os_exit(code: int) -> None:
        steps.append(("exit", code))
        raise Exited

    monkeypatch.setattr(threading, "_shutdown", lambda: steps.append("join threads"))
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: steps.append("atexit"))
    monkeypatch.setattr(os, "_exit", os_exit)
    monkeypatch.setattr(sys, "stdout", Stream("stdout"))
    monkeypatch.setattr(sys, "stderr", Stream("stderr"))
    monkeypatch.setattr(sys, "argv", ["techdesk", "--workspace", "w", "hosts", "list"])
    monkeypatch.setattr(cli, "main", lambda argv: 3)
    with pytest.raises(Exited):
        entry.main()
    assert steps == ["join threads", "atexit", "flush stdout", "flush stderr", ("exit", 3)]

    steps.clear()  # the window (no command word, or gui) exits the ordinary way
    for argv in (["techdesk"], ["techdesk", "--workspace", "w"], ["techdesk", "gui"]):
        monkeypatch.setattr(sys, "argv", argv)
        assert entry.main() == 3
    assert steps == []

    class Closed(Stream):  # a reader that went away: the interpreter's exit reports it
        def flush(self) -> None:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "argv", ["techdesk", "hosts", "list"])
    monkeypatch.setattr(sys, "stdout", Closed("stdout"))
    assert entry.main() == 3
    assert ("exit", 3) not in steps

    steps.clear()  # a profiler or tracer (cProfile -o, coverage) writes after main returns
    monkeypatch.setattr(sys, "stdout", Stream("stdout"))
    monkeypatch.setattr(sys, "getprofile", lambda: object())
    assert entry.main() == 3
    assert steps == []


def test_a_profiled_command_still_writes_its_profile(tmp_path):
    out = tmp_path / "hosts.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "techdesk", "hosts",
                           "list"], env=dict(os.environ, TECHDESK_WORKSPACE=str(tmp_path / "ws")),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0


def test_a_real_command_still_delivers_all_its_output_and_exit_code(tmp_path):
    env = dict(os.environ, TECHDESK_WORKSPACE=str(tmp_path))
    many = "\n".join(f"h{i:03d},10.0.{i // 250}.{i % 250 + 1}" for i in range(400))
    (tmp_path / "hosts.csv").write_text("name,address\n" + many + "\n")
    subprocess.run([sys.executable, "-m", "techdesk", "hosts", "import", "--format", "csv",
                    str(tmp_path / "hosts.csv")],
                   env=env, check=True, capture_output=True, timeout=120)
    out = subprocess.run([sys.executable, "-m", "techdesk", "hosts", "list", "--json"], env=env,
                         capture_output=True, text=True, timeout=120)  # > a pipe's 64 KiB
    assert out.returncode == 0, out.stderr
    import json

    assert len(json.loads(out.stdout)) == 400 and len(out.stdout) > 65536
    bad = subprocess.run([sys.executable, "-m", "techdesk", "run", "linux-quick", "nope"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == cli.EX_USAGE and "nope" in bad.stderr


@pytest.mark.skipif(sys.platform == "darwin", reason="the Keychain API is the backend there")
def test_the_first_secret_lookup_skips_the_macos_keychain_probe_and_picks_the_same_backend():
    """keyring's macOS backend runs ctypes' find_library (ldconfig, gcc) at import off
    macOS too, then declares itself unusable; techdesk.secrets keeps that import from
    running (55+ ms at the first secret of a command) without changing keyring's choice."""
    ours = ("import sys; from techdesk import secrets; secrets.backend_info(); import keyring; "
            "print(sys.modules.get('keyring.backends.macOS.api', 'absent'), type(keyring.get_keyring()))")
    plain = "import keyring; print(type(keyring.get_keyring()))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    out = subprocess.run([sys.executable, "-c", ours], capture_output=True, text=True, timeout=120, env=env)
    ref = subprocess.run([sys.executable, "-c", plain], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0 and ref.returncode == 0, out.stderr + ref.stderr
    api, backend = out.stdout.split(" ", 1)
    assert api == "None"  # blocked, not loaded
    assert backend.strip() == ref.stdout.strip()
