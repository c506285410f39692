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
from techdesk.ui.plain import plain_tip


class MetricChart(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.title = ""
        self.points: list[tuple[float, float]] = []
        self.warn: float | None = None
        self.crit: float | None = None
        self.uom = ""
        self.forecast: tuple[float, float] | None = None  # (epoch, value) where the trend crosses
        self.forecast_text = ""

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

    def set_forecast(self, when: datetime | None, value: float | None, text: str = "") -> None:
        """Draw the trend from the last point to where it crosses the threshold."""
        self.forecast = (when.timestamp(), float(value)) if when is not None and value is not None else None
        self.forecast_text = text
        self.setToolTip(plain_tip(text))
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(pal.ColorRole.WindowText)
        area = QRectF(self.rect()).adjusted(8, 22, -60, -8)
        p.setPen(text)
        last = f"{self.points[-1][1]:g}{self.uom}" if self.points else "no data yet"
        heading = f"{self.title} — {last}" + (f"  ·  {self.forecast_text}" if self.forecast_text else "")
        p.drawText(QRectF(8, 2, self.width() - 16, 18), Qt.AlignmentFlag.AlignLeft, heading)
        p.setPen(QPen(pal.color(pal.ColorRole.Mid), 1))
        p.drawRect(area)
        if len(self.points) < 2:
            p.end()
            return
        xs = [x for x, _ in self.points] + ([self.forecast[0]] if self.forecast else [])
        ys = [y for _, y in self.points] + [v for v in (self.warn, self.crit) if v is not None]
        if self.forecast:
            ys.append(self.forecast[1])
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
        if self.forecast:
            p.setPen(QPen(QColor(STATUS_COLORS["crit"]), 1.5, Qt.PenStyle.DotLine))
            p.drawLine(point(*self.points[-1]), point(*self.forecast))
        p.setBrush(QColor(STATUS_COLORS["running"]))
        p.drawEllipse(point(*self.points[-1]), 3, 3)
        p.end()
