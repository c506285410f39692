"""History from the window against OpenSSH's real sshd: open a past run, compare two,
find in output, copy and save a run as text, attach selected findings to a note."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from techdesk.core.roster import HostSpec
from techdesk.services import run_views
from techdesk.ui.dialogs.attach_dialog import AttachDialog
from techdesk.ui.dialogs.history_dialog import HistoryDialog
from techdesk.ui.dialogs.run_viewer import CHECK_ROLE, RunViewer

pytestmark = pytest.mark.sshd


@pytest.fixture
def two_runs(services, sshd, qloop, window, qtbot):
    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    services.roster.add(HostSpec(name="local", address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path), client="Acme"))
    window.roster.refresh()
    for _ in range(2):
        window.run_on(["local"], "linux-quick")
        qloop.run_until_complete(window.runs.task)
        qloop.run_until_complete(window.tools.alert_task)
    qtbot.wait(100)
    runs = services.history.host_runs("local")
    assert len(runs) == 2
    return [r.run_id for r in reversed(runs)]  # older, newer (two runs in one second: either order)


def test_double_click_a_past_run_on_the_host_page_opens_it(qtbot, window, two_runs):
    window.show_host("local")
    item = window.host_page.runs.item(1)  # the older run
    viewer = window.tools.open_past_run(item)
    qtbot.addWidget(viewer)
    assert viewer.info["run_id"] == two_runs[0]
    host = viewer.results.topLevelItem(0)
    assert host.text(0) == "local" and host.childCount() >= 3


def test_history_compare_two_runs_shows_every_check_and_what_changed(qtbot, window, services, two_runs):
    dialog = HistoryDialog(services, "local", window.tools, window)
    qtbot.addWidget(dialog)
    assert dialog.runs.topLevelItemCount() == 2 and not dialog.compare_button.isEnabled()
    for row in range(2):
        dialog.runs.topLevelItem(row).setSelected(True)
    assert dialog.compare_button.isEnabled()
    compare = dialog.compare_selected()
    qtbot.addWidget(compare)
    changes = run_views.compare(services.history, "local", *two_runs)
    assert {c.check for c in changes} == {c.id for c in services.history.host_result(two_runs[1], "local").checks}
    compare.only_changed.setChecked(False)
    assert compare.table.topLevelItemCount() == len(changes)
    compare.only_changed.setChecked(True)
    assert compare.table.topLevelItemCount() == len([c for c in changes if c.change != "same"])


def test_find_in_output_counts_matches_and_says_no_matches(qtbot, window, services, two_runs):
    viewer = RunViewer(services, two_runs[1], "local", window.tools, window)
    qtbot.addWidget(viewer)
    viewer.show()
    viewer.activateWindow()
    qtbot.waitUntil(viewer.isActiveWindow)
    viewer.output.setFocus()
    viewer.output.setPlainText("disk / 40%\ndisk /srv 91%\nload 0.2\n")
    qtbot.keyClick(viewer.output, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = viewer.find_bar
    assert bar.isVisible() and bar.field.hasFocus()
    qtbot.keyClicks(bar.field, "disk")
    assert bar.count.text() == "1 of 2" and len(viewer.output.extraSelections()) == 2
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    assert bar.count.text() == "2 of 2" and viewer.output.textCursor().selectedText() == "disk"
    qtbot.keyClick(bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert bar.count.text() == "1 of 2"
    bar.field.setText("swapfile")
    assert bar.count.text() == "no matches" and viewer.output.extraSelections() == []
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible()


def test_ctrl_f_in_the_window_searches_the_visible_output(qtbot, window, two_runs):
    window.show_host("local")
    window.tabs.setCurrentWidget(window.run_panel)
    window.run_panel.output.setPlainText("alpha beta alpha")
    bar = window.tools.find_in_output()
    bar.field.setText("alpha")
    assert bar.parent() is window.run_panel.output and bar.count.text() == "1 of 2"
    window.tabs.setCurrentWidget(window.notes_panel)
    assert window.tools.find_in_output() is None


def test_copy_and_save_a_whole_run_as_text(qtbot, window, services, two_runs, tmp_path, monkeypatch):
    last = window.runs.last_report.run_id  # the run Copy/Save act on
    text = run_views.run_text(services.history, last)
    result = services.history.host_result(last, "local")
    assert text.startswith(f"techdesk run {last}\nbundle:     linux-quick")
    for check in result.checks:
        assert f"{check.title} [{check.id}]: {check.summary}" in text
        for line in check.output.splitlines()[:3]:
            assert f"   | {line}" in text
    window.tools.copy_run()
    assert QGuiApplication.clipboard().text() == text
    target = tmp_path / "run.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.tools.save_run()
    assert target.read_text(encoding="utf-8") == text


def test_attach_selected_findings_from_a_past_run_then_again_without_duplicates(qtbot, window, services,
                                                                               two_runs, monkeypatch):
    viewer = RunViewer(services, two_runs[0], "local", window.tools, window)
    qtbot.addWidget(viewer)
    host = viewer.results.topLevelItem(0)
    chosen = [host.child(0), host.child(2)]
    for item in chosen:
        item.setSelected(True)
    wanted = {item.data(0, CHECK_ROLE) for item in chosen}

    def attach(dialog):
        assert set(dialog.checked()) == wanted and dialog.new.isChecked()
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(AttachDialog, "exec", attach)
    first = viewer.attach()
    [note] = services.notes.list(host="local")
    assert {f["id"] for f in note.runs[0].findings} == wanted and first.added == 2
    assert window.tabs.currentWidget() is window.notes_panel

    def again(dialog):
        assert dialog.existing.isChecked()  # the note that already holds this run
        dialog._check("all")
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(AttachDialog, "exec", again)
    second = viewer.attach()
    [note] = services.notes.list(host="local")
    ids = [f["id"] for f in note.runs[0].findings]
    assert len(ids) == len(set(ids)) == host.childCount() and second.added == host.childCount() - 2
