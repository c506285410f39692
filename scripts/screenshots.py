#!/usr/bin/env python3
"""Screenshots of the main views on the demo workspace, for the README and for review.

Runs the real window (offscreen unless DISPLAY is set, e.g. under xvfb-run), runs
linux-health on every demo host through the embedded demo SSH server, and saves
PNGs to docs/images/ (or the folder given).

Usage: .venv/bin/python scripts/screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from shotlib import ROOT, demo_window


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    with demo_window(out, (1360, 820)) as shots:
        window, services, loop, settle = shots.window, shots.services, shots.loop, shots.settle

        def shot(name: str) -> None:
            shots.shot(window, name)

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
        window.tabs.setCurrentWidget(window.briefing_view)  # opening the tab fills it
        window.briefing_view.client_box.setCurrentText("Acme Logistics")
        shot("briefing")
        fix_flow(window, services, out, settle)
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
