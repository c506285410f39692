"""The shared folder's format: file names, revision documents, atomic files, the folder.

Store-independent (no SQLite, no Qt). See docs/sync-format.md.
"""

from .folder import (
    MARKER_NAME,
    ScanResult,
    SharedFolder,
    SharedFolderError,
    Skipped,
    read_file_limited,
)
from .revisions import (
    DEFAULT_KINDS,
    FORMAT,
    InvalidRevision,
    Revision,
    canonical_json,
    compute_rev,
    heads,
    make_revision,
    merge_revision,
    revision_from_bytes,
)

__all__ = [
    "DEFAULT_KINDS",
    "FORMAT",
    "MARKER_NAME",
    "InvalidRevision",
    "Revision",
    "ScanResult",
    "SharedFolder",
    "SharedFolderError",
    "Skipped",
    "canonical_json",
    "compute_rev",
    "heads",
    "make_revision",
    "merge_revision",
    "read_file_limited",
    "revision_from_bytes",
]
