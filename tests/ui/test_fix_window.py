"""Fix… and Run command… from the window, against OpenSSH's real sshd."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from techdesk.core.roster import HostSpec
from techdesk.ui.views.run_panel import CHECK_ID_ROLE
from tests.integration.test_fix import _bundle

pytestmark = pytest.mark.sshd
SHOTS = os.environ.get("TECHDESK_SCREENSHOTS")  # a folder: save the dialog and report for review


def _setup(services, sshd, tmp_path) -> Path:
    shutil.copy(sshd.known_hosts_path, services.workspace.known_hosts_path)
    services.roster.add(HostSpec(name="acme-web01", address=sshd.host, port=sshd.port, user=sshd.user,
                                 key=str(sshd.client_key_path), client="Acme", site="HQ"))
    flag = tmp_path / "leftover.tmp"
    flag.write_text("junk")
    services.workspace.bundles_dir.mkdir(parents=True, exist_ok=True)
    (services.workspace.bundles_dir / "files.toml").write_text(_bundle(flag, risk="disruptive"))
    services.bundles.reload()
    return flag


def test_fix_dialog_typed_confirmation_before_after_and_visit_report(services, sshd, qloop, window,
                                                                      qtbot, tmp_path):
    flag = _setup(services, sshd, tmp_path)
    window.roster.refresh()
    window.runs.reload_bundles()
    visit = services.visits.start("Acme", "HQ")
    window.run_on(["acme-web01"], "files")
    qloop.run_until_complete(window.runs.task)
    window.show_host("acme-web01")
    page = window.host_page
    assert not page.fix_button.isEnabled()
    page.table.selectRow(0)
    assert page.fix_button.isEnabled()
    # the status bar shows the warm connection the run left open
    window.connections.refresh()
    assert window.connections.label.isVisible() and "acme-web01" in window.connections.label.text()
    # the run panel offers Fix… on the check row too (bulk starts there)
    check_row = window.run_panel.results.topLevelItem(0).child(0)
    assert check_row.data(0, CHECK_ID_ROLE) == ("acme-web01", "flag") and "flag" in window.run_panel.fixable
    window.tabs.setCurrentWidget(page)
    if SHOTS:
        window.grab().save(str(Path(SHOTS) / "host-page-fix.png"))

    page.fix_button.click()
    from techdesk.ui.dialogs.fix_dialog import FixDialog

    dialog = next(w for w in window.findChildren(FixDialog))
    qtbot.waitExposed(dialog)
    assert 'rm -f -- "$TECHDESK_FINDING_UNIT"' in dialog.script.toPlainText()
    assert f"TECHDESK_FINDING_UNIT={flag}" in dialog.script.toPlainText()
    assert not dialog.run_button.isEnabled()  # disruptive: type the host name first
    dialog.confirm.setText("acme-web0")
    assert not dialog.run_button.isEnabled()
    dialog.confirm.setText("acme-web01")
    assert dialog.run_button.isEnabled()
    if SHOTS:
        dialog.grab().save(str(Path(SHOTS) / "fix-dialog.png"))
    assert flag.exists()
    dialog.run_button.click()
    qloop.run_until_complete(dialog.task)
    qtbot.wait(50)
    assert not flag.exists()
    assert "Flag file on acme-web01: WARNING → OK" in dialog.results.toPlainText()
    if SHOTS:
        dialog.grab().save(str(Path(SHOTS) / "fix-dialog-done.png"))
    report = services.reports.visit_data(visit.id)
    assert any("WARNING → OK" in w["title"] for w in report["work"])
    if SHOTS:
        services.reports.visit(visit.id, Path(SHOTS) / "visit-report-fix.pdf")
    dialog.close()


def test_run_command_dialog_output_and_note(services, sshd, qloop, window, qtbot, tmp_path):
    _setup(services, sshd, tmp_path)
    window.roster.refresh()
    window.run_command(["acme-web01"])
    from techdesk.ui.dialogs.command_dialog import CommandDialog

    dialog = next(w for w in window.findChildren(CommandDialog))
    assert not dialog.run_button.isEnabled()
    dialog.command.setPlainText("echo hello from $(hostname >/dev/null; echo techdesk); exit 2")
    dialog.run_button.click()
    qloop.run_until_complete(dialog.task)
    text = dialog.output.toPlainText()
    assert "== acme-web01: exit 2" in text and "hello from techdesk" in text
    if SHOTS:
        dialog.grab().save(str(Path(SHOTS) / "run-command.png"))
    dialog.note_button.click()
    notes = services.notes.list(host="acme-web01")
    assert len(notes) == 1 and "exit 2" in notes[0].title
    dialog.close()


def _moved_host(services, sshd, tmp_path) -> Path:
    """acme-web01 logs in with the encrypted key; its passphrase was stored while the host
    was at another endpoint (a synced edit moved it since): sent only if the technician says so."""
    from techdesk.secrets import set_secret

    flag = _setup(services, sshd, tmp_path)
    services.roster.edit("acme-web01", key=str(sshd.encrypted_key_path))
    set_secret("passphrase", "acme-web01", sshd.passphrase, endpoint=f"{sshd.user}@10.9.9.9:22")
    assert services.roster.endpoint_changes("acme-web01")
    return flag


def _answer(window, answer: str, stop: list) -> list:
    """Click `answer` on every endpoint question the window asks (the one runs ask) until
    `stop` holds something; the titles of the questions asked."""
    asked = []

    def click() -> None:
        if stop:
            return
        dialog = window.endpoint_prompt.last_dialog
        if dialog is not None and dialog.isVisible():
            asked.append(dialog.windowTitle())
            (dialog.send_button if answer == "send" else dialog.refuse_button).click()
        QTimer.singleShot(20, click)

    QTimer.singleShot(20, click)
    return asked


def _run_answering(window, dialog, qloop, answer: str) -> list:
    """Press the dialog's Run and answer every endpoint question with `answer` until the
    run is over; the titles of the questions asked."""
    stop: list = []
    asked = _answer(window, answer, stop)
    dialog.run_button.click()
    qloop.run_until_complete(dialog.task)
    stop.append(True)
    return asked


def test_run_command_asks_before_a_moved_hosts_passphrase_is_sent(services, sshd, qloop, window, qtbot,
                                                                   tmp_path):
    from techdesk.ui.dialogs.command_dialog import CommandDialog

    _moved_host(services, sshd, tmp_path)
    marker = tmp_path / "ran"
    for answer in ("refuse", "send"):
        dialog = CommandDialog(services, ["acme-web01"], window)
        qtbot.addWidget(dialog)
        dialog.command.setPlainText(f"touch {marker}")
        asked = _run_answering(window, dialog, qloop, answer)
        assert asked == ["acme-web01 has moved"], answer
        [result] = dialog.results
        if answer == "refuse":
            assert result.error is not None and result.error.kind == "auth" and not marker.exists()
            assert services.roster.endpoint_changes("acme-web01")  # still not trusted
        else:
            assert result.error is None and result.exit_code == 0 and marker.exists()
            assert services.roster.endpoint_changes("acme-web01") == []  # confirmed: not asked again
        dialog.close()


def test_fix_asks_before_a_moved_hosts_passphrase_is_sent(services, sshd, qloop, window, qtbot, tmp_path):
    from techdesk.ui.dialogs.fix_dialog import FixDialog

    flag = _moved_host(services, sshd, tmp_path)
    for answer in ("refuse", "send"):
        dialog = FixDialog(services, "acme-web01", "flag", window)
        qtbot.addWidget(dialog)
        dialog.confirm.setText("acme-web01")
        asked = _run_answering(window, dialog, qloop, answer)
        assert asked == ["acme-web01 has moved"], answer
        if answer == "refuse":
            assert flag.exists() and "not sent" in dialog.results.toPlainText()
            assert services.roster.endpoint_changes("acme-web01")
        else:
            assert not flag.exists() and "→ OK" in dialog.results.toPlainText()
            assert services.roster.endpoint_changes("acme-web01") == []
        dialog.close()
