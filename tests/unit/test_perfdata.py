"""Monitoring Plugins output: perfdata grammar, summary, thresholds."""

from __future__ import annotations

import pytest

from techdesk.core.findings import Metric
from techdesk.core.perfdata import (
    apply_thresholds,
    parse_output,
    parse_perfdata,
    strip_status_word,
)
from techdesk.core.severity import Status


def one(text: str) -> Metric:
    metrics = parse_perfdata(text)
    assert len(metrics) == 1, metrics
    return next(iter(metrics.values()))


@pytest.mark.parametrize(
    ("text", "label", "value", "uom", "warn", "crit", "min_", "max_"),
    [
        ("load=1.5", "load", 1.5, "", None, None, None, None),
        ("/=86%;80;90;0;100", "/", 86.0, "%", 80.0, 90.0, 0.0, 100.0),
        ("'label with spaces'=12s;;;;", "label with spaces", 12.0, "s", None, None, None, None),
        ("'it''s'=3c", "it's", 3.0, "c", None, None, None, None),
        ("'a=b'=1", "a=b", 1.0, "", None, None, None, None),
        ("time=0.25ms;1;2", "time", 0.25, "ms", 1.0, 2.0, None, None),
        ("t=5us", "t", 5.0, "us", None, None, None, None),
        ("mem=1024MB;;;0;4096", "mem", 1024.0, "MB", None, None, 0.0, 4096.0),
        ("b=10B", "b", 10.0, "B", None, None, None, None),
        ("k=1.5KB", "k", 1.5, "KB", None, None, None, None),
        ("g=2GB", "g", 2.0, "GB", None, None, None, None),
        ("t=3TB", "t", 3.0, "TB", None, None, None, None),
        ("temp=-12.5;0;-20", "temp", -12.5, "", 0.0, -20.0, None, None),
        ("sci=1e3", "sci", 1000.0, "", None, None, None, None),
        ("x=+.5", "x", 0.5, "", None, None, None, None),
        ("comma=1,5", "comma", 1.5, "", None, None, None, None),
        ("days=30d;14;7", "days", 30.0, "d", 14.0, 7.0, None, None),
        # Ranges: only a plain number or an upper bound alone becomes a number.
        ("r=5;10:;20:", "r", 5.0, "", None, None, None, None),
        ("r=5;~:10;0:20", "r", 5.0, "", 10.0, 20.0, None, None),
        ("r=5;:10;@10:20", "r", 5.0, "", 10.0, None, None, None),
        ("r=5;10:20;@5", "r", 5.0, "", None, None, None, None),
        ("r=5;junk;;x;y", "r", 5.0, "", None, None, None, None),
    ],
)
def test_perfdata_grammar(text, label, value, uom, warn, crit, min_, max_):
    m = one(text)
    assert (m.label, m.value, m.uom, m.warn, m.crit, m.min, m.max) == (
        label, value, uom, warn, crit, min_, max_)


@pytest.mark.parametrize("text", [
    "x=", "x=U", "x=U;1;2", "=5", "'unterminated=5", "x=abc", "x=5%%%;", "x=1.2.3",
    "x=nan", "x=inf", "justaword", "x=5 ms",
])
def test_malformed_tokens_are_skipped_never_raise(text):
    metrics = parse_perfdata(text)
    assert all(isinstance(m.value, float) for m in metrics.values())
    assert "x" not in metrics or text == "x=5 ms"


def test_good_tokens_survive_bad_neighbours():
    metrics = parse_perfdata("a=1 junk b=U 'c d'=3% =4 e=5;6;7 'f=2")
    assert sorted(metrics) == ["a", "c d", "e"]
    assert metrics["e"].warn == 6.0


def test_unit_value_stays_with_space_separated_trailer():
    # "x=5 ms" is x=5 followed by the junk word "ms".
    assert parse_perfdata("x=5 ms")["x"].uom == ""


def test_parse_output_first_line_and_long_output():
    text = ("DISK WARNING - / 86% used | '/'=86%;80;90;0;100\n"
            "long output line one\n"
            "line two | '/home'=40%;80;90;0;100\n"
            "'/var'=10%\n")
    summary, metrics = parse_output(text)
    assert summary == "DISK WARNING - / 86% used"
    assert sorted(metrics) == ["/", "/home", "/var"]


def test_parse_output_without_perfdata_and_empty():
    assert parse_output("OK - fine\nmore text\n") == ("OK - fine", {})
    assert parse_output("") == ("", {})


@pytest.mark.parametrize(("line", "expected"), [
    ("OK - all good", "all good"),
    ("WARNING: 3 things", "3 things"),
    ("DISK CRITICAL - / full", "/ full"),
    ("UNKNOWN - no tool", "no tool"),
    ("OK", "OK"),
    ("OKAY then", "OKAY then"),
    ("plain summary", "plain summary"),
])
def test_strip_status_word(line, expected):
    assert strip_status_word(line) == expected


def metric(value, warn=None, crit=None, label="m"):
    return {label: Metric(label=label, value=value, warn=warn, crit=crit)}


@pytest.mark.parametrize(("value", "expected"), [
    (10, Status.OK), (79.9, Status.OK), (80, Status.WARN), (89, Status.WARN),
    (90, Status.CRIT), (100, Status.CRIT),
])
def test_thresholds_above(value, expected):
    assert apply_thresholds(Status.OK, metric(value), {"m": {"warn": 80, "crit": 90}}) is expected


@pytest.mark.parametrize(("value", "expected"), [
    (60, Status.OK), (30.5, Status.OK), (30, Status.WARN), (8, Status.WARN), (7, Status.CRIT),
    (0, Status.CRIT),
])
def test_thresholds_below(value, expected):
    spec = {"m": {"warn": 30, "crit": 7, "direction": "below"}}
    assert apply_thresholds(Status.OK, metric(value), spec) is expected


def test_thresholds_never_lower():
    spec = {"m": {"warn": 80, "crit": 90}}
    assert apply_thresholds(Status.CRIT, metric(1), spec) is Status.CRIT
    assert apply_thresholds(Status.WARN, metric(1), spec) is Status.WARN
    assert apply_thresholds(Status.UNKNOWN, metric(85), spec) is Status.UNKNOWN
    assert apply_thresholds(Status.UNKNOWN, metric(95), spec) is Status.CRIT


def test_thresholds_fill_missing_warn_crit_only():
    metrics = {**metric(50, label="a"), **metric(50, warn=70, crit=None, label="b")}
    apply_thresholds(Status.OK, metrics, {"a": {"warn": 80, "crit": 90}, "b": {"warn": 1, "crit": 2}})
    assert (metrics["a"].warn, metrics["a"].crit) == (80.0, 90.0)
    assert (metrics["b"].warn, metrics["b"].crit) == (70.0, 2.0)  # the plugin's own warn stays


def test_thresholds_globs_and_missing_labels():
    metrics = {**metric(95, label="/"), **metric(85, label="/home"), **metric(99, label="load")}
    spec = {"/*": {"warn": 80}, "/": {"warn": 80, "crit": 90}}
    assert apply_thresholds(Status.OK, metrics, spec) is Status.CRIT
    assert metrics["load"].warn is None
    assert apply_thresholds(Status.OK, metric(85, label="/home"), spec) is Status.WARN
    assert apply_thresholds(Status.OK, metric(5), {"other": {"warn": 1}}) is Status.OK
    assert apply_thresholds(Status.WARN, metric(5), None) is Status.WARN
