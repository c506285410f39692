"""A host's findings as a table: status, check, summary, metrics, when each was checked."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from techdesk.ui.icons import STATUS_LABELS, status_icon
from techdesk.ui.plain import plain_tip
from techdesk.ui.timefmt import local_time

_ROOT = QModelIndex()
COLUMNS = ("Status", "Check", "Summary", "Metrics", "Checked")


def metric_text(metric) -> str:
    """'86% (warn 80, crit 90)' — a metric against its thresholds."""
    value = f"{metric.value:g}{metric.uom}"
    limits = [f"{name} {v:g}" for name, v in (("warn", metric.warn), ("crit", metric.crit)) if v is not None]
    return f"{metric.label} {value}" + (f" ({', '.join(limits)})" if limits else "")


class FindingsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._checks: list = []
        self._when: dict[str, tuple[str, str]] = {}

    def set_checks(self, checks: list, when: dict[str, tuple[str, str]] | None = None) -> None:
        """``when``: check id -> (ISO time, bundle) of the run each result comes from."""
        self.beginResetModel()
        self._when = when or {}
        # Worst first, so the eye lands on what needs attention.
        self._checks = sorted(checks, key=lambda c: -c.status.rank)
        self.endResetModel()

    def check_at(self, row: int):
        return self._checks[row] if 0 <= row < len(self._checks) else None

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self._checks)

    def columnCount(self, parent=_ROOT) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        check = self.check_at(index.row())
        if check is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return STATUS_LABELS[check.status.value]
            if col == 1:
                return check.title
            if col == 2:
                return check.summary
            if col == 3:
                return "; ".join(metric_text(m) for m in check.metrics.values())
            if col == 4:
                return local_time(self._when[check.id][0]) if check.id in self._when else ""
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return status_icon(check.status.value)
        if role == Qt.ItemDataRole.ToolTipRole and col == 2:
            metrics = self.data(index.siblingAtColumn(3), Qt.ItemDataRole.DisplayRole)
            return plain_tip(check.summary + (f"\n{metrics}" if metrics else ""))
        if role == Qt.ItemDataRole.ToolTipRole and col == 3:
            return plain_tip(self.data(index, Qt.ItemDataRole.DisplayRole))
        if role == Qt.ItemDataRole.ToolTipRole and col == 4 and check.id in self._when:
            return plain_tip(f"{self._when[check.id][1]}, {local_time(self._when[check.id][0])}")
        return None
