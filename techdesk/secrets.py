"""Credentials in the OS keyring — the only module that touches `keyring`.

Secrets never go to the workspace, the shared folder, logs or reports. A keyring
backend that cannot keep a secret safely (none available, or a plaintext file) is
reported, and techdesk refuses to store secrets in it rather than leaking them.

A host's password or passphrase belongs to an endpoint, not to a name: beside it the
keyring keeps the endpoint it was stored for or last confirmed with (user, address,
port and jump route, as core.roster.endpoint_of writes it). When the host's endpoint
changes (a synced or imported edit), `get_secret(..., endpoint=)` raises
EndpointChanged instead of releasing it, until `confirm_endpoint` on this machine.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from dataclasses import dataclass

SERVICE = "techdesk"
KINDS = ("password", "passphrase", "smtp", "webhook")
HOST_KINDS = ("password", "passphrase")  # bound to the host's endpoint
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


class EndpointChanged(SecretsError):
    """The host's endpoint is not the one its secret was stored for: not released."""

    def __init__(self, kind: str, host: str, was: str, now: str) -> None:
        super().__init__(f"the {kind} stored for {host} was not sent: {host} changed from {was} to {now} "
                         f"(by a sync, an import or an edit); if that is right, confirm it on this machine "
                         f"with `techdesk hosts confirm {host}`")
        self.kind, self.host, self.was, self.now = kind, host, was, now


@dataclass
class BackendInfo:
    name: str
    secure: bool
    message: str


def _keyring():
    # Imported on first use: loading keyring's backends costs ~25 ms at start-up.
    if sys.platform != "darwin":
        # keyring's macOS backend loads the Keychain API when it is imported, and off macOS
        # that runs ctypes' find_library three times (ldconfig and gcc subprocesses: 55 ms
        # and more, each time a secret is first looked up) for a backend that then calls
        # itself unusable anyway ("macOS required"). A None entry makes that import fail
        # the way the backend already tolerates.
        sys.modules.setdefault("keyring.backends.macOS.api", None)  # type: ignore[arg-type]
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


def _binding(kind: str, host: str) -> str:
    return f"endpoint:{_account(kind, host)}"


def _read(account: str) -> str | None:
    keyring = _keyring()
    try:
        return keyring.get_password(SERVICE, account)
    except keyring.errors.KeyringError as exc:
        log.warning("keyring read failed for %s: %s", account, exc)
        return None


def get_secret(kind: str, host: str, endpoint: str | None = None) -> str | None:
    """The stored secret, or None if there is none or the keyring cannot be read.
    With `endpoint` (passwords, passphrases): EndpointChanged when the secret belongs to
    another endpoint. A secret stored before endpoints were kept is bound on first use."""
    if not backend_info().secure:
        return None
    value = _read(_account(kind, host))
    if value is None or endpoint is None:
        return value
    was = _read(_binding(kind, host))
    if was is None:
        bind(kind, host, endpoint)
    elif was != endpoint:
        raise EndpointChanged(kind, host, was, endpoint)
    return value


def bind(kind: str, host: str, endpoint: str) -> None:
    """Record the endpoint a host's secret may be sent to."""
    keyring = _keyring()
    try:
        keyring.set_password(SERVICE, _binding(kind, host), endpoint)
    except keyring.errors.KeyringError as exc:
        raise SecretsError(f"the keyring refused to record the endpoint of the {kind}: {exc}") from None


def changed_endpoints(host: str, endpoint: str) -> list[tuple[str, str]]:
    """[(kind, endpoint it was stored for)] of the host's secrets bound elsewhere."""
    if not backend_info().secure:
        return []
    out = []
    for kind in HOST_KINDS:
        was = _read(_binding(kind, host))
        if was is not None and was != endpoint and _read(_account(kind, host)) is not None:
            out.append((kind, was))
    return out


def confirm_endpoint(host: str, endpoint: str) -> list[str]:
    """Accept the host's current endpoint for its stored secrets; returns the kinds rebound."""
    changed = [kind for kind, _ in changed_endpoints(host, endpoint)]
    for kind in changed:
        bind(kind, host, endpoint)
    return changed


def set_secret(kind: str, host: str, value: str, endpoint: str | None = None) -> None:
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
    if endpoint is not None:
        bind(kind, host, endpoint)
    _changed(kind, host)


def delete_secret(kind: str, host: str) -> bool:
    keyring = _keyring()
    with contextlib.suppress(keyring.errors.KeyringError):  # no endpoint recorded
        keyring.delete_password(SERVICE, _binding(kind, host))
    try:
        keyring.delete_password(SERVICE, _account(kind, host))
        _changed(kind, host)
        return True
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise SecretsError(f"the keyring refused to delete the {kind}: {exc}") from None
