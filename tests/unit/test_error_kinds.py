"""Why a host gave no results: one list, in core (free of paramiko), used by the SSH layer."""

from __future__ import annotations

import pytest

from techdesk.core.findings import ERROR_KINDS, HostError
from techdesk.ssh import errors


def test_the_ssh_layer_uses_the_core_list():
    assert errors.KINDS is ERROR_KINDS
    assert set(ERROR_KINDS) == {"unreachable", "timeout", "auth", "hostkey-unknown", "hostkey-changed",
                                "protocol", "tampered"}
    for kind in ERROR_KINDS:
        assert errors.SshError(kind, "m").kind == kind


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown SshError kind"):
        errors.SshError("gremlins", "m")  # type: ignore[arg-type]
    assert HostError("timeout", "m").as_json() == {"kind": "timeout", "message": "m"}
