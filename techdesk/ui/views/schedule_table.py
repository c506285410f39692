"""A table of schedules, shared by the dashboard and the Schedules dialog."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem

from techdesk.ui.timefmt import local_time

ID_ROLE = Qt.ItemDataRole.UserRole + 60
COLUMNS = ["Bundle", "Target", "Every", "Hosts", "Enabled", "Last run", "Next due", "Maintenance windows"]


def target_text(target: str) -> str:
    """'client:Acme' -> 'client Acme', 'all' -> 'all hosts' (plain words for people)."""
    if target == "all":
        return "all hosts"
    kind, _, name = target.partition(":")
    return f"{kind} {name}"


class ScheduleTable(QTreeWidget):
    schedule_activated = Signal(str)  # a schedule's id, on double-click or Enter

    def __init__(self, parent=None, compact: bool = False) -> None:
        super().__init__(parent)
        self.compact = compact  # the dashboard's narrow box: what, where, how often; when next
        self.setHeaderLabels(["Schedule", "Next run"] if compact else COLUMNS)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        header = self.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(not compact)
        if compact:  # the next run always shows; the description gives way (full text in its tooltip)
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.itemActivated.connect(lambda item, _col: self.schedule_activated.emit(item.data(0, ID_ROLE)))

    def show_schedules(self, schedules: list[dict]) -> None:
        selected = self.selected_id()
        self.clear()
        for s in schedules:
            problem = s.get("problem")
            next_due = _next_due(s)
            what = f"{s['bundle']} · {target_text(s['target'])} · every {s['every']}"
            item = QTreeWidgetItem([what, problem or next_due] if self.compact else [
                s["bundle"], target_text(s["target"]), s["every"], str(s["hosts"]),
                "yes" if s["enabled"] else "no", local_time(s["last_run"]), problem or next_due,
                "; ".join(s["windows"]) or "—"])
            item.setToolTip(0, what + (f"\nmaintenance: {'; '.join(s['windows'])}" if s["windows"] else ""))
            item.setData(0, ID_ROLE, s["id"])
            if not s["enabled"]:
                for col in range(self.columnCount()):
                    item.setForeground(col, self.palette().placeholderText())
            if problem:
                item.setToolTip(1 if self.compact else 6, problem)
            self.addTopLevelItem(item)
            if s["id"] == selected:
                self.setCurrentItem(item)

    def selected_id(self) -> str | None:
        item = self.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def select_id(self, schedule_id: str) -> None:
        for row in range(self.topLevelItemCount()):
            if self.topLevelItem(row).data(0, ID_ROLE) == schedule_id:
                self.setCurrentItem(self.topLevelItem(row))
                return


def _next_due(s: dict) -> str:
    if not s["enabled"]:
        return "paused"
    if not s["hosts"]:
        return "no host matches"
    if s["next_due"] and datetime.fromisoformat(s["next_due"]) <= datetime.now(UTC):
        return "due now"
    return local_time(s["next_due"])
