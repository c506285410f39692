#!/usr/bin/env python3
"""Screenshots of the main views on the demo workspace, for the README and for review.

Runs the real window (offscreen unless DISPLAY is set, e.g. under xvfb-run), runs
linux-health on every demo host through the embedded demo SSH server, and saves
PNGs to docs/images/ (or the folder given): the views at 1280×800 (the smallest
screen we design for) and some at 1600×1000, a cancelled run that leaves the known
states as they were, the first run on an empty workspace, and the dark palette.

Usage: .venv/bin/python scripts/screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "DISPLAY" not in os.environ:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    import qasync
    from PySide6.QtWidgets import QApplication

    from techdesk.demo.workspace import DemoEnvironment
    from techdesk.services.context import Services
    from techdesk.ui.main_window import MainWindow
    from techdesk.workspace import Workspace

    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    env = DemoEnvironment.create()
    services = Services(Workspace(env.workspace_path))
    try:
        window = MainWindow(services)
        window.set_theme("light", save=False)
        window.resize(1280, 800)
        window.show()

        def settle(ms: int = 150) -> None:
            loop.run_until_complete(asyncio.sleep(ms / 1000))

        def shot(name: str, win=None, dialog=None) -> None:
            settle()
            win = win or window
            pix = win.grab()
            if dialog is not None:  # a dialog is a window of its own: painted in where it sits
                from PySide6.QtGui import QPainter

                painter = QPainter(pix)
                painter.drawPixmap(dialog.frameGeometry().topLeft() - win.frameGeometry().topLeft(), dialog.grab())
                painter.end()
            path = out / f"{name}.png"
            pix.save(str(path))
            print(path)

        hosts = [h.name for h in services.roster.hosts()]
        window.tabs.setCurrentWidget(window.run_panel)
        window.runs.set_targets(hosts)
        loop.run_until_complete(window.runs.start("linux-health", hosts))
        settle(300)
        window.run_panel.results.expandAll()
        shot("run-panel")
        worst = next((r.host for r in window.runs.last_report.results
                      if r.status.value == "crit" and not r.error), hosts[0])
        window.roster_panel.select_host(worst)
        window.tabs.setCurrentWidget(window.host_page)
        window.host_page.table.selectRow(0)
        shot("host-page")
        window.resize(1600, 1000)
        shot("host-page-1600")
        window.resize(1280, 800)
        window.tabs.setCurrentWidget(window.notes_panel)
        shot("notes")
        window.roster_panel.filter.setText("status:crit")
        shot("filter")
        window.roster_panel.filter.setText("")
        window.dashboard_ctl.refresh()
        window.tabs.setCurrentWidget(window.dashboard)
        shot("dashboard")
        window.resize(1600, 1000)
        shot("dashboard-1600")
        window.resize(1280, 800)

        # A run cancelled at once: every host keeps what was known, marked as not confirmed.
        task = window.runs.start("linux-health", hosts)
        window.runs.cancel()
        loop.run_until_complete(task)
        settle(300)
        window.roster.refresh()
        window.roster_panel.select_host(worst)
        window.tabs.setCurrentWidget(window.host_page)
        shot("cancelled-run-states-intact")
        window.tabs.setCurrentWidget(window.run_panel)
        shot("cancelled-run-panel")

        # The dark palette.
        window.set_theme("dark", save=False)
        window.dashboard_ctl.refresh()
        window.tabs.setCurrentWidget(window.dashboard)
        shot("dark-dashboard")
        window.roster_panel.select_host(worst)
        window.tabs.setCurrentWidget(window.host_page)
        shot("dark-host-page")
        window.set_theme("light", save=False)
        window.close()

        # First run on an empty workspace.
        import tempfile

        with tempfile.TemporaryDirectory() as empty:
            fresh = Services(Workspace(Path(empty) / "ws"))
            try:
                first = MainWindow(fresh)
                first.resize(1280, 800)
                first.show()
                settle(300)
                shot("first-run", first, first.first_run_dialog)
                first.first_run_dialog.done(0)
                first.close()
            finally:
                fresh.close()
    finally:
        services.close()
        env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
