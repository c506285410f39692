"""Where alerts go, set up once for the CLI (`techdesk notify`) and the window's Settings.

    setup = services.notify_setup
    setup.configure(webhook_url="https://chat.example/hook", smtp_host="mail.example")
    setup.store_password("s3cret")     # in the system keyring, for that SMTP server
    setup.send_test()                  # Delivery: channels tried, errors (blocking: a worker thread in the GUI)

Validation is here (webhook scheme, port, security, addresses), so a bad value is one
line from either front end and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from techdesk import secrets as keyring_secrets
from techdesk.services import notify
from techdesk.services.settings import SettingsService

FIELDS = ("webhook_url", "smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_from", "smtp_to")


class NotifyError(ValueError):
    """Bad notification input (one line); nothing was changed."""


class NotifySetup:
    def __init__(self, settings: SettingsService, technician: str) -> None:
        self.settings = settings
        self.technician = technician

    def config(self) -> dict:
        s = self.settings.current
        out = {"channels": notify.channels(s)}
        out.update({name: getattr(s, name) for name in FIELDS})
        out["smtp_password_stored"] = bool(s.smtp_host and s.smtp_user
                                           and keyring_secrets.get_secret("smtp", s.smtp_host))
        return out

    def configure(self, **values) -> list[str]:
        """Change some of FIELDS ("" turns a channel's value off). Returns the changed keys.
        The webhook URL carries its token: it goes to the keyring, the settings keep only
        its scheme and host (and a URL an older version left in the settings moves too)."""
        unknown = sorted(set(values) - set(FIELDS))
        if unknown:
            raise NotifyError(f"{unknown[0]} is not a notification setting")
        current = self.settings.current
        url = values.pop("webhook_url", None)
        if url is not None and url.strip() == (current.webhook_url or ""):
            url = None  # the shown form given back unchanged (the Settings dialog)
        if url is None and current.webhook_url and not notify.is_stored_in_keyring(current):
            url = current.webhook_url
        if url:
            try:
                notify.check_webhook_url(url.strip())
            except ValueError as exc:
                raise NotifyError(str(exc)) from None
        for key in ("smtp_from", "smtp_to"):
            for address in notify.recipients(values.get(key)):
                if "@" not in address or any(c.isspace() for c in address):
                    raise NotifyError(f"{key}: {address!r} is not an e-mail address")
        if url is not None:
            if url.strip():
                keyring_secrets.set_secret("webhook", current.device_id, url.strip())
                values["webhook_url"] = notify.shown_url(url.strip())
            else:
                if current.webhook_url:
                    keyring_secrets.delete_secret("webhook", current.device_id)
                values["webhook_url"] = ""
        try:
            return self.settings.update(**values)
        except ValueError as exc:
            raise NotifyError(str(exc)) from None

    def store_password(self, password: str) -> None:
        host = self.settings.current.smtp_host
        if not host:
            raise NotifyError("set the SMTP server first: the password is stored for that server")
        if not password:
            raise NotifyError("the SMTP password is empty")
        keyring_secrets.set_secret("smtp", host, password)

    def send_test(self) -> notify.Delivery:
        """Send one test alert through every configured channel (blocking, up to the
        notify timeouts). NotifyError when no channel is configured."""
        s = self.settings.current
        if not notify.channels(s):
            raise NotifyError("no channel is configured: give a webhook URL, or an SMTP server, "
                              "sender and recipients")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        event = {"seq": 0, "event": "opened", "host": "techdesk-test", "check": "test", "kind": "check",
                 "severity": "warn", "message": "techdesk-test: a test alert from techdesk",
                 "at": now, "opened_at": now, "notified": False}
        return notify.send(s, [event], s.device_id, self.technician)
