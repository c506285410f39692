"""Settings validated on load and changed through one service; notification setup and
the OS timer installation as services (#16 item 3)."""

from __future__ import annotations

import json

import pytest

from techdesk.cli import main as cli_main
from techdesk.services import os_scheduler
from techdesk.services.context import Services
from techdesk.services.notify_setup import NotifyError
from techdesk.workspace import SettingsError, Workspace, WorkspaceError


@pytest.fixture
def svc(tmp_path):
    services = Services(Workspace(tmp_path / "ws"))
    yield services
    services.close()


@pytest.mark.parametrize("key,value,words", [
    ("concurrency", "lots", "a whole number"), ("concurrency", 0, "1 to 1024"), ("smtp_port", 70000, "1 to 65535"),
    ("smtp_security", "tls", "one of starttls"), ("technician", 42, "text"), ("stale_after_hours", True, "whole"),
])
def test_a_bad_setting_in_the_file_is_one_line_naming_file_and_key(tmp_path, key, value, words):
    ws = tmp_path / "ws"
    Workspace(ws)  # writes the defaults
    data = json.loads((ws / "settings.json").read_text())
    data[key] = value
    (ws / "settings.json").write_text(json.dumps(data))
    with pytest.raises(WorkspaceError) as err:
        Workspace(ws)
    message = str(err.value)
    assert "\n" not in message and str(ws / "settings.json") in message and f"{key}:" in message and words in message


def test_the_cli_reports_a_bad_setting_in_one_line(tmp_path, capsys):
    ws = tmp_path / "ws"
    Workspace(ws)
    (ws / "settings.json").write_text(json.dumps({"concurrency": "lots"}))
    assert cli_main(["--workspace", str(ws), "hosts", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("techdesk: error: settings file ") and "concurrency: must be a whole number" in err
    assert err.count("\n") == 1


def test_settings_change_through_the_service_all_or_nothing(svc):
    seen = []
    svc.settings._on_change = lambda: seen.append(1)
    assert svc.settings.update(concurrency=8, technician="  Ann ") == ["concurrency", "technician"]
    assert Workspace(svc.workspace.path).settings.technician == "Ann" and seen == [1]
    with pytest.raises(SettingsError, match="stale_after_hours"):
        svc.settings.update(concurrency=4, stale_after_hours="soon")
    assert svc.workspace.settings.concurrency == 8  # nothing of the failed update applied
    assert Workspace(svc.workspace.path).settings.concurrency == 8
    with pytest.raises(SettingsError, match="device_id"):
        svc.settings.update(device_id="x")
    assert svc.settings.update(concurrency=8) == [] and seen == [1]


def test_notify_setup_validates_and_changes_nothing_on_bad_input(svc):
    setup = svc.notify_setup
    with pytest.raises(NotifyError, match="http"):
        setup.configure(webhook_url="file:///etc/passwd")
    with pytest.raises(NotifyError, match="smtp_to"):
        setup.configure(smtp_host="mail.example", smtp_to="ops at example")
    with pytest.raises(NotifyError, match="smtp_port"):
        setup.configure(smtp_host="mail.example", smtp_port=0)
    assert svc.workspace.settings.smtp_host is None and svc.workspace.settings.webhook_url is None
    with pytest.raises(NotifyError, match="no channel"):
        setup.send_test()
    with pytest.raises(NotifyError, match="SMTP server first"):
        setup.store_password("pw")


def test_notify_setup_stores_the_smtp_password_in_the_keyring(svc):
    from techdesk.secrets import get_secret

    svc.notify_setup.configure(smtp_host="mail.example", smtp_user="ann", smtp_from="ann@example.com",
                               smtp_to="ops@example.com")
    svc.notify_setup.store_password("s3cret")
    assert get_secret("smtp", "mail.example") == "s3cret"
    config = svc.notify_setup.config()
    assert config["channels"] == ["email"] and config["smtp_password_stored"] is True
    assert "s3cret" not in json.dumps(config) and "s3cret" not in (svc.workspace.settings_path.read_text())


def test_send_test_posts_one_test_event_to_the_webhook(svc, webhook, webhook_bodies):
    svc.notify_setup.configure(webhook_url=webhook)
    delivery = svc.notify_setup.send_test()
    assert delivery.delivered and delivery.channels == ["webhook"]
    assert [e["host"] for e in webhook_bodies[-1]["events"]] == ["techdesk-test"]


def test_install_writes_the_systemd_units_once_and_only_shows_cron(svc, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    first = os_scheduler.install(svc.workspace.path, system="systemd")
    assert len(first.written) == 2 and first.installed and "systemctl --user" in first.describe()
    again = os_scheduler.install(svc.workspace.path, system="systemd")
    assert again.written == [] and sorted(again.unchanged) == sorted(first.written)
    shown = os_scheduler.install(svc.workspace.path, system="systemd", print_only=True)
    assert not shown.installed and "[Timer]" in shown.describe()
    cron = os_scheduler.install(svc.workspace.path, system="cron")
    assert not cron.installed and cron.describe().startswith("*/5 * * * * ") and "crontab -e" in cron.describe()
