#!/usr/bin/env python3
"""Screenshots of the main views on the demo workspace, for the README and for review.

Runs the real window (offscreen unless DISPLAY is set, e.g. under xvfb-run), runs
linux-health on every demo host through the embedded demo SSH server, and saves
PNGs to docs/images/ (or the folder given).

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
        window.resize(1360, 820)
        window.show()

        def settle(ms: int = 150) -> None:
            loop.run_until_complete(asyncio.sleep(ms / 1000))

        def shot(name: str) -> None:
            settle()
            path = out / f"{name}.png"
            window.grab().save(str(path))
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
        window.tabs.setCurrentWidget(window.notes_panel)
        shot("notes")
        window.roster_panel.filter.setText("acme")
        shot("filter")
        window.roster_panel.filter.setText("")
        window.dashboard_ctl.refresh()
        window.tabs.setCurrentWidget(window.dashboard)
        shot("dashboard")
        fix_flow(window, services, out, settle)
        window.close()
    finally:
        services.close()
        env.close()
    return 0


def fix_flow(window, services, out: Path, settle) -> None:
    """During a visit at Acme: Fix… on acme-web01's failed nginx, then the visit report."""
    from techdesk.ui.dialogs.fix_dialog import FixDialog

    visit = services.visits.start("Acme Logistics", "HQ")
    window.visits.refresh()
    asyncio.get_event_loop().run_until_complete(window.runs.start("linux-health", ["acme-web01"]))
    window.show_host("acme-web01")
    window.fix_finding("acme-web01", "failed_units")
    dialog = next(w for w in window.findChildren(FixDialog))
    settle()
    dialog.grab().save(str(out / "fix-dialog.png"))
    dialog.run_button.click()
    asyncio.get_event_loop().run_until_complete(dialog.task)
    settle()
    dialog.grab().save(str(out / "fix-dialog-done.png"))
    dialog.close()
    pdf = services.reports.visit(visit.id, out / "visit-report-fix.pdf")
    print(out / "fix-dialog.png", out / "fix-dialog-done.png", pdf, sep="\n")


if __name__ == "__main__":
    sys.exit(main())
