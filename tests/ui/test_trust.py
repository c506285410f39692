"""The four trust-breakers of issue 12, each played from the hostile side in the real
window (pytest-qt) against OpenSSH's real sshd on 127.0.0.1:

1. a cancelled or unreachable attempt never replaces what is known about a host;
2. unsaved note text is never lost (drafts, Ctrl+S, closing asks);
3. the run target is what is selected, and stays so after a run;
4. every view tells the same status; a bundle for another OS is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
import socket

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from techdesk.core.roster import HostSpec
from techdesk.ui.models.roster_model import STALE_ROLE, STATUS_ROLE
from techdesk.ui.views.run_panel import COLUMNS as RUN_COLUMNS

pytestmark = pytest.mark.sshd

DISK = """if [ -f {flag} ]; then sleep 60; fi
echo 'CRITICAL - /srv 95% used|/srv=95%;80;90;0;100'
exit 2"""
SWAP = """echo 'WARNING - swap 70% used|swap_used=70%;60;90;0;100'
exit 1"""
OK = """echo 'OK - fine|up=1;;;0'
exit 0"""


def _bundle(services, name: str, checks: list[tuple[str, str, str]], os_name: str = "linux") -> None:
    folder = services.workspace.bundles_dir
    folder.mkdir(parents=True, exist_ok=True)
    text = f'[bundle]\nname = "{name}"\ntitle = "{name}"\nos = "{os_name}"\nversion = 1\n'
    for check_id, title, script in checks:
        text += f"\n[[checks]]\nid = \"{check_id}\"\ntitle = \"{title}\"\ntimeout = 90\nscript = '''\n{script}\n'''\n"
    (folder / f"{name}.toml").write_text(text)
    services.bundles.reload()


def _host(services, sshd, name: str, client: str = "Acme", port: int | None = None, **spec) -> None:
    services.roster.add(HostSpec(name=name, address=sshd.host, port=port or sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path), client=client, site="HQ", **spec))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(window, qloop, qtbot, hosts: list[str], bundle: str) -> None:
    window.runs.reload_bundles()
    window.run_on(hosts, bundle)
    qloop.run_until_complete(window.runs.task)
    qtbot.wait(150)  # the batched flush


def _row(window, host: str):
    return window.roster_panel.model.host_item(host)


def _tip(window, host: str) -> str:
    return window.roster_panel.model.tooltip(_row(window, host).index())


def _cli(services, *args: str) -> tuple[int, str, str]:
    from techdesk.cli import main

    out, err = io.StringIO(), io.StringIO()
    loop = asyncio.get_event_loop_policy().get_event_loop()  # the window's qasync loop
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--workspace", str(services.workspace.path), *args])
    finally:
        asyncio.set_event_loop(loop)  # asyncio.run() in the CLI unsets it
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def fleet(services, sshd, tmp_path):
    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    flag = tmp_path / "hang"
    _bundle(services, "fleet", [("disk", "Disk space", DISK.format(flag=flag)), ("swap", "Swap", SWAP)])
    _host(services, sshd, "fs01")
    _host(services, sshd, "fs02")
    return flag


# ------------------------------------------------------------------ 1. attempts keep the known state
def test_cancel_and_unreachable_never_replace_the_known_state(services, sshd, fleet, qloop, window, qtbot):
    window.roster.refresh()
    _run(window, qloop, qtbot, ["fs01", "fs02"], "fleet")
    assert _row(window, "fs01").data(STATUS_ROLE) == "crit"

    # The hostile side: the checks hang, the technician cancels half way.
    fleet.write_text("")
    window.run_on(["fs01", "fs02"], "fleet")

    async def cancel_when_running():
        while not all(window.run_panel.host_item(h).text(RUN_COLUMNS.index("Status")) == "Running" for h in ("fs01", "fs02")):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the disk check is hanging now
        window.runs.cancel()
        await window.runs.task

    qloop.run_until_complete(asyncio.wait_for(cancel_when_running(), 60))
    qtbot.wait(150)
    assert window.runs.last_report.cancelled
    assert all(r.error for r in window.runs.last_report.results)

    # Roster: still Critical, marked as not confirmed by the last attempt.
    for host in ("fs01", "fs02"):
        assert _row(window, host).data(STATUS_ROLE) == "crit"
        assert _row(window, host).data(STALE_ROLE) is True
        status_text = window.roster_panel.model.itemFromIndex(_row(window, host).index().siblingAtColumn(2)).text()
        assert status_text == "Critical · cancelled"
        assert "last attempt" in _tip(window, host) and "cancelled" in _tip(window, host)
    window.roster.refresh()  # and after a full rebuild too
    assert _row(window, "fs01").data(STATUS_ROLE) == "crit"

    # Host page: the disk finding with its metric is still there; the attempt is a banner.
    window.show_host("fs01")
    page = window.host_page
    findings = {page.findings.check_at(r).id: page.findings.check_at(r) for r in range(page.findings.rowCount())}
    assert findings["disk"].status.value == "crit" and findings["disk"].metrics["/srv"].value == 95
    assert findings["swap"].status.value == "warn"
    assert not any("no result" in c.summary for c in findings.values())
    assert page.attempt_banner.isVisibleTo(page) and "cancelled" in page.attempt_banner.text()
    assert page.subtitle.text().startswith("Critical · last attempt cancelled")

    # Dashboard and `techdesk health`: the same, no "no result: cancelled" rows.
    window.dashboard_ctl.refresh()
    health = services.monitor.health()
    assert health["totals"]["crit"] == 2 and health["totals"]["unknown"] == 0
    assert not any("no result" in (a["summary"] or "") for a in health["attention"])
    assert {(a["host"], a["check"]) for a in health["attention"] if a["kind"] == "check"} >= \
        {("fs01", "disk"), ("fs01", "swap"), ("fs02", "disk")}
    assert not any(a["kind"] == "host" for a in health["attention"])  # a cancel is not a finding
    code, out, _ = _cli(services, "health", "--json")
    import json
    assert code != 64 and {h["host"]: h["status"] for h in json.loads(out)["hosts"]} == {"fs01": "crit",
                                                                                        "fs02": "crit"}

    # Unreachable: the state stays, the failed attempt is said (and is a finding of its own).
    fleet.unlink()
    services.roster.edit("fs02", port=_closed_port())
    _run(window, qloop, qtbot, ["fs02"], "fleet")
    assert window.runs.last_report.results[0].error.kind == "unreachable"
    assert _row(window, "fs02").data(STATUS_ROLE) == "crit"
    assert "last attempt" in _tip(window, "fs02") and "unreachable" in _tip(window, "fs02")
    health = services.monitor.health()
    assert {h["host"]: h["status"] for h in health["hosts"]}["fs02"] == "crit"
    assert [a["title"] for a in health["attention"] if a["host"] == "fs02" and a["kind"] == "host"] == \
        ["Host not reached"]


# ------------------------------------------------------------------ 2. unsaved note text
def test_unsaved_note_text_survives_switching_hosts_and_ctrl_s_saves(services, sshd, fleet, window, qtbot):
    try:
        window.roster.refresh()
        window.roster_panel.select_host("fs01")
        window._new_note()
        panel = window.notes_panel
        qtbot.keyClicks(panel.title, "Fan noise")
        qtbot.keyClick(panel.title, Qt.Key.Key_Tab)
        assert panel.body.hasFocus()  # tab order: title -> body
        qtbot.keyClicks(panel.body, "Replaced the CPU fan")

        # Another host is selected: the text is kept as a draft, and comes back.
        window.roster_panel.select_host("fs02")
        assert panel.title.text() == ""
        window.roster_panel.select_host("fs01")
        assert panel.title.text() == "Fan noise" and panel.body.toPlainText() == "Replaced the CPU fan"
        assert panel.is_dirty() and "draft" in panel.info.text().lower()
        assert services.notes.list(host="fs01") == []  # a draft is not a note yet

        # Ctrl+S saves (from the body, the keyboard's way).
        window.activateWindow()
        qtbot.waitActive(window)
        qtbot.keyClick(panel.body, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        [note] = services.notes.list(host="fs01")
        assert (note.title, note.body) == ("Fan noise", "Replaced the CPU fan")
        assert not panel.is_dirty()

        # Editing a saved note and switching notes keeps the edit too.
        qtbot.keyClicks(panel.body, " and cleaned the heatsink")
        window.roster_panel.select_host("fs02")
        window.roster_panel.select_host("fs01")
        assert panel.body.toPlainText().endswith("cleaned the heatsink")
    finally:  # pytest-qt closes the window before fixtures end: no unsaved text may be left
        window.notes.panel.show_note(None)


def test_closing_with_unsaved_note_text_asks(services, sshd, fleet, qtbot):
    from techdesk.ui.main_window import MainWindow

    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    win.roster.refresh()
    win.roster_panel.select_host("fs01")
    win._new_note()
    qtbot.keyClicks(win.notes_panel.title, "Printer jam")

    def answer(button):
        box = win.last_close_box
        if box is None or not box.isVisible():
            QTimer.singleShot(30, lambda: answer(button))
            return
        box.button(button).click()

    QTimer.singleShot(50, lambda: answer(QMessageBox.StandardButton.Cancel))
    assert win.close() is False and win.isVisible()
    assert "Printer jam" in win.last_close_box.text()
    win.last_close_box = None
    QTimer.singleShot(50, lambda: answer(QMessageBox.StandardButton.Save))
    assert win.close() is True
    assert [n.title for n in services.notes.list(host="fs01")] == ["Printer jam"]


# ------------------------------------------------------------------ 3. the run target
def test_run_target_is_the_selection_and_stays_after_a_run(services, sshd, fleet, qloop, window, qtbot):
    _host(services, sshd, "fs03")
    window.roster.refresh()
    window.roster_panel.select_host("fs02")  # a host page is open...
    client = window.roster_panel.proxy.index(0, 0)
    assert client.data() == "Acme"
    window.roster_panel.tree.selectionModel().clearSelection()
    window.roster_panel.tree.selectionModel().select(
        client, window.roster_panel.tree.selectionModel().SelectionFlag.Select
        | window.roster_panel.tree.selectionModel().SelectionFlag.Rows)
    # ...and then the client is selected: Run is on the client, said plainly.
    assert window.runs.targets == ["fs01", "fs02", "fs03"]
    window.runs.reload_bundles()
    window.run_panel.bundle.setCurrentIndex(window.run_panel.bundle.findData("fleet"))
    window.runs.run_selected()
    qloop.run_until_complete(window.runs.task)
    qtbot.wait(150)
    assert len(window.runs.last_report.results) == 3
    # After the run the target has not jumped to the host page's host, and says so plainly.
    assert window.runs.targets == ["fs01", "fs02", "fs03"]
    assert window.run_panel.targets.text() == "Acme  (3 hosts)"
    window.runs.run_selected()  # Run again: the whole client
    qloop.run_until_complete(window.runs.task)
    assert len(window.runs.last_report.results) == 3


# ------------------------------------------------------------------ 4. one status everywhere
def test_every_view_tells_the_worst_current_state_over_all_bundles(services, sshd, fleet, qloop, window, qtbot):
    _bundle(services, "quick", [("disk", "Disk space", OK)])
    _bundle(services, "full", [("disk", "Disk space", OK), ("swap", "Swap", SWAP),
                               ("inodes", "Inodes", SWAP.replace("swap", "inodes"))])
    window.roster.refresh()
    _run(window, qloop, qtbot, ["fs01"], "full")
    _run(window, qloop, qtbot, ["fs01"], "quick")  # the latest run is all OK, the swap warning still stands
    assert window.runs.last_report.results[0].status.value == "ok"

    assert _row(window, "fs01").data(STATUS_ROLE) == "warn"
    window.roster.refresh()
    assert _row(window, "fs01").data(STATUS_ROLE) == "warn"
    window.show_host("fs01")
    page = window.host_page
    shown = {page.findings.check_at(r).id: page.findings.check_at(r).status.value
             for r in range(page.findings.rowCount())}
    assert shown == {"disk": "ok", "swap": "warn", "inodes": "warn"}
    assert page.subtitle.text().startswith("Warning")
    health = services.monitor.health()
    assert health["totals"]["warn"] == 1 and {h["host"]: h["status"] for h in health["hosts"]}["fs01"] == "warn"
    assert {a["check"] for a in health["attention"] if a["host"] == "fs01"} == {"swap", "inodes"}
    from techdesk.reports.data import client_report

    report = client_report(services, "Acme")
    [fs01] = [h for s in report["sites"] for h in s["hosts"] if h["name"] == "fs01"]
    assert fs01["status"] == "warn" and {c["id"] for c in fs01["worst"]} == {"swap", "inodes"}


def test_a_bundle_for_another_os_is_refused_before_it_runs(services, sshd, fleet, qloop, window, qtbot):
    _bundle(services, "winprobe", [("wu", "Windows Update", OK)], os_name="windows")
    window.roster.refresh()
    _run(window, qloop, qtbot, ["fs01"], "fleet")
    runs_before = len(services.history.host_runs("fs01"))

    # The window asks; Cancel runs nothing and stores nothing.
    asked = []
    window.runs.os_prompt = lambda bundle, hosts, wrong: asked.append([h.name for h in wrong]) or None
    window.runs.reload_bundles()
    window.run_on(["fs01", "fs02"], "winprobe")
    assert asked == [["fs01", "fs02"]] and not window.runs.running
    assert len(services.history.host_runs("fs01")) == runs_before
    assert _row(window, "fs01").data(STATUS_ROLE) == "crit"

    # The real dialog names the hosts and offers the override.
    window.runs.os_prompt = type(window.runs).os_prompt.__get__(window.runs)

    def pick():
        box = window.runs.last_os_box
        if box is None or not box.isVisible():
            QTimer.singleShot(30, pick)
            return
        pick.text = box.text()
        [anyway] = [b for b in box.buttons() if b.text() == "Run on all anyway"]
        anyway.click()

    QTimer.singleShot(50, pick)
    window.run_on(["fs01"], "winprobe")
    assert "winprobe is for windows" in pick.text and "fs01 (linux)" in pick.text
    qloop.run_until_complete(window.runs.task)
    assert len(services.history.host_runs("fs01")) == runs_before + 1

    # The CLI: one line, usage exit; --any-os overrides.
    before = len(services.history.host_runs("fs02"))
    code, out, err = _cli(services, "run", "winprobe", "fs02")
    assert code == 64 and out == "" and err.count("\n") == 1
    assert err.startswith("techdesk: error: bundle winprobe is for windows") and "--any-os" in err
    assert len(services.history.host_runs("fs02")) == before
    code, out, err = _cli(services, "run", "winprobe", "fs02", "--any-os")
    assert code == 3 and len(services.history.host_runs("fs02")) == before + 1  # it ran: its checks could not start
