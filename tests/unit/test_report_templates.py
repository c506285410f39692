"""User report templates are untrusted code: one that raises or loops gives one line
and exit 64, and none can change the colours or data of the next report."""

from __future__ import annotations

import pytest

from techdesk.reports import html
from tests.unit.test_reports import build


@pytest.fixture
def world(workspace_dir, monkeypatch):
    built = build(workspace_dir, monkeypatch)
    built["svc"].close()
    (workspace_dir / "templates").mkdir()
    return built


def _override(workspace_dir, body: str) -> None:
    (workspace_dir / "templates" / "visit_report.html.j2").write_text(body, encoding="utf-8")


def _one_line_64(cli, world, tmp_path, *needles: str) -> str:
    out = tmp_path / "r.html"
    code, stdout, err = cli("report", "visit", world["v2"], "-o", str(out))
    lines = err.strip().splitlines()
    assert code == 64 and len(lines) == 1 and lines[0].startswith("techdesk: error: report template"), err
    assert all(n in lines[0] for n in needles), lines[0]
    assert not out.exists()
    return lines[0]


@pytest.mark.parametrize(("body", "needles"), [
    ("ok\n{{ 1 / 0 }}\n", ("visit_report.html.j2, line 2", "ZeroDivisionError")),
    ("{{ visit.no_such_method() }}", ("visit_report.html.j2",)),
    ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", ("RecursionError",)),
    ("{% for i in range(10**9) %}x{% endfor %}", ("OverflowError",)),
    ("{{ 'x' * 10**10 }}", ("too big for a report",)),
    ("{{ 7 ** 10000000 }}", ("too big for a report",)),
])
def test_template_that_raises_is_one_line_exit_64(cli, world, workspace_dir, tmp_path, body, needles):
    _override(workspace_dir, body)
    _one_line_64(cli, world, tmp_path, *needles)


@pytest.mark.timeout(60)
def test_template_that_loops_is_stopped(cli, world, workspace_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(html, "RENDER_LIMIT_S", 2.0)
    _override(workspace_dir, "{% for i in range(100000) %}{% for j in range(100000) %}"
                             "{% endfor %}{% endfor %}")
    _one_line_64(cli, world, tmp_path, "did not finish within 2 s")


def test_templates_cannot_change_the_next_report(cli, world, workspace_dir, tmp_path):
    reference = tmp_path / "before.html"
    assert cli("report", "visit", world["v2"], "-o", str(reference))[0] == 0
    # A template that tries to recolour "ok" and to rewrite the data it is given.
    _override(workspace_dir, "{{ colors.update({'ok': '#000000'}) }}{{ colors.__setitem__('crit', 'x') }}")
    _one_line_64(cli, world, tmp_path, "visit_report.html.j2")
    _override(workspace_dir, "{% set _ = visit.update({'client': 'Forged'}) %}done")
    _one_line_64(cli, world, tmp_path)
    assert html.STATUS_COLORS["ok"] == "#2e9d4f" and html.STATUS_COLORS["crit"] == "#d64541"
    (workspace_dir / "templates" / "visit_report.html.j2").unlink()
    after = tmp_path / "after.html"
    assert cli("report", "visit", world["v2"], "-o", str(after))[0] == 0
    assert after.read_text() == reference.read_text().replace(reference.name, after.name)
