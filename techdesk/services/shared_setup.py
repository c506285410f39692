"""Setting up a new shared folder: what `techdesk --shared DIR sync --init` does, as
one call for the window (and anything else that is not the command line).

The folder must be new or empty (the sync service refuses anything else, so a wrong
choice never scatters files into someone's documents); it is remembered in the
settings only once the first sync into it has worked.
"""

from __future__ import annotations

import os
from pathlib import Path

from techdesk.sync import SharedFolderError


def check_candidate(path: str) -> Path:
    """The folder as it will be used, or SharedFolderError (one line) if it cannot be."""
    text = (path or "").strip()
    if not text:
        raise SharedFolderError("choose a folder first")
    folder = Path(text).expanduser()
    if not folder.is_absolute():
        raise SharedFolderError(f"{text!r} is not a full path")
    if folder.exists() and not folder.is_dir():
        raise SharedFolderError(f"{folder} is a file, not a folder")
    if folder.is_dir() and not os.access(folder, os.W_OK):
        raise SharedFolderError(f"{folder} is not writable for you")
    return folder


async def set_up(services, path: str):
    """Create the marker in ``path`` (made if missing), remember it, and sync once.
    Returns the SyncReport; SharedFolderError leaves the settings as they were."""
    folder = check_candidate(path)
    workspace = services.workspace
    if workspace._shared_override and Path(workspace._shared_override).expanduser() != folder:
        raise SharedFolderError("the shared folder is fixed by --shared or TECHDESK_SHARED for this session")
    previous = workspace.settings.shared
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SharedFolderError(f"cannot create {folder}: {exc.strerror}") from None
    services.settings.update(shared=str(folder))
    try:
        return await services.sync.sync_async(init=True)
    except SharedFolderError:
        services.settings.update(shared=previous or "")
        raise
