"""Settings from the window: notifications with a test alert, a new shared folder (what
`sync --init` does), and why sync is offline."""

from __future__ import annotations

import contextlib
import json

from PySide6.QtWidgets import QDialog

from techdesk.core.roster import HostSpec
from techdesk.sync import SharedFolderError
from techdesk.ui.dialogs.settings_dialog import SettingsDialog
from techdesk.ui.dialogs.shared_folder_dialog import SharedFolderDialog, SyncOfflineDialog


def test_a_bad_webhook_is_shown_in_the_dialog_and_nothing_is_saved(qtbot, window, services):
    dialog = SettingsDialog(services, window)
    qtbot.addWidget(dialog)
    dialog.technician.setText("Ann")
    dialog.webhook.setText("file:///etc/passwd")
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "must be an http:// or https:// URL" in dialog.error.text()
    saved = json.loads(services.workspace.settings_path.read_text())
    assert saved["webhook_url"] is None and saved["technician"] is None  # nothing of the dialog applied


def test_send_test_from_settings_reaches_the_webhook(qtbot, qloop, window, services, webhook, webhook_bodies):
    dialog = SettingsDialog(services, window)
    qtbot.addWidget(dialog)
    dialog.tabs.setCurrentIndex(1)
    dialog.webhook.setText(webhook)
    task = dialog.send_test()
    assert task is not None and not dialog.test_button.isEnabled()
    qloop.run_until_complete(task)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=20_000)
    assert dialog.test_result.text() == "Sent through webhook."
    assert [b["events"][0]["host"] for b in webhook_bodies] == ["techdesk-test"]
    # The URL carries its token: the keyring keeps it, the settings file only scheme and host.
    from techdesk.secrets import get_secret

    settings = services.workspace.settings
    assert get_secret("webhook", settings.device_id) == webhook
    assert "secret-token" not in services.workspace.settings_path.read_text()
    assert settings.webhook_url.startswith("http://127.0.0.1:")
    # Saving the dialog again with the shown form unchanged keeps the stored URL.
    dialog.save()
    assert get_secret("webhook", settings.device_id) == webhook


def test_send_test_with_nothing_configured_says_so(qtbot, window, services):
    dialog = SettingsDialog(services, window)
    qtbot.addWidget(dialog)
    assert dialog.send_test() is None
    assert "No channel is set up yet" in dialog.test_result.text()


def test_smtp_password_goes_to_the_keyring_not_the_file(qtbot, window, services):
    from techdesk.secrets import get_secret

    dialog = SettingsDialog(services, window)
    qtbot.addWidget(dialog)
    dialog.smtp_host.setText("mail.example")
    dialog.smtp_user.setText("ann")
    dialog.smtp_from.setText("ann@example.com")
    dialog.smtp_to.setText("ops@example.com")
    dialog.smtp_password.setText("hunter2")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert get_secret("smtp", "mail.example") == "hunter2"
    assert "hunter2" not in services.workspace.settings_path.read_text()
    again = SettingsDialog(services, window)
    qtbot.addWidget(again)
    assert again.smtp_password.text() == "" and "stored in the keyring" in again.smtp_password.placeholderText()


def test_set_up_a_new_shared_folder_refuses_a_full_one_then_works(qtbot, qloop, window, services, tmp_path):
    services.roster.add(HostSpec(name="fs01", address="10.0.0.1", client="Acme"))
    full = tmp_path / "Documents"
    full.mkdir()
    (full / "taxes.pdf").write_text("x")
    dialog = SharedFolderDialog(services, window)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(full))
    with contextlib.suppress(SharedFolderError):
        qloop.run_until_complete(dialog.start())
    qtbot.waitUntil(lambda: "not empty" in dialog.status.text())
    assert services.workspace.settings.shared is None and not (full / "techdesk-shared.json").exists()
    assert sorted(p.name for p in full.iterdir()) == ["taxes.pdf"]

    new = tmp_path / "Sync" / "team"
    dialog.path.setText(str(new))
    qloop.run_until_complete(dialog.start())
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted)
    assert (new / "techdesk-shared.json").is_file()
    assert services.workspace.settings.shared == str(new) and dialog.folder == str(new)
    assert services.sync.status()["pending"] == 0
    window.sync.update_status()
    assert window.sync.button.text() == "✓ Synced"


def test_offline_is_explained_in_the_status_bar_and_a_dialog(qtbot, qloop, window, services, tmp_path,
                                                            monkeypatch):
    services.workspace.settings.shared = str(tmp_path / "unplugged-usb")
    services.workspace.save_settings()
    services.roster.add(HostSpec(name="fs01", address="10.0.0.1"))
    with contextlib.suppress(SharedFolderError):
        qloop.run_until_complete(window.sync.sync_now())
    qtbot.waitUntil(lambda: window.sync.offline_reason is not None)
    assert window.statusBar().currentMessage().startswith("Sync offline: ")
    shown = []
    monkeypatch.setattr(SyncOfflineDialog, "exec", lambda self: shown.append(self.text.text()) or 0)
    window.sync.button.click()
    [text] = shown
    assert "unplugged-usb" in text and "Nothing is lost" in text and "change(s) wait on this device" in text


def test_terminal_transcripts_are_stated_off_and_can_be_turned_on(qtbot, window, services):
    dialog = SettingsDialog(services, window)
    qtbot.addWidget(dialog)
    assert not dialog.transcript.isChecked()                      # off by default, and said so
    note = dialog.transcript_note.text()
    assert "Off by default" in note and str(services.workspace.transcripts_dir) in note
    assert "not recorded" in note
    dialog.transcript.setChecked(True)
    dialog.accept()
    assert services.workspace.settings.terminal_transcript is True
    assert json.loads(services.workspace.settings_path.read_text())["terminal_transcript"] is True
