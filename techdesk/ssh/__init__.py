"""SSH layer: paramiko at the Transport level, our own host-key decisions. Blocking code.

    trust = TrustStore(workspace_known_hosts, Path.home() / ".ssh" / "known_hosts")
    with connect([jump, target], trust, secrets=get_secret) as conn:
        status = conn.run("sh -s", script_bytes, on_output, deadline=time.monotonic() + 300)
"""

from techdesk.ssh.connect import (
    MAX_AUTH_ATTEMPTS,
    HostKeyDecision,
    HostKeyEvent,
    SecretLookup,
    Target,
    Timeouts,
    connect,
)
from techdesk.ssh.errors import Cancelled, SshError
from techdesk.ssh.execute import Connection
from techdesk.ssh.knownhosts import KnownKey, SkippedLine, TrustStore, fingerprint

__all__ = [
    "MAX_AUTH_ATTEMPTS",
    "Cancelled",
    "Connection",
    "HostKeyDecision",
    "HostKeyEvent",
    "KnownKey",
    "SecretLookup",
    "SkippedLine",
    "SshError",
    "Target",
    "Timeouts",
    "TrustStore",
    "connect",
    "fingerprint",
]
