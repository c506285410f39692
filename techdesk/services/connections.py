"""The workspace's warm SSH connections: the pool, wired to roster, keyring and settings.

A pooled connection closes when its host (or a jump host on its route) is edited or
removed, when one of their secrets changes in the keyring, and on exit. Changes that
bypass these notices (a sync merge, an edited known_hosts) are still caught: the pool
checks the route and the pinned key on every lease.
"""

from __future__ import annotations

import weakref

from techdesk import secrets
from techdesk.core.roster import RosterError
from techdesk.services.runner import _target
from techdesk.ssh.pool import ConnectionPool, route_identity


def idle_seconds(settings) -> float:
    minutes = settings.warm_connection_minutes
    return max(0.0, float(minutes)) * 60 if isinstance(minutes, int | float) else 300.0


def open_pool(services) -> ConnectionPool:
    pool = ConnectionPool(idle_s=idle_seconds(services.workspace.settings))
    roster = services.roster
    ref = weakref.ref(pool)

    def still_valid(name: str, identity) -> bool:
        try:
            chain = [_target(h) for h in roster.jump_chain(name)]
        except RosterError:
            return False  # removed, or its route no longer resolves
        return route_identity(chain) == identity

    def roster_changed() -> None:
        if (p := ref()) is not None:
            p.prune(still_valid)

    def secret_changed(kind: str, host: str) -> None:
        if (p := ref()) is not None:
            p.forget_host(host)

    roster.subscribe(roster_changed)
    secrets.subscribe(secret_changed)
    return pool
