"""Status badges and small icons, painted once and cached (no image files needed)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

# Colours readable on light and dark themes.
STATUS_COLORS = {
    "ok": "#2e9d4f",
    "warn": "#e0a100",
    "crit": "#d64541",
    "unknown": "#8e6bbf",
    "never": "#9aa0a6",
    "stale": "#9aa0a6",
    "running": "#3a7bd5",
}
STATUS_LABELS = {
    "ok": "OK", "warn": "Warning", "crit": "Critical", "unknown": "Unknown",
    "never": "Never checked", "stale": "Stale", "running": "Running",
}


def _canvas(size: int) -> tuple[QPixmap, QPainter]:
    """A transparent, high-DPI pixmap and an antialiased painter on it."""
    pix = QPixmap(size * 2, size * 2)
    pix.setDevicePixelRatio(2.0)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pix, painter


@cache
def status_icon(status: str, size: int = 14) -> QIcon:
    pix, painter = _canvas(size)
    color = QColor(STATUS_COLORS.get(status, "#9aa0a6"))
    rect = QRectF(2, 2, size - 4, size - 4)
    if status in ("never", "stale"):
        painter.setPen(QPen(color, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(rect)
        if status == "stale":  # a clock hand: old data
            c = rect.center()
            painter.drawLine(c, QPointF(c.x(), c.y() - rect.height() / 3))
            painter.drawLine(c, QPointF(c.x() + rect.width() / 4, c.y()))
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(rect)
    painter.end()
    return QIcon(pix)


@cache
def host_icon(status: str, stale: bool = False, size: int = 14) -> QIcon:
    """A host's badge: its status colour; hollow with a clock hand when stale (the
    last attempt failed or the data is old) — the status stays visible either way."""
    if not stale or status in ("never", "stale"):
        return status_icon(status, size)
    pix, painter = _canvas(size)
    color = QColor(STATUS_COLORS.get(status, "#9aa0a6"))
    rect = QRectF(2.5, 2.5, size - 5, size - 5)
    painter.setPen(QPen(color, 2.2))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(rect)
    c = rect.center()
    painter.setPen(QPen(color, 1.4))
    painter.drawLine(c, QPointF(c.x(), c.y() - rect.height() / 3))
    painter.drawLine(c, QPointF(c.x() + rect.width() / 4, c.y()))
    painter.end()
    return QIcon(pix)


@cache
def app_icon() -> QIcon:
    """A simple, recognisable mark: a blue rounded square with a white check pulse."""
    icon = QIcon()
    for size in (16, 32, 64, 128, 256):
        pix = QPixmap(size, size)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor("#2f6fd0"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(QRectF(0, 0, size, size), size * 0.2, size * 0.2)
        pen = QPen(QColor("white"), max(1.5, size / 14))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        s = size
        pts = [QPointF(s * 0.15, s * 0.55), QPointF(s * 0.35, s * 0.55), QPointF(s * 0.45, s * 0.3),
               QPointF(s * 0.58, s * 0.75), QPointF(s * 0.68, s * 0.5), QPointF(s * 0.85, s * 0.5)]
        p.drawPolyline(pts)
        p.end()
        icon.addPixmap(pix)
    return icon
