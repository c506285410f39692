"""The care report of a period and the visit briefing, built from a seeded workspace:
their facts (counts, availability, caught-before-outage list) checked against the data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from techdesk.core.alerts import AlertEvent
from techdesk.core.findings import HostError
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.core.work import WorkError
from techdesk.reports.period import Period, parse_period
from techdesk.services.context import Services
from techdesk.store import monitor as monitor_repo
from techdesk.store import work as work_repo
from techdesk.workspace import Workspace
from tests.unit.test_reports import check, iso, store_run

CLIENT = "Acme"
START = datetime(2026, 11, 1, tzinfo=UTC)
PERIOD = Period(START, START + timedelta(days=10), "the test period")


def disk(pct: float) -> list:
    status = "crit" if pct >= 90 else "warn" if pct >= 80 else "ok"
    return [check("disk", "Disk space", status, f"/srv {pct}% used", {"/srv": (pct, "%", 80, 90)}),
            check("load", "Load", "ok", "load 0.1")]


def mem(status: str) -> list:
    return [check("memory", "Memory", status, f"memory {status}")]


def at(day: float) -> datetime:
    return START + timedelta(days=day, hours=2)


@pytest.fixture
def seeded(workspace_dir, monkeypatch):
    """Four hosts of Acme over ten days of nightly sweeps:
    fs1: /srv climbs into WARNING on day 3-4, a fix note (runs before/after) on day 4, then OK -> caught.
    db1: memory WARNING on days 2-3, nobody acted, OK from day 4                     -> not caught.
    web1: disk CRITICAL on days 5-6, a note, then OK                                 -> not caught (critical).
    pc1: unreachable on days 0-3 (4 of 10 sweeps), fine after.
    flap1: WARNING day 1, note, OK day 2, WARNING again day 3 (flapping)             -> not caught.
    Plus a host of another client, which must not count."""
    monkeypatch.setenv("TECHDESK_TECHNICIAN", "Dana")
    svc = Services(Workspace(workspace_dir))
    for name in ("fs1", "db1", "web1", "pc1", "flap1"):
        svc.roster.add(HostSpec(name=name, address="192.0.2.1", client=CLIENT, site="HQ"))
    svc.roster.add(HostSpec(name="other", address="192.0.2.2", client="Other"))
    fs_values = [60, 64, 70, 82, 86, 40, 41, 41, 42, 42]
    runs = {}
    for day in range(10):
        results = {
            "fs1": disk(fs_values[day]),
            "db1": mem("warn" if day in (2, 3) else "ok"),
            "web1": disk(95 if day in (5, 6) else 50),
            "pc1": HostError("unreachable", "no route") if day <= 3 else mem("ok"),
            "flap1": mem("warn" if day in (1, 3) else "ok"),
            "other": HostError("unreachable", "no route"),
        }
        runs[day] = store_run(svc, at(day), results)
    # the fix on fs1, day 4 at noon: a run before (86%) and after (40%)
    before = store_run(svc, START + timedelta(days=4, hours=11), {"fs1": disk(86)})
    after = store_run(svc, START + timedelta(days=4, hours=12), {"fs1": disk(40)})
    fix = svc.notes.add("Archived old scans on fs1", host="fs1", runs=[before, after])
    fix.created = fix.updated = iso(START + timedelta(days=4, hours=12, minutes=5))
    work_repo.save_note(svc.conn, fix)
    for host, day in (("web1", 5.5), ("flap1", 1.5)):
        note = svc.notes.add(f"Looked at {host}", host=host)
        note.created = note.updated = iso(START + timedelta(days=day))
        work_repo.save_note(svc.conn, note)
    visit = svc.visits.start(CLIENT, "HQ")
    visit = svc.visits.stop(visit.id, summary="Monthly check")
    visit.started, visit.stopped = iso(START + timedelta(days=4, hours=10)), iso(START + timedelta(days=4, hours=12))
    visit.billable_minutes = 120
    visit.hosts = ["fs1"]
    work_repo.save_visit(svc.conn, visit)
    followup = svc.notes.add("Order disks", client=CLIENT, site="HQ", followups=["Quote for 2 disks"])
    pinned = svc.notes.add("Key at reception", client=CLIENT, site="HQ", pinned=True)
    # alerts: db1 memory opened day 2, resolved day 4 (48 h); web1 opened day 5, still open
    events = [AlertEvent("opened", "db1", "memory", "check", Status.WARN, "memory warn", at(2), at(2)),
              AlertEvent("resolved", "db1", "memory", "check", Status.OK, "memory ok", at(4), at(2)),
              AlertEvent("opened", "web1", "disk", "check", Status.CRIT, "disk crit", at(5), at(5))]
    monitor_repo.save_alerts(svc.conn, {}, events, iso(at(5)))
    yield {"svc": svc, "fix": fix, "followup": followup, "pinned": pinned, "visit": visit}
    svc.close()


def test_availability_and_counts_match_the_runs(seeded):
    report = seeded["svc"].reports.care_data(CLIENT, PERIOD)
    by_host = {a["host"]: a for a in report["availability"]}
    assert set(by_host) == {"fs1", "db1", "web1", "pc1", "flap1"}  # not the other client's host
    assert (by_host["pc1"]["reachable"], by_host["pc1"]["attempted"], by_host["pc1"]["percent"]) == (6, 10, 60.0)
    assert by_host["fs1"]["attempted"] == 12 and by_host["fs1"]["percent"] == 100.0  # sweeps + the fix's runs
    assert report["availability"][0]["host"] == "pc1"  # least available first
    assert report["runs"] == 12
    # checks: fs1 2 per run x 12, web1 2 x 10, db1/flap1 1 x 10, pc1 1 x 6
    assert report["checks_run"] == 24 + 20 + 10 + 10 + 6
    assert report["never_reached"] == [] and report["never_checked"] == []
    assert report["availability_overall"] == round(100 * (12 + 10 + 10 + 6 + 10) / (12 + 10 + 10 + 10 + 10), 1)


def test_fleet_chart_counts_each_host_by_its_worst_status_of_the_day(seeded):
    fleet = seeded["svc"].reports.care_data(CLIENT, PERIOD)["fleet"]
    day = fleet["days"].index((START + timedelta(days=5)).astimezone().date().isoformat())
    counts = {c: fleet["counts"][c][day] for c in fleet["counts"]}
    # day 5: web1 crit; fs1, db1, pc1, flap1 ok
    assert counts == {"ok": 4, "warn": 0, "crit": 1, "unknown": 0, "none": 0}
    first = fleet["days"].index(START.astimezone().date().isoformat())
    assert fleet["counts"]["unknown"][first] == 1  # pc1 not reached
    assert all(sum(fleet["counts"][c][i] for c in fleet["counts"]) == 5 for i in range(len(fleet["days"])))


def test_caught_before_an_outage_is_a_warning_acted_on_and_resolved_for_good(seeded):
    report = seeded["svc"].reports.care_data(CLIENT, PERIOD)
    caught = [(c["host"], c["check"]) for c in report["caught"]]
    assert caught == [("fs1", "disk")]  # not db1 (no action), web1 (critical), flap1 (came back)
    item = report["caught"][0]
    assert [a["kind"] for a in item["actions"]] == ["visit", "fix"]
    ev = item["evidence"]
    assert ev["warn"] == 80 and ev["crit"] == 90 and ev["label"] == "/srv"
    assert (ev["before"], ev["after"]) == ("86%", "42%")
    assert ev["forecast"] is not None and ev["days_left"] is not None and ev["days_left"] < 10
    problems = {(p["host"], p["check"]): p for p in report["problems"]}
    assert set(problems) == {("fs1", "disk"), ("db1", "memory"), ("web1", "disk"), ("flap1", "memory")}
    assert problems[("web1", "disk")]["worst"] == "crit"


def test_fixes_alerts_time_and_open_items(seeded):
    report = seeded["svc"].reports.care_data(CLIENT, PERIOD)
    assert len(report["fixes"]) == 1
    fix = report["fixes"][0]
    assert fix["host"] == "fs1" and fix["changes"][0]["was"] == "warn" and fix["changes"][0]["now"] == "ok"
    assert "86% → 40%" in fix["changes"][0]["text"]
    alerts = report["alerts"]
    assert (alerts["opened"], alerts["resolved"], alerts["still_open"], alerts["median_hours"]) == (2, 1, 1, 48.0)
    assert report["time"]["count"] == 1 and report["time"]["minutes"] == 120
    assert report["time"]["billable_minutes"] == 120
    assert [f["text"] for f in report["followups"]] == ["Quote for 2 disks"]
    assert not report["empty"]
    assert "1 problem was caught" in report["headline"]


def test_a_period_with_nothing_gives_a_short_honest_report(seeded, tmp_path):
    svc = seeded["svc"]
    svc.roster.add(HostSpec(name="quiet", address="192.0.2.9", client="Quiet Ltd"))
    report = svc.reports.care_data("Quiet Ltd", PERIOD)
    assert report["empty"] and report["caught"] == [] and report["never_checked"] == ["quiet"]
    assert "nothing was checked, visited or noted" in report["headline"]
    out = svc.reports.care("Quiet Ltd", PERIOD, tmp_path / "quiet.html")
    page = out.read_text()
    assert "nothing was checked" in page and "Fleet health" not in page


def test_care_report_files_draw_their_own_charts(seeded, tmp_path):
    svc = seeded["svc"]
    html = svc.reports.care(CLIENT, PERIOD, tmp_path / "care.html").read_text()
    assert html.count('src="data:image/svg+xml;base64,') == 2  # the fleet chart and fs1's evidence
    assert "Archived old scans on fs1" in html
    pdf = svc.reports.care(CLIENT, PERIOD, tmp_path / "care.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"/Subtype /Image" not in pdf  # charts are vectors, not pictures


def test_period_parsing():
    nov = parse_period("2026-11")
    assert nov.label == "November 2026" and len(nov.days()) == 30
    last = parse_period("month", now=datetime(2027, 1, 15, 12, tzinfo=UTC))
    assert last.label == "December 2026"
    span = parse_period(None, "2026-11-03", "2026-11-05")
    assert len(span.days()) == 3
    for bad in (("2026-13", None, None), (None, "yesterday", None), (None, "2026-11-05", "2026-11-01"),
                ("month", "2026-11-01", None), (None, None, None)):
        with pytest.raises(WorkError):
            parse_period(*bad)


def test_cli_care_report_and_usage_errors(seeded, cli, tmp_path):
    code, out, err = cli("report", "client", CLIENT, "--from", "2026-11-01", "--to", "2026-11-10",
                         "-o", str(tmp_path / "c.html"))
    assert code == 0, err
    assert "Problems caught before an outage" in (tmp_path / "c.html").read_text()
    code, out, err = cli("report", "client", CLIENT, "--from", "11/01/2026", "-o", str(tmp_path / "x.pdf"))
    assert code == 64 and err.startswith("techdesk: error: --from wants a date") and "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()
    code, _out, err = cli("report", "client", CLIENT, "-o", str(tmp_path / "latest.html"))  # still there
    assert code == 0 and "IT health report" in (tmp_path / "latest.html").read_text()


# -- the visit briefing -----------------------------------------------------------------
def test_briefing_facts(seeded):
    svc = seeded["svc"]
    now = START + timedelta(days=10)
    b = svc.reports.briefing_data(CLIENT, "HQ", now=now)
    assert [p["title"] for p in b["pinned"]] == ["Key at reception"]
    assert [f["text"] for f in b["followups"]] == ["Quote for 2 disks"]
    assert b["last_visit"]["id"] == seeded["visit"].id and b["last_visit"]["summary"] == "Monthly check"
    assert [w["title"] for w in b["last_visit"]["work"]] == []  # the fix note was not written during it
    assert b["findings"] == []  # everything OK in the latest run (day 9)
    assert b["not_seen"] == []
    later = svc.reports.briefing_data(CLIENT, now=now + timedelta(days=5))  # 72 h later: all stale
    assert {n["host"] for n in later["not_seen"]} == {"fs1", "db1", "web1", "pc1", "flap1"}
    assert b["changes"] == []  # fs1 was fixed (OK) by the end of the visit, as it is now
    assert b["checklist"] and b["horizon_days"] == 14


def test_briefing_lists_current_problems_and_unpinned_notes_stay_out(seeded):
    svc = seeded["svc"]
    store_run(svc, START + timedelta(days=10, hours=1), {"web1": disk(93), "pc1": HostError("timeout", "slow")})
    svc.notes.edit(seeded["pinned"].id, pinned=False)
    b = svc.reports.briefing_data(CLIENT, now=START + timedelta(days=10, hours=2))
    assert b["pinned"] == []
    assert [(f["host"], f["status"]) for f in b["findings"]] == [("web1", "crit"), ("pc1", "unknown")]
    assert [(c["host"], c["was"], c["now"]) for c in b["changes"]] == [("web1", "ok", "crit")]


def test_cli_brief_text_json_pdf(seeded, cli, tmp_path):
    code, out, err = cli("brief", CLIENT, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["client"] == CLIENT and data["pinned"][0]["title"] == "Key at reception"
    code, out, _ = cli("brief", CLIENT, "--site", "HQ")
    assert code == 0 and "KNOW BEFORE YOU GO" in out and "Key at reception" in out
    code, out, err = cli("brief", CLIENT, "-o", str(tmp_path / "b.pdf"))
    assert code == 0 and (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")
    code, _, err = cli("brief", CLIENT, "--site", "Nowhere")
    assert code == 64 and err.startswith("techdesk: error:")


def test_pin_survives_the_store_and_the_cli(seeded, cli):
    note = seeded["svc"].notes.get(seeded["followup"].id)
    assert not note.pinned
    code, _, err = cli("notes", "edit", note.id, "--pin")
    assert code == 0, err
    assert seeded["svc"].notes.get(note.id).pinned
    code, out, _ = cli("notes", "show", note.id, "--json")
    assert json.loads(out)["pinned"] is True


# -- automation: the month-end care report ----------------------------------------------
def test_sweep_writes_each_months_care_report_once(seeded, cli, tmp_path):
    import asyncio

    svc = seeded["svc"]
    out = tmp_path / "reports"
    out.mkdir()
    code, _, err = cli("schedule", "care-report", "add", "--client", CLIENT, "--to", str(out))
    assert code == 0, err
    december = datetime(2026, 12, 1, 8, tzinfo=UTC)
    result = asyncio.run(svc.monitor.sweep(now=december))  # nothing due: the report is still written
    assert result["care_reports"] == [str(out / "care-Acme-2026-11.pdf")] and not result["errors"]
    assert (out / "care-Acme-2026-11.pdf").read_bytes().startswith(b"%PDF")
    (out / "care-Acme-2026-11.pdf").unlink()
    again = asyncio.run(svc.monitor.sweep(now=december))
    assert again["care_reports"] == [] and not list(out.iterdir())  # once per month
    code, listing, _ = cli("schedule", "care-report", "list", "--json")
    assert json.loads(listing)[0]["last_period"] == "2026-11"
    code, _, err = cli("schedule", "care-report", "add", "--client", CLIENT, "--to", str(tmp_path / "missing"))
    assert code == 64 and "does not exist" in err


def test_a_failed_month_end_report_is_an_error_and_retried(seeded, cli, tmp_path):
    import asyncio

    svc = seeded["svc"]
    out = tmp_path / "gone"
    out.mkdir()
    assert cli("schedule", "care-report", "add", "--client", CLIENT, "--to", str(out), "--format", "html")[0] == 0
    out.rmdir()  # the shared folder is not mounted
    december = datetime(2026, 12, 2, tzinfo=UTC)
    result = asyncio.run(svc.monitor.sweep(now=december))
    assert result["care_reports"] == [] and "care report of Acme for 2026-11" in result["errors"][0]
    out.mkdir()
    result = asyncio.run(svc.monitor.sweep(now=december))
    assert result["care_reports"] == [str(out / "care-Acme-2026-11.html")]


def test_hostile_text_stays_text_in_the_report_and_its_charts(seeded, tmp_path):
    """Check titles come from client machines and note titles from teammates: escaped in
    the page, and the SVG charts stay valid XML with no markup of their own."""
    import base64
    import re

    from PySide6.QtCore import QByteArray
    from PySide6.QtSvg import QSvgRenderer

    from techdesk.reports import charts

    svc = seeded["svc"]
    hostile = "</title><script>alert(1)</script>"
    svc.conn.execute("UPDATE check_results SET title = ? WHERE host = 'fs1' AND check_id = 'disk'", (hostile,))
    svc.conn.commit()
    svc.notes.edit(seeded["fix"].id, title=hostile)
    page = svc.reports.care(CLIENT, PERIOD, tmp_path / "care.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    for uri in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page):
        svg = base64.b64decode(uri)
        assert b"<script" not in svg
        assert QSvgRenderer(QByteArray(svg)).isValid()
    assert charts.svg({"kind": "fleet", "days": [], "counts": {c: [] for c in charts.FLEET_STYLE}, "hosts": 0})
