"""CSV host lists: a header row naming the columns, then one host per row."""

from __future__ import annotations

import csv
import io
import re

from techdesk.core.roster import HostSpec, RosterError, parse_port
from techdesk.roster_io import RosterFormatError, checked, strip_bom

COLUMNS = ("name", "address", "port", "user", "client", "site", "tags", "os", "jump", "key")
TAG_SPLIT = re.compile(r"[;\s]+")


def _delimiter(text: str) -> str:
    # Excel in many European locales saves "CSV" with ';' (or tabs); the header row tells.
    header = text.split("\n", 1)[0]
    if "," not in header:
        for candidate in (";", "\t"):
            if candidate in header:
                return candidate
    return ","


def parse_csv(text: str, filename: str) -> list[HostSpec]:
    """Parse a CSV host list; any bad row raises RosterFormatError with its line."""
    text = strip_bom(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows = _rows(reader, filename)
    try:
        start, header = next(rows)
    except StopIteration:
        raise RosterFormatError(filename, 1, "empty file: a header row is required") from None
    columns = _columns(header, filename, start)

    hosts: list[HostSpec] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if not any(row):
            continue  # blank or all-empty rows (",,,,") that spreadsheets leave behind
        if len(row) > len(columns):
            raise RosterFormatError(
                filename, line, f"row has {len(row)} cells but the header names {len(columns)}"
            )
        values: dict[str, str] = {}
        for col, cell in zip(columns, row, strict=False):
            if col is None:
                if cell:
                    raise RosterFormatError(
                        filename, line, f"value {cell!r} under a column with no name"
                    )
            elif cell != "":  # an empty cell means "not set"; anything else is kept literally
                values[col] = cell
        spec = _spec(values, filename, line)
        if spec.name in seen:
            raise RosterFormatError(
                filename, line, f"duplicate host {spec.name!r} (first on line {seen[spec.name]})"
            )
        seen[spec.name] = line
        hosts.append(checked(spec, filename, line))
    return hosts


def _rows(reader, filename: str):
    """Yield (first physical line, row); a quoted cell may span several lines."""
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if "unexpected end of data" in str(e):
                msg = "unterminated quoted cell (the quote runs to the end of the file)"
                raise RosterFormatError(filename, start, msg) from None
            raise RosterFormatError(filename, reader.line_num, f"malformed CSV: {e}") from None
        yield start, row
        start = reader.line_num + 1


def _columns(header: list[str], filename: str, line: int) -> list[str | None]:
    columns: list[str | None] = []
    for cell in header:
        col = cell.strip().lower()
        if not col:
            columns.append(None)  # tolerated while its cells stay empty
            continue
        if col not in COLUMNS:
            raise RosterFormatError(
                filename,
                line,
                f"unknown column {cell.strip()!r} (known: {', '.join(COLUMNS)}; "
                "the first row must be a header)",
            )
        if col in columns:
            raise RosterFormatError(filename, line, f"column {col!r} appears twice")
        columns.append(col)
    if "name" not in columns:
        raise RosterFormatError(filename, line, "the header has no 'name' column")
    return columns


def _spec(values: dict[str, str], filename: str, line: int) -> HostSpec:
    if "name" not in values:
        raise RosterFormatError(filename, line, "a host needs a name")
    port = None
    if "port" in values:
        try:
            port = parse_port(values["port"].strip())
        except RosterError as e:
            raise RosterFormatError(filename, line, str(e)) from None
    os_name = values.get("os")
    return HostSpec(
        name=values["name"],
        address=values.get("address"),
        port=port,
        user=values.get("user"),
        client=values.get("client"),
        site=values.get("site"),
        tags=[t for t in TAG_SPLIT.split(values.get("tags", "")) if t],
        # "Windows" from a hand-made sheet means windows; anything else fails validation.
        os=os_name.strip().lower() if os_name is not None else None,
        jump=values.get("jump"),
        key=values.get("key"),
    )


def export_csv(hosts: list[HostSpec]) -> str:
    """The hosts as CSV with every documented column; tags joined with ';'."""
    buf = io.StringIO()
    # "\r\n" (RFC 4180) also makes the writer quote cells holding a lone "\r".
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for h in hosts:
        for tag in h.tags:
            if TAG_SPLIT.search(tag):
                raise RosterError(
                    f"host {h.name!r}: tag {tag!r} contains ';' or whitespace and cannot be written to CSV"
                )
        row = h.as_dict()
        row["tags"] = ";".join(h.tags)
        writer.writerow(["" if row[c] is None else str(row[c]) for c in COLUMNS])
    return buf.getvalue()
