"""A file named by a (possibly compromised) host is saved only under one plain name."""

from pathlib import Path

import pytest

from techdesk.terminal.files import TransferError, local_target

WINDOWS = ("\\", "/")
POSIX = ("/", None)


@pytest.mark.parametrize("name", ["..\\..\\x.bat", "a\\b.txt", "C:x.txt", "sub/x", "..", ".", ""])
def test_names_that_leave_the_folder_on_windows_are_refused(name):
    with pytest.raises(TransferError, match="not a file name on this computer"):
        local_target(Path("C:/Users/t/Downloads"), name, WINDOWS)


@pytest.mark.parametrize("name", ["sub/x", "..", ".", ""])
def test_names_that_leave_the_folder_here_are_refused(name):
    with pytest.raises(TransferError):
        local_target(Path("/home/t/Downloads"), name, POSIX)


def test_a_backslash_is_an_ordinary_character_on_posix():
    assert local_target(Path("/d"), "a\\b.txt", POSIX) == Path("/d") / "a\\b.txt"
    assert local_target(Path("/d"), "report.pdf", WINDOWS).name == "report.pdf"


def test_a_listing_with_a_forged_name_still_shows_the_rest():
    """A hostile SFTP server sends a name with "/" among real ones: that entry is left out."""
    import threading
    from types import SimpleNamespace

    from techdesk.terminal.files import RemoteFiles

    def attr(name, mode=0o100644):
        return SimpleNamespace(filename=name, st_mode=mode, st_size=1, st_mtime=0)

    files = RemoteFiles.__new__(RemoteFiles)
    files._lock = threading.Lock()
    files.sftp = SimpleNamespace(listdir_attr=lambda folder: [
        attr("."), attr("../../etc"), attr("report.txt"), attr("a/b"), attr(""), attr("logs", 0o040755)])
    assert [(e.name, e.path) for e in files.list("/srv")] == [("logs", "/srv/logs"), ("report.txt", "/srv/report.txt")]
