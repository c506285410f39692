"""Bundle files: TOML in the format of CLI.md "Bundle files", validated.

Every error names the file and a real line number, so a technician can fix a
bundle without guessing: TOML syntax errors take the line from tomllib, and
validation errors point at the offending [[checks]] table or key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

OS_NAMES = ("linux", "macos", "windows")
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
CHECK_ID_RE = re.compile(r"[A-Za-z0-9_.-]+")
MIN_TIMEOUT, MAX_TIMEOUT, DEFAULT_TIMEOUT = 1, 3600, 30
# A check's script reaches its shell in the environment (compile.py), where Linux
# allows 128 KiB a variable.
MAX_SCRIPT_BYTES = 64 * 1024
BUILTIN = "built-in"

_BUNDLE_KEYS = {"name", "title", "os", "version", "description", "parallel"}
# Checks started together on the host (sh runtimes; PowerShell runs one at a time).
# 1 = one after another. docs/bundles.md "Checks run in waves".
DEFAULT_PARALLEL, MAX_PARALLEL = 6, 16
_CHECK_KEYS = {"id", "title", "timeout", "script", "thresholds", "fixes"}
_FIX_KEYS = {"id", "title", "script", "risk", "root", "timeout"}
RISKS = ("safe", "disruptive")
DEFAULT_FIX_TIMEOUT = 60
_THRESHOLD_KEYS = {"warn", "crit", "direction", "capacity"}  # capacity: docs/proactive.md
_VERSION_RE = re.compile(r"[^\x00-\x1f\x7f]{1,64}")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


class BundleError(ValueError):
    """A bundle file that cannot be used. str() is "<file>:<line>: <message>"."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


@dataclass
class FixDef:
    """A remedy a check offers ([[checks.fixes]]): run on the host, then the check again."""

    id: str
    title: str
    script: str
    risk: str = "safe"  # "disruptive": the host name must be typed to confirm
    root: bool = False  # needs root: sudo -S with the keyring password when the login is not root
    timeout: int = DEFAULT_FIX_TIMEOUT


@dataclass
class CheckDef:
    id: str
    title: str
    script: str
    timeout: int = DEFAULT_TIMEOUT
    # label (or glob) -> {"warn": x, "crit": y, "direction": "above"|"below"}
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = BUILTIN  # the bundle file's path, or "built-in"
    fixes: list[FixDef] = field(default_factory=list)

    def fix(self, fix_id: str) -> FixDef | None:
        return next((f for f in self.fixes if f.id == fix_id), None)


@dataclass
class Bundle:
    name: str
    title: str
    os: str
    version: int | str
    description: str
    checks: list[CheckDef]
    source: str = BUILTIN
    parallel: int = DEFAULT_PARALLEL


class _Lines:
    """Best-effort line lookup for validation errors (0-based internally)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # Lines inside a multi-line string (a script) are never keys or headers.
        self.in_string: list[bool] = []
        delim: str | None = None
        for line in self.lines:
            self.in_string.append(delim is not None)
            for d in ('"""', "'''"):
                if delim in (None, d) and line.count(d) % 2:
                    delim = None if delim else d

    def _find(self, pattern: str, start: int = 0, end: int | None = None) -> list[int]:
        rx = re.compile(pattern)
        stop = len(self.lines) if end is None else end
        return [i for i in range(start, stop)
                if not self.in_string[i] and rx.match(self.lines[i])]

    def _region(self, head: int) -> int:
        """End of the table that starts at ``head`` (sub-tables [checks.x] included)."""
        for i in range(head + 1, len(self.lines)):
            stripped = self.lines[i].lstrip()
            if not self.in_string[i] and stripped.startswith("[") and not re.match(r"\[\s*checks\s*\.", stripped):
                return i
        return len(self.lines)

    def _lookup(self, head: int, keys: tuple[str, ...]) -> int:
        end = self._region(head)
        for key in keys:
            k = re.escape(key)
            found = self._find(rf"""^\s*(?:{k}|"{k}"|'{k}')\s*=""", head + 1, end)
            found = found or self._find(rf"^\s*\[\s*checks\s*\.\s*{k}\s*\]", head + 1, end)
            if found:
                return found[0] + 1
        return head + 1

    def bundle(self, *keys: str) -> int:
        heads = self._find(r"^\s*\[\s*bundle\s*\]")
        return self._lookup(heads[0], keys) if heads else 1

    def check(self, index: int, *keys: str) -> int:
        heads = self._find(r"^\s*\[\[\s*checks\s*\]\]")
        if index < len(heads):
            return self._lookup(heads[index], keys)
        found = self._find(r"^\s*checks\s*=")  # checks = [ {...}, ... ]
        return found[0] + 1 if found else 1


def parse_bundle(text: str, source: str = BUILTIN, filename: str | None = None) -> Bundle:
    """Parse and validate bundle text. ``filename`` names it in errors
    (default: ``source``). Raises BundleError."""
    where = filename or source
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else max(1, text.count("\n") + 1)
        message = _TOML_LINE.sub("", str(exc)).strip()
        raise BundleError(where, line, f"TOML syntax error: {message}") from None
    return _Validator(text, where, source).bundle(data)


def load_bundle_file(path: Path) -> Bundle:
    """Read and parse one bundle file. Raises BundleError (also for I/O errors)."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise BundleError(str(path), 1, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BundleError(str(path), line, "not valid UTF-8") from None
    return parse_bundle(text, source=str(path))


class _Validator:
    def __init__(self, text: str, where: str, source: str) -> None:
        self.lines, self.where, self.source = _Lines(text), where, source

    def fail(self, line: int | Callable[[], int], message: str) -> BundleError:
        # A line may come as a partial: finding it scans the text, so a valid bundle
        # (the every-command case) never pays for a lookup only an error message needs.
        return BundleError(self.where, line() if callable(line) else line, message)

    def bundle(self, data: dict[str, Any]) -> Bundle:
        meta = data.get("bundle")
        if not isinstance(meta, dict):
            raise self.fail(1, "missing [bundle] table")
        unknown = set(data) - {"bundle", "checks"}
        if unknown:
            raise self.fail(1, f"unknown top-level key {sorted(unknown)[0]!r}")
        for key in sorted(set(meta) - _BUNDLE_KEYS):
            raise self.fail(self.lines.bundle(key), f"unknown key {key!r} in [bundle]")
        name = meta.get("name")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise self.fail(self.lines.bundle("name"),
                            "bundle name must match [a-z0-9][a-z0-9_.-]*")
        os_name = meta.get("os")
        if os_name not in OS_NAMES:
            raise self.fail(self.lines.bundle("os"), f"os must be one of {', '.join(OS_NAMES)}")
        title = self._text(meta, "title", name, partial(self.lines.bundle, "title"))
        description = self._text(meta, "description", "", partial(self.lines.bundle, "description"))
        version = meta.get("version", 1)
        if (isinstance(version, bool) or not isinstance(version, int | str)
                or (isinstance(version, str) and not _VERSION_RE.fullmatch(version))):
            raise self.fail(self.lines.bundle("version"),
                            "version must be an integer or a one-line string (at most 64 characters)")
        parallel = meta.get("parallel", DEFAULT_PARALLEL)
        if isinstance(parallel, bool) or not isinstance(parallel, int) or not 1 <= parallel <= MAX_PARALLEL:
            raise self.fail(self.lines.bundle("parallel"),
                            f"parallel must be a whole number from 1 to {MAX_PARALLEL}")
        checks_data = data.get("checks")
        if not isinstance(checks_data, list) or not checks_data:
            raise self.fail(self.lines.bundle(), "a bundle needs at least one [[checks]] table")
        checks: list[CheckDef] = []
        seen: set[str] = set()
        for index, item in enumerate(checks_data):
            check = self.check(index, item)
            if check.id in seen:
                raise self.fail(self.lines.check(index, "id"), f"duplicate check id {check.id!r}")
            seen.add(check.id)
            checks.append(check)
        return Bundle(name=name, title=title, os=os_name, version=version,
                      description=description, checks=checks, source=self.source,
                      parallel=parallel)

    def _text(self, table: dict[str, Any], key: str, default: str, line: Callable[[], int]) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise self.fail(line, f"{key} must be a string")
        return value

    def check(self, index: int, item: Any) -> CheckDef:
        if not isinstance(item, dict):
            raise self.fail(self.lines.check(index), "each entry of checks must be a table")
        for key in sorted(set(item) - _CHECK_KEYS):
            raise self.fail(self.lines.check(index, key), f"unknown key {key!r} in [[checks]]")
        check_id = item.get("id")
        if not isinstance(check_id, str) or not CHECK_ID_RE.fullmatch(check_id):
            raise self.fail(self.lines.check(index, "id"),
                            "check id is required and must match [A-Za-z0-9_.-]+")
        title = self._text(item, "title", check_id, partial(self.lines.check, index, "title"))
        script = item.get("script")
        if not isinstance(script, str) or not script.strip():
            raise self.fail(self.lines.check(index, "script"),
                            f"check {check_id!r}: script is required and must not be empty")
        if "\x00" in script:
            raise self.fail(self.lines.check(index, "script"),
                            f"check {check_id!r}: script contains a NUL character")
        if len(script.encode("utf-8")) > MAX_SCRIPT_BYTES:
            raise self.fail(self.lines.check(index, "script"),
                            f"check {check_id!r}: script is longer than {MAX_SCRIPT_BYTES // 1024} KiB")
        timeout = item.get("timeout", DEFAULT_TIMEOUT)
        if (isinstance(timeout, bool) or not isinstance(timeout, int)
                or not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT):
            raise self.fail(self.lines.check(index, "timeout"),
                            f"check {check_id!r}: timeout must be a whole number of seconds "
                            f"from {MIN_TIMEOUT} to {MAX_TIMEOUT}")
        thresholds = self.thresholds(index, check_id, item.get("thresholds", {}))
        fixes = self.fixes(index, check_id, item.get("fixes", []))
        return CheckDef(id=check_id, title=title, script=script, timeout=timeout,
                        thresholds=thresholds, source=self.source, fixes=fixes)

    def fixes(self, index: int, check_id: str, data: Any) -> list[FixDef]:
        line = partial(self.lines.check, index, "fixes")
        if not isinstance(data, list) or not all(isinstance(f, dict) for f in data):
            raise self.fail(line, f"check {check_id!r}: fixes must be [[checks.fixes]] tables")
        fixes: list[FixDef] = []
        for item in data:
            fix_id = item.get("id")
            if not isinstance(fix_id, str) or not CHECK_ID_RE.fullmatch(fix_id):
                raise self.fail(line, f"check {check_id!r}: fix id is required and must match "
                                "[A-Za-z0-9_.-]+")
            where = f"check {check_id!r}: fix {fix_id!r}"
            if set(item) - _FIX_KEYS:
                raise self.fail(line, f"{where}: unknown key {sorted(set(item) - _FIX_KEYS)[0]!r}")
            if any(f.id == fix_id for f in fixes):
                raise self.fail(line, f"{where}: duplicate fix id")
            title = item.get("title", fix_id)
            script = item.get("script")
            if not isinstance(title, str) or not isinstance(script, str) or not script.strip():
                raise self.fail(line, f"{where}: title must be a string and script is required")
            if "\x00" in script:
                raise self.fail(line, f"{where}: script contains a NUL character")
            risk, root = item.get("risk", "safe"), item.get("root", False)
            if risk not in RISKS:
                raise self.fail(line, f"{where}: risk must be 'safe' or 'disruptive'")
            if not isinstance(root, bool):
                raise self.fail(line, f"{where}: root must be true or false")
            timeout = item.get("timeout", DEFAULT_FIX_TIMEOUT)
            if (isinstance(timeout, bool) or not isinstance(timeout, int)
                    or not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT):
                raise self.fail(line, f"{where}: timeout must be a whole number of seconds "
                                f"from {MIN_TIMEOUT} to {MAX_TIMEOUT}")
            fixes.append(FixDef(id=fix_id, title=title, script=script, risk=risk, root=root,
                                timeout=timeout))
        return fixes

    def thresholds(self, index: int, check_id: str, data: Any) -> dict[str, dict[str, Any]]:
        line = partial(self.lines.check, index, "thresholds")
        if not isinstance(data, dict):
            raise self.fail(line, f"check {check_id!r}: thresholds must be a table")
        result: dict[str, dict[str, Any]] = {}
        for label, spec in data.items():
            line = partial(self.lines.check, index, label, "thresholds")
            where = f"check {check_id!r}: threshold {label!r}"
            if not isinstance(spec, dict) or not set(spec) & {"warn", "crit"}:
                raise self.fail(line, f"{where} must be a table with warn and/or crit")
            if set(spec) - _THRESHOLD_KEYS:
                raise self.fail(line, f"{where}: unknown key {sorted(set(spec) - _THRESHOLD_KEYS)[0]!r}")
            for key in ("warn", "crit"):
                value = spec.get(key)
                if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                    raise self.fail(line, f"{where}: {key} must be a number")
            if spec.get("direction", "above") not in ("above", "below"):
                raise self.fail(line, f"{where}: direction must be 'above' or 'below'")
            result[label] = dict(spec)
        return result
