"""Trusted host keys: list and forget, by roster name or ADDRESS[:PORT]."""

from __future__ import annotations

import base64
import hashlib

from techdesk.core.roster import RosterError
from techdesk.services.runner import plan_route
from techdesk.ssh.knownhosts import TrustStore, pin_name


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

    def pin_name(self, name_or_address: str) -> str:
        """The known_hosts name a roster host (its route, as connections pin it) or
        ADDRESS[:PORT] is pinned under."""
        if self.roster.exists(name_or_address):
            return plan_route(self.roster, self.trust, name_or_address).pin
        return pin_name([self.address_of(name_or_address)])

    def forget(self, name_or_address: str) -> int:
        """Unpin only the host named: another host behind another jump route at the same
        address, or a line naming other hosts too, keeps its pins."""
        return self.trust.forget_name(self.pin_name(name_or_address))


def _fingerprint(key_b64: str) -> str:
    try:
        blob = base64.b64decode(key_b64)
    except ValueError:
        return "?"
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
