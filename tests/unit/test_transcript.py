"""Session transcripts: the host's bytes as clean text, escapes split across reads, a cap."""

from __future__ import annotations

import json
import stat

import pytest

from techdesk.terminal.transcript import Transcript, transcript_name
from techdesk.workspace import SettingsError, Workspace, check_setting


def test_escapes_split_across_reads_are_removed_and_line_ends_kept(tmp_path):
    t = Transcript(tmp_path / "t" / "web.txt")
    for chunk in (b"$ ls\r", b"\n\x1b[1;3", b"1mRED\x1b[0m file\r\n\x1b]0;ti", b"tle\x07",
                  b"caf\xc3", b"\xa9 \xff\r\n\x1b]52;c;cHduZWQ=", b"\x07done\r\n"):
        t.write(chunk)
    t.close()
    text = t.path.read_text(encoding="utf-8")
    assert text == "$ ls\nRED file\ncafé \ufffd\ndone\n"
    assert stat.S_IMODE(t.path.stat().st_mode) == 0o600   # the workspace's: this user's only
    t.write(b"after close")                               # a late read: ignored, no error
    assert "after close" not in t.path.read_text()


def test_a_flood_stops_at_the_cap_with_a_marker(tmp_path):
    t = Transcript(tmp_path / "t.txt", cap=1000)
    for _ in range(100):
        t.write(b"x" * 99 + b"\n")
    t.close()
    text = t.path.read_text()
    assert t.capped and text.count("x") == 1000 - text[:1000].count("\n")
    assert text.rstrip("\n").endswith("by techdesk; the session went on …]") and "transcript capped at" in text
    assert len(text.encode()) < 1200


def test_an_existing_file_or_link_is_never_written_through(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / "t.txt").symlink_to(target)
    with pytest.raises(OSError):
        Transcript(tmp_path / "t.txt")
    assert target.read_text() == "keep"


def test_names_and_the_setting():
    name = transcript_name("../../etc/x y", 0)
    assert "/" not in name and name.endswith(".txt") and " " not in name
    assert check_setting("terminal_transcript", True) is True
    with pytest.raises(SettingsError, match="true or false"):
        check_setting("terminal_transcript", "yes")


def test_transcripts_are_off_by_default(tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert ws.settings.terminal_transcript is False
    assert json.loads(ws.settings_path.read_text())["terminal_transcript"] is False
