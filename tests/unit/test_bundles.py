"""Bundle files: parsing, validation errors with real line numbers, registry,
and the built-in bundles."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from techdesk.diagnostics.bundle import BundleError, load_bundle_file, parse_bundle
from techdesk.diagnostics.compile import compile_script, new_nonce
from techdesk.diagnostics.registry import builtin_bundles, load_bundles

GOOD = """\
[bundle]
name = "my-checks"
title = "My checks"
os = "linux"
version = 1
description = "What this bundle is for."

[[checks]]
id = "disk"
title = "Disk space"
timeout = 10
script = '''
echo "OK - fine|/=5%;80;90;0;100"
'''

[checks.thresholds]
"/" = { warn = 80, crit = 90 }

[[checks]]
id = "second"
script = "echo OK"
"""


def test_parse_good_bundle():
    b = parse_bundle(GOOD, source="/tmp/x.toml")
    assert (b.name, b.title, b.os, b.version, b.source) == ("my-checks", "My checks", "linux", 1,
                                                             "/tmp/x.toml")
    assert [c.id for c in b.checks] == ["disk", "second"]
    disk, second = b.checks
    assert disk.timeout == 10 and second.timeout == 30
    assert second.title == "second"
    assert disk.thresholds == {"/": {"warn": 80, "crit": 90}}
    assert disk.source == "/tmp/x.toml"
    assert disk.script.startswith('echo "OK')
    assert b.parallel == 6  # the default wave; `parallel = 1` runs checks one at a time
    assert parse_bundle(GOOD.replace("version = 1", "version = 1\nparallel = 1")).parallel == 1


def error_of(text: str) -> BundleError:
    with pytest.raises(BundleError) as info:
        parse_bundle(text, source="f.toml")
    return info.value


def line_of(text: str, needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def test_toml_syntax_error_has_tomllib_line():
    text = GOOD.replace('timeout = 10', 'timeout = = 10')
    err = error_of(text)
    assert err.line == line_of(text, "timeout = = 10")
    assert str(err).startswith(f"f.toml:{err.line}: TOML syntax error")
    assert "(at line" not in str(err)


def test_unterminated_string_syntax_error():
    text = GOOD + 'title = "oops\n'
    err = error_of(text)
    assert err.file == "f.toml" and err.line == len(text.splitlines())


@pytest.mark.parametrize(("change", "needle", "nth", "message"), [
    (('os = "linux"', 'os = "beos"'), 'os = "beos"', 1, "os must be one of"),
    (('name = "my-checks"', 'name = "My Checks"'), 'name = "My Checks"', 1, "bundle name"),
    (('id = "second"', 'id = "disk"'), 'id = "disk"', 2, "duplicate check id 'disk'"),
    (('id = "second"', 'id = "bad id"'), 'id = "bad id"', 1, "check id"),
    (('timeout = 10', 'timeout = 0'), 'timeout = 0', 1, "timeout"),
    (('timeout = 10', 'timeout = 3601'), 'timeout = 3601', 1, "timeout"),
    (('timeout = 10', 'timeout = 2.5'), 'timeout = 2.5', 1, "timeout"),
    (('script = "echo OK"', 'script = "   "'), 'script = "   "', 1, "script is required"),
    (('script = "echo OK"', 'scrpit = "echo OK"'), 'scrpit', 1, "unknown key 'scrpit'"),
    (('"/" = { warn = 80, crit = 90 }', '"/" = { warn = "high" }'), '"/" = { warn', 1,
     "warn must be a number"),
    (('"/" = { warn = 80, crit = 90 }', '"/" = { warn = 1, direction = "up" }'), '"/" = { warn',
     1, "direction"),
    (('version = 1', 'version = true'), 'version = true', 1, "version"),
    (('version = 1', 'version = "1\\nrm -rf ~"'), 'version = "1', 1, "one-line string"),
    (('version = 1', 'version = 1\nparallel = 0'), 'parallel = 0', 1, "parallel must be"),
    (('version = 1', 'version = 1\nparallel = 17'), 'parallel = 17', 1, "from 1 to 16"),
    (('version = 1', 'version = 1\nparallel = true'), 'parallel = true', 1, "parallel must be"),
    (('script = "echo OK"', 'script = "echo ' + "x" * 70000 + '"'), 'script = "echo xx', 1,
     "script is longer than 64 KiB"),
    # lines found only when an error needs them (bundle.py): each kind still points right
    (('title = "My checks"', 'title = 7'), 'title = 7', 1, "title must be a string"),
    (('title = "Disk space"', 'title = ["Disk"]'), 'title = ["Disk"]', 1, "title must be a string"),
    (('"/" = { warn = 80, crit = 90 }', '"/" = 80'), '"/" = 80', 1, "must be a table"),
    (('id = "second"', 'id = "second"\nfixes = [{ id = "f" }]'), 'fixes = [', 1,
     "script is required"),
])
def test_validation_errors_point_at_the_line(change, needle, nth, message):
    text = GOOD.replace(*change)
    assert text != GOOD
    err = error_of(text)
    assert message in err.message
    assert err.line == line_of(text, needle, nth), str(err)
    assert str(err) == f"f.toml:{err.line}: {err.message}"


def test_missing_script_points_at_its_checks_table():
    text = GOOD.replace('script = "echo OK"\n', "")
    err = error_of(text)
    assert err.line == line_of(text, "[[checks]]", 2)


def test_key_inside_a_script_is_not_mistaken_for_the_key():
    text = GOOD.replace("echo \"OK - fine", "timeout=5\necho \"OK - fine").replace(
        "timeout = 10\n", "").replace('id = "disk"', 'id = "disk"\ntimeout = 99999')
    err = error_of(text)
    assert err.line == line_of(text, "timeout = 99999")


def test_structural_errors():
    assert "missing [bundle]" in error_of('[[checks]]\nid = "a"\nscript = "x"\n').message
    assert "at least one" in error_of('[bundle]\nname = "a"\nos = "linux"\n').message
    assert error_of('[bundle]\nname = "a"\nos = "linux"\n').line == 1


def test_load_bundle_file_errors(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[bundle]\nname = "x"\n\xff\n')
    with pytest.raises(BundleError, match=rf"{re.escape(str(bad))}:3: not valid UTF-8"):
        load_bundle_file(bad)
    with pytest.raises(BundleError, match="cannot read"):
        load_bundle_file(tmp_path / "missing.toml")


def test_registry_skips_bad_files_and_overrides_builtins(tmp_path: Path):
    (tmp_path / "good.toml").write_text(GOOD)
    broken = GOOD.replace('os = "linux"', 'os = "beos"')
    (tmp_path / "broken.toml").write_text(broken)
    (tmp_path / "syntax.toml").write_text("[bundle\n")
    (tmp_path / "notes.txt").write_text("ignored")
    override = GOOD.replace('name = "my-checks"', 'name = "linux-quick"')
    (tmp_path / "quick.toml").write_text(override)
    bundles, problems = load_bundles([tmp_path, tmp_path / "does-not-exist"])
    assert "my-checks" in bundles and "linux-health" in bundles
    assert bundles["linux-quick"].source == str(tmp_path / "quick.toml")
    assert bundles["linux-health"].source == "built-in"
    assert len(problems) == 2
    assert any(p.startswith(f"{tmp_path / 'broken.toml'}:{line_of(broken, 'beos')}: os must")
               for p in problems)
    assert any(p.startswith(f"{tmp_path / 'syntax.toml'}:1: TOML syntax error") for p in problems)


def test_registry_reports_duplicate_names_across_folders(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "one.toml").write_text(GOOD)
    (tmp_path / "b" / "two.toml").write_text(GOOD)
    bundles, problems = load_bundles([tmp_path / "a", tmp_path / "b"])
    assert bundles["my-checks"].source == str(tmp_path / "b" / "two.toml")
    assert len(problems) == 1 and "also defined in" in problems[0]


# -- built-in bundles --------------------------------------------------------

BUILTINS = {"linux-health": "linux", "linux-quick": "linux", "macos-health": "macos",
            "windows-health": "windows"}


def test_builtins_load_without_problems():
    bundles, problems = builtin_bundles()
    assert problems == []
    assert {name: b.os for name, b in bundles.items()} == BUILTINS
    assert len(bundles["linux-health"].checks) >= 12
    assert 4 <= len(bundles["linux-quick"].checks) <= 5
    for bundle in bundles.values():
        assert all(c.source == "built-in" for c in bundle.checks)


def test_linux_health_covers_the_brief():
    ids = {c.id for c in builtin_bundles()[0]["linux-health"].checks}
    assert {"load", "memory", "swap", "disk", "inodes", "failed_units", "reboot", "updates",
            "clock", "kernel_errors", "listening", "failed_logins", "uptime"} <= ids


def test_linux_quick_scripts_are_the_linux_health_ones():
    bundles = builtin_bundles()[0]
    health = {c.id: c for c in bundles["linux-health"].checks}
    for check in bundles["linux-quick"].checks:
        assert check.script == health[check.id].script, check.id
        assert check.thresholds == health[check.id].thresholds


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_compiles(name):
    bundle = builtin_bundles()[0][name]
    nonce = new_nonce()
    script = compile_script(bundle, nonce)
    assert f"@@TD-{nonce}" in script.text
    assert len(script.sha256) == 64
    for check in bundle.checks:
        assert check.timeout <= 120
        # Plugin convention: a "WORD - summary" line on the paths we write.
        assert "OK - " in check.script or "UNKNOWN - " in check.script, check.id


SHELLS = [s for s in ("dash", "bash", "busybox") if shutil.which(s)]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", ["linux-health", "macos-health"])
def test_sh_check_scripts_parse(shell, name):
    argv = {"dash": ["dash", "-n"], "bash": ["bash", "--posix", "-n"],
            "busybox": ["busybox", "sh", "-n"]}[shell]
    for check in builtin_bundles()[0][name].checks:
        run = subprocess.run(argv, input=check.script.encode(), capture_output=True, timeout=10)
        assert run.returncode == 0, f"{name}/{check.id}: {run.stderr.decode()}"


def test_windows_script_text_is_sane():
    bundle = builtin_bundles()[0]["windows-health"]
    nonce = new_nonce()
    script = compile_script(bundle, nonce)
    assert script.command == "powershell -NoProfile -NonInteractive -Command -"
    text = script.text
    assert text.isascii()
    lines = text.split("\n")
    # One statement `& { ... }`, no blank line inside, two newlines after it.
    assert lines[0] == "& {" and text.endswith("}\n\n\n")
    body = lines[:-3]
    assert body[-1] == "}" and all(line.strip() for line in body)
    code = "\n".join(line for line in body if not line.lstrip().startswith("#"))
    assert code.count("{") == code.count("}")
    assert code.count("(") == code.count(")")
    assert f"$tdMark = '@@TD-{nonce}'" in text
    for check in bundle.checks:
        calls = re.findall(rf"^Invoke-TdCheck '{re.escape(check.id)}' '([0-9a-f]{{32}})' (\d+) "
                           r"'([A-Za-z0-9+/=]*)'$", text, re.M)
        assert len(calls) == 1, check.id
        token, timeout, code64 = calls[0]
        assert token == script.tokens[bundle.checks.index(check)]
        assert int(timeout) == check.timeout
        assert base64.b64decode(code64).decode("utf-8") == check.script
    assert "Write-TdFrame ('NEXT ' + $Id)" in text
    assert "Write-TdFrame ('BEGIN ' + $Id + ' ' + $Token)" in text
    assert "Write-TdFrame ('END ' + $Id + ' ' + $Token + ' ' + $rc + ' ' + $flags)" in text
    assert not script.converse  # PowerShell reads the whole statement, tokens included


def test_windows_hostile_check_text_is_carried_safely():
    text = """\
[bundle]
name = "w"
os = "windows"

[[checks]]
id = "nasty"
script = '''
$x = @'
'@
#> <# } { "quotes' and \u00e9\u202e"

exit 2
'''
"""
    bundle = parse_bundle(text)
    script = compile_script(bundle, new_nonce()).text
    assert script.isascii()
    assert all(line.strip() for line in script.split("\n")[:-3])
    code64 = re.search(r"^Invoke-TdCheck 'nasty' '[0-9a-f]{32}' 30 '(.*)'$", script, re.M).group(1)
    assert base64.b64decode(code64).decode() == bundle.checks[0].script
    assert "#   #> <# } {" in script  # readable for the audit log, as a comment


def test_docs_examples_are_valid_bundles():
    doc = (Path(__file__).parents[2] / "docs" / "bundles.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", doc, re.S)
    assert len(blocks) == 3
    parse_bundle(blocks[0].replace("...", "echo 'OK - fine'"))
    fixes = parse_bundle(blocks[0].replace("...", "echo 'OK - fine'").split("[checks.thresholds]")[0]
                         + blocks[1])  # the [[checks.fixes]] example, under the check above it
    assert fixes.checks[0].fixes[0].id == "restart-unit" and fixes.checks[0].fixes[0].root
    example = parse_bundle(blocks[2])
    assert example.checks[0].thresholds["days_left"]["direction"] == "below"
