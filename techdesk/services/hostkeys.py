"""Trusted host keys: list and forget, by roster name or ADDRESS[:PORT]."""

from __future__ import annotations

import base64
import hashlib

from techdesk.core.roster import RosterError
from techdesk.ssh.knownhosts import TrustStore


class HostKeyService:
    def __init__(self, trust: TrustStore, roster) -> None:
        self.trust = trust
        self.roster = roster

    def list(self) -> list[dict]:
        return [
            {"host": k.host_pattern, "type": k.key_type, "fingerprint": _fingerprint(k.key_b64),
             "marker": k.marker, "source": k.source, "line": k.line}
            for k in self.trust.entries()
        ]

    def address_of(self, name_or_address: str) -> tuple[str, int]:
        if self.roster.exists(name_or_address):
            host = self.roster.get(name_or_address)
            return host.address, host.port
        text = name_or_address
        if text.startswith("[") and "]:" in text:
            address, _, port = text[1:].partition("]:")
        elif text.count(":") == 1:
            address, _, port = text.partition(":")
        else:
            address, port = text, "22"
        if not port.isdigit():
            raise RosterError(f"{name_or_address!r} is neither a roster host nor ADDRESS[:PORT]")
        return address, int(port)

    def forget(self, name_or_address: str) -> int:
        address, port = self.address_of(name_or_address)
        return self.trust.forget(address, port)


def _fingerprint(key_b64: str) -> str:
    try:
        blob = base64.b64decode(key_b64)
    except ValueError:
        return "?"
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
