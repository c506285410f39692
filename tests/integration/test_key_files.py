"""Key paths come from the roster, imports and the shared folder: one that names a
FIFO, a device, a directory or a huge file is refused at once with one line, and
connecting counts against the run's own time limit."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from techdesk.services import runner
from techdesk.services.context import Services
from techdesk.workspace import Workspace
from tests.integration.hostile_servers import FakeServer
from tests.integration.test_run import _add, _pin

pytestmark = pytest.mark.sshd


def _fifo(tmp_path):
    path = tmp_path / "key-fifo"
    os.mkfifo(path)
    return path, "FIFO"


def _device(tmp_path):
    return "/dev/zero", "device"


def _directory(tmp_path):
    path = tmp_path / "keydir"
    path.mkdir()
    return path, "directory"


def _huge(tmp_path):
    path = tmp_path / "huge-key"
    with open(path, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MiB of zeros, no disk used
    return path, "too big"


@pytest.mark.timeout(60)  # before the fix a FIFO key blocked the run for good
@pytest.mark.parametrize("make", [_fifo, _device, _directory, _huge])
def test_bad_key_path_is_refused_at_once(cli, sshd, workspace_dir, tmp_path, make):
    key, word = make(tmp_path)
    _pin(workspace_dir, sshd)
    _add(cli, sshd, key=key)
    t0 = time.monotonic()
    code, out, err = cli("run", "linux-quick", "local", "--json")
    took = time.monotonic() - t0
    host = json.loads(out)["hosts"][0]
    assert host["error"]["kind"] == "auth", host["error"]
    message = host["error"]["message"]
    assert word in message and str(key) in message and "\n" not in message
    assert code == 3 and took < 10, took
    # Nothing was sent: no "run" entry in the audit log.
    code, out, _ = cli("audit", "--json")
    assert not any(e["action"] == "run" for e in json.loads(out)["entries"])


def test_connect_counts_against_the_run_limit(workspace_dir, monkeypatch):
    """A server that accepts and says nothing: with the default timeouts (10 s for the
    greeting, 20 s for the handshake), the run's 2 s limit still ends it."""
    listener = FakeServer()
    monkeypatch.setattr(runner, "RUN_LIMIT_S", 2.0)
    svc = Services(Workspace(workspace_dir))
    try:
        from techdesk.core.roster import HostSpec

        svc.roster.add(HostSpec(name="mute", address="127.0.0.1", port=listener.port))
        t0 = time.monotonic()
        report = asyncio.run(svc.runner.run(svc.bundles.get("linux-quick"), [svc.roster.get("mute")]))
        took = time.monotonic() - t0
        assert report.results[0].error.kind == "timeout", report.results[0].error
        assert took < 6, took
    finally:
        svc.close()
        listener.close()
