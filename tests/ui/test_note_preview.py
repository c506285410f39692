"""The note preview in the window is the client's report: the same Markdown renderer
(techdesk/reports/markdown.py), tables included, no raw HTML, no live links or images."""

from __future__ import annotations

import os

from PySide6.QtGui import QTextTable

from techdesk.reports.html import environment
from techdesk.ui.views.notes_panel import NotesPanel

BODY = ("Replaced the **fan**.\n\n"
        "| Disk | Free |\n|---|--:|\n| / | 76 GiB |\n| /srv | 2 GiB |\n\n"
        "See [the vendor note](https://vendor.example/kb?id=1&x=2) and ![photo](http://evil.example/p.png)\n"
        "<img src=http://evil.example/t.png onerror=alert(1)> <b>not bold</b>")


def _tables(document) -> list[QTextTable]:
    return [f for f in document.rootFrame().childFrames() if isinstance(f, QTextTable)]


def test_preview_renders_what_the_report_renders(qtbot):
    panel = NotesPanel()
    qtbot.addWidget(panel)
    panel.resize(760, 640)
    panel.show()
    panel.body.setPlainText(BODY)
    panel.body_tabs.setCurrentWidget(panel.preview)

    doc = panel.preview.document()
    (table,) = _tables(doc)
    assert (table.rows(), table.columns()) == (3, 2)
    assert table.cellAt(2, 1).firstCursorPosition().block().text() == "2 GiB"
    text = panel.preview.toPlainText()
    assert "the vendor note (https://vendor.example/kb?id=1&x=2)" in text
    assert "photo (http://evil.example/p.png)" in text
    assert "<img src=http://evil.example/t.png onerror=alert(1)> <b>not bold</b>" in text
    html = panel.preview.toHtml()
    assert "<img" not in html and "href=" not in html  # nothing to fetch or to click

    # the report shows the same text
    report = environment().from_string("{{ body | markdown }}").render(body=BODY)
    assert '<table class="md">' in report and "the vendor note (<code>https://vendor.example/kb?id=1&amp;x=2</code>)" in report
    if os.environ.get("TECHDESK_SCREENSHOTS"):
        panel.grab().save(os.path.join(os.environ["TECHDESK_SCREENSHOTS"], "note-preview.png"))
