"""Visit and client reports: content, grouping, history, escaping, templates, files."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from techdesk.core.findings import CheckResult, HostError, HostResult, Metric
from techdesk.core.roster import HostSpec, RosterError
from techdesk.core.severity import Status
from techdesk.core.work import WorkError
from techdesk.reports import data as report_data
from techdesk.reports.html import markdown
from techdesk.services.context import Services
from techdesk.store import runs as runs_repo
from techdesk.store.db import transaction
from techdesk.workspace import Workspace

CLIENT = "Müller & Partner"
HOSTILE = "<script>alert(1)</script>"
_WORDS = {"ok": "OK", "warn": "WARNING", "crit": "CRITICAL", "unknown": "UNKNOWN"}


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def check(cid: str, title: str, status: str, summary: str, metrics: dict | None = None,
          output: str | None = None) -> CheckResult:
    return CheckResult(
        id=cid, title=title, status=Status(status), summary=summary,
        exit_code={"ok": 0, "warn": 1, "crit": 2}.get(status, 3), duration_s=0.05,
        metrics={label: Metric(label, value, uom, warn, crit, 0, 100 if uom == "%" else None)
                 for label, (value, uom, warn, crit) in (metrics or {}).items()},
        output=output if output is not None else f"{_WORDS[status]} - {summary}")


def store_run(svc: Services, started: datetime, results: dict, bundle: str = "linux-health") -> str:
    """results: host -> list of CheckResult, or a HostError."""
    run_id = uuid.uuid4().hex
    runs_repo.create_run(svc.conn, run_id, bundle, 1, "dana", iso(started))
    for host, value in results.items():
        result = HostResult(host, error=value, duration_s=10.0) if isinstance(value, HostError) \
            else HostResult(host, checks=value, duration_s=1.2)
        runs_repo.save_host_result(svc.conn, run_id, result, iso(started))
    return run_id


def set_visit_times(svc: Services, visit_id: str, started: datetime, stopped: datetime | None = None) -> None:
    with transaction(svc.conn):
        svc.conn.execute("UPDATE visits SET started = ?, stopped = ? WHERE id = ?",
                         (iso(started), iso(stopped) if stopped else None, visit_id))


def _disk(pct: int, extra: str = "") -> CheckResult:
    status = "crit" if pct >= 90 else "warn" if pct >= 80 else "ok"
    return check("disk", "Disk space", status, f"/ {pct}% used, 3.1 GiB free (worst of 2 filesystems)",
                 {"/": (pct, "%", 80, 90), "/boot": (41, "%", 80, 90)},
                 output=f"{_WORDS[status]} - / {pct}% used\nFilesystem Size Used Avail Use% Mounted on\n"
                        f"/dev/sda1 50G 46G 3.1G {pct}% /\n{extra}")


def build(workspace_path, monkeypatch, hostile: bool = False) -> dict:
    """A client with a site and three hosts, two visits a week apart, runs and notes."""
    monkeypatch.setenv("TECHDESK_TECHNICIAN", "Dana Kowalski")
    svc = Services(Workspace(workspace_path))
    web = HOSTILE if hostile else "web1"
    for name, site in (("fs01", "Head office"), (web, "Head office"), ("nas1", "Head office"),
                       ("ws-branch", "Branch")):
        svc.roster.add(HostSpec(name=name, address="192.0.2.10", client=CLIENT, site=site))
    now = datetime.now(UTC).replace(microsecond=0)
    first_start, second_start = now - timedelta(days=7, hours=3), now - timedelta(hours=2)

    # Visit 1, a week ago: disk at 86% (warning), memory fine.
    v1 = svc.visits.start(CLIENT, "Head office")
    set_visit_times(svc, v1.id, first_start)
    store_run(svc, first_start + timedelta(minutes=10), {
        "fs01": [_disk(86), check("memory", "Memory", "ok", "memory 41% used", {"mem_used": (41.0, "%", 90, 95)}),
                 check("reboot", "Reboot required", "warn", "reboot required by: linux-image")],
        web: [check("updates", "Pending updates", "ok", "0 updates pending")],
    })
    svc.notes.add("Checked the file server", "Disk at 86%, will watch it.", host="fs01")
    svc.visits.stop(v1.id)
    set_visit_times(svc, v1.id, first_start, first_start + timedelta(minutes=95))

    # Visit 2, today: disk critical, reboot done, updates pending, nas1 unreachable.
    v2 = svc.visits.start(CLIENT, "Head office")
    set_visit_times(svc, v2.id, second_start)
    long_output = "CRITICAL - / 93% used\n" + "\n".join(f"log line {i}" for i in range(1, 350))
    body = "Cleaned **old logs** in `/var/log`.\n\n- rotated journal\n- removed *core dumps*\n"
    if hostile:
        body += "\n<img src=x onerror=alert(1)> {{ 7*7 }}\n"
    run_id = store_run(svc, second_start + timedelta(minutes=15), {
        "fs01": [check("disk", "Disk space", "crit", "/ 93% used, 3.1 GiB free",
                       {"/": (93, "%", 80, 90), "/boot": (41, "%", 80, 90)}, output=long_output),
                 check("memory", "Memory", "ok", "memory 45% used", {"mem_used": (45.0, "%", 90, 95)}),
                 check("reboot", "Reboot required", "ok", "no reboot required")],
        web: [check("updates", "Pending updates", "warn", "12 updates pending, 3 of them security",
                    {"updates": (12, "", None, None), "security_updates": (3, "", 1, None)}),
              check("backup_age", "Backup age", "warn", "last backup 9 days ago")],
        "nas1": HostError("unreachable", "no route to host 192.0.2.10:22"),
    })
    note = svc.notes.add("Disk cleanup on " + ("fs01" if not hostile else HOSTILE), body, host="fs01",
                         runs=[run_id], followups=["Order a bigger disk for fs01", "Done already"])
    svc.notes.edit(note.id, followups=[*svc.notes.get(note.id).followups[:1],
                                       type(note.followups[0])("Done already", True)])
    svc.notes.add("Printer in reception", "Replaced the toner.", client=CLIENT, site="Head office")
    svc.visits.update(v2.id, check=(0, True))
    stopped = svc.visits.stop(v2.id)
    return {"svc": svc, "v1": v1.id, "v2": v2.id, "web": web, "stopped": stopped, "run": run_id}


@pytest.fixture
def world(tmp_path, monkeypatch):
    built = build(tmp_path / "ws", monkeypatch)
    yield built
    built["svc"].close()


# -- the data ------------------------------------------------------------------------
def test_visit_report_header_and_summary(world):
    d = report_data.visit_report(world["svc"], world["v2"])
    assert (d["client"], d["site"], d["technician"]) == (CLIENT, "Head office", "Dana Kowalski")
    assert d["date"] == datetime.fromisoformat(world["stopped"].started).astimezone().strftime("%Y-%m-%d")
    assert 119 <= d["minutes_on_site"] <= 121 and d["billable_minutes"] == 120
    assert d["summary_generated"]
    assert d["summary"] == "3 machines checked (1 could not be reached), 1 critical finding, 2 warnings; 2 notes"
    assert d["checklist"][0]["done"] and not d["checklist"][1]["done"]


def test_findings_are_grouped_by_severity_with_their_hosts(world):
    d = report_data.visit_report(world["svc"], world["v2"])
    assert [g["status"] for g in d["findings"]] == ["crit", "warn", "unknown"]
    crit, warn, unknown = (g["items"] for g in d["findings"])
    assert [(f["host"], f["id"]) for f in crit] == [("fs01", "disk")]
    assert {(f["host"], f["id"]) for f in warn} == {("web1", "updates"), ("web1", "backup_age")}
    assert unknown[0]["host"] == "nas1" and "unreachable" in unknown[0]["summary"]
    assert {o["host"]: o["count"] for o in d["ok_counts"]} == {"fs01": 2}
    assert [h["name"] for h in d["hosts"]] == ["fs01", "nas1", "web1"]


def test_changes_since_the_previous_visit(world):
    d = report_data.visit_report(world["svc"], world["v2"])
    assert d["previous_visit"]["id"] == world["v1"]
    by_check = {(c["host"], c["id"]): c for c in d["changes"]}
    disk = by_check["fs01", "disk"]
    assert disk["text"] == "Disk space: was WARNING, now CRITICAL" and disk["direction"] == "worse"
    assert disk["deltas"] == ["/ 86% → 93%"]
    assert by_check["fs01", "reboot"]["direction"] == "better"
    assert by_check["web1", "updates"]["text"] == "Pending updates: was OK, now WARNING"
    assert ("fs01", "memory") not in by_check  # same status: not a change
    assert d["changes"][-1]["direction"] == "better"  # worse first


def test_first_visit_has_no_previous_one(world):
    d = report_data.visit_report(world["svc"], world["v1"])
    assert d["previous_visit"] is None and d["changes"] == []
    assert [f["id"] for g in d["findings"] for f in g["items"]] == ["disk", "reboot"]


def test_recommendations_and_followups(world):
    d = report_data.visit_report(world["svc"], world["v2"])
    texts = [r["text"] for r in d["recommendations"]]
    assert texts[0] == "Free up space on / of fs01 (93% used)"
    assert "Install the pending updates on web1" in texts
    assert "Review Backup age on web1 (last backup 9 days ago)" in texts
    assert "Find out why nas1 could not be checked (unreachable)" in texts
    assert [r["status"] for r in d["recommendations"]] == ["crit", "warn", "warn", "unknown"]
    assert [f["text"] for f in d["followups"]] == ["Order a bigger disk for fs01"]


def test_advice_wording_and_fallback():
    mem = {"id": "memory", "title": "Memory", "summary": "", "metrics": {
        "mem_used": {"value": 96.2, "uom": "%", "warn": 90, "crit": 95},
        "mem_available": {"value": 300, "uom": "MB", "warn": None, "crit": None}}}
    assert report_data.advice(mem, "db1") == "Find out what uses the memory of db1 (96.2% used), or add memory"
    assert report_data.advice({"id": "disk", "title": "Disk", "metrics": {}}, "x") == "Free up disk space on x"
    assert report_data.advice({"id": "raid", "title": "RAID", "summary": ""}, "x") == "Review RAID on x"
    assert report_data.advice({"id": "ntp", "title": "Time"}, "x").startswith("Turn on time synchronisation")


def test_appendix_output_is_capped(world):
    d = report_data.visit_report(world["svc"], world["v2"])
    disk = next(a for a in d["appendix"] if a["id"] == "disk")
    assert disk["shown"] == 200 and disk["total"] == 350 and disk["cut"] == 150
    assert disk["text"].count("\n") == 199 and "log line 199" in disk["text"]
    assert "log line 200" not in disk["text"]


def test_work_performed_lists_the_visit_notes(world):
    d = report_data.visit_report(world["svc"], world["v2"])
    assert [n["title"] for n in d["work"]] == ["Disk cleanup on fs01", "Printer in reception"]
    assert d["work"][1]["for"] == f"{CLIENT} / Head office"


def test_attached_runs_are_the_fallback(world):
    svc = world["svc"]
    with transaction(svc.conn):
        svc.conn.execute("UPDATE visits SET runs = '[]' WHERE id = ?", (world["v2"],))
    d = report_data.visit_report(svc, world["v2"])
    assert [h["name"] for h in d["hosts"] if h["status"]] == ["fs01"]  # from the note's attached run
    assert d["findings"][0]["items"][0]["summary"].startswith("/ 93% used")
    assert d["appendix"] == []  # a note keeps findings, not raw output


def test_unknown_visit_and_client(world):
    with pytest.raises(WorkError, match="no visit"):
        report_data.visit_report(world["svc"], "nosuchvisit")
    with pytest.raises(RosterError, match="no client"):
        report_data.client_report(world["svc"], "Nobody")


def test_client_report_groups_hosts_by_site(world):
    d = report_data.client_report(world["svc"], CLIENT)
    assert [s["name"] for s in d["sites"]] == ["Branch", "Head office"] or \
        [s["name"] for s in d["sites"]] == ["Head office", "Branch"]
    office = next(s for s in d["sites"] if s["name"] == "Head office")
    status = {h["name"]: h["status"] for h in office["hosts"]}
    assert status == {"fs01": "crit", "nas1": "unknown", "web1": "warn"}
    branch = next(s for s in d["sites"] if s["name"] == "Branch")
    assert branch["hosts"][0]["status"] is None and d["never_checked"] == 1
    assert "trends" not in d
    assert [n["title"] for n in d["notes"]][0] in {"Disk cleanup on fs01", "Printer in reception"}
    assert {f["text"] for f in d["followups"]} == {"Order a bigger disk for fs01"}


def test_metric_and_duration_wording():
    assert report_data.fmt_value(93.0, "%") == "93%" and report_data.fmt_value(1.25, "GB") == "1.2 GB"
    assert report_data.duration_text(83) == "1 h 23 min" and report_data.duration_text(45) == "45 min"
    assert report_data.metric_deltas({"/": {"value": 86, "uom": "%"}}, {"/": {"value": 93, "uom": "%"}}) \
        == ["/ 86% → 93%"]


# -- Markdown --------------------------------------------------------------------------
def test_markdown_subset():
    html = str(markdown("# Title\nSome **bold** and *it* and `co<de>`\n\n- a\n- b\n\n1. one\n\n"
                        "```\nx < y\n```\n[site](https://e.com/?a=1&b=2)")).replace("\n", "")
    assert "<h4>Title</h4>" in html and "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<code>co&lt;de&gt;</code>" in html
    assert "<ul><li>a</li><li>b</li></ul>" in html and "<ol><li>one</li></ol>" in html
    assert "<pre><code>x &lt; y</code></pre>" in html
    assert "site (<code>https://e.com/?a=1&amp;b=2</code>)" in html and "<a " not in html


def test_markdown_tables_line_breaks_and_addresses_as_text():
    html = str(markdown("| Disk | Free |\n|---|--:|\n| / | 76 GiB |\n\nline one\nline two\n\n"
                        "<https://e.com/x> and ![diagram](http://evil.example/x.png)")).replace("\n", "")
    assert '<table class="md"><thead><tr><th>Disk</th>' in html and '<td style="text-align:right">76 GiB</td>' in html
    assert "line one<br />line two" in html
    assert "<p><code>https://e.com/x</code> and diagram (<code>http://evil.example/x.png</code>)</p>" in html
    assert "<img" not in html and "<a " not in html


@pytest.mark.parametrize("evil", [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[x](javascript:alert(1))",
    "<a href='javascript:alert(1)'>x</a>", "**<b>x</b>**", "`<i>`", "snake_case_name and 2*3*4",
    "![x](http://evil.example/t.png)", "<http://evil.example/>", "[a](<javascript:x>)",
    "| <b>x</b> |\n|---|\n| <img src=y> |", ">" * 5000 + "deep", "*" * 20000 + "x",
])
def test_markdown_never_passes_raw_html(evil):
    html = str(markdown(evil))
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", html))
    assert tags <= {"p", "strong", "em", "code", "br", "blockquote", "table", "thead", "tbody", "tr", "th",
                    "td"}
    assert "<a " not in html and "<img" not in html and "<script" not in html


def test_markdown_keeps_snake_case():
    assert "snake_case_name" in str(markdown("snake_case_name"))


# -- PDF (Qt offscreen) --------------------------------------------------------------------
def test_html_to_pdf_is_a_real_pdf(tmp_path):
    from techdesk.reports.pdf import html_to_pdf

    pdf = html_to_pdf("<h1>Hello Acme</h1>" + "<p>line</p>" * 200, title="T", footer="Acme")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2
    if shutil.which("pdftotext"):
        (tmp_path / "x.pdf").write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(tmp_path / "x.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert "Hello Acme" in text and "Page 1 of" in text


# -- HTML -----------------------------------------------------------------------------------
def _visit_html(svc, visit_id) -> str:
    return svc.reports.render_html("visit", svc.reports.visit_data(visit_id))


def test_visit_html_has_every_section_in_order(world):
    html = _visit_html(world["svc"], world["v2"])
    for text in (CLIENT.replace("&", "&amp;"), "Head office", "Dana Kowalski", "2 h 00 min"):
        assert text in html
    order = ["Summary", "Machines", "Findings", "Critical (1)", "Warnings (2)", "Could not be checked (1)",
             "Changes since the previous visit", "Recommendations and follow-ups", "Work performed",
             "Checklist", "Appendix: raw check output"]
    positions = [re.search(r"<h[234][^>]*>" + re.escape(h), html).start() for h in order]
    assert positions == sorted(positions)
    assert "/ 86% → 93%" in html and "Free up space on / of fs01 (93% used)" in html
    assert "Order a bigger disk for fs01" in html
    assert "150 more lines not shown (200 of 350)" in html
    assert "<strong>old logs</strong>" in html and "<code>/var/log</code>" in html


def test_hostile_text_is_escaped_everywhere(tmp_path, monkeypatch):
    built = build(tmp_path / "ws", monkeypatch, hostile=True)
    svc = built["svc"]
    for html in (_visit_html(svc, built["v2"]),
                 svc.reports.render_html("client", svc.reports.client_data(CLIENT))):
        assert HOSTILE not in html and "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = _visit_html(svc, built["v2"])
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html and "{{ 7*7 }}" in html
    svc.close()


def test_running_visit_report(tmp_path, monkeypatch):
    monkeypatch.setenv("TECHDESK_TECHNICIAN", "Sam")
    svc = Services(Workspace(tmp_path / "ws"))
    svc.roster.add(HostSpec(name="pc1", address="192.0.2.1", client="Solo"))
    visit = svc.visits.start("Solo")
    d = report_data.visit_report(svc, visit.id)
    assert d["running"] and d["stop"] == "" and d["site"] == "" and d["findings"] == []
    assert d["summary"] == "0 machines checked"
    html = svc.reports.render_html("visit", d)
    assert "still running" in html and "No diagnostics were run during this visit." in html
    svc.close()


def test_trends_are_rendered_only_when_given(world):
    svc = world["svc"]
    assert "Trends and forecasts" not in svc.reports.render_html("client", svc.reports.client_data(CLIENT))
    d = report_data.client_report(svc, CLIENT, trends=[
        {"host": "fs01", "title": "Disk space /", "text": "full in about 12 days", "status": "crit"}])
    html = svc.reports.render_html("client", d)
    assert "Trends and forecasts" in html and "full in about 12 days" in html


def test_builtin_prefix_cannot_leave_the_template_folder():
    from techdesk.reports.html import _load_builtin

    assert _load_builtin("builtin/visit_report.html.j2").startswith("{#")
    for name in ("builtin/../__init__.py", "../../x", ".hidden", "builtin/sub/x"):
        assert _load_builtin(name) is None


def test_report_service_checks_the_format_first(world, tmp_path):
    svc = world["svc"]
    with pytest.raises(WorkError, match="must end in .pdf or .html"):
        svc.reports.visit("nosuchvisit", tmp_path / "r.txt")  # the format is checked first
    with pytest.raises(WorkError, match="is a folder"):
        svc.reports.visit(world["v2"], tmp_path.joinpath("d.html").mkdir() or tmp_path / "d.html")
    path = svc.reports.visit(world["v2"], tmp_path / "R.HTML")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_visit_report_options_appendix_and_unticked_items(world):
    svc = world["svc"]
    default = report_data.visit_report(svc, world["v2"])
    assert default["appendix"] and all(a["status"] != "ok" for a in default["appendix"])
    every = report_data.visit_report(svc, world["v2"], appendix_of="all")
    assert len(every["appendix"]) > len(default["appendix"])
    assert report_data.visit_report(svc, world["v2"], appendix_of="none")["appendix"] == []
    ticked = report_data.visit_report(svc, world["v2"], unticked=False)["checklist"]
    assert all(c["done"] for c in ticked) and len(ticked) < len(default["checklist"])
    with pytest.raises(WorkError):
        report_data.visit_report(svc, world["v2"], appendix_of="everything")
