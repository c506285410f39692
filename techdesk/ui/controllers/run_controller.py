"""Wires the run panel to the run service: start, stream results, cancel.

Events from the service arrive on the loop (the GUI thread, under qasync); they
are queued and applied to the widgets in batches every 100 ms, so a sweep over
hundreds of hosts never floods the event loop with tiny repaints.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from techdesk.core.host_state import is_cancel

if TYPE_CHECKING:
    from techdesk.services.runner import RunEvent


class RunController(QObject):
    run_finished = Signal(object)   # RunReport
    host_finished = Signal(object)  # HostResult
    hosts_finished = Signal(list)   # names of the hosts finished since the last flush (one per batch)

    def __init__(self, services, panel, hostkey_prompt=None, secret_prompt=None, parent=None,
                 endpoint_prompt=None) -> None:
        super().__init__(parent)
        self.services = services
        self.panel = panel
        self.hostkey_prompt = hostkey_prompt
        self.secret_prompt = secret_prompt
        self.endpoint_prompt = endpoint_prompt  # a host moved since its secret was stored
        self.targets: list[str] = []
        self.task: asyncio.Task | None = None
        self.cancel_event: threading.Event | None = None
        self.last_report = None
        self.last_os_box: QMessageBox | None = None
        self._queue: list[RunEvent] = []
        self._t0 = 0.0
        self._counts = {"ok": 0, "warn": 0, "crit": 0, "unknown": 0, "cancelled": 0}
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(100)
        self._flush_timer.timeout.connect(self._flush)
        panel.run_clicked.connect(self.run_selected)
        panel.cancel_clicked.connect(self.cancel)
        self.reload_bundles()

    def reload_bundles(self) -> None:
        bundles = self.services.bundles.all()
        self.panel.set_bundles([(b.name, b.title) for b in bundles.values()],
                               "linux-health" if "linux-health" in bundles else None)

    def set_targets(self, hosts: list[str], description: str | None = None) -> None:
        """What Run runs on: always the roster's selection (the window calls this when
        it changes and when a run ends), said plainly with the number of hosts."""
        self.targets = list(hosts)
        if description is None:
            description = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
        if not hosts:
            text = "Nothing selected: select hosts, a site or a client in the roster"
        elif len(hosts) == 1 and description == hosts[0]:
            text = hosts[0]
        else:
            text = f"{description}  ({len(hosts)} host{'s' if len(hosts) != 1 else ''})"
        self.panel.targets.setText(text)
        self.panel.targets.setToolTip("\n".join(hosts[:40]) + ("\n…" if len(hosts) > 40 else ""))
        self.panel.run_button.setEnabled(bool(hosts) and not self.running)

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def run_selected(self) -> None:
        bundle = self.panel.selected_bundle()
        if bundle and self.targets and not self.running:
            self.start(bundle, self.targets)

    def start(self, bundle_name: str, host_names: list[str]) -> asyncio.Task | None:
        # The runner (paramiko) is imported when a run first starts, not at window start-up.
        from techdesk.services.runner import os_mismatches

        bundle = self.services.bundles.get(bundle_name)
        hosts = self.services.runner.resolve_targets(host_names)
        any_os = False
        wrong = os_mismatches(bundle, hosts)
        if wrong:
            choice = self.os_prompt(bundle, hosts, wrong)
            if choice == "matching":
                hosts = [h for h in hosts if h.name not in {w.name for w in wrong}]
            elif choice == "all":
                any_os = True
            if choice is None or not hosts:
                return None
        self.cancel_event = threading.Event()
        self._queue.clear()
        self._counts = dict.fromkeys(self._counts, 0)
        self.panel.start([h.name for h in hosts])
        self._t0 = time.monotonic()
        self._flush_timer.start()
        concurrency = self.services.workspace.settings.concurrency
        self.task = asyncio.ensure_future(self.services.runner.run(
            bundle, hosts, concurrency=concurrency, hostkey_prompt=self.hostkey_prompt,
            secret_prompt=self.secret_prompt, endpoint_prompt=self.endpoint_prompt,
            on_event=self._enqueue, cancel=self.cancel_event, any_os=any_os))
        self.task.add_done_callback(self._done)
        return self.task

    def os_prompt(self, bundle, hosts: list, wrong: list) -> str | None:
        """A bundle for another OS: "matching" (run on the others), "all" (run anyway) or None."""
        box = QMessageBox(self.panel.window())
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Bundle for another OS")
        names = ", ".join(f"{h.name} ({h.os})" for h in wrong[:6]) + (" …" if len(wrong) > 6 else "")
        box.setText(f"{bundle.title} is for {bundle.os}. {len(wrong)} of {len(hosts)} selected "
                    f"host{'s are' if len(wrong) > 1 else ' is'} not: {names}.")
        box.setInformativeText("Its checks could only fail there. Set the host's OS (Edit host) if it is wrong.")
        matching = None
        if len(wrong) < len(hosts):
            n = len(hosts) - len(wrong)
            matching = box.addButton(f"Run on the {n} {bundle.os} host{'s' if n > 1 else ''}",
                                     QMessageBox.ButtonRole.AcceptRole)
        anyway = box.addButton("Run on all anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(matching or box.button(QMessageBox.StandardButton.Cancel))
        self.last_os_box = box
        box.exec()
        clicked = box.clickedButton()
        return "matching" if clicked is matching and matching else "all" if clicked is anyway else None

    def _enqueue(self, event: RunEvent) -> None:
        self._queue.append(event)

    def cancel(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
            self.panel.cancel_button.setEnabled(False)
            self.panel.elapsed.setText("Cancelling…")

    def _flush(self) -> None:
        events, self._queue = self._queue, []
        done = []
        for event in events:
            if event.kind == "host-started":
                self.panel.host_started(event.host)
            elif event.kind == "check":
                self.panel.add_check(event.host, event.check)
            elif event.kind == "host-done":
                self.panel.host_done(event.result)
                cancelled = is_cancel(event.result.error) and not event.result.checks
                self._counts["cancelled" if cancelled else event.result.status.value] += 1
                self.host_finished.emit(event.result)
                done.append(event.result.host)
        if done:
            self.hosts_finished.emit(done)
        if self.running:
            self.panel.elapsed.setText(f"{time.monotonic() - self._t0:.1f}s")
        c = self._counts
        self.panel.counts.setText(f"{c['crit']} critical · {c['warn']} warning · {c['unknown']} unknown · {c['ok']} ok"
                                  + (f" · {c['cancelled']} cancelled" if c["cancelled"] else ""))

    def _done(self, task: asyncio.Task) -> None:
        self._flush()
        self._flush_timer.stop()
        self.panel.set_running(False)
        if task.cancelled():
            self.panel.elapsed.setText("Cancelled")
            return
        error = task.exception()
        if error is not None:
            self.panel.elapsed.setText(f"Failed: {error}")
            raise error  # goes to the global exception hook: shown, logged
        self.last_report = task.result()
        took = time.monotonic() - self._t0
        self.panel.elapsed.setText(("Cancelled after " if self.last_report.cancelled else "Done in ")
                                   + f"{took:.1f}s")
        self.run_finished.emit(self.last_report)
