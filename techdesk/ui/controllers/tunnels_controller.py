"""Tunnels tabs: a host's saved port forwards (services.tunnels), started, stopped, opened."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, QProcess, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QInputDialog

from techdesk.core.roster import RosterError
from techdesk.core.text import clean_text
from techdesk.services.sessions import Prompts, SessionError
from techdesk.services.tunnels import Launch
from techdesk.ui.controllers.terminal_controller import add_closable_tab, remove_closable_tab
from techdesk.ui.plain import question
from techdesk.ui.views.tunnels_view import TunnelRow, TunnelsView


def launch(plan: Launch) -> bool:
    """Hand the forwarded port to the desktop: a URL, or a program started detached."""
    if plan.url is not None:
        return QDesktopServices.openUrl(QUrl(plan.url))
    return QProcess.startDetached(plan.argv[0], list(plan.argv[1:]))[0]


class TunnelsTab(QObject):
    def __init__(self, services, window, host: str, launcher=launch) -> None:
        super().__init__(window)
        self.services = services
        self.window = window
        self.host = host
        self.launcher = launcher
        self.view = TunnelsView(host)
        self.tasks: set[asyncio.Task] = set()
        v = self.view
        v.add_clicked.connect(self.ask_add)
        v.remove_clicked.connect(self.remove)
        v.start_clicked.connect(lambda: self._spawn(self.start()))
        v.stop_clicked.connect(self.stop)
        v.open_clicked.connect(self.open)
        self.timer = QTimer(self, interval=1000)   # bytes moved and dropped connections
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _status(self, text: str, error: bool = False) -> None:
        self.view.status.setText(clean_text(text))
        self.view.status.setStyleSheet("color: #b00020;" if error else "")

    def refresh(self) -> None:
        tunnels = self.services.tunnels
        rows = []
        for t in tunnels.saved(self.host):
            forward = tunnels.running.get(t.id)
            state = "stopped" if forward is None else ("running" if forward.active else "dropped")
            local = f"127.0.0.1:{forward.port}" if forward is not None else (
                f"127.0.0.1:{t.spec.local_port}" if t.spec.local_port else "any free port")
            target = f"{t.spec.target_host}:{t.spec.target_port}"
            rows.append(TunnelRow(t.id, t.label, local, target, state,
                                  forward.bytes_out if forward else 0, forward.bytes_in if forward else 0,
                                  tunnels.launch(t.id) is not None))
        self.view.show_rows(rows)

    def ask_add(self) -> None:
        spec, ok = QInputDialog.getText(self.view, "Add tunnel",
                                        "[LOCAL_PORT:]TARGET_HOST:TARGET_PORT, as seen from " + self.host
                                        + "\n(for example 3389:192.168.1.20:3389 for a PC's remote desktop)")
        if not ok or not spec.strip():
            return
        label, ok = QInputDialog.getText(self.view, "Add tunnel", "Name (optional):")
        if ok:
            self.add(spec, label)

    def add(self, spec: str, label: str = "") -> int | None:
        try:
            saved = self.services.tunnels.save(self.host, spec, label)
        except (SessionError, RosterError) as exc:
            self._status(str(exc), error=True)
            return None
        self.refresh()
        self.view.select(saved.id)
        self._status(f"Saved {saved.label} with {self.host}.")
        return saved.id

    def remove(self, confirm=None) -> None:
        tunnel_id = self.view.selected_id()
        if tunnel_id is None:
            return
        t = self.services.tunnels.get(tunnel_id)
        ask = confirm or (lambda text: question(self.view, "Remove tunnel", text))
        if ask(f"Remove the tunnel {t.label} from {self.host}?"):
            self.services.tunnels.remove(tunnel_id)
            self.refresh()

    async def start(self, tunnel_id: int | None = None) -> bool:
        tunnel_id = tunnel_id if tunnel_id is not None else self.view.selected_id()
        if tunnel_id is None:
            return False
        self._status("Starting…")
        prompts = Prompts(self.window.hostkey_prompt, self.window.secret_prompt, self.window.endpoint_prompt)
        try:
            forward = await self.services.tunnels.start(tunnel_id, prompts)
        except SessionError as exc:
            self._status(str(exc), error=True)
            self.refresh()
            return False
        self._status(f"Listening on 127.0.0.1:{forward.port}.")
        self.refresh()
        return True

    def stop(self) -> None:
        tunnel_id = self.view.selected_id()
        if tunnel_id is not None:
            self.services.tunnels.stop(tunnel_id)
            self._status("Stopped.")
            self.refresh()

    def open(self) -> bool:
        tunnel_id = self.view.selected_id()
        plan = self.services.tunnels.launch(tunnel_id) if tunnel_id is not None else None
        if plan is None:
            self._status("Nothing to open this port with (no RDP client or browser for it).", error=True)
            return False
        if not self.launcher(plan):
            self._status(f"Could not start {plan.argv[0] if plan.argv else plan.url}.", error=True)
            return False
        return True

    def close(self) -> None:
        self.timer.stop()
        for task in list(self.tasks):
            task.cancel()


class TunnelsController(QObject):
    """One Tunnels tab per host; running forwards outlive their tab until the window closes."""

    def __init__(self, services, window, tabs) -> None:
        super().__init__(window)
        self.services = services
        self.window = window
        self.tabs = tabs
        self.open_tabs: dict[str, TunnelsTab] = {}

    def open(self, host: str) -> TunnelsTab:
        tab = self.open_tabs.get(host)
        if tab is not None:
            self.tabs.setCurrentWidget(tab.view)
            return tab
        tab = TunnelsTab(self.services, self.window, host)
        add_closable_tab(self.tabs, tab.view, f"Tunnels — {host}", lambda: self.close(tab))
        self.open_tabs[host] = tab
        return tab

    def close(self, tab: TunnelsTab) -> None:
        self.open_tabs.pop(tab.host, None)
        tab.close()
        remove_closable_tab(self.tabs, tab.view)

    def close_all(self) -> None:
        for tab in list(self.open_tabs.values()):
            self.close(tab)
        self.services.tunnels.stop_all()
