"""`techdesk report visit|client -o FILE`: real files, real PDFs, one-line errors."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.unit.test_reports import CLIENT, HOSTILE, build


@pytest.fixture
def world(workspace_dir, monkeypatch):
    built = build(workspace_dir, monkeypatch, hostile=True)
    built["svc"].close()
    return built


def _pdf_text(path) -> str | None:
    if not shutil.which("pdftotext"):
        return None
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_visit_report_pdf(cli, world, tmp_path):
    out = tmp_path / "visit.pdf"
    code, stdout, stderr = cli("report", "visit", world["v2"][:8], "-o", str(out))
    assert code == 0, stderr
    assert stdout.strip() == str(out)
    content = out.read_bytes()
    assert content.startswith(b"%PDF") and content.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", content)) >= 1
    text = _pdf_text(out)
    if text is not None:
        assert CLIENT in text and "Dana Kowalski" in text and "Head office" in text
        assert "Page 1 of" in text
        assert "<script>alert(1)</script>" in text.replace("\n", "")  # literal text, not markup
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_visit_report_html_is_self_contained_and_escaped(cli, world, tmp_path):
    out = tmp_path / "visit.html"
    code, stdout, _ = cli("report", "visit", world["v2"], "-o", str(out))
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert "Müller &amp; Partner" in html and "Dana Kowalski" in html and "Head office" in html
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{ 7*7 }}" in html  # note text is data, never template code
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # no external resources
    assert "<style>" in html and "<link" not in html


def test_client_report(cli, world, tmp_path):
    out = tmp_path / "client.html"
    code, _, stderr = cli("report", "client", CLIENT, "-o", str(out))
    assert code == 0, stderr
    html = out.read_text(encoding="utf-8")
    assert "Head office" in html and "Branch" in html and "fs01" in html and "ws-branch" in html
    assert "&lt;script&gt;" in html and "Trends and forecasts" not in html
    pdf = tmp_path / "client.pdf"
    assert cli("report", "client", CLIENT, "-o", str(pdf))[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("args, message", [
    (["visit", "nosuchvisit"], "no visit with id 'nosuchvisit'"),
    (["client", "Nobody"], "no client named 'Nobody'"),
])
def test_unknown_visit_or_client_is_exit_64(cli, world, tmp_path, args, message):
    out = tmp_path / "r.pdf"
    code, stdout, stderr = cli("report", *args, "-o", str(out))
    assert code == 64 and stdout == ""
    assert stderr.strip() == f"techdesk: error: {message}" and stderr.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("name", ["report.docx", "report", "report.pdf.txt"])
def test_bad_suffix_is_one_line_and_writes_nothing(cli, world, tmp_path, name):
    code, _, stderr = cli("report", "visit", world["v2"], "-o", str(tmp_path / name))
    assert code == 64 and stderr.count("\n") == 1
    assert "must end in .pdf or .html" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws"]


def test_missing_folder_and_missing_output_option(cli, world, tmp_path):
    code, _, stderr = cli("report", "visit", world["v2"], "-o", str(tmp_path / "nope" / "r.html"))
    assert code == 64 and "does not exist" in stderr
    code, _, stderr = cli("report", "visit", world["v2"])
    assert code == 64 and "-o" in stderr


def test_user_template_override(cli, world, workspace_dir, tmp_path):
    templates = workspace_dir / "templates"
    templates.mkdir()
    (templates / "visit_report.html.j2").write_text(
        '{% extends "builtin/visit_report.html.j2" %}'
        '{% block kicker %}OUR OWN LAYOUT{% endblock %}', encoding="utf-8")
    (templates / "client_report.html.j2").write_text(
        "<p>Custom for {{ client }}: {% for s in sites %}{{ s.name }};{% endfor %}</p>", encoding="utf-8")
    out = tmp_path / "v.html"
    assert cli("report", "visit", world["v2"], "-o", str(out))[0] == 0
    html = out.read_text(encoding="utf-8")
    assert "OUR OWN LAYOUT" in html and "VISIT REPORT" not in html and "Dana Kowalski" in html
    assert cli("report", "client", CLIENT, "-o", str(out))[0] == 0
    assert out.read_text(encoding="utf-8") == "<p>Custom for Müller &amp; Partner: Branch;Head office;</p>"


def test_broken_user_template_is_one_line_and_keeps_the_old_file(cli, world, workspace_dir, tmp_path):
    out = tmp_path / "v.html"
    out.write_text("previous report", encoding="utf-8")
    (workspace_dir / "templates").mkdir()
    (workspace_dir / "templates" / "visit_report.html.j2").write_text("{% for x in %}", encoding="utf-8")
    code, _, stderr = cli("report", "visit", world["v2"], "-o", str(out))
    assert code == 64 and stderr.count("\n") == 1
    assert "visit_report.html.j2, line 1" in stderr
    assert out.read_text(encoding="utf-8") == "previous report"
    (workspace_dir / "templates" / "visit_report.html.j2").write_text(
        "{{ ''.__class__.__mro__ }}", encoding="utf-8")  # the sandbox refuses internals
    code, _, stderr = cli("report", "visit", world["v2"], "-o", str(out))
    assert code == 64 and "unsafe" in stderr
    assert out.read_text(encoding="utf-8") == "previous report"


def test_failed_pdf_leaves_no_half_file(cli, world, tmp_path, monkeypatch):
    import techdesk.services.reports as service

    out = tmp_path / "v.pdf"
    out.write_bytes(b"%PDF old")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service.os, "fsync", disk_full)
    code, _, stderr = cli("report", "visit", world["v2"], "-o", str(out))
    monkeypatch.undo()
    assert code == 1 and "No space left" in stderr and stderr.count("\n") == 1
    assert out.read_bytes() == b"%PDF old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.pdf", "ws"]
