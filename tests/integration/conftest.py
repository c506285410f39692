"""Fixtures shared by the sync tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def team(tmp_path, capsys, monkeypatch):
    """Two technicians' workspaces (ann, bob) on one shared folder, set up by ann."""
    from .test_sync_service import Device

    shared = tmp_path / "shared"
    ann = Device(tmp_path / "ann", shared, "ann", capsys, monkeypatch)
    bob = Device(tmp_path / "bob", shared, "bob", capsys, monkeypatch)
    assert ann("sync", "--init")[0] == 0
    return ann, bob
