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
        window.resize(1280, 800)
        window.show()

        def settle(ms: int = 150) -> None:
            loop.run_until_complete(asyncio.sleep(ms / 1000))

        def shot(widget, name: str) -> None:
            widget.show()
            settle()
            path = out / f"{name}.png"
            widget.grab().save(str(path))
            print(path)

        hosts = [h.name for h in services.roster.hosts()]
        for _ in range(2):
            loop.run_until_complete(window.runs.start("linux-health", hosts))
        settle(300)
        scenes = Scenes(window, services, shot, settle)
        for scene in scenes.all():
            scene()
        window.close()
    finally:
        services.close()
        env.close()
    return 0


class Scenes:
    """One method per screenshot; each leaves the window as it found it."""

    def __init__(self, window, services, shot, settle) -> None:
        self.window, self.services, self.shot, self.settle = window, services, shot, settle

    def all(self):
        return [self.schedules, self.settings]

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


if __name__ == "__main__":
    sys.exit(main())

