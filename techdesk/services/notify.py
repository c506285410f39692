"""Alert notifications: a webhook (POST JSON) and e-mail (SMTP), both optional.

Configured in the workspace settings (``webhook_url``; ``smtp_host``, ``smtp_port``,
``smtp_security``, ``smtp_user``, ``smtp_from``, ``smtp_to``). Secrets live in the OS
keyring, never in a file: the SMTP password as ``get_secret("smtp", <smtp_host>)``, and
the webhook URL (its path or query usually is the token) as ``get_secret("webhook",
<device id>)``; the settings keep only its scheme and host, for display
(``https://hooks.example.com/…``). Blocking (urllib, smtplib): the monitor service calls ``send`` in a worker
thread. Failures are returned as messages, never raised: an alert that could not be
sent is still stored and listed, and the next sweeps try again.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from techdesk import __version__
from techdesk import secrets as keyring_secrets

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0
SECURITY = ("starttls", "ssl", "none")


@dataclass
class Delivery:
    """What happened to one batch: channels tried, and the errors (empty: all delivered)."""

    channels: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return bool(self.channels) and not self.errors


def channels(settings) -> list[str]:
    """The configured channels: "webhook", "email"."""
    found = []
    if getattr(settings, "webhook_url", None):
        found.append("webhook")
    if getattr(settings, "smtp_host", None) and getattr(settings, "smtp_to", None):
        found.append("email")
    return found


def recipients(text: str | None) -> list[str]:
    return [a.strip() for a in (text or "").replace(";", ",").split(",") if a.strip()]


def check_webhook_url(url: str) -> str:
    """Only http(s) URLs with a host: urllib would also open file:// and ftp://."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook URL {url!r} must be an http:// or https:// URL")
    return url


def payload(events: list[dict], device: str = "", technician: str = "") -> dict:
    """The webhook body. ``text`` makes it readable as is by chat webhooks (Slack,
    Mattermost, Teams workflows); ``events`` carries the details."""
    lines = [f"[{e['severity'].upper()}] {e['message']}" if e["event"] != "resolved"
             else f"[RESOLVED] {e['message']}" for e in events]
    return {"source": "techdesk", "version": __version__, "device": device, "technician": technician,
            "text": "\n".join(lines), "events": events}


HIDDEN = "/…"  # what the settings show of a webhook URL's path and query


def shown_url(url: str) -> str:
    """What the settings keep of a webhook URL: scheme, host and port."""
    return _safe_url(url) + HIDDEN


def is_stored_in_keyring(settings) -> bool:
    return bool(settings.webhook_url) and settings.webhook_url.endswith(HIDDEN)


def set_webhook(settings, url: str | None) -> None:
    """Keep the URL in the keyring (SecretsError if it cannot keep it safely: nothing
    changes then) and its shown form in the settings; None or "" turns it off."""
    if not url:
        if settings.webhook_url:
            keyring_secrets.delete_secret("webhook", settings.device_id)
        settings.webhook_url = None
        return
    check_webhook_url(url)
    keyring_secrets.set_secret("webhook", settings.device_id, url)
    settings.webhook_url = shown_url(url)


def webhook_url(settings) -> str | None:
    """The full webhook URL, from the keyring (or, from an older workspace that kept it in
    its settings until `techdesk notify` moves it, from there)."""
    if not settings.webhook_url:
        return None
    if not is_stored_in_keyring(settings):
        return settings.webhook_url
    url = keyring_secrets.get_secret("webhook", settings.device_id)
    if url is None:
        raise ValueError("the webhook URL is not in this machine's keyring: set it again with "
                         "`techdesk notify --webhook URL`")
    return url


def send(settings, events: list[dict], device: str = "", technician: str = "") -> Delivery:
    """Send ``events`` (AlertEvent JSON dicts) through every configured channel."""
    result = Delivery(channels(settings))
    if not events or not result.channels:
        return result
    if "webhook" in result.channels:
        try:
            send_webhook(webhook_url(settings), payload(events, device, technician))
        except Exception as exc:  # never fatal: reported in the sweep result
            result.errors.append(f"webhook {_safe_url(settings.webhook_url)}: {_reason(exc)}")
    if "email" in result.channels:
        try:
            send_email(settings, events, device)
        except Exception as exc:
            result.errors.append(f"e-mail via {settings.smtp_host}: {_reason(exc)}")
    for error in result.errors:
        log.warning("alert notification failed: %s", error)
    return result


def send_webhook(url: str, body: dict, timeout: float = TIMEOUT_S) -> int:
    check_webhook_url(url)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": f"techdesk/{__version__}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
        return response.status


def send_email(settings, events: list[dict], device: str = "", timeout: float = TIMEOUT_S) -> None:
    host, port = settings.smtp_host, int(settings.smtp_port or 0)
    security = (settings.smtp_security or "starttls").lower()
    if security not in SECURITY:
        raise ValueError(f"smtp_security must be one of {', '.join(SECURITY)}")
    to = recipients(settings.smtp_to)
    sender = settings.smtp_from or (settings.smtp_user if "@" in (settings.smtp_user or "") else None)
    if not to or not sender:
        raise ValueError("set smtp_from and smtp_to (addresses) in the settings")
    message = EmailMessage()
    worst = "resolved" if all(e["event"] == "resolved" for e in events) else \
        max((e["severity"] for e in events if e["event"] != "resolved"),
            key=lambda s: {"crit": 3, "unknown": 2, "warn": 1}.get(s, 0))
    first = events[0]["message"]
    more = f" (+{len(events) - 1} more)" if len(events) > 1 else ""
    message["Subject"] = f"techdesk {worst.upper()}: {first}{more}"[:250]
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=(sender.rpartition("@")[2] or None))
    lines = [f"{e['at']}  {e['event'].upper():11} {e['severity'].upper():8} {e['message']}" for e in events]
    message.set_content("\n".join(lines) + f"\n\n-- \ntechdesk {__version__}"
                        + (f" on device {device}" if device else "") + "\n")
    user = settings.smtp_user or None
    password = keyring_secrets.get_secret("smtp", host) if user else None
    if user and not password:
        raise ValueError(f"no SMTP password for {host} in the keyring "
                         "(store it with `techdesk notify --smtp-password`)")
    context = ssl.create_default_context()
    if security == "ssl":
        client = smtplib.SMTP_SSL(host, port or 465, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port or (587 if security == "starttls" else 25), timeout=timeout)
    with client:
        if security == "starttls":
            client.starttls(context=context)
        if user:
            client.login(user, password)
        client.send_message(message)


def _safe_url(url: str) -> str:
    """The URL without its path and query: webhook tokens often live there."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def _reason(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer within {TIMEOUT_S:g} s"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code})"
    return f"{exc}" or type(exc).__name__
