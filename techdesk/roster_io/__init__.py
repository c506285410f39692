"""Import and export of host lists: OpenSSH client config, CSV, Ansible inventory.

Pure functions over text (only `parse_file` reads a file). Every parse is all or
nothing: the first malformed entry raises RosterFormatError naming file and line,
and every returned HostSpec has passed `validate_spec`.
"""

from __future__ import annotations

from pathlib import Path

from techdesk.core.roster import HostSpec, RosterError, validate_spec


class RosterFormatError(RosterError):
    """A malformed import file; str(e) is "file:line: message" (no line if unknown)."""

    def __init__(self, filename: str, line: int | None, message: str) -> None:
        self.filename = filename
        self.line = line
        self.message = message
        where = f"{filename}:{line}" if line is not None else filename
        super().__init__(f"{where}: {message}")


def checked(spec: HostSpec, filename: str, line: int) -> HostSpec:
    """validate_spec, with its complaint pinned to the file and line the host came from."""
    try:
        return validate_spec(spec)
    except RosterFormatError:
        raise
    except RosterError as e:
        raise RosterFormatError(filename, line, str(e)) from None


def strip_bom(text: str) -> str:
    # Windows editors (Notepad, Excel "CSV UTF-8") prepend one; it is not part of the data.
    return text[1:] if text.startswith("\ufeff") else text


# The parsers import the helpers above from this package, so they are imported after them.
from techdesk.roster_io.ansible import export_ansible_ini, parse_ansible  # noqa: E402
from techdesk.roster_io.csv_io import export_csv, parse_csv  # noqa: E402
from techdesk.roster_io.ssh_config import parse_ssh_config  # noqa: E402

FORMATS = {"ssh-config": parse_ssh_config, "csv": parse_csv, "ansible": parse_ansible}


def parse_file(path: Path, fmt: str) -> list[HostSpec]:
    """Read `path` as UTF-8 and parse it as `fmt` ("ssh-config", "csv" or "ansible")."""
    parser = FORMATS.get(fmt)
    if parser is None:
        raise RosterError(f"unknown import format {fmt!r} (expected {', '.join(FORMATS)})")
    filename = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise RosterFormatError(filename, None, f"cannot read file: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise RosterFormatError(
            filename, line, f"not valid UTF-8 (byte 0x{data[e.start]:02x}); save the file as UTF-8"
        ) from None
    return parser(text, filename)


__all__ = [
    "FORMATS",
    "RosterFormatError",
    "export_ansible_ini",
    "export_csv",
    "parse_ansible",
    "parse_csv",
    "parse_file",
    "parse_ssh_config",
]
