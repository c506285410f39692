"""A small line chart of one metric over time, with its warn/crit lines.

Painted by hand: QtCharts is not part of PySide6-Essentials, and a sparkline
needs little.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from techdesk.ui.icons import STATUS_COLORS


class MetricChart(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.title = ""
        self.points: list[tuple[float, float]] = []
        self.warn: float | None = None
        self.crit: float | None = None
        self.uom = ""

    def sizeHint(self) -> QSize:
        return QSize(320, 110)

    def set_series(self, title: str, rows: list[dict]) -> None:
        """rows: [{"ts", "value", "uom", "warn", "crit"}] in time order."""
        self.title = title
        self.points = []
        for row in rows:
            try:
                self.points.append((datetime.fromisoformat(row["ts"]).timestamp(), float(row["value"])))
            except (ValueError, TypeError):
                continue
        last = rows[-1] if rows else {}
        self.warn, self.crit, self.uom = last.get("warn"), last.get("crit"), last.get("uom", "")
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(pal.ColorRole.WindowText)
        area = QRectF(self.rect()).adjusted(8, 22, -60, -8)
        p.setPen(text)
        last = f"{self.points[-1][1]:g}{self.uom}" if self.points else "no data yet"
        p.drawText(QRectF(8, 2, self.width() - 16, 18), Qt.AlignmentFlag.AlignLeft, f"{self.title} — {last}")
        p.setPen(QPen(pal.color(pal.ColorRole.Mid), 1))
        p.drawRect(area)
        if len(self.points) < 2:
            p.end()
            return
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points] + [v for v in (self.warn, self.crit) if v is not None]
        lo, hi = min(ys), max(ys)
        if self.uom == "%":
            lo, hi = 0.0, max(100.0, hi)
        if hi - lo < 1e-9:
            hi = lo + 1
        x0, x1 = min(xs), max(xs) or 1

        def point(x: float, y: float) -> QPointF:
            fx = (x - x0) / (x1 - x0) if x1 > x0 else 1.0
            return QPointF(area.left() + fx * area.width(), area.bottom() - (y - lo) / (hi - lo) * area.height())

        for limit, color in ((self.warn, STATUS_COLORS["warn"]), (self.crit, STATUS_COLORS["crit"])):
            if limit is not None:
                p.setPen(QPen(QColor(color), 1, Qt.PenStyle.DashLine))
                y = point(x0, limit).y()
                p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
                p.drawText(QPointF(area.right() + 4, y + 4), f"{limit:g}{self.uom}")
        path = QPainterPath(point(*self.points[0]))
        for x, y in self.points[1:]:
            path.lineTo(point(x, y))
        p.setPen(QPen(QColor(STATUS_COLORS["running"]), 2))
        p.drawPath(path)
        p.setBrush(QColor(STATUS_COLORS["running"]))
        p.drawEllipse(point(*self.points[-1]), 3, 3)
        p.end()
