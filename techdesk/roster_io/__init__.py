"""Import and export of host lists: OpenSSH client config, CSV, Ansible inventory.

Pure functions over text (only `parse_file` reads a file). Every parse is all or
nothing: the first malformed entry raises RosterFormatError naming file and line,
and every returned HostSpec has passed `validate_spec`.
"""

from __future__ import annotations

import os
import stat
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


MAX_IMPORT = 32 * 1024 * 1024  # far more than any roster; a wrong file must not eat memory


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ValueError otherwise (a
    FIFO or device would block or never end)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file (a folder, FIFO or device); nothing was imported")
        if info.st_size > limit:
            raise ValueError(f"{info.st_size / 1048576:.0f} MiB is too big for a host list "
                             f"(at most {limit // 1048576} MiB)")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"too big for a host list (at most {limit // 1048576} MiB)")
    return data


def parse_file(path: Path, fmt: str) -> list[HostSpec]:
    """Read `path` as UTF-8 and parse it as `fmt` ("ssh-config", "csv" or "ansible")."""
    parser = FORMATS.get(fmt)
    if parser is None:
        raise RosterError(f"unknown import format {fmt!r} (expected {', '.join(FORMATS)})")
    filename = str(path)
    try:
        data = _read_regular(Path(path), MAX_IMPORT)
    except OSError as e:
        raise RosterFormatError(filename, None, f"cannot read file: {e.strerror or e}") from None
    except ValueError as e:
        raise RosterFormatError(filename, None, str(e)) from None
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
