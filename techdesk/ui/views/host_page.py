"""The host page: who and where, the current findings, metric charts, recent runs.

Findings are each check's current state (core/host_state.py): a cancelled or failed
attempt shows as a banner above them, never in their place."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from techdesk.core.host_state import Attempt
from techdesk.ui.icons import STATUS_LABELS, host_icon, status_icon
from techdesk.ui.models.findings_model import FindingsModel
from techdesk.ui.timefmt import ago, local_time
from techdesk.ui.views.metric_chart import MetricChart

MAX_OUTPUT_LINES = 5000


class HostPage(QWidget):
    run_requested = Signal()
    edit_requested = Signal()
    fix_requested = Signal(str)  # check id of the selected finding
    command_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.host_name: str | None = None
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.badge = QLabel()
        self.subtitle = QLabel()
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.run_button = QPushButton("Run bundle…")
        self.run_button.clicked.connect(self.run_requested)
        self.edit_button = QPushButton("Edit host…")
        self.edit_button.clicked.connect(self.edit_requested)

        head = QHBoxLayout()
        head.addWidget(self.badge)
        head.addWidget(self.title)
        head.addStretch(1)
        self.command_button = QPushButton("Run command…")
        self.command_button.clicked.connect(self.command_requested)
        head.addWidget(self.edit_button)
        head.addWidget(self.command_button)
        head.addWidget(self.run_button)

        self.details = QFormLayout()
        self.details.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._detail_labels: dict[str, QLabel] = {}
        for field in ("Connection", "Client / site", "Tags", "OS", "Jump host", "Key file", "Checked", "Last attempt"):
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._detail_labels[field] = label
            self.details.addRow(field + ":", label)
        details_box = QGroupBox("Details")
        details_box.setLayout(self.details)

        # A failed or cancelled last attempt: said plainly, above the findings it did not replace.
        self.attempt_banner = QLabel()
        self.attempt_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.attempt_banner.setWordWrap(True)
        self.attempt_banner.setStyleSheet("QLabel { background: rgba(224,161,0,0.18); border: 1px solid"
                                          " rgba(224,161,0,0.6); border-radius: 4px; padding: 4px 8px; }")
        self.attempt_banner.hide()

        self.findings = FindingsModel(self)
        self.table = QTableView()
        self.table.setModel(self.findings)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnHidden(3, True)  # the metrics: in the summary's tooltip, the output and the charts
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._show_output)

        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(MAX_OUTPUT_LINES)
        self.output.setPlaceholderText("Select a finding to see the check's output.")
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

        self.charts_box = QWidget()
        self.charts_layout = QVBoxLayout(self.charts_box)
        self.charts_layout.setContentsMargins(0, 0, 0, 0)
        charts_scroll = QScrollArea()
        charts_scroll.setWidgetResizable(True)
        charts_scroll.setWidget(self.charts_box)

        self.runs = QListWidget()

        findings_box = QGroupBox("Current findings")
        fl = QVBoxLayout(findings_box)
        fl.addWidget(self.attempt_banner)
        self.fix_button = QPushButton("Fix…")
        self.fix_button.setToolTip("Run a fix the bundle offers for the selected finding, then check again")
        self.fix_button.setEnabled(False)
        self.fix_button.clicked.connect(self._fix_clicked)
        self.fixable: set[str] = set()  # check ids that have fixes (set by the window)
        fix_row = QHBoxLayout()
        fix_row.addStretch(1)
        fix_row.addWidget(self.fix_button)
        fl.addLayout(fix_row)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.output)
        split.setSizes([300, 120])
        fl.addWidget(split)

        history_box = QGroupBox("History")
        hl = QVBoxLayout(history_box)
        hl.addWidget(charts_scroll, 3)
        hl.addWidget(QLabel("Recent runs"))
        hl.addWidget(self.runs, 1)

        left = QVBoxLayout()
        left.addWidget(details_box)
        left.addWidget(findings_box, 1)
        body = QSplitter(Qt.Orientation.Horizontal)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left.setContentsMargins(0, 0, 0, 0)
        body.addWidget(left_widget)
        body.addWidget(history_box)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        body.setSizes([560, 300])
        self.body_splitter = body

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.subtitle)
        layout.addWidget(body, 1)
        self.show_empty()

    def show_empty(self, text: str = "Select a host in the roster to see its page.") -> None:
        """No host: every field cleared, the reason said where the name was."""
        self.host_name = None
        self.run_button.setEnabled(False)
        self.edit_button.setEnabled(False)
        self.title.setText("No host")
        self.subtitle.setText(text)
        self.badge.clear()
        for label in self._detail_labels.values():
            label.setText("—")
        self.attempt_banner.hide()
        self.findings.set_checks([])
        self.output.clear()
        self._set_charts({}, {})
        self.runs.clear()

    def show_host(self, host, state, current: list[tuple], series_by_metric: dict[str, list[dict]], runs: list,
                  forecasts: dict[str, tuple] | None = None) -> None:
        """``state``: the host's HostState; ``current``: [(CheckResult, at, bundle)], its current findings."""
        self.host_name = host.name
        self.run_button.setEnabled(True)
        self.edit_button.setEnabled(True)
        self.title.setText(host.name)
        self.badge.setPixmap(host_icon(state.status, state.marked, 18).pixmap(18, 18))
        self.badge.setToolTip(state.label)
        where = " / ".join(x for x in (host.spec.client, host.spec.site) if x) or "no client"
        self.subtitle.setText(f"{state.label} · {where}")
        user = f"{host.user}@" if host.user else ""
        d = self._detail_labels
        d["Connection"].setText(f"{user}{host.address}:{host.port}" + _src(host, "user", "port"))
        d["Client / site"].setText(where)
        d["Tags"].setText(", ".join(host.spec.tags) or "—")
        d["OS"].setText(host.os)
        d["Jump host"].setText((host.jump or "—") + _src(host, "jump"))
        d["Key file"].setText((host.key or "agent / keyring") + _src(host, "key"))
        bundles = sorted({bundle for _, _, bundle in current})
        d["Checked"].setText(f"{local_time(state.checked)} ({ago(state.checked)}) · {', '.join(bundles)}"
                             if state.checked else "never")
        attempt = state.attempt
        d["Last attempt"].setText(f"{local_time(attempt.at)} · {attempt.text}" if attempt else "never")
        if state.attempt_failed:
            kept = ("The findings below are from the last completed checks, "
                    f"{local_time(state.checked)}." if state.checked else "No check has completed on this host yet.")
            self.attempt_banner.setText(f"Last attempt {local_time(attempt.at)} did not complete "
                                        f"({attempt.text}). {kept}")
            self.attempt_banner.show()
        else:
            self.attempt_banner.hide()
        self.findings.set_checks([c for c, _, _ in current], {c.id: (at, b) for c, at, b in current})
        self.output.clear()
        self._set_charts(series_by_metric, forecasts or {})
        self.runs.clear()
        for run in runs[:30]:
            tried = Attempt(run.started, run.error_kind, run.error_message)
            word = "Cancelled" if tried.cancelled else STATUS_LABELS.get(run.status, run.status)
            self.runs.addItem(f"{local_time(run.started)}  {run.bundle}  {word}"
                              + (f"  — {run.error_message}" if run.error_message and not tried.cancelled else ""))
            self.runs.item(self.runs.count() - 1).setIcon(status_icon("never" if tried.cancelled else run.status))

    def _set_charts(self, series_by_metric: dict[str, list[dict]], forecasts: dict[str, tuple]) -> None:
        while self.charts_layout.count():
            item = self.charts_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        if not series_by_metric:
            empty = QLabel("No metrics recorded yet.")
            empty.setEnabled(False)
            self.charts_layout.addWidget(empty)
        for title, rows in series_by_metric.items():
            chart = MetricChart()
            chart.set_series(title, rows)
            if title in forecasts:
                chart.set_forecast(*forecasts[title])
            self.charts_layout.addWidget(chart)
        self.charts_layout.addStretch(1)

    def _show_output(self, current, _previous) -> None:
        check = self.findings.check_at(current.row())
        # setPlainText: the output is never interpreted as markup.
        self.output.setPlainText(check.output if check else "")
        self.fix_button.setEnabled(check is not None and check.id in self.fixable)

    def _fix_clicked(self) -> None:
        check = self.findings.check_at(self.table.currentIndex().row())
        if check is not None:
            self.fix_requested.emit(check.id)


def _src(host, *fields: str) -> str:
    inherited = [f"{f} from {host.sources[f]}" for f in fields if host.sources.get(f) in ("site", "client")]
    return f"   ({', '.join(inherited)})" if inherited else ""
