"""Report charts drawn by techdesk with QPainter: vectors in the PDF, SVG in HTML.

A chart is a plain dict made by reports/care.py (no Qt there). `paint()` draws it into
any QPainter rectangle; `svg()` wraps that in QSvgGenerator for HTML; `ChartHandler`
lets QTextDocument draw `<img src="chart:N">` with the same code, straight into the
PDF painter (vectors, not pixels). Readable in grey and print: every series has its
own pattern or line style, not only its own colour, and is named in a legend.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from techdesk.reports.pdf import _ensure_app

WIDTH, FLEET_HEIGHT, METRIC_HEIGHT = 680, 210, 190   # CSS pixels (96 per inch); the PDF scales them
SCHEME = "chart:"
# fleet categories: (legend, fill colour, pattern) — pattern carries the meaning in grey
FLEET_STYLE = {
    "ok": ("OK", "#cfe8d5", "none"),
    "warn": ("Warning", "#f2c94c", "diagonal"),
    "crit": ("Critical", "#b83b37", "solid"),
    "unknown": ("Not reached / unknown", "#b9a7d6", "cross"),
    "none": ("Not checked", "#ffffff", "dots"),
}
INK, GRID, MUTED = "#1f2933", "#d5dbe1", "#5f6b7a"


def _qt():
    _ensure_app()
    from PySide6 import QtCore, QtGui
    return QtCore, QtGui


# -- drawing helpers -----------------------------------------------------------------
def _font(QtGui, size: float, bold: bool = False):
    font = QtGui.QFont("DejaVu Sans")
    font.setStyleHint(QtGui.QFont.StyleHint.SansSerif)
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


def _pen(QtCore, QtGui, color: str, width: float, style=None):
    pen = QtGui.QPen(QtGui.QColor(color))
    pen.setWidthF(width)
    pen.setStyle(style if style is not None else QtCore.Qt.PenStyle.SolidLine)
    pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
    return pen


def _diagonals(x0: float, y0: float, x1: float, y1: float, step: float, rising: bool):
    """Segments of 45° lines `step` apart inside the rectangle (no clipping needed, so the
    same lines come out in SVG and PDF)."""
    w, h = x1 - x0, y1 - y0
    c = step / 2
    while c < w + h:
        # line through (x0 + c - t, y0 + t) for t in [0, ...] (falling) or mirrored (rising)
        t_lo, t_hi = max(0.0, c - w), min(h, c)
        if t_hi > t_lo:
            a = (x0 + c - t_lo, y0 + t_lo)
            b = (x0 + c - t_hi, y0 + t_hi)
            if rising:
                a, b = (x0 + x1 - a[0], a[1]), (x0 + x1 - b[0], b[1])
            yield a, b
        c += step


def _swatch(QtCore, QtGui, p, rect, category: str, unit: float) -> None:
    _label, color, pattern = FLEET_STYLE[category]
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    p.setBrush(QtGui.QColor(color))
    p.drawRect(rect)
    ink = QtGui.QColor("#5a4300" if category == "warn" else "#3d2a66")
    p.setPen(_pen(QtCore, QtGui, ink.name(), 0.8 * unit))
    x0, y0, x1, y1 = rect.left(), rect.top(), rect.right(), rect.bottom()
    if pattern in ("diagonal", "cross"):
        for a, b in _diagonals(x0, y0, x1, y1, 4.5 * unit, rising=True):
            p.drawLine(QtCore.QPointF(*a), QtCore.QPointF(*b))
    if pattern == "cross":
        for a, b in _diagonals(x0, y0, x1, y1, 4.5 * unit, rising=False):
            p.drawLine(QtCore.QPointF(*a), QtCore.QPointF(*b))
    if pattern == "dots":
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(QtGui.QColor("#8a94a0"))
        y = y0 + 2 * unit
        while y < y1 - unit:
            x = x0 + 2 * unit
            while x < x1 - unit:
                p.drawEllipse(QtCore.QPointF(x, y), 0.6 * unit, 0.6 * unit)
                x += 4 * unit
            y += 4 * unit
    p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
    p.setPen(_pen(QtCore, QtGui, "#6b7785", 0.5 * unit))
    p.drawRect(rect)


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(1, ticks)
    mag = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    if raw < 1:
        mag = 0.1
        while mag * 10 < raw:
            mag *= 10
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _text(QtCore, p, x, y, w, h, text: str, align) -> None:
    p.drawText(QtCore.QRectF(x, y, w, h), int(align), text)


# -- the two charts ------------------------------------------------------------------
def paint(chart: dict, p, rect) -> None:
    """Draw `chart` into `rect` of painter `p` (any device: SVG, PDF, widget)."""
    QtCore, QtGui = _qt()
    p.save()
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    unit = rect.width() / WIDTH   # one CSS pixel in this device's units
    if chart["kind"] == "fleet":
        _paint_fleet(QtCore, QtGui, chart, p, rect, unit)
    else:
        _paint_metric(QtCore, QtGui, chart, p, rect, unit)
    p.restore()


def _frame(QtCore, QtGui, p, rect, unit, lo: float, hi: float, step: float, fmt, legend_h: float):
    """Axes with horizontal grid lines; returns the plot area."""
    left, right = rect.left() + 44 * unit, rect.right() - 70 * unit
    top, bottom = rect.top() + legend_h, rect.bottom() - 22 * unit
    p.setFont(_font(QtGui, 6.5))
    value = lo
    while value <= hi + step / 1000:
        y = bottom - (value - lo) / (hi - lo) * (bottom - top)
        p.setPen(_pen(QtCore, QtGui, GRID, 0.6 * unit))
        p.drawLine(QtCore.QPointF(left, y), QtCore.QPointF(right, y))
        p.setPen(QtGui.QColor(MUTED))
        _text(QtCore, p, rect.left(), y - 7 * unit, 40 * unit, 14 * unit, fmt(value),
              QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        value += step
    p.setPen(_pen(QtCore, QtGui, INK, 0.9 * unit))
    p.drawLine(QtCore.QPointF(left, bottom), QtCore.QPointF(right, bottom))
    p.drawLine(QtCore.QPointF(left, top), QtCore.QPointF(left, bottom))
    return left, top, right, bottom


def _paint_fleet(QtCore, QtGui, chart, p, rect, unit) -> None:
    days, counts, hosts = chart["days"], chart["counts"], max(1, chart["hosts"])
    step = max(1.0, _nice_step(hosts, 4))
    hi = step * -(-hosts // step)
    legend_h = 22 * unit
    left, top, right, bottom = _frame(QtCore, QtGui, p, rect, unit, 0, hi, step,
                                      lambda v: f"{v:.0f}", legend_h)
    # legend on top, one swatch per category
    p.setFont(_font(QtGui, 6.8))
    x = left
    for cat in ("crit", "warn", "unknown", "ok", "none"):
        _swatch(QtCore, QtGui, p, QtCore.QRectF(x, rect.top() + 3 * unit, 11 * unit, 11 * unit), cat, unit)
        p.setPen(QtGui.QColor(INK))
        label = FLEET_STYLE[cat][0]
        _text(QtCore, p, x + 14 * unit, rect.top(), 140 * unit, 17 * unit, label,
              QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        x += (24 + 5.6 * len(label)) * unit
    n = max(1, len(days))
    slot = (right - left) / n
    bar = slot * 0.78
    for i in range(len(days)):
        y = bottom
        for cat in ("crit", "warn", "unknown", "ok", "none"):  # the worst at the bottom, where eyes start
            h = counts[cat][i] / hi * (bottom - top)
            if h > 0:
                _swatch(QtCore, QtGui, p, QtCore.QRectF(left + i * slot + (slot - bar) / 2, y - h, bar, h), cat,
                        unit)
            y -= h
    # day labels: about 8 of them, as "Nov 3"
    p.setFont(_font(QtGui, 6.3))
    p.setPen(QtGui.QColor(MUTED))
    every = max(1, -(-n // 8))
    for i in range(0, len(days), every):
        day = datetime.fromisoformat(days[i])
        _text(QtCore, p, left + i * slot - 20 * unit + slot / 2, bottom + 3 * unit, 40 * unit, 14 * unit,
              f"{day:%b} {day.day}", QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignTop)
    p.save()
    p.translate(rect.right() - 62 * unit, top + (bottom - top) / 2)
    p.setPen(QtGui.QColor(MUTED))
    _text(QtCore, p, 0, -8 * unit, 62 * unit, 16 * unit, "machines",
          QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
    p.restore()


def _fmt_number(value: float, uom: str) -> str:
    text = f"{value:.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:.1f}"
    return text + ("%" if uom == "%" else "")


def _value_axis(chart: dict) -> tuple[float, float, float]:
    """(low, high, step) of a metric chart's value axis: readings, levels and forecast
    all shown, padded, on round steps (percentages kept within 0..100 before padding)."""
    values = [v for _, v in chart["points"]] + [v for v in (chart.get("warn"), chart.get("crit")) if v is not None]
    values += [v for _, v in chart["forecast"] or []]
    lo, hi = min(values), max(values)
    if (chart.get("uom") or "") == "%":
        lo, hi = max(0.0, lo), min(100.0, hi)
    pad = max((hi - lo) * 0.08, 1e-6 if hi != lo else 1.0)
    step = _nice_step(hi - lo + 2 * pad, 4)
    return step * ((lo - pad) // step), step * -(-(hi + pad) // step), step


def _paint_legend(QtCore, QtGui, chart, p, rect, unit, x) -> None:
    """Line samples above the plot, so the styles are named."""
    dash, dot, dashdot = (QtCore.Qt.PenStyle.DashLine, QtCore.Qt.PenStyle.DotLine,
                          QtCore.Qt.PenStyle.DashDotLine)
    p.setFont(_font(QtGui, 6.8))
    items = [("measured", "#1d4e89", QtCore.Qt.PenStyle.SolidLine, 1.8)]
    if chart["forecast"]:
        items.append(("forecast when acted on", "#33415c", dot, 1.3))
    if chart.get("warn") is not None:
        items.append(("warning level", "#9a6b00", dash, 1.1))
    if chart.get("crit") is not None:
        items.append(("critical level", "#a12f2b", dashdot, 1.1))
    for label, color, style, width in items:
        y = rect.top() + 9 * unit
        p.setPen(_pen(QtCore, QtGui, color, width * unit, style))
        p.drawLine(QtCore.QPointF(x, y), QtCore.QPointF(x + 22 * unit, y))
        p.setPen(QtGui.QColor(INK))
        _text(QtCore, p, x + 26 * unit, rect.top(), 160 * unit, 18 * unit, label,
              QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        x += (36 + 5.4 * len(label)) * unit


def _paint_metric(QtCore, QtGui, chart, p, rect, unit) -> None:
    pts = chart["points"]
    uom = chart.get("uom") or ""
    t_lo = pts[0][0]
    t_hi = max(pts[-1][0], *(t for t, _ in chart["forecast"] or []), chart.get("acted") or pts[-1][0])
    lo, hi, step = _value_axis(chart)
    legend_h = 22 * unit
    left, top, right, bottom = _frame(QtCore, QtGui, p, rect, unit, lo, hi, step,
                                      lambda v: _fmt_number(v, uom), legend_h)
    span = max(t_hi - t_lo, 1.0)

    def at(t: float, v: float):
        v = min(max(v, lo), hi)
        return QtCore.QPointF(left + (t - t_lo) / span * (right - left), bottom - (v - lo) / (hi - lo) * (bottom - top))

    dash, dot, dashdot = (QtCore.Qt.PenStyle.DashLine, QtCore.Qt.PenStyle.DotLine,
                          QtCore.Qt.PenStyle.DashDotLine)
    p.setFont(_font(QtGui, 6.5))
    for key, color, style in (("warn", "#9a6b00", dash), ("crit", "#a12f2b", dashdot)):
        value = chart.get(key)
        if value is None or not lo <= value <= hi:
            continue
        p.setPen(_pen(QtCore, QtGui, color, 1.1 * unit, style))
        p.drawLine(at(t_lo, value), at(t_lo + span, value))
        p.setPen(QtGui.QColor(color))
        _text(QtCore, p, right + 4 * unit, at(t_lo, value).y() - 7 * unit, 66 * unit, 14 * unit,
              f"{'warning' if key == 'warn' else 'critical'} {_fmt_number(value, uom)}",
              QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
    for key, word in (("acted", "acted on"), ("resolved", "resolved")):
        t = chart.get(key)
        if t is None or not t_lo <= t <= t_lo + span:
            continue
        if key == "resolved" and chart.get("acted") is not None and (t - chart["acted"]) < 0.12 * span:
            word = ""  # resolved right after: one label, two lines
        x = at(t, lo).x()
        p.setPen(_pen(QtCore, QtGui, INK if key == "acted" else MUTED, 0.9 * unit,
                      QtCore.Qt.PenStyle.SolidLine if key == "acted" else dot))
        p.drawLine(QtCore.QPointF(x, top), QtCore.QPointF(x, bottom))
        p.setPen(QtGui.QColor(INK))
        _text(QtCore, p, x + 3 * unit, top, 70 * unit, 12 * unit, word,
              QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
    if chart["forecast"]:
        (t0, v0), (t1, v1) = chart["forecast"]
        p.setPen(_pen(QtCore, QtGui, "#33415c", 1.3 * unit, dot))
        p.drawLine(at(t0, v0), at(t1, v1))
    path = QtGui.QPainterPath()
    for i, (t, v) in enumerate(pts):
        path.moveTo(at(t, v)) if i == 0 else path.lineTo(at(t, v))
    p.setPen(_pen(QtCore, QtGui, "#1d4e89", 1.8 * unit))
    p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    p.setBrush(QtGui.QColor("#1d4e89"))
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    for t, v in pts:
        p.drawEllipse(at(t, v), 1.5 * unit, 1.5 * unit)
    _paint_legend(QtCore, QtGui, chart, p, rect, unit, left)
    # dates under the axis: first, middle, last
    p.setFont(_font(QtGui, 6.3))
    p.setPen(QtGui.QColor(MUTED))
    for frac in (0.0, 0.5, 1.0):
        t = t_lo + frac * span
        day = datetime.fromtimestamp(t, UTC).astimezone()
        _text(QtCore, p, left + frac * (right - left) - 30 * unit, bottom + 3 * unit, 60 * unit, 14 * unit,
              f"{day:%b} {day.day}", QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignTop)


def height_of(chart: dict) -> int:
    return FLEET_HEIGHT if chart["kind"] == "fleet" else METRIC_HEIGHT


# -- outputs -------------------------------------------------------------------------
def svg(chart: dict) -> str:
    """The chart as an SVG document (for HTML reports)."""
    QtCore, QtGui = _qt()
    from PySide6.QtSvg import QSvgGenerator

    w, h = WIDTH, height_of(chart)
    data = QtCore.QByteArray()
    buffer = QtCore.QBuffer(data)
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buffer)
    gen.setSize(QtCore.QSize(w, h))
    gen.setViewBox(QtCore.QRect(0, 0, w, h))
    gen.setResolution(96)
    gen.setTitle(chart.get("title") or "chart")
    painter = QtGui.QPainter()
    painter.begin(gen)
    try:
        paint(chart, painter, QtCore.QRectF(0, 0, w, h))
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data()).decode("utf-8")


def svg_data_uri(chart: dict) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg(chart).encode("utf-8")).decode("ascii")


def install_handler(doc, charts: list[dict]):
    """Make `doc` draw `<img src="chart:N">` as charts[N] (vectors, into the PDF)."""
    QtCore, QtGui = _qt()

    class ChartHandler(QtGui.QPyTextObject):
        def intrinsicSize(self, document, pos, fmt):  # noqa: N802 - Qt's name
            image = fmt.toImageFormat()
            scale = document.documentLayout().paintDevice().logicalDpiX() / 96.0
            return QtCore.QSizeF(image.width() * scale, image.height() * scale)

        def drawObject(self, painter, rect, document, pos, fmt):  # noqa: N802 - Qt's name
            name = fmt.toImageFormat().name()
            if name.startswith(SCHEME) and name[len(SCHEME):].isdigit() and int(name[len(SCHEME):]) < len(charts):
                paint(charts[int(name[len(SCHEME):])], painter, rect)

    handler = ChartHandler(doc)
    doc.documentLayout().registerHandler(int(QtGui.QTextFormat.ObjectTypes.ImageObject.value), handler)
    return handler
