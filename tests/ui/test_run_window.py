"""Runs from the window against OpenSSH's real sshd: findings, host-key dialog, notes."""

import shutil

import pytest
from PySide6.QtCore import QTimer

from techdesk.core.roster import HostSpec
from techdesk.ui.models.roster_model import STATUS_ROLE

pytestmark = pytest.mark.sshd


def _local(services, sshd, name="local"):
    services.roster.add(HostSpec(name=name, address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path), client="Acme", site="HQ"))


def test_run_from_window_shows_findings_and_note_attaches_them(services, sshd, qloop, window, qtbot, monkeypatch):
    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    _local(services, sshd)
    window.roster.refresh()
    window.roster_panel.select_host("local")
    window.run_on(["local"], "linux-health")
    assert window.tabs.currentWidget() is window.run_panel
    qloop.run_until_complete(window.runs.task)
    qtbot.wait(150)  # the batched flush
    item = window.run_panel.results.topLevelItem(0)
    assert item.text(0) == "local"
    assert item.childCount() >= 12
    assert window.run_panel.progress.value() == 1
    assert "Done in" in window.run_panel.elapsed.text()
    # The host page shows the stored findings.
    window.show_host("local")
    assert window.host_page.findings.rowCount() >= 12
    assert window.roster_panel.model.host_item("local").data(STATUS_ROLE) in ("ok", "warn", "crit", "unknown")
    # Attach to note…: the dialog offers the findings; “All” attaches every one to a new note.
    from techdesk.ui.dialogs.attach_dialog import AttachDialog

    monkeypatch.setattr(AttachDialog, "exec", lambda d: (d._check("all"), d.accept(), d.result())[-1])
    window.run_panel.attach_button.click()
    notes = services.notes.list(host="local")
    assert len(notes) == 1 and notes[0].runs and len(notes[0].runs[0].findings) >= 12
    assert window.tabs.currentWidget() is window.notes_panel
    assert window.notes_panel.findings.count() >= 12


def test_unknown_host_key_dialog_accept_and_cancel(services, sshd, qloop, window, qtbot):
    from techdesk.ui.dialogs.hostkey_dialog import UnknownHostKeyDialog

    _local(services, sshd)
    window.roster.refresh()
    seen = {}

    def answer(code: int):
        dialog = window.hostkey_prompt.last_dialog
        if dialog is None:
            QTimer.singleShot(50, lambda: answer(code))
            return
        seen["text"] = " ".join(label.text() for label in dialog.findChildren(type(window.keyring_label)))
        dialog.done(code)

    QTimer.singleShot(100, lambda: answer(0))
    window.run_on(["local"], "linux-quick")
    qloop.run_until_complete(window.runs.task)
    assert "SHA256:" in seen["text"] and str(sshd.port) in seen["text"]
    result = window.runs.last_report.results[0]
    assert result.error.kind == "hostkey-unknown"
    assert not services.workspace.known_hosts_path.exists() or \
        str(sshd.port) not in services.workspace.known_hosts_path.read_text()

    QTimer.singleShot(100, lambda: answer(UnknownHostKeyDialog.ONCE))
    window.run_on(["local"], "linux-quick")
    qloop.run_until_complete(window.runs.task)
    assert window.runs.last_report.results[0].error is None
    assert not services.workspace.known_hosts_path.exists() or \
        str(sshd.port) not in services.workspace.known_hosts_path.read_text()

    QTimer.singleShot(100, lambda: answer(UnknownHostKeyDialog.REMEMBER))
    window.run_on(["local"], "linux-quick")
    qloop.run_until_complete(window.runs.task)
    assert window.runs.last_report.results[0].error is None
    assert f"]:{sshd.port} " in services.workspace.known_hosts_path.read_text()


def test_write_note_and_visit_report_flow(services, sshd, qloop, window, qtbot, tmp_path):
    _local(services, sshd)
    window.roster.refresh()
    window.roster_panel.select_host("local")
    window._start_visit()
    assert services.visits.current() is not None
    assert "On site at Acme" in window.visit_timer.text() or window.visits._tick.isActive()
    window.tabs.setCurrentWidget(window.notes_panel)
    window.notes.new_note()
    window.notes_panel.title.setText("Replaced failing fan")
    window.notes_panel.body.setPlainText("**Fan** in `local` replaced.\n\n- tested\n- <b>not html</b>")
    window.notes_panel.followup_input.setText("Order spare fan")
    window.notes_panel.followup_input.returnPressed.emit()
    window.notes_panel.save_button.click()
    note = services.notes.list(host="local")[0]
    assert note.title == "Replaced failing fan" and note.followups[0].text == "Order spare fan"
    assert note.visit_id == services.visits.current().id
    window.notes_panel.body_tabs.setCurrentWidget(window.notes_panel.preview)
    preview = window.notes_panel.preview.toPlainText()
    assert "Fan in local replaced." in preview and "<b>not html</b>" in preview
    window.visits.stop()
    assert services.visits.current() is None
    # Export the visit report from the visit panel (the shown visit is the one just stopped).
    assert window.visit_panel.pdf_button.isEnabled()
    written = window.visits.export_to(str(tmp_path / "visit.pdf"), open_file=False)
    data = (tmp_path / "visit.pdf").read_bytes()
    assert written and data.startswith(b"%PDF") and len(data) > 2000
    html = window.visits.export_to(str(tmp_path / "visit.html"), open_file=False)
    text = (tmp_path / "visit.html").read_text()
    assert html and "Replaced failing fan" in text and "Acme" in text
