#!/usr/bin/env python3
"""Screenshots of the Terminal, Files and Tunnels tabs at 1280×800, for the docs and for review.

The demo's own SSH server runs checks only (no shell, no SFTP, no forwarding), so this
starts the test suite's real OpenSSH sshd on 127.0.0.1 (tests/fixtures/sshd.py; needs
/usr/sbin/sshd, installed by scripts/test) and adds it to the demo workspace as
"acme-gw" (Acme Logistics / HQ). Saves terminal.png, files.png and tunnels.png to
docs/images/ (or the folder given).

Usage: .venv/bin/python scripts/screenshots_sessions.py [OUT_DIR]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from shotlib import ROOT, demo_window


def wait(shots, predicate, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        shots.settle(50)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    from techdesk.core.roster import HostSpec
    from tests.fixtures.sshd import SshdServer

    with tempfile.TemporaryDirectory(prefix="td-shots-") as tmp, SshdServer(Path(tmp) / "sshd") as sshd, \
            demo_window(out) as shots:
        window, services = shots.window, shots.services
        window.set_theme("light", save=False)
        known = services.workspace.known_hosts_path
        with open(known, "a", encoding="utf-8") as pins:  # the demo's pins stay
            pins.write(Path(sshd.known_hosts_path).read_text(encoding="utf-8"))
        services.roster.add(HostSpec(name="acme-gw", address=sshd.host, port=sshd.port, user=sshd.user,
                                     key=str(sshd.client_key_path), client="Acme Logistics", site="HQ",
                                     tags=["router"]))
        window.roster.refresh()
        window.roster_panel.select_host("acme-gw")

        # A terminal: what a double-click on the host opens.
        view = window.terminals.open("acme-gw")
        shots.loop.run_until_complete(window.terminals.tasks[view])
        wait(shots, lambda: any(line.strip() for line in view.emulator.text()), "a prompt")
        share = Path(tmp) / "srv" / "share"
        for folder in ("backups", "invoices", "scans"):
            (share / folder).mkdir(parents=True)
        (share / "backups" / "nightly-2026-11-30.tar.gz").write_bytes(b"\0" * 3_400_000)
        (share / "README.txt").write_text("Shared folder of Acme Logistics\n")
        (share / "inventory.xlsx").write_bytes(b"\0" * 48_213)
        for line in (f"cd {share}", "ls -la", "df -h . | tail -1", "uptime"):
            view.canvas.setFocus()
            from PySide6.QtCore import Qt
            from PySide6.QtGui import QKeyEvent
            from PySide6.QtWidgets import QApplication

            for char in line:
                QApplication.sendEvent(view.canvas, QKeyEvent(QKeyEvent.Type.KeyPress, 0,
                                                              Qt.KeyboardModifier.NoModifier, char))
            QApplication.sendEvent(view.canvas, QKeyEvent(QKeyEvent.Type.KeyPress, Qt.Key.Key_Return,
                                                          Qt.KeyboardModifier.NoModifier, "\r"))
            shots.settle(400)
        wait(shots, lambda: any("load average" in line for line in view.emulator.text()), "uptime")
        shots.settle(300)
        shots.shot(window, "terminal")

        # Files: the same host over SFTP, in the shared folder.
        tab = window.files.open("acme-gw")
        assert shots.loop.run_until_complete(tab.task), "the Files tab did not connect"
        assert shots.loop.run_until_complete(tab.go(str(share)))
        tab.view.list.setCurrentItem(tab.view.list.topLevelItem(0))
        shots.shot(window, "files")

        # Tunnels saved with the host: one running (the router's admin page), one stopped (RDP).
        tunnels = window.tunnels.open("acme-gw")
        tunnels.launcher = lambda plan: True
        web = tunnels.add(f"127.0.0.1:{sshd.port}", "router admin page")
        tunnels.add("10.0.0.40:3389", "reception PC (RDP)")
        tunnels.view.select(web)
        shots.loop.run_until_complete(tunnels.start())
        shots.settle(300)
        shots.shot(window, "tunnels")
        window.tunnels.close_all()
        window.files.close(tab)
        shots.loop.run_until_complete(asyncio.sleep(0.2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
