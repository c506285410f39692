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
import sys
from pathlib import Path

from shotlib import ROOT, demo_window

from techdesk.services.context import Services
from techdesk.ui.main_window import MainWindow
from techdesk.workspace import Workspace


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    with demo_window(out, (1280, 800)) as shots:
        window, services, loop, settle = shots.window, shots.services, shots.loop, shots.settle
        window.set_theme("light", save=False)

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
        window.tabs.setCurrentWidget(window.briefing_view)  # opening the tab fills it
        window.briefing_view.client_box.setCurrentText("Acme Logistics")
        shot("briefing")
        fix_flow(window, services, out, settle)

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
