"""The SSH layer's exceptions: one `SshError` with a `kind`, plus `Cancelled`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from techdesk.core.findings import ERROR_KINDS as KINDS
from techdesk.core.findings import ErrorKind
from techdesk.core.text import clean_text

if TYPE_CHECKING:
    import paramiko


class SshError(Exception):
    """An SSH failure a technician can act on; ``str(e)`` is one clear line.

    kind: one of core.findings.ERROR_KINDS
    target: name of the hop that failed (None if not tied to one)
    key: the host key presented, for the two hostkey kinds (else None)
    nothing_sent: True when a command failed before it reached the server (no session
        was opened), so trying it on a new connection cannot run it twice
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        target: str | None = None,
        key: paramiko.PKey | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown SshError kind {kind!r}")
        # Messages quote what the server sent (its banner, paramiko's errors), before
        # any host key was checked: no escape sequence may reach a terminal or the store.
        message = clean_text(message)
        super().__init__(message)
        self.kind: str = kind
        self.message: str = message
        self.target = target
        self.key = key
        self.nothing_sent = False

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"SshError({self.kind!r}, {self.message!r})"

    def __reduce__(self):  # keep it picklable despite the keyword-only fields
        return (_rebuild, (self.kind, self.message, self.target))


def _rebuild(kind: ErrorKind, message: str, target: str | None) -> SshError:
    return SshError(kind, message, target=target)


class Cancelled(Exception):
    """A run was stopped because the caller set its cancel event (not an SSH failure)."""

    def __init__(self, message: str = "run cancelled") -> None:
        message = clean_text(message)
        super().__init__(message)
        self.message = message
