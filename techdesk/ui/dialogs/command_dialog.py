"""Run command… : an ad-hoc sh command on the selected hosts; output per host, audited.

The same ActionService as `techdesk exec`. Output is capped and cleaned; "Attach to
notes" keeps each host's output in a note on that host (it joins a running visit).
"""

from __future__ import annotations

import asyncio
import threading

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from techdesk.ui.controllers.hostkey_prompt import endpoint_prompt_for


class CommandDialog(QDialog):
    def __init__(self, services, hosts: list[str], parent=None, endpoint_prompt=None) -> None:
        super().__init__(parent)
        self.services = services
        # a host that moved since its secret was stored: asked as runs ask (not just told)
        self.endpoint_prompt = endpoint_prompt or endpoint_prompt_for(parent)
        self.host_names = list(hosts)
        self.task: asyncio.Task | None = None
        self.cancel_event = threading.Event()
        self.results: list = []
        self.setWindowTitle("Run command")
        self.resize(720, 560)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        shown = ", ".join(hosts[:6]) + (f" and {len(hosts) - 6} more" if len(hosts) > 6 else "")
        target = QLabel(f"On {len(hosts)} host{'s' if len(hosts) != 1 else ''}: {shown}")
        target.setTextFormat(Qt.TextFormat.PlainText)
        target.setWordWrap(True)
        self.command = QPlainTextEdit()
        self.command.setFont(fixed)
        self.command.setPlaceholderText("sh commands, e.g.  systemctl status nginx --no-pager")
        self.command.setMaximumHeight(110)
        self.command.textChanged.connect(self._update)
        self.root = QCheckBox("As root (sudo with the password from the keyring)")
        self.stop_on_failure = QCheckBox("Stop at the first host that fails")
        self.stop_on_failure.setVisible(len(hosts) > 1)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setFont(fixed)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self._run)
        self.note_button = QPushButton("Attach to notes")
        self.note_button.setEnabled(False)
        self.note_button.clicked.connect(self._attach)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self._close)

        layout = QVBoxLayout(self)
        layout.addWidget(target)
        layout.addWidget(self.command)
        layout.addWidget(self.root)
        layout.addWidget(self.stop_on_failure)
        layout.addWidget(QLabel("Output (capped at 64 KiB per host, control characters removed):"))
        layout.addWidget(self.output, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.note_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.run_button)
        layout.addLayout(buttons)
        self._update()

    def _update(self) -> None:
        idle = self.task is None or self.task.done()
        self.run_button.setEnabled(idle and bool(self.command.toPlainText().strip()))

    def _run(self) -> None:
        script = self.command.toPlainText()
        if not script.strip():
            return
        if not script.endswith("\n"):
            script += "\n"
        self.cancel_event = threading.Event()
        hosts = [self.services.roster.get(n) for n in self.host_names]
        self.output.setPlainText("Running…")
        self.close_button.setText("Stop")
        self.task = asyncio.ensure_future(self.services.actions.execute(
            hosts, {h.name: script for h in hosts}, action="exec", detail=" ".join(script.split())[:200],
            root=self.root.isChecked(), cancel=self.cancel_event,
            stop_on_failure=self.stop_on_failure.isChecked(), concurrency=8,
            endpoint_prompt=self.endpoint_prompt))
        self.task.add_done_callback(self._done)
        self._update()

    def _done(self, task: asyncio.Task) -> None:
        self.close_button.setText("Close")
        self._update()
        if task.cancelled() or task.exception() is not None:
            self.output.setPlainText("Stopped." if task.cancelled() else f"Not run: {task.exception()}")
            return
        self.results = task.result()
        parts = []
        for r in self.results:
            state = f"error ({r.error.kind}): {r.error.message}" if r.error else f"exit {r.exit_code}"
            parts.append(f"== {r.host}: {state} ({r.duration_s:.1f} s)\n{r.output.rstrip()}"
                         + ("\n[output truncated]" if r.truncated else ""))
        self.output.setPlainText("\n\n".join(parts))  # plain text: never interpreted as markup
        self.note_button.setEnabled(any(r.error is None for r in self.results))

    def _attach(self) -> None:
        self.services.actions.attach_notes(self.results, " ".join(self.command.toPlainText().split()))
        self.note_button.setEnabled(False)
        self.note_button.setText("Attached")

    def _close(self) -> None:
        if self.task is not None and not self.task.done():
            self.cancel_event.set()
            return
        self.accept()
