"""Details a careful user notices (issue 12): filter syntax and keys, address validation,
a removed host's page, actions that explain themselves, first run, dark palette, times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QDir, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox

from techdesk.core.roster import HostSpec
from techdesk.ui.models.roster_model import NAME_ROLE


def _visible_hosts(window) -> list[str]:
    from tests.ui.test_roster_window import _visible_hosts as visible

    return visible(window.roster_panel)


def test_filter_understands_status_client_tag_and_says_no_matches(sample_roster, window, qtbot):
    sample_roster.roster.add(HostSpec(name="web02", address="10.0.0.21", client="Bäckerei Müller", tags=["web"]))
    window.roster.refresh()
    f = window.roster_panel.filter
    f.setText("tag:web")
    assert _visible_hosts(window) == ["web01", "web02"]
    f.setText('tag:web client:"Bäckerei Müller"')
    assert _visible_hosts(window) == ["web02"]
    f.setText("status:never client:acme")
    assert _visible_hosts(window) == ["fs01", "web01"]
    assert not window.roster_panel.no_matches.isVisibleTo(window.roster_panel)
    f.setText("status:crit")
    assert _visible_hosts(window) == []
    assert window.roster_panel.no_matches.isVisibleTo(window.roster_panel)


def test_filter_keys_down_goes_to_results_and_esc_clears(sample_roster, window, qtbot):
    f = window.roster_panel.filter
    f.setFocus()
    qtbot.keyClicks(f, "pos")
    qtbot.keyClick(f, Qt.Key.Key_Down)
    assert window.roster_panel.tree.hasFocus() or window.roster_panel.tree.currentIndex().isValid()
    assert window.roster_panel.tree.currentIndex().data(NAME_ROLE) == "pos1"
    assert window.host_page.host_name == "pos1"
    f.setFocus()
    qtbot.keyClick(f, Qt.Key.Key_Escape)
    assert f.text() == ""


def test_host_dialog_says_an_impossible_address_and_saves_nothing(sample_roster, window, qtbot, cli):
    from techdesk.ui.dialogs.host_dialog import HostDialog

    dialog = HostDialog(sample_roster.roster, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name.setText("nas")
    qtbot.keyClicks(dialog.address, "999.300.1.1")
    assert dialog.error.isVisible() and "999.300.1.1 is not an IPv4 address" in dialog.error.text()
    dialog.accept()
    assert dialog.isVisible() and not sample_roster.roster.exists("nas")
    dialog.address.setText("192.0.2.10")
    assert dialog.error.text() == ""
    dialog.accept()
    assert sample_roster.roster.exists("nas")
    code, _, err = cli("hosts", "add", "bad", "--address", "999.300.1.1")
    assert code == 64 and "is not an IPv4 address" in err


def test_a_removed_hosts_page_closes_and_actions_explain_themselves(sample_roster, window, qtbot, monkeypatch):
    window.roster_panel.select_host("fs01")
    window.tabs.setCurrentWidget(window.host_page)
    assert window.host_page.host_name == "fs01" and window._shown_host() == "fs01"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.roster.remove_hosts()
    assert not sample_roster.roster.exists("fs01")
    assert window.host_page.host_name is None and "removed" in window.host_page.subtitle.text()
    assert not window.host_page.run_button.isEnabled()

    window.roster_panel.tree.clearSelection()
    window._run_selected()
    assert "select hosts" in window.statusBar().currentMessage().lower()
    client = window.roster_panel.proxy.index(0, 0)
    window.roster_panel.tree.selectionModel().select(
        client, window.roster_panel.tree.selectionModel().SelectionFlag.ClearAndSelect
        | window.roster_panel.tree.selectionModel().SelectionFlag.Rows)
    window.roster.remove_hosts()  # a client: nothing removed, and it says why
    assert sample_roster.roster.exists("web01")
    assert "removes hosts" in window.statusBar().currentMessage()


def test_first_run_asks_the_name_and_offers_hosts(services, qtbot, qloop):
    from techdesk.ui.dialogs.first_run import FirstRunDialog
    from techdesk.ui.main_window import MainWindow

    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: getattr(win, "first_run_dialog", None) is not None and win.first_run_dialog.isVisible())
    dialog = win.first_run_dialog
    qtbot.keyClicks(dialog.name, "Dana Tech")

    # "Import from ~/.ssh/config": Qt's dialog in ~/.ssh, hidden files shown; then which client.
    import pathlib
    ssh = pathlib.Path.home() / ".ssh"
    ssh.mkdir(exist_ok=True)
    (ssh / "config").write_text("Host nas\n  HostName 192.0.2.5\n  User admin\n")
    seen = {}

    def in_file_dialog():
        box = win.roster.__dict__.get("last_file_dialog")
        if box is None or not box.isVisible():
            QTimer.singleShot(30, in_file_dialog)
            return
        seen["dir"] = box.directory().absolutePath()
        seen["hidden"] = bool(box.filter() & QDir.Filter.Hidden)
        seen["native"] = box.testOption(QFileDialog.Option.DontUseNativeDialog)
        box.selectFile(str(ssh / "config"))
        box.accept()
        QTimer.singleShot(30, in_client_question)

    def in_client_question():
        modal = QApplication.activeModalWidget()
        if modal is None or not isinstance(modal, QDialog) or modal is dialog:
            QTimer.singleShot(30, in_client_question)
            return
        seen["question"] = modal.labelText()
        modal.setTextValue("Acme")  # a new client, typed
        modal.accept()

    QTimer.singleShot(50, in_file_dialog)
    dialog.import_button.click()
    assert services.workspace.settings.technician == "Dana Tech"
    assert "Dana Tech" in win.windowTitle()
    assert seen["dir"] == str(ssh) and seen["hidden"] and seen["native"]
    assert "Client of the hosts in config" in seen["question"]
    qloop.run_until_complete(win.roster.import_task)  # the file is read in a worker
    assert services.roster.get("nas").spec.client == "Acme"
    assert dialog.result() == FirstRunDialog.IMPORT
    win.close()


def test_dark_palette_can_be_forced_and_is_remembered(services, window):
    window.set_theme("dark")
    assert window.palette_used == "dark"
    assert QApplication.instance().palette().window().color().lightness() < 80
    assert window.theme_actions["dark"].isChecked()
    assert window._settings.value("appearance") == "dark"
    window.set_theme("light")
    assert QApplication.instance().palette().window().color().lightness() > 180


def test_times_are_local_and_readable(monkeypatch):
    import time

    from techdesk.ui.timefmt import local_time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        assert local_time("2026-12-01T08:30:00+00:00", now) == "today 09:30"
        assert local_time("2026-11-30T22:59:00+00:00", now) == "yesterday 23:59"
        assert local_time("2026-11-27T08:30:00+00:00", now) == "Fri 27 Nov 09:30"
        assert local_time("2026-06-02T08:30:00+00:00", now) == "2 Jun 10:30"
        assert local_time("2025-06-02T08:30:00+00:00", now) == "2 Jun 2025 10:30"
        assert local_time(None) == "—"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_visit_counters_follow_and_the_timers_agree(sample_roster, window, qtbot, tmp_path):
    window.roster_panel.select_host("fs01")
    window._start_visit()
    assert "0 notes" in window.visit_panel.details.text()
    window._new_note()
    window.notes_panel.title.setText("Checked the UPS")
    assert window.notes.save()
    assert "1 notes" in window.visit_panel.details.text()  # at once, not at the next refresh
    window.visits._update_timer()
    clock = window.visit_timer.text().rsplit("· ", 1)[-1]
    assert clock.endswith(" h") and clock in window.visit_panel.timer.text()
    assert "UTC" not in window.visit_panel.timer.text()
    window.visits.stop()

    # Report options: unticked checklist items left out on request.
    first_item = window.visit_panel.checklist.item(0).text()
    full = window.visits.export_to(str(tmp_path / "full.html"), open_file=False)
    assert first_item in Path(full).read_text(encoding="utf-8")
    window.visit_panel.hide_unticked.setChecked(True)
    short = window.visits.export_to(str(tmp_path / "short.html"), open_file=False)
    assert first_item not in Path(short).read_text(encoding="utf-8")
