"""A run never starts threads on the event loop's thread: Thread.start() waits until the
new thread runs (tens of ms on a busy machine), which there is a frozen window."""

from __future__ import annotations

import asyncio
import socket
import threading

from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.workspace import Workspace


def test_a_run_starts_its_worker_threads_off_the_loop_thread(tmp_path, monkeypatch):
    svc = Services(Workspace(tmp_path / "ws"))
    with socket.socket() as s:  # a port nothing listens on: each host fails fast, on loopback
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    for i in range(4):
        svc.roster.add(HostSpec(name=f"h{i}", address="127.0.0.1", port=closed))
    started_on_loop: list[str] = []
    real_start = threading.Thread.start

    def start(self):
        if threading.current_thread() is threading.main_thread() and self.name.startswith("techdesk-ssh"):
            started_on_loop.append(self.name)
        return real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    try:
        report = asyncio.run(svc.runner.run(svc.bundles.get("linux-quick"), svc.roster.hosts(), concurrency=4))
    finally:
        svc.close()
    assert [r.error.kind for r in report.results] == ["unreachable"] * 4
    assert started_on_loop == []
