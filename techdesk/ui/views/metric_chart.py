"""A small line chart of one metric over time, with its warn/crit lines, a time axis
and a heading that is elided (never cut), the whole text in the tooltip.

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
        return QSize(320, 150 if self.forecast_text else 134)

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
        self.setToolTip(title)
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def set_forecast(self, when: datetime | None, value: float | None, text: str = "") -> None:
        """Draw the trend from the last point to where it crosses the threshold."""
        self.forecast = (when.timestamp(), float(value)) if when is not None and value is not None else None
        self.forecast_text = text
        self.setToolTip(plain_tip(f"{self.title}\n{text}" if text else self.title))
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(pal.ColorRole.WindowText)
        metrics = p.fontMetrics()
        line = metrics.height() + 2
        top = 4 + line * (2 if self.forecast_text else 1)
        area = QRectF(self.rect()).adjusted(8, top + 4, -60, -(line + 4))
        p.setPen(text)
        last = f"{self.points[-1][1]:g}{self.uom}" if self.points else "no data yet"
        width = int(self.width() - 16)
        p.drawText(QRectF(8, 4, width, line), Qt.AlignmentFlag.AlignLeft,
                   metrics.elidedText(f"{self.title} — {last}", Qt.TextElideMode.ElideRight, width))
        if self.forecast_text:
            p.setPen(QColor(STATUS_COLORS["crit"]))
            p.drawText(QRectF(8, 4 + line, width, line), Qt.AlignmentFlag.AlignLeft,
                       metrics.elidedText(self.forecast_text, Qt.TextElideMode.ElideRight, width))
        p.setPen(QPen(pal.color(pal.ColorRole.Mid), 1))
        p.drawRect(area)
        if self.points:  # the time axis: first and last sample, in local time
            p.setPen(pal.color(pal.ColorRole.PlaceholderText))
            t0, t1 = self.points[0][0], (self.forecast or self.points[-1])[0]
            first, end = _when(t0, t1 - t0), _when(t1, t1 - t0)
            p.drawText(QRectF(area.left(), area.bottom() + 2, area.width() / 2, line),
                       Qt.AlignmentFlag.AlignLeft, first)
            p.drawText(QRectF(area.center().x(), area.bottom() + 2, area.width() / 2, line),
                       Qt.AlignmentFlag.AlignRight, end)
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


def _when(epoch: float, span_s: float) -> str:
    """A day for a long series, a time of day for a short one (local time)."""
    return datetime.fromtimestamp(epoch).astimezone().strftime("%d %b" if span_s > 2 * 86400 else "%d %b %H:%M")
