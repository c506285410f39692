"""Create or edit one schedule: bundle, target (client/site/host/tag/all), interval,
maintenance windows. Everything is validated by the monitor service (the same rules
as `techdesk schedule add`); an error is shown in the dialog, and nothing is saved."""

from __future__ import annotations

import re

from PySide6.QtCore import QTime, QTimeZone
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from techdesk.core.roster import RosterError
from techdesk.core.schedule import ScheduleError
from techdesk.diagnostics.bundle import BundleError
from techdesk.ui.labels import error_label, plain_label

KINDS = (("all", "All hosts"), ("client", "Client"), ("site", "Site"), ("host", "Host"), ("tag", "Tag"))
UNITS = (("m", "minutes"), ("h", "hours"), ("d", "days"))
DAY_CHOICES = ("Mon-Sun", "Mon-Fri", "Sat-Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def local_zone() -> str:
    """This machine's IANA time zone name (windows are wall-clock times in a zone)."""
    name = bytes(QTimeZone.systemTimeZoneId().data()).decode("ascii", "replace")
    return name if "/" in name or name == "UTC" else "UTC"


class ScheduleEditor(QDialog):
    def __init__(self, services, schedule: dict | None = None, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.schedule = schedule
        self.saved: dict | None = None
        self.setWindowTitle("Edit schedule" if schedule else "New schedule")
        self.setMinimumWidth(560)

        self.bundle = QComboBox()
        for name, bundle in sorted(services.bundles.all().items()):
            self.bundle.addItem(f"{bundle.title} ({name}, {bundle.os})", name)
        self.kind = QComboBox()
        for kind, label in KINDS:
            self.kind.addItem(label, kind)
        self.name = QComboBox()
        self.name.setEditable(True)
        self.name.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.name.setMinimumContentsLength(24)
        target_row = QHBoxLayout()
        target_row.setContentsMargins(0, 0, 0, 0)
        target_row.addWidget(self.kind)
        target_row.addWidget(self.name, 1)
        target = QWidget()
        target.setLayout(target_row)
        self.matches = plain_label()

        self.every = QSpinBox()
        self.every.setRange(1, 999)
        self.every.setValue(6)
        self.unit = QComboBox()
        for unit, label in UNITS:
            self.unit.addItem(label, unit)
        self.unit.setCurrentIndex(1)
        every_row = QHBoxLayout()
        every_row.setContentsMargins(0, 0, 0, 0)
        every_row.addWidget(self.every)
        every_row.addWidget(self.unit)
        every_row.addStretch(1)
        every = QWidget()
        every.setLayout(every_row)

        form = QFormLayout()
        form.addRow("Bundle:", self.bundle)
        form.addRow("Run on:", target)
        form.addRow("", self.matches)
        form.addRow("Every:", every)

        self.windows = QListWidget()
        self.windows.setMaximumHeight(96)
        self.days = QComboBox()
        self.days.addItems(DAY_CHOICES)
        self.days.setEditable(True)
        self.start = QTimeEdit(QTime(2, 0))
        self.end = QTimeEdit(QTime(4, 0))
        for edit in (self.start, self.end):
            edit.setDisplayFormat("HH:mm")
        self.zone = QComboBox()
        self.zone.setEditable(True)
        zones = dict.fromkeys([local_zone(), "UTC", "Europe/Berlin", "Europe/London", "America/New_York"])
        self.zone.addItems(list(zones))
        self.alerts_only = QCheckBox("only hold alerts (runs go on)")
        add = QPushButton("Add window")
        add.clicked.connect(self._add_window)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.windows.takeItem(self.windows.currentRow()))
        builder = QHBoxLayout()
        for widget in (self.days, self.start, QLabel("to"), self.end, self.zone):
            builder.addWidget(widget)
        builder2 = QHBoxLayout()
        builder2.addWidget(self.alerts_only, 1)
        builder2.addWidget(add)
        builder2.addWidget(remove)
        box = QGroupBox("Maintenance windows (no runs in them, or no alerts)")
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(self.windows)
        box_layout.addLayout(builder)
        box_layout.addLayout(builder2)

        self.error = error_label()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(box)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        self.kind.currentIndexChanged.connect(self._fill_names)
        self.name.currentTextChanged.connect(self._preview)
        self._fill_names()
        if schedule:
            self._load(schedule)

    # -- the target ---------------------------------------------------------
    def _fill_names(self) -> None:
        roster = self.services.roster
        kind = self.kind.currentData()
        names: list[str] = []
        if kind == "client":
            names = [c.name for c in roster.clients()]
        elif kind == "site":
            names = [f"{s.client}/{s.name}" for s in roster.sites()]
        elif kind == "host":
            names = [h.name for h in roster.hosts()]
        elif kind == "tag":
            names = sorted({t for h in roster.hosts() for t in h.spec.tags})
        self.name.blockSignals(True)
        self.name.clear()
        self.name.addItems(names)
        self.name.setEnabled(kind != "all")
        self.name.blockSignals(False)
        self._preview()

    def target(self) -> str:
        kind = self.kind.currentData()
        return "all" if kind == "all" else f"{kind}:{self.name.currentText().strip()}"

    def interval(self) -> str:
        return f"{self.every.value()}{self.unit.currentData()}"

    def window_texts(self) -> list[str]:
        return [self.windows.item(i).text() for i in range(self.windows.count())]

    def _preview(self) -> None:
        if self.kind.currentData() != "all" and not self.name.currentText().strip():
            self.matches.setText("")
            return
        try:
            hosts = self.services.monitor.target_hosts(self.target())
        except (ScheduleError, RosterError) as exc:
            self.matches.setText(str(exc))
            return
        shown = ", ".join(hosts[:6]) + (f" and {len(hosts) - 6} more" if len(hosts) > 6 else "")
        self.matches.setText(f"{len(hosts)} host{'s' if len(hosts) != 1 else ''} now" + (f": {shown}" if hosts else
                             " (the schedule runs once hosts match)"))

    # -- windows ------------------------------------------------------------
    def _add_window(self) -> None:
        from techdesk.core.schedule import Window

        text = (f"{self.days.currentText().strip()} {self.start.time().toString('HH:mm')}-"
                f"{self.end.time().toString('HH:mm')} {self.zone.currentText().strip()}"
                + (" alerts" if self.alerts_only.isChecked() else ""))
        try:
            window = Window.parse(text)
        except ScheduleError as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        self.windows.addItem(str(window))

    # -- load and save ------------------------------------------------------
    def _load(self, s: dict) -> None:
        self.bundle.setCurrentIndex(max(0, self.bundle.findData(s["bundle"])))
        kind, _, name = s["target"].partition(":")
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.name.setCurrentText(name)
        match = re.fullmatch(r"(\d+)([mhd])", s["every"])
        if match:
            self.every.setValue(int(match.group(1)))
            self.unit.setCurrentIndex(max(0, self.unit.findData(match.group(2))))
        self.windows.addItems(s["windows"])

    def accept(self) -> None:
        mon = self.services.monitor
        values = {"bundle": self.bundle.currentData() or "", "target": self.target(), "every": self.interval(),
                  "windows": "; ".join(self.window_texts())}
        try:
            if self.schedule:
                self.saved = mon.update_schedule(self.schedule["id"], **values)
            else:
                self.saved = mon.add_schedule(values["bundle"], values["target"], values["every"],
                                              values["windows"])
        except (ScheduleError, RosterError, BundleError) as exc:
            self.error.setText(str(exc))
            return
        super().accept()
