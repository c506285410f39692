"""The dashboard and the window's own scheduler: due schedules run while the window is open."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)
SWEEP_EVERY_MS = 60_000


class DashboardController(QObject):
    swept = Signal(object)

    def __init__(self, services, view, window) -> None:
        super().__init__(window)
        self.services = services
        self.view = view
        self.window = window
        self.task: asyncio.Task | None = None
        view.sweep_clicked.connect(self.sweep_now)
        self._timer = QTimer(self)
        self._timer.setInterval(SWEEP_EVERY_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def refresh(self) -> None:
        if self.services.closed:  # a sweep that ends after the window closed
            return
        monitor = self.services.monitor
        schedules = monitor.schedules()
        self.view.show_health(monitor.health(), len(schedules))
        self.view.schedules.show_schedules(schedules)

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        # A closed window (its services may be closed too) sweeps nothing.
        if self.services.closed or not self.window.isVisible():
            return
        # Only when something is due: the sweep lock keeps cron and the window apart.
        if self.services.monitor.due():
            self.sweep_now()

    def sweep_now(self) -> asyncio.Task | None:
        if self.task is not None and not self.task.done():
            return None
        self.view.sweep_button.setEnabled(False)
        self.task = asyncio.ensure_future(self.services.monitor.sweep())
        self.task.add_done_callback(self._done)
        return self.task

    def _done(self, task: asyncio.Task) -> None:
        self.view.sweep_button.setEnabled(True)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            raise error
        result = task.result()
        self.refresh()
        self.swept.emit(result)
        opened = [e for e in result.get("alerts", []) if e.get("event") in ("opened", "escalated")]
        if opened:
            self.window.notify_alerts(opened)
