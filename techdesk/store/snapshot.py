"""Whole-store reads reused while the store is unchanged.

The window reads the whole roster and every host's state several times in a row
(the roster tree, then the dashboard's fleet health): ~0.75 s at 10,000 hosts when
each reader queries on its own. A result here is reused only while the store is
unchanged — neither written through this connection nor committed by any other
(another process, the sync, a sweep) — so a changed host or state always shows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Hashable
from typing import Any

# Short-lived on purpose: a reader in the same moment shares the read; later ones read anew.
TTL_S = 2.0


def store_version(conn: sqlite3.Connection) -> tuple[int, int]:
    """Changes when the store does: ``data_version`` counts other connections' commits,
    ``total_changes`` this connection's own writes (which data_version does not see)."""
    return conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes


class StoreSnapshots:
    def __init__(self, conn: sqlite3.Connection, ttl_s: float = TTL_S) -> None:
        self.conn = conn
        self.ttl_s = ttl_s
        self._entries: dict[Hashable, tuple[tuple[int, int], float, Any]] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        version, now = store_version(self.conn), time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version and now - entry[1] < self.ttl_s:
            return entry[2]
        value = compute()
        # The version read before computing: a write during compute makes the next get miss.
        self._entries = {k: e for k, e in self._entries.items() if e[0] == version and now - e[1] < self.ttl_s}
        self._entries[key] = (version, now, value)
        return value
