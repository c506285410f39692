"""Terminal tabs in the window: open one per request, connect it, reconnect it, close it.

A tab's title is the host and the state ("web01 — connecting…", "web01", "web01 —
closed"); the host's own window title (plain text, capped) is the tab's tooltip.
The connection is the pool's (same host-key and password dialogs as runs).
"""

from __future__ import annotations

import asyncio
import contextlib

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QTabBar, QToolButton

from techdesk.services.sessions import Prompts, QuickTarget, SessionError, parse_quick
from techdesk.ui.plain import plain_tip
from techdesk.ui.views.terminal_view import DEFAULT_FONT_SIZE, TerminalView

FONT_KEY = "terminal/font_size"


def add_closable_tab(tabs, widget, title: str, on_close) -> None:
    """A tab with its own close button (the window's fixed tabs have none), made current."""
    index = tabs.addTab(widget, title)
    close = QToolButton(text="✕", autoRaise=True, toolTip="Close this tab")
    close.clicked.connect(on_close)
    tabs.tabBar().setTabButton(index, QTabBar.ButtonPosition.RightSide, close)
    tabs.setCurrentWidget(widget)


def remove_closable_tab(tabs, widget) -> None:
    """The tab of `widget` removed (if it is still there) and the widget deleted."""
    index = tabs.indexOf(widget)
    if index >= 0:
        tabs.removeTab(index)
    widget.deleteLater()


class TerminalController(QObject):
    def __init__(self, services, window, tabs, settings) -> None:
        super().__init__(window)
        self.services = services
        self.window = window
        self.tabs = tabs
        self.settings = settings          # QSettings: the font size is a preference of this desk
        self.views: list[TerminalView] = []
        self.tasks: dict[TerminalView, asyncio.Task] = {}
        self._titles = QTimer(self, interval=1000)  # the host's title changes arrive with output
        self._titles.timeout.connect(self._update_tooltips)
        self._titles.start()

    def font_size(self) -> int:
        try:
            return int(self.settings.value(FONT_KEY, DEFAULT_FONT_SIZE))
        except (TypeError, ValueError):
            return DEFAULT_FONT_SIZE

    def open_quick(self, text: str) -> TerminalView | None:
        """Quick connect: `user@host[:port]` from the filter bar, not in the roster; once the
        shell is up the tab offers to save the host to a client."""
        quick = parse_quick(text)
        if quick is None:
            self.window.statusBar().showMessage("Quick connect takes user@host or user@host:port", 6000)
            return None
        return self.open(str(quick), quick)

    def open(self, name: str, quick: QuickTarget | None = None) -> TerminalView:
        """A new tab with a shell on `name` (connecting in the background)."""
        view = TerminalView(self.font_size())
        view.host_name = name
        view.quick = quick
        view.reconnect_requested.connect(lambda: self.connect(view))
        view.closed.connect(lambda: self._set_state(view, "closed"))
        view.font_size_changed.connect(lambda size: self.settings.setValue(FONT_KEY, size))
        add_closable_tab(self.tabs, view, name, lambda: self.close(view))
        self.views.append(view)
        view.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        self.connect(view)
        return view

    def connect(self, view: TerminalView) -> None:
        if view in self.tasks and not self.tasks[view].done():
            return
        self.tasks[view] = asyncio.ensure_future(self._connect(view))

    async def _connect(self, view: TerminalView) -> None:
        name = view.host_name
        self._set_state(view, "connecting…")
        view.note(f"Connecting to {name}…")
        await asyncio.sleep(0.1)  # let the tab lay out: the PTY starts at the tab's real size
        view._apply_size()
        prompts = Prompts(self.window.hostkey_prompt, self.window.secret_prompt, self.window.endpoint_prompt)
        try:
            shell = await self.services.sessions.open_shell(view.quick or name, view.emulator.columns,
                                                            view.emulator.lines, prompts)
        except SessionError as exc:
            view.note(f"Could not connect: {exc} — press Enter to try again")
            self._set_state(view, "failed")
            return
        if view not in self.views:  # the tab was closed while connecting
            shell.close()
            return
        view.clear_note()                # the shell is up: "Connecting to …" is no longer true
        view.attach(shell)
        self._set_state(view, None)
        if view.quick is not None and not view.offer_row.isVisible():
            view.offer(f"{view.quick} is not in the roster.", "Save to a client…", lambda: self.save_quick(view))

    def save_quick(self, view: TerminalView) -> None:
        """The host dialog, filled in from the quick-connect target (the roster validates)."""
        from techdesk.core.roster import HostSpec
        from techdesk.ui.dialogs.host_dialog import HostDialog

        q = view.quick
        dialog = HostDialog(self.services.roster, parent=self.window)
        spec = HostSpec(name=q.address.replace(":", "-"), address=q.address, port=q.port, user=q.user)
        dialog.name.setText(spec.name)
        dialog.address.setText(spec.address)
        dialog.port.setText("" if q.port == 22 else str(q.port))
        dialog.user.setText(spec.user)
        if dialog.exec() and dialog.saved:
            self.window.roster.refresh()
            self.window.statusBar().showMessage(f"Saved {dialog.saved.name} to the roster", 6000)

    def _set_state(self, view: TerminalView, state: str | None) -> None:
        index = self.tabs.indexOf(view)
        if index >= 0:
            self.tabs.setTabText(index, view.host_name + (f" — {state}" if state else ""))

    def _update_tooltips(self) -> None:
        for view in self.views:
            index = self.tabs.indexOf(view)
            title = view.emulator.screen.title
            if index >= 0:
                # The title is the host's (an OSC sequence): shown literally, never as markup.
                self.tabs.setTabToolTip(index, plain_tip(f"{view.host_name}: {title}" if title else view.host_name))

    def close(self, view: TerminalView) -> None:
        if view in self.views:
            self.views.remove(view)
        task = self.tasks.pop(view, None)
        if task is not None and not task.done():
            task.cancel()
        if view.session is not None:
            view.session.close()
        remove_closable_tab(self.tabs, view)

    def close_all(self) -> None:
        for view in list(self.views):
            with contextlib.suppress(RuntimeError):
                self.close(view)
