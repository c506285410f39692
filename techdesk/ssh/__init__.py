"""SSH layer: paramiko at the Transport level, our own host-key decisions. Blocking code.

    trust = TrustStore(workspace_known_hosts, Path.home() / ".ssh" / "known_hosts")
    with connect([jump, target], trust, secrets=get_secret) as conn:   # techdesk.ssh.connect.connect
        status = conn.run("sh -s", script_bytes, on_output, deadline=time.monotonic() + 300)
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from techdesk.lazy import lazy_exports

# paramiko imports invoke (a task runner and its vendored YAML: about a third of
# paramiko's import time) only to evaluate "Match exec" in an ssh_config, which
# techdesk never asks paramiko to do (roster_io reads ssh_config itself). A None entry
# makes that optional import fail the way paramiko expects when invoke is missing.
sys.modules.setdefault("invoke", None)  # type: ignore[arg-type]

# Names load on first use: importing techdesk.ssh.errors (the CLI names SshError to
# turn it into one line) must not load paramiko, which costs a command ~100 ms.
# `connect` is not offered here: once the submodule techdesk.ssh.connect is loaded, that
# name on the package is the module. Import it as `from techdesk.ssh.connect import connect`.
_SOURCES = {
    "MAX_AUTH_ATTEMPTS": "connect", "HostKeyDecision": "connect", "HostKeyEvent": "connect",
    "SecretLookup": "connect", "Target": "connect", "Timeouts": "connect",
    "Cancelled": "errors", "SshError": "errors",
    "Connection": "execute",
    "KnownKey": "knownhosts", "SkippedLine": "knownhosts", "TrustStore": "knownhosts",
    "fingerprint": "knownhosts",
}

if TYPE_CHECKING:
    from techdesk.ssh.connect import (
        MAX_AUTH_ATTEMPTS,
        HostKeyDecision,
        HostKeyEvent,
        SecretLookup,
        Target,
        Timeouts,
    )
    from techdesk.ssh.errors import Cancelled, SshError
    from techdesk.ssh.execute import Connection
    from techdesk.ssh.knownhosts import KnownKey, SkippedLine, TrustStore, fingerprint


__getattr__ = lazy_exports(__name__, _SOURCES)

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
    "fingerprint",
]
