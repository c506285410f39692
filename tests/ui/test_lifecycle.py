"""Window lifecycle: nothing ticks or touches the store after the window closes (#16 item 4)."""

from __future__ import annotations

from PySide6.QtCore import QTimer


def test_timers_stop_when_the_window_closes_and_nothing_touches_the_closed_store(qtbot, window, services,
                                                                                    qloop):
    ctl = window.dashboard_ctl
    ctl._timer.setInterval(5)  # tick often: before the fix the tick ran on a closed database
    window.sync._timer.setInterval(5)
    assert ctl._timer.isActive()
    window.close()
    services.close()
    assert [t for t in window.findChildren(QTimer) if t.isActive()] == []
    qtbot.wait(100)  # an exception in a Qt callback fails the test (pytest-qt)
    ctl.refresh()  # a sweep finishing after close refreshes: a no-op now
    assert services.closed


def test_a_pending_visit_summary_is_saved_when_the_window_closes(qtbot, window, sample_roster):
    visit = window.services.visits.start("Acme")
    window.visits.refresh()
    window.visits.show_visit(visit.id)
    window.visit_panel.summary.setPlainText("replaced the UPS battery")
    assert window.visits._save_summary.isActive()
    window.close()
    assert window.services.visits.get(visit.id).summary == "replaced the UPS battery"


def test_a_bad_setting_stops_the_window_with_one_line_naming_file_and_key(qapp, tmp_path, monkeypatch, capsys):
    import json

    from PySide6.QtWidgets import QMessageBox

    from techdesk.ui.main import main
    from techdesk.workspace import Workspace

    ws = tmp_path / "ws"
    Workspace(ws)
    (ws / "settings.json").write_text(json.dumps({"concurrency": "lots"}))
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    assert main(str(ws), None) == 1
    assert shown == [f"settings file {ws / 'settings.json'}: concurrency: must be a whole number, not \"lots\""]
    assert capsys.readouterr().err == f"techdesk: error: {shown[0]}\n"
