"""Schedules from the window: create, edit, enable/disable, delete; the dashboard follows."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from techdesk.ui.dialogs.schedule_editor import ScheduleEditor
from techdesk.ui.dialogs.schedules_dialog import SchedulesDialog
from techdesk.ui.views.schedule_table import COLUMNS, ID_ROLE


def _dashboard_rows(window) -> list[list[str]]:
    table = window.dashboard.schedules
    return [[table.topLevelItem(r).text(c) for c in range(table.columnCount())]
            for r in range(table.topLevelItemCount())]


def test_new_schedule_from_the_editor_shows_on_the_dashboard(qtbot, window, sample_roster, monkeypatch):
    dialog = SchedulesDialog(window.services, window)
    qtbot.addWidget(dialog)
    dialog.changed.connect(window.dashboard_ctl.refresh)

    def fill(editor):
        editor.bundle.setCurrentIndex(editor.bundle.findData("linux-quick"))
        editor.kind.setCurrentIndex(editor.kind.findData("client"))
        editor.name.setCurrentText("Acme")
        assert editor.matches.text().startswith("2 hosts now: fs01, web01")
        editor.every.setValue(30)
        editor.unit.setCurrentIndex(editor.unit.findData("m"))
        editor.days.setCurrentText("Sun")
        editor.zone.setCurrentText("Europe/Berlin")
        editor._add_window()
        editor.accept()
        return editor.result()

    monkeypatch.setattr(ScheduleEditor, "exec", fill)
    saved = dialog.new()
    assert saved is not None
    [stored] = window.services.monitor.schedules()
    assert (stored["bundle"], stored["target"], stored["every"], stored["windows"]) == \
        ("linux-quick", "client:Acme", "30m", ["Sun 02:00-04:00 Europe/Berlin"])
    [(what, next_run)] = _dashboard_rows(window)
    assert what == "linux-quick · client Acme · every 30m" and next_run  # "due now" (or the window's end)
    assert "maintenance: Sun 02:00-04:00 Europe/Berlin" in window.dashboard.schedules.topLevelItem(0).toolTip(0)
    table = dialog.table  # the dialog's full table
    row = [table.topLevelItem(0).text(c) for c in range(table.columnCount())]
    assert row[:5] == ["linux-quick", "client Acme", "30m", "2", "yes"] and row[7] == "Sun 02:00-04:00 Europe/Berlin"


def test_a_bad_target_is_shown_in_the_editor_and_nothing_is_saved(qtbot, window, sample_roster):
    editor = ScheduleEditor(window.services, None, window)
    qtbot.addWidget(editor)
    editor.kind.setCurrentIndex(editor.kind.findData("client"))
    editor.name.setCurrentText("Nobody Inc")
    assert "no client named 'Nobody Inc'" in editor.matches.text()
    editor.accept()
    assert editor.result() != QDialog.DialogCode.Accepted
    assert "no client named 'Nobody Inc'" in editor.error.text() and editor.error.isVisibleTo(editor)
    editor.days.setCurrentText("Someday")
    editor._add_window()
    assert "bad maintenance window" in editor.error.text() and editor.windows.count() == 0
    assert window.services.monitor.schedules() == []


def test_edit_keeps_the_enabled_flag_and_the_last_runs(qtbot, window, sample_roster, monkeypatch):
    mon = window.services.monitor
    first = mon.add_schedule("linux-quick", "tag:web", "6h")
    mon.enable_schedule(first["id"], False)
    from techdesk.store import monitor as repo

    repo.mark_runs(window.services.conn, [(first["id"], "web01", "2026-01-01T00:00:00+00:00", None)])
    dialog = SchedulesDialog(window.services, window)
    qtbot.addWidget(dialog)

    def change(editor):
        assert (editor.kind.currentData(), editor.name.currentText(), editor.every.value()) == ("tag", "web", 6)
        editor.kind.setCurrentIndex(editor.kind.findData("site"))
        editor.name.setCurrentText("HQ")  # a unique bare site name is made explicit
        editor.unit.setCurrentIndex(editor.unit.findData("d"))
        editor.every.setValue(1)
        editor.accept()
        return editor.result()

    monkeypatch.setattr(ScheduleEditor, "exec", change)
    dialog.edit(first["id"])
    [stored] = mon.schedules()
    assert (stored["id"], stored["target"], stored["every"], stored["enabled"]) == \
        (first["id"], "site:Acme/HQ", "1d", False)
    assert stored["last_run"] == "2026-01-01T00:00:00+00:00"


def test_disable_enable_and_delete_with_confirmation(qtbot, window, sample_roster, monkeypatch):
    mon = window.services.monitor
    s = mon.add_schedule("linux-quick", "all", "1h")
    dialog = SchedulesDialog(window.services, window)
    qtbot.addWidget(dialog)
    dialog.changed.connect(window.dashboard_ctl.refresh)
    assert dialog.toggle_button.text() == "Disable"
    dialog.toggle()
    assert mon.schedule(s["id"])["enabled"] is False and dialog.toggle_button.text() == "Enable"
    assert _dashboard_rows(window)[0][1] == "paused" and dialog.table.topLevelItem(0).text(COLUMNS.index("Enabled")) == "no"
    dialog.toggle()
    assert mon.schedule(s["id"])["enabled"] is True
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: next(answers))
    dialog.delete()
    assert len(mon.schedules()) == 1  # said no
    dialog.delete()
    assert mon.schedules() == [] and _dashboard_rows(window) == []
    assert not dialog.edit_button.isEnabled()


def test_update_schedule_validates_and_changes_nothing_on_error(services, sample_roster):
    from techdesk.core.roster import RosterError
    from techdesk.core.schedule import ScheduleError

    mon = services.monitor
    s = mon.add_schedule("linux-quick", "client:Acme", "6h", "Sun 02:00-04:00 UTC")
    with pytest.raises(ScheduleError):
        mon.update_schedule(s["id"], every="often")
    with pytest.raises(RosterError):
        mon.update_schedule(s["id"], target="client:Nobody")
    assert mon.schedule(s["id"])["every"] == "6h" and mon.schedule(s["id"])["target"] == "client:Acme"
    changed = mon.update_schedule(s["id"][:6], windows="")
    assert changed["windows"] == [] and changed["every"] == "6h"


def test_double_click_a_schedule_on_the_dashboard_opens_its_editor(qtbot, window, sample_roster, monkeypatch):
    s = window.services.monitor.add_schedule("linux-quick", "host:fs01", "2h")
    window.dashboard_ctl.refresh()
    opened = []

    def look(editor):
        opened.append((editor.windowTitle(), editor.kind.currentData(), editor.name.currentText()))
        return 0

    monkeypatch.setattr(ScheduleEditor, "exec", look)
    table = window.dashboard.schedules
    table.schedule_activated.emit(table.topLevelItem(0).data(0, ID_ROLE))
    assert opened == [("Edit schedule", "host", "fs01")]
    assert window.services.monitor.schedule(s["id"])["every"] == "2h"


def test_install_the_os_timer_from_the_schedules_dialog(qtbot, window, tmp_path, monkeypatch):
    from techdesk.services import os_scheduler

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setattr(os_scheduler, "detect_system", lambda: "systemd")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.text(), box.detailedText())) or 0)
    dialog = SchedulesDialog(window.services, window)
    qtbot.addWidget(dialog)
    dialog.install_timer()
    units = sorted(p.suffix for p in (tmp_path / "cfg" / "systemd" / "user").iterdir())
    assert units == [".service", ".timer"]
    [(text, details)] = shown
    assert text == "Installed." and "systemctl --user" in details
