"""Monitoring Plugins output: summary, performance data, thresholds.

Output convention (https://www.monitoring-plugins.org/doc/guidelines.html):

    SUMMARY TEXT | 'label'=value[UOM];warn;crit;min;max ...
    long output line
    long output line | more perfdata
    more perfdata

Perfdata are the text after the first ``|`` of the first line, plus everything
after the first ``|`` found in the following lines (the long-output part).
Nothing here raises on bad input: a malformed token is skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from techdesk.core.findings import Metric
from techdesk.core.severity import Status, worst

# One token: a quoted label ('' escapes a quote) or a bare label, '=', then data
# up to the next whitespace. Quoted labels may hold spaces and '='.
_TOKEN = re.compile(r"""\s*(?:'((?:[^']|'')*)'|([^\s'=][^\s=]*))=(\S*)""")
_NUMBER = r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"
_VALUE = re.compile(rf"({_NUMBER})([^\d\s;.,+-][^\s;]*)?")
_UOM = re.compile(r"%|[A-Za-zµ°]*")  # "%", or letters (s, ms, B, KB, c, d...)
_PLAIN = re.compile(rf"{_NUMBER}")
# Ranges whose only bound is an upper one: "N", ":N", "~:N", "0:N".
_UPPER_ONLY = re.compile(rf"(?:(?:~|0+(?:[.,]0*)?)?:)?({_NUMBER})")
_LEADING_BLANK = re.compile(r"\A(?:[ \t]*\n)+")
# "OK - ", "WARNING: ", "DISK CRITICAL - " at the start of a summary line.
_STATUS_PREFIX = re.compile(
    r"^(?:[A-Z][A-Z0-9_]*\s+)?(?:OK|WARNING|WARN|CRITICAL|CRIT|UNKNOWN)\s*(?:-|:)\s*"
)


def _number(text: str) -> float | None:
    if not _PLAIN.fullmatch(text):
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _threshold(text: str) -> float | None:
    """A plain number, or a range with only an upper bound; anything else: None."""
    match = _UPPER_ONLY.fullmatch(text)
    return _number(match.group(1)) if match else None


def parse_perfdata(text: str) -> dict[str, Metric]:
    """Parse perfdata tokens; malformed ones are skipped, later labels win."""
    metrics: dict[str, Metric] = {}
    pos, end = 0, len(text)
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:
            # Skip one junk word and resynchronise at the next token.
            junk = re.compile(r"\s*\S+").match(text, pos)
            if junk is None:
                break
            pos = junk.end()
            continue
        pos = match.end()
        quoted, bare, data = match.groups()
        label = quoted.replace("''", "'") if quoted is not None else bare
        metric = _metric(label, data)
        if metric is not None:
            metrics[label] = metric
    return metrics


def _metric(label: str, data: str) -> Metric | None:
    if not label:
        return None
    fields = data.split(";")
    value_match = _VALUE.fullmatch(fields[0])
    if value_match is None:
        return None  # includes the "U" (undetermined) value
    uom = value_match.group(2) or ""
    if not _UOM.fullmatch(uom):
        return None
    value = _number(value_match.group(1))
    if value is None:
        return None
    fields += [""] * (5 - len(fields))
    return Metric(label=label, value=value, uom=uom,
                  warn=_threshold(fields[1]), crit=_threshold(fields[2]),
                  min=_number(fields[3]), max=_number(fields[4]))


def parse_output(text: str) -> tuple[str, dict[str, Metric]]:
    """Split plugin output into (summary, metrics). The summary is the first
    non-blank line before any '|', stripped; it may be empty."""
    first, _, rest = _LEADING_BLANK.sub("", text).partition("\n")
    summary, bar, perf = first.partition("|")
    perf_texts = [perf] if bar else []
    _, bar, long_perf = rest.partition("|")
    if bar:
        perf_texts.append(long_perf)
    metrics: dict[str, Metric] = {}
    for chunk in perf_texts:
        metrics.update(parse_perfdata(chunk))
    return summary.strip(), metrics


def strip_status_word(summary: str) -> str:
    """'DISK WARNING - / 86% used' -> '/ 86% used': the status is shown apart."""
    stripped = _STATUS_PREFIX.sub("", summary, count=1)
    return stripped or summary


def _threshold_for(label: str, thresholds: Mapping[str, Mapping[str, Any]]) -> Mapping | None:
    if label in thresholds:
        return thresholds[label]
    # Keys with * or ? are glob patterns ("/*", "load*"): first match in order.
    for key, spec in thresholds.items():
        if ("*" in key or "?" in key) and fnmatchcase(label, key):
            return spec
    return None


def apply_thresholds(status: Status, metrics: dict[str, Metric],
                     thresholds: Mapping[str, Mapping[str, Any]] | None) -> Status:
    """Raise (never lower) ``status`` from metric thresholds.

    ``thresholds`` maps a label (or a glob pattern) to ``{"warn": x, "crit": y,
    "direction": "above" | "below"}``; "above" (default) alerts when value >=
    the bound, "below" when value <= it (free space, days left). The metric's
    warn/crit are filled in from the threshold when the plugin gave none.
    """
    if not thresholds:
        return status
    found = [status]
    for label, metric in metrics.items():
        spec = _threshold_for(label, thresholds)
        if not spec:
            continue
        below = spec.get("direction", "above") == "below"
        warn, crit = _as_float(spec.get("warn")), _as_float(spec.get("crit"))
        if metric.warn is None:
            metric.warn = warn
        if metric.crit is None:
            metric.crit = crit
        found.append(_judge(metric.value, warn, crit, below))
    return worst(found)


def _judge(value: float, warn: float | None, crit: float | None, below: bool) -> Status:
    def hit(bound: float | None) -> bool:
        if bound is None:
            return False
        return value <= bound if below else value >= bound

    if hit(crit):
        return Status.CRIT
    if hit(warn):
        return Status.WARN
    return Status.OK


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
