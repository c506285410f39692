"""Results of running a bundle: metrics, check results, per-host results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from techdesk.core.severity import Status, worst

# Why a host gave no results: the one list (the SSH layer raises these, results store
# them, the window and reports word them). Kept here, free of paramiko, so the CLI can
# name them without loading the SSH stack. "tampered": the client machine sent frames it
# could not have sent honestly (diagnostics/frames.py).
ErrorKind = Literal["unreachable", "timeout", "auth", "hostkey-unknown", "hostkey-changed", "protocol",
                    "tampered"]
ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)


@dataclass
class Metric:
    """One performance-data value: 'label'=value[UOM];warn;crit;min;max."""

    label: str
    value: float
    uom: str = ""
    warn: float | None = None
    crit: float | None = None
    min: float | None = None
    max: float | None = None

    def as_json(self) -> dict:
        return {"value": self.value, "uom": self.uom, "warn": self.warn, "crit": self.crit,
                "min": self.min, "max": self.max}


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    summary: str
    exit_code: int | None
    duration_s: float
    metrics: dict[str, Metric] = field(default_factory=dict)
    output: str = ""
    truncated: bool = False
    timed_out: bool = False

    def as_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "status": self.status.value,
            "summary": self.summary, "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 3),
            "metrics": {k: m.as_json() for k, m in self.metrics.items()},
            "output": self.output,
            "truncated": self.truncated,
            "timed_out": self.timed_out,
        }


@dataclass
class HostError:
    kind: str  # one of ERROR_KINDS
    message: str

    def as_json(self) -> dict:
        return {"kind": self.kind, "message": self.message}


@dataclass
class HostResult:
    host: str
    checks: list[CheckResult] = field(default_factory=list)
    error: HostError | None = None
    duration_s: float = 0.0

    @property
    def status(self) -> Status:
        if self.error is not None:
            return Status.UNKNOWN if not self.checks else worst([Status.UNKNOWN, *(c.status for c in self.checks)])
        return worst(c.status for c in self.checks)

    def as_json(self) -> dict:
        return {
            "host": self.host, "status": self.status.value,
            "duration_s": round(self.duration_s, 3),
            "error": self.error.as_json() if self.error else None,
            "checks": [c.as_json() for c in self.checks],
        }


def run_exit_code(results: list[HostResult]) -> int:
    """CLI.md: 2 if any CRITICAL, else 3 if any UNKNOWN or host failure, else 1 if any WARNING, else 0."""
    statuses = [c.status for r in results for c in r.checks]
    if Status.CRIT in statuses:
        return 2
    if Status.UNKNOWN in statuses or any(r.error for r in results):
        return 3
    if Status.WARN in statuses:
        return 1
    return 0
