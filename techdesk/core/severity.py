"""Severity of a finding: the Monitoring Plugins exit-code convention."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"
    UNKNOWN = "unknown"

    @classmethod
    def from_exit_code(cls, code: int | None) -> Status:
        """0/1/2 = OK/WARNING/CRITICAL; anything else (3, 127, a signal) is UNKNOWN."""
        return {0: cls.OK, 1: cls.WARN, 2: cls.CRIT}.get(code if code is not None else -1, cls.UNKNOWN)

    @property
    def rank(self) -> int:
        # Order for "worst of": crit > unknown > warn > ok. UNKNOWN outranks WARN
        # because a check we could not evaluate may hide anything.
        return _RANK[self]

    @property
    def word(self) -> str:
        return _WORD[self]


_RANK = {Status.OK: 0, Status.WARN: 1, Status.UNKNOWN: 2, Status.CRIT: 3}
_WORD = {Status.OK: "OK", Status.WARN: "WARNING", Status.CRIT: "CRITICAL", Status.UNKNOWN: "UNKNOWN"}


def worst(statuses) -> Status:
    """The most severe status of an iterable; OK for an empty one."""
    result = Status.OK
    for status in statuses:
        if status.rank > result.rank:
            result = status
    return result
