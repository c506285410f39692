#!/usr/bin/env python3
"""Screenshots of the window's dialogs on the demo workspace: schedules, the schedule
editor, notifications and shared-folder setup, clients and sites, alerts, attach to
note, run history and compare, output search. For the docs and for review.

Runs the real window (offscreen unless DISPLAY is set, e.g. under xvfb-run), runs
linux-health twice on the demo hosts through the embedded demo SSH server (on
127.0.0.1), and saves PNGs to docs/images/ (or the folder given).

Usage: .venv/bin/python scripts/screenshots_dialogs.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from shotlib import ROOT, demo_window


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    with demo_window(out) as shots:
        window = shots.window
        hosts = [h.name for h in shots.services.roster.hosts()]
        for _ in range(2):  # runs by hand feed alert state, like sweeps
            shots.loop.run_until_complete(window.runs.start("linux-health", hosts))
            shots.loop.run_until_complete(window.tools.alert_task)
        shots.settle(300)
        scenes = Scenes(window, shots.services, shots.shot, shots.settle)
        for scene in scenes.all():
            scene()
    return 0


class Scenes:
    """One method per screenshot; each leaves the window as it found it."""

    def __init__(self, window, services, shot, settle) -> None:
        self.window, self.services, self.shot, self.settle = window, services, shot, settle

    def all(self):
        return [self.schedules, self.settings, self.clients, self.alerts, self.history]

    def schedules(self) -> None:
        from techdesk.ui.dialogs.schedule_editor import ScheduleEditor
        from techdesk.ui.dialogs.schedules_dialog import SchedulesDialog

        mon = self.services.monitor
        client = self.services.roster.clients()[0].name
        mon.add_schedule("linux-health", f"client:{client}", "6h", "Sun 02:00-04:00 Europe/Berlin")
        mon.add_schedule("linux-quick", "all", "30m", "Mon-Fri 22:00-06:00 UTC alerts")
        paused = mon.add_schedule("linux-health", "tag:web", "1d")
        mon.enable_schedule(paused["id"], False)
        dialog = SchedulesDialog(self.services, self.window)
        self.shot(dialog, "schedules")
        editor = ScheduleEditor(self.services, mon.schedules()[0], dialog)
        self.shot(editor, "schedule-editor")
        editor.close()
        dialog.close()
        self.window.dashboard_ctl.refresh()
        self.window.tabs.setCurrentWidget(self.window.dashboard)
        self.shot(self.window, "dashboard-schedules")

    def settings(self) -> None:
        from techdesk.ui.dialogs.settings_dialog import SettingsDialog
        from techdesk.ui.dialogs.shared_folder_dialog import SharedFolderDialog, SyncOfflineDialog

        self.services.notify_setup.configure(webhook_url="https://chat.example.com/hooks/T0/B0",
                                             smtp_host="mail.example.com", smtp_user="ann",
                                             smtp_from="techdesk@example.com", smtp_to="ops@example.com")
        dialog = SettingsDialog(self.services, self.window)
        dialog.tabs.setCurrentIndex(1)
        dialog.test_result.setText("Sent through webhook and email.")
        self.shot(dialog, "settings-notifications")
        dialog.tabs.setCurrentIndex(2)
        self.shot(dialog, "settings-shared-folder")
        setup = SharedFolderDialog(self.services, dialog)
        setup.path.setText(str(Path.home() / "Sync" / "techdesk-team"))
        self.shot(setup, "shared-folder-setup")
        setup.close()
        dialog.close()
        status = {"folder": "/mnt/team/techdesk", "pending": 3, "conflicts": 0, "last_sync": None}
        offline = SyncOfflineDialog(status, "shared folder /mnt/team/techdesk is not reachable (No such file "
                                    "or directory); nothing was changed, your changes wait in the outbox",
                                    self.window)
        self.shot(offline, "sync-offline")
        offline.close()

    def clients(self) -> None:
        from techdesk.ui.dialogs.clients_dialog import ClientsDialog

        client = self.services.roster.clients()[0]
        site = self.services.roster.sites(client.name)[0]
        self.services.roster.set_defaults(client.name, user="admin")
        dialog = ClientsDialog(self.services, self.window)
        dialog.select(client.name, site.name)
        self.shot(dialog, "clients-sites")
        dialog.close()

    def alerts(self) -> None:
        from techdesk.ui.dialogs.alerts_dialog import AlertsDialog

        mon = self.services.monitor
        open_alerts = mon.alerts()
        if len(open_alerts) > 1:
            mon.acknowledge(open_alerts[0]["host"], open_alerts[0]["check"])
            mon.snooze(open_alerts[1]["host"], open_alerts[1]["check"], "4h")
        dialog = AlertsDialog(self.services, self.window)
        self.shot(dialog, "alerts")
        dialog.close()
        self.window.dashboard_ctl.refresh()
        self.window.tabs.setCurrentWidget(self.window.dashboard)
        self.shot(self.window, "dashboard-alerts")

    def history(self) -> None:

        from techdesk.ui.dialogs.attach_dialog import AttachDialog
        from techdesk.ui.dialogs.history_dialog import HistoryDialog

        report = self.window.runs.last_report
        host = next((r.host for r in report.results if r.status.value == "crit" and not r.error),
                    report.results[0].host)
        dialog = HistoryDialog(self.services, host, self.window.tools, self.window)
        # Today's run and one from a week ago: the demo history has changed since.
        rows = [0, min(8, dialog.runs.topLevelItemCount() - 1)]
        for row in rows:
            dialog.runs.topLevelItem(row).setSelected(True)
        self.shot(dialog, "history")
        viewer = dialog.open_run(dialog._selected()[0])
        top = viewer.results.topLevelItem(0)
        worst = next((top.child(i) for i in range(top.childCount())
                      if top.child(i).text(1) not in ("OK",)), top.child(0))
        viewer.results.setCurrentItem(worst)
        viewer.find_bar.open()
        word = (viewer.output.toPlainText().split() or ["%"])[0]
        viewer.find_bar.field.setText(word)
        self.shot(viewer, "run-viewer-find")
        attach = AttachDialog(self.services, viewer.info["run_id"], viewer.info["hosts"], host, None, viewer)
        self.shot(attach, "attach-findings")
        attach.close()
        viewer.close()
        compare = dialog.compare_selected()
        compare.only_changed.setChecked(False)
        self.shot(compare, "compare-runs")
        compare.close()
        dialog.close()


if __name__ == "__main__":
    sys.exit(main())

