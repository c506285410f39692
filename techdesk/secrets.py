"""Credentials in the OS keyring — the only module that touches `keyring`.

Secrets never go to the workspace, the shared folder, logs or reports. A keyring
backend that cannot keep a secret safely (none available, or a plaintext file) is
reported, and techdesk refuses to store secrets in it rather than leaking them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

SERVICE = "techdesk"
KINDS = ("password", "passphrase", "smtp")
log = logging.getLogger(__name__)
_listeners: list = []  # callback(kind, host) after a secret is stored or deleted


def subscribe(callback) -> None:
    """Hear about secret changes (warm connections authenticated with the old one close)."""
    _listeners.append(callback)


def _changed(kind: str, host: str) -> None:
    for callback in list(_listeners):
        try:
            callback(kind, host)
        except Exception:
            log.exception("secret change listener failed")


class SecretsError(Exception):
    """The keyring cannot store or read a secret."""


@dataclass
class BackendInfo:
    name: str
    secure: bool
    message: str


def _keyring():
    # Imported on first use: loading keyring's backends costs ~25 ms at start-up.
    import keyring
    import keyring.errors

    return keyring


def backend_info() -> BackendInfo:
    backend = _keyring().get_keyring()
    cls = type(backend)
    name = f"{cls.__module__}.{cls.__name__}"
    lowered = name.lower()
    if "fail" in lowered or "null" in lowered:
        return BackendInfo(name, False, "no usable system keyring: passwords cannot be remembered")
    if "plaintext" in lowered or "uncrypted" in lowered:
        return BackendInfo(name, False, f"keyring backend {cls.__name__} stores secrets unencrypted")
    return BackendInfo(name, True, f"secrets are kept in {cls.__name__}")


def _account(kind: str, host: str) -> str:
    if kind not in KINDS:
        raise SecretsError(f"unknown secret kind {kind!r}")
    return f"{kind}:{host}"


def get_secret(kind: str, host: str) -> str | None:
    """The stored secret, or None if there is none or the keyring cannot be read."""
    if not backend_info().secure:
        return None
    keyring = _keyring()
    try:
        return keyring.get_password(SERVICE, _account(kind, host))
    except keyring.errors.KeyringError as exc:
        log.warning("keyring read failed for %s of %s: %s", kind, host, exc)
        return None


def set_secret(kind: str, host: str, value: str) -> None:
    info = backend_info()
    if not info.secure:
        raise SecretsError(f"{info.message}; nothing was stored")
    if not value:
        raise SecretsError("an empty secret was not stored")
    keyring = _keyring()
    try:
        keyring.set_password(SERVICE, _account(kind, host), value)
    except keyring.errors.KeyringError as exc:
        raise SecretsError(f"the keyring refused to store the {kind}: {exc}") from None
    _changed(kind, host)


def delete_secret(kind: str, host: str) -> bool:
    keyring = _keyring()
    try:
        keyring.delete_password(SERVICE, _account(kind, host))
        _changed(kind, host)
        return True
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise SecretsError(f"the keyring refused to delete the {kind}: {exc}") from None
