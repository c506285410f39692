"""Fix… : choose a check's fix, see the exact script and the hosts, confirm, run, see before → after.

The same FixService as `techdesk fix`. A disruptive fix stays disabled until every
chosen host name is typed. Other hosts with the same finding (not OK in their latest
run) are offered, unticked, for a bulk fix.
"""

from __future__ import annotations

import asyncio
import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from techdesk.services.fix import FixError
from techdesk.ui.controllers.hostkey_prompt import endpoint_prompt_for


class FixDialog(QDialog):
    fixed = Signal(list)  # list[FixOutcome], after a run

    def __init__(self, services, host: str, check_id: str, parent=None, endpoint_prompt=None) -> None:
        super().__init__(parent)
        self.services = services
        # a host that moved since its secret was stored: asked as runs ask (not just told)
        self.endpoint_prompt = endpoint_prompt or endpoint_prompt_for(parent)
        self.check_id = check_id
        self.task: asyncio.Task | None = None
        self.cancel_event = threading.Event()
        found = services.fixes.fixes_for(check_id)
        if not found:
            raise FixError(f"no bundle has fixes for the check {check_id!r}")
        self.bundle, self.check = found[0]
        self.setWindowTitle(f"Fix — {self.check.title}")
        self.resize(760, 640)

        self.fix_box = QComboBox()
        for fix in self.check.fixes:
            self.fix_box.addItem(f"{fix.title} ({fix.id})", fix.id)
        self.fix_box.currentIndexChanged.connect(self._update)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setTextFormat(Qt.TextFormat.PlainText)
        self.hosts = QListWidget()
        self.hosts.setMaximumHeight(96)
        for name, before in self._candidates(host):
            item = QListWidgetItem(f"{name}    {before}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name == host else Qt.CheckState.Unchecked)
            self.hosts.addItem(item)
        self.hosts.itemChanged.connect(lambda _item: self._update())
        self.script = QPlainTextEdit()
        self.script.setReadOnly(True)
        self.script.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.script.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.confirm_label = QLabel()
        self.confirm_label.setStyleSheet("color: #c0392b; font-weight: bold")
        self.confirm = QLineEdit()
        self.confirm.textChanged.connect(lambda _t: self._update())
        self.stop_on_failure = QCheckBox("Stop at the first host that fails")
        self.results = QPlainTextEdit()
        self.results.setReadOnly(True)
        self.results.setMaximumHeight(110)
        self.results.setPlaceholderText("Before → after appears here; it is also written to the "
                                        "running visit's work performed (or a note on the host).")
        self.run_button = QPushButton("Run fix")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self._run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel)

        form = QFormLayout()
        form.addRow("Fix:", self.fix_box)
        form.addRow("", self.about)
        form.addRow("Hosts:", self.hosts)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Exactly what is sent (recorded in the audit log first):"))
        layout.addWidget(self.script, 1)
        layout.addWidget(self.confirm_label)
        layout.addWidget(self.confirm)
        layout.addWidget(self.stop_on_failure)
        layout.addWidget(self.results)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.run_button)
        layout.addLayout(buttons)
        self._update()

    def _candidates(self, host: str) -> list[tuple[str, str]]:
        """The host, then others of its client whose latest result for this check is not OK."""
        svc = self.services
        client = svc.roster.get(host).spec.client
        names = [host] + [h.name for h in svc.roster.hosts(client=client) if h.name != host] if client \
            else [host]
        rows = []
        for name in names:
            last = svc.history.check_history(name, self.check_id, limit=1)
            if name != host and (not last or last[0]["status"] == "ok"):
                continue
            rows.append((name, f"{last[0]['status'].upper()} — {last[0]['summary']}" if last else "not checked"))
        return rows

    def chosen_hosts(self) -> list[str]:
        return [self.hosts.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.hosts.count())
                if self.hosts.item(i).checkState() == Qt.CheckState.Checked]

    def plan(self):
        hosts = [self.services.roster.get(n) for n in self.chosen_hosts()]
        return self.services.fixes.plan(hosts, self.check_id, self.fix_box.currentData(), self.bundle.name) \
            if hosts else None

    def _update(self) -> None:
        if self.task is not None:
            return
        plan = self.plan()
        fix = self.check.fix(self.fix_box.currentData())
        self.about.setText(f"Risk: {fix.risk}{' — the host name must be typed to run it' if fix.risk == 'disruptive' else ''}"
                           f" · {'runs as root (sudo with the password from the keyring)' if fix.root else 'runs as the login user'}"
                           f" · timeout {fix.timeout} s · then the check runs again")
        if plan is None:
            self.script.setPlainText("")
            self.run_button.setEnabled(False)
            return
        self.script.setPlainText("\n\n".join(plan.script(h.name) for h in plan.hosts))
        disruptive = plan.needs_typed_confirmation
        self.confirm_label.setVisible(disruptive)
        self.confirm.setVisible(disruptive)
        self.confirm_label.setText("This fix is disruptive. Type the host name"
                                   f"{'s, separated by spaces' if len(plan.hosts) > 1 else ''} to confirm:")
        self.stop_on_failure.setVisible(len(plan.hosts) > 1)
        typed = set(self.confirm.text().split())
        self.run_button.setEnabled(self.services.fixes.refusal(plan, typed) is None)

    def _run(self) -> None:
        plan = self.plan()
        if plan is None:
            return
        self.run_button.setEnabled(False)
        self.cancel_button.setText("Stop")
        self.results.setPlainText("Running…")
        self.task = asyncio.ensure_future(self.services.fixes.apply(
            plan, confirmed=set(self.confirm.text().split()), cancel=self.cancel_event,
            stop_on_failure=self.stop_on_failure.isChecked(), concurrency=8,
            endpoint_prompt=self.endpoint_prompt))
        self.task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.cancel_button.setText("Close")
        if task.cancelled():
            self.results.setPlainText("Stopped.")
            return
        if task.exception() is not None:
            self.results.setPlainText(f"Not run: {task.exception()}")
            return
        outcomes = task.result()
        self.results.setPlainText("\n".join(f"{self.check.title} on {o.line}" for o in outcomes))
        self.fixed.emit(outcomes)

    def _cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.cancel_event.set()
            return
        self.reject()
