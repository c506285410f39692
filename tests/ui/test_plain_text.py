"""Remote and synced text in tooltips is shown as written, never rendered as HTML
(Qt renders any tooltip that "looks like" rich text)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QTextDocument

from techdesk.core.findings import CheckResult, HostError, HostResult
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.ui.models.findings_model import COLUMNS, FindingsModel
from techdesk.ui.models.roster_model import RosterModel
from techdesk.ui.views.run_panel import RunPanel

HOSTILE = "<b>bold</b> <a href='https://evil.example/'>click</a> <img src='x'>"


def shown(tooltip: str) -> str:
    """What Qt displays for a tooltip: rich text if it looks like rich text."""
    doc = QTextDocument()
    doc.setHtml(tooltip) if ("<" in tooltip) else doc.setPlainText(tooltip)
    return doc.toPlainText()


def test_run_panel_tooltips_are_literal(qtbot):
    panel = RunPanel()
    qtbot.addWidget(panel)
    panel.start(["web1", "web2"])
    check = CheckResult(id="c", title="c", status=Status.WARN, summary=HOSTILE, exit_code=1, duration_s=0.1)
    panel.add_check("web1", check)
    panel.host_done(HostResult(host="web1", checks=[check]))
    panel.host_done(HostResult(host="web2", error=HostError("protocol", HOSTILE)))
    tree = panel.results
    tips = []
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        tips += [item.toolTip(2)] + [item.child(j).toolTip(2) for j in range(item.childCount())]
    tips = [t for t in tips if t]
    assert len(tips) == 2
    assert all(shown(t) == HOSTILE for t in tips), tips


def test_roster_and_findings_tooltips_are_literal(services):
    services.roster.add(HostSpec(name="<img src=x>", address="10.0.0.1", client=HOSTILE, tags=["<i>t</i>"]))
    model = RosterModel()
    model.rebuild(services.roster.hosts(), {}, {})
    client = model.item(0, 0)
    host = client.child(0, 0)
    assert shown(model.tooltip(client.index())) == f"{HOSTILE}: 1 hosts"
    tip = shown(model.tooltip(host.index()))
    assert tip.startswith("<img src=x>\n") and "tags: <i>t</i>" in tip
    findings = FindingsModel()
    findings.set_checks([CheckResult(id="c", title="c", status=Status.OK, summary=HOSTILE, exit_code=0,
                                     duration_s=0)])
    from PySide6.QtCore import Qt

    tip = findings.data(findings.index(0, COLUMNS.index("Summary")), Qt.ItemDataRole.ToolTipRole)
    assert shown(tip) == HOSTILE


@pytest.mark.parametrize("text", ["plain words", "a < b and c > d", "line one\nline two"])
def test_ordinary_text_is_unchanged(text):
    from techdesk.ui.plain import plain_tip

    assert shown(plain_tip(text)) == text
