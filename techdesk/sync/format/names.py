"""What the names found in a shared folder mean.

Every name is classified before anything is opened:

- REVISION  `<rev>.json` (64 lowercase hex digits)
- COPY      a conflict or duplicate copy a sync client (or techdesk itself) made of a
            revision file; read like any file and accepted only if its content is valid
- IGNORED   temporary, partial and metadata files of sync clients, editors and operating
            systems, and every hidden (leading-dot) name: never read, never reported
- UNSAFE    `..`, a path separator, control or undecodable characters: reported
- UNEXPECTED anything else: reported, never read
"""

from __future__ import annotations

import re

REVISION, COPY, IGNORED, UNSAFE, UNEXPECTED = "revision", "copy", "ignored", "unsafe", "unexpected"

KIND_RE = re.compile(r"[a-z][a-z0-9_]{0,30}")
RECORD_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
REV_FILE_RE = re.compile(r"([0-9a-f]{64})\.json")
# Device names Windows cannot create as files or directories, in any case.
WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(1, 10)] + [f"lpt{i}" for i in range(1, 10)]
)

_H = r"([0-9a-f]{64})"
COPY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Syncthing: <rev>.sync-conflict-20240131-235959-ABCDEF7.json (possibly nested)
    ("syncthing", re.compile(_H + r"(?:\.sync-conflict-\d{8}-\d{6}-[A-Za-z0-9]+)+\.json")),
    # Dropbox "<rev> (Ann's conflicted copy 2024-01-31).json", Nextcloud
    # "<rev> (conflicted copy 2024-01-31 235959).json", generic duplicates "<rev> (1).json"
    ("parenthesized", re.compile(_H + r" \(.{1,200}\)\.json")),
    # ownCloud (older clients): <rev>_conflict-20240131-235959.json
    ("owncloud", re.compile(_H + r"_conflict-\d{8}-\d{6}\.json")),
    # techdesk itself, when a final name is taken by a corrupt file: <rev>.copy-<hex>.json
    ("techdesk", re.compile(_H + r"\.copy-[0-9a-f]{8,32}\.json")),
    # OneDrive: <rev>-COMPUTERNAME.json, <rev>-COMPUTERNAME-2.json
    ("onedrive", re.compile(_H + r"-[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\.json")),
)

# Our own temporary files: .<final name>.tmp-<8 hex device tag><8 hex random>
OWN_TEMP_RE = re.compile(r"\.(.{1,200}\.json)\.tmp-([0-9a-f]{8})[0-9a-f]{8}")

_IGNORED_EXACT = frozenset(["desktop.ini", "thumbs.db", "ehthumbs.db", "icon\r"])
_IGNORED_SUFFIXES = (".tmp", ".partial", ".part", ".!sync", ".crdownload")


def is_valid_record_id(record_id: object) -> bool:
    return (
        isinstance(record_id, str)
        and RECORD_ID_RE.fullmatch(record_id) is not None
        and record_id.lower() not in WINDOWS_RESERVED
    )


def unsafe_reason(name: str) -> str | None:
    if "/" in name or "\\" in name or "\0" in name:
        return "unsafe file name (path separator)"
    if ".." in name:
        return "unsafe file name (contains '..')"
    return None


def is_ignored(name: str) -> bool:
    """Temporary, partial or metadata files: our own `.<rev>.json.tmp-*`, Syncthing
    `.syncthing.*.tmp` and `~syncthing~*.tmp`, Dropbox `.dropbox*`, Nextcloud
    `.<name>.~<hex>`, macOS `._*` and `.DS_Store`, LibreOffice `.~lock*`, Office `~$*`,
    NFS `.nfs*`, `*.partial`, `*.tmp`, `desktop.ini`, `Thumbs.db`..."""
    if name.startswith((".", "~")):
        return True
    low = name.lower()
    return low in _IGNORED_EXACT or low.endswith(_IGNORED_SUFFIXES)


def classify_file(name: str) -> tuple[str, str]:
    """(class, detail): the rev for REVISION/COPY, the reason for UNSAFE/UNEXPECTED."""
    match = REV_FILE_RE.fullmatch(name)
    if match:
        return REVISION, match.group(1)
    bad = unsafe_reason(name)
    if bad:
        return UNSAFE, bad
    if is_ignored(name):
        return IGNORED, ""
    if not name.isprintable():
        return UNSAFE, "unsafe file name (control or undecodable characters)"
    for _label, pattern in COPY_PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return COPY, match.group(1)
    return UNEXPECTED, "unexpected file name"


def classify_record_dir(name: str) -> tuple[str, str]:
    """Classify an entry of a `<kind>s/` directory: record ids are directories."""
    if is_valid_record_id(name):
        return REVISION, name
    bad = unsafe_reason(name)
    if bad:
        return UNSAFE, bad.replace("file name", "name")
    if is_ignored(name):
        return IGNORED, ""
    if not name.isprintable():
        return UNSAFE, "unsafe name (control or undecodable characters)"
    return UNEXPECTED, "not a valid record id"


def display(name: str) -> str:
    """A printable rendering of a (possibly hostile or undecodable) name."""
    if name.isprintable():
        return name
    out = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape'd byte of an undecodable name
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)
