"""HTML → PDF through Qt, offscreen: QTextDocument lays the report out, QPdfWriter prints it.

The only module outside techdesk/ui/ that imports Qt (and only when a PDF is asked
for). No browser is needed. QTextDocument knows a subset of HTML and CSS (tables,
colours, margins, borders; no flexbox or grid): the templates are written for it.
Each page gets a footer with the report's title and "page N of M".
"""

from __future__ import annotations

import os
import sys

A4_MARGIN_MM = 15.0
FOOTER_MM = 7.0
_app = None  # the QGuiApplication we made, kept alive for the process


class PdfError(OSError):
    """The PDF could not be produced on this machine (Qt unusable): exit 1, not 64."""


def _ensure_app():
    """The running Qt application, or a new one. It is a QApplication (not just a
    QGuiApplication) so that a window or test made later in the same process still works."""
    global _app
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:  # e.g. a missing system library of Qt
        raise PdfError(f"cannot make a PDF: Qt is not usable here ({exc}); write .html instead") from None
    app = QGuiApplication.instance()
    if app is None:
        _app = app = QApplication(["techdesk"])
    elif not isinstance(app, QGuiApplication):
        raise PdfError("cannot make a PDF: a non-GUI Qt application is running")
    return app


def _keep_headings_with_next(doc, page_height: float, room: float = 0.12) -> None:
    """QTextDocument ignores `page-break-after: avoid`: move a heading that would sit in
    the last `room` of a page (alone, without what follows it) to the next page, and one
    whose next block (a chart, which never splits) starts on the next page."""
    from PySide6.QtGui import QTextCursor, QTextFormat

    layout = doc.documentLayout()
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.headingLevel() >= 2 and QTextCursor(block).currentTable() is None:
            rect = layout.blockBoundingRect(block)
            bottom_of_page = (int(rect.top() // page_height) + 1) * page_height
            following = block.next()
            pushed = False
            if following.isValid() and following.layout().lineCount():  # a line moved to the next page
                first_line = layout.blockBoundingRect(following).top() + following.layout().lineAt(0).y()
                pushed = first_line >= bottom_of_page - 2  # float rounding: exactly at the page top
            if (pushed or bottom_of_page - rect.bottom() < room * page_height) and rect.top() % page_height > 1:
                fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                QTextCursor(block).setBlockFormat(fmt)
                doc.markContentsDirty(0, doc.characterCount())  # lay out again from here
        block = block.next()


def html_to_pdf(html: str, title: str = "", footer: str = "", charts: list[dict] | None = None) -> bytes:
    """The PDF bytes of `html` on A4 pages with 15 mm margins; `title` goes into the
    document's metadata, `footer` at the bottom left of every page. `<img src="chart:N">`
    is drawn as charts[N] (techdesk/reports/charts.py), as vectors."""
    _ensure_app()
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt
    from PySide6.QtGui import (
        QAbstractTextDocumentLayout,
        QColor,
        QFont,
        QPageLayout,
        QPageSize,
        QPainter,
        QPdfWriter,
        QTextDocument,
        QTextOption,
    )

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(*[A4_MARGIN_MM] * 4), QPageLayout.Unit.Millimeter))
    writer.setResolution(300)
    writer.setTitle(title)
    writer.setCreator("techdesk")

    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setUseDesignMetrics(True)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(option)
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(9.5)
    font.setFeature(QFont.Tag("liga"), 0)  # "office", not "oﬃce": text stays searchable
    doc.setDefaultFont(font)
    doc.documentLayout().setPaintDevice(writer)  # lay out in the printer's units
    if charts:
        from techdesk.reports.charts import install_handler

        _handler = install_handler(doc, charts)  # noqa: F841 - kept alive while the document is drawn
    doc.setHtml(html)

    dpi = writer.resolution()
    body = writer.pageLayout().paintRectPixels(dpi)
    footer_h = FOOTER_MM / 25.4 * dpi
    page = QSizeF(body.width(), body.height() - footer_h)
    doc.setPageSize(page)
    _keep_headings_with_next(doc, page.height())
    pages = max(1, doc.pageCount())

    painter = QPainter()
    if not painter.begin(writer):
        raise PdfError("cannot make a PDF: Qt could not start painting")
    try:
        small = QFont(font)
        small.setPointSizeF(7.5)
        for index in range(pages):
            if index:
                writer.newPage()
            painter.save()
            painter.translate(0, -index * page.height())
            context = QAbstractTextDocumentLayout.PaintContext()
            context.clip = QRectF(0, index * page.height(), page.width(), page.height())
            painter.setClipRect(context.clip)
            doc.documentLayout().draw(painter, context)
            painter.restore()
            painter.setFont(small)
            painter.setPen(QColor("#8a94a0"))
            line_y = page.height() + footer_h * 0.35
            painter.drawLine(0, int(line_y), int(page.width()), int(line_y))
            text_rect = QRectF(0, line_y, page.width(), footer_h - footer_h * 0.35)
            painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), footer)
            painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             f"Page {index + 1} of {pages}")
    finally:
        painter.end()
    buffer.close()
    result = bytes(data.data())
    if not result.startswith(b"%PDF"):
        raise PdfError("cannot make a PDF: Qt produced no PDF data")
    return result
