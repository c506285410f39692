"""The SFTP file service against OpenSSH's real sshd: transfers, folder work, faults."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading

import pytest

from techdesk.services.context import Services
from techdesk.store import audit
from techdesk.terminal.files import PART, TransferCancelled, TransferError
from techdesk.workspace import Workspace
from tests.fixtures.sshd import add_host

pytestmark = pytest.mark.sshd


def _services(tmp_path, server) -> Services:
    return add_host(Services(Workspace(tmp_path / "ws")), server, "fs")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_upload_download_hashes_and_folder_work(sshd, tmp_path):
    svc = _services(tmp_path, sshd)
    remote_dir = tmp_path / "remote"
    remote_dir.mkdir()
    local = tmp_path / "big.bin"
    local.write_bytes(os.urandom(6 * 1024 * 1024 + 3))
    back = tmp_path / "back.bin"
    seen = []

    async def scenario():
        files = await svc.sessions.open_files("fs")
        try:
            folder = str(remote_dir)
            await files.upload(local, folder + "/big.bin", progress=lambda d, t: seen.append((d, t)))
            await files.mkdir(folder + "/sub")
            await files.rename(folder + "/big.bin", folder + "/sub/moved.bin")
            listing = await files.list(folder)
            assert [(e.name, e.is_dir) for e in listing] == [("sub", True)]
            inside = await files.list(folder + "/sub")
            assert [(e.name, e.size) for e in inside] == [("moved.bin", local.stat().st_size)]
            assert inside[0].permissions.startswith("-rw")
            await files.download(folder + "/sub/moved.bin", back)
            with pytest.raises(TransferError):
                await files.rename(folder + "/sub/moved.bin", folder + "/sub")  # never replaces
            assert await files.delete(folder + "/sub") == 2
            assert await files.list(folder) == []
        finally:
            files.close()

    asyncio.run(scenario())
    assert _sha(back) == _sha(local)
    assert seen and seen[-1] == (local.stat().st_size, local.stat().st_size)
    assert not list(tmp_path.glob("*" + PART))
    actions = [(e.action, e.outcome) for e in audit.entries(svc.conn, host="fs")]
    for expected in (("upload-result", "done"), ("download-result", "done"), ("file-mkdir", "done"),
                     ("file-rename", "done"), ("file-delete", "done"), ("file-rename", "failed")):
        assert expected in actions
    assert svc.connections.opened == 1
    svc.close()


def test_cancel_leaves_nothing_under_the_final_name(sshd, tmp_path):
    svc = _services(tmp_path, sshd)
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(8 * 1024 * 1024))
    dest = tmp_path / "dest.bin"
    cancel = threading.Event()

    async def scenario():
        files = await svc.sessions.open_files("fs")
        try:
            with pytest.raises(TransferCancelled):
                await files.download(str(src), dest, progress=lambda d, t: cancel.set(), cancel=cancel)
            cancel.clear()
            with pytest.raises(TransferCancelled):
                await files.upload(src, str(tmp_path / "up.bin"), progress=lambda d, t: cancel.set(),
                                   cancel=cancel)
        finally:
            files.close()

    asyncio.run(scenario())
    assert not dest.exists() and not (tmp_path / "up.bin").exists()
    assert not list(tmp_path.glob("*" + PART))
    assert ("download-result", "cancelled") in [(e.action, e.outcome) for e in audit.entries(svc.conn)]
    svc.close()


def test_sshd_killed_mid_transfer(sshd_factory, tmp_path):
    server = sshd_factory()
    svc = _services(tmp_path, server)
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(32 * 1024 * 1024))
    dest = tmp_path / "dest.bin"
    dest.write_bytes(b"the previous version")   # a file of that name already exists: it must survive

    def kill_once(done, total):
        if server.proc and server.proc.poll() is None:
            server.kill()

    async def scenario():
        files = await svc.sessions.open_files("fs")
        try:
            with pytest.raises(TransferError) as err:
                await asyncio.wait_for(files.download(str(src), dest, progress=kill_once), 120)
            return str(err.value)
        finally:
            files.close()

    message = asyncio.run(scenario())
    assert "\n" not in message and ("lost" in message or "failed" in message), message
    assert dest.read_bytes() == b"the previous version"
    assert not list(tmp_path.glob("*" + PART))
    result = [e for e in audit.entries(svc.conn, host="fs") if e.action == "download-result"]
    assert result and result[-1].outcome == "failed"
    svc.close()
