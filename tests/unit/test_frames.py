"""FrameParser on a recorded real stream (split at every byte) and on
synthetic streams."""

from __future__ import annotations

import os
import shutil

import pytest

from techdesk.core.findings import CheckResult
from techdesk.core.severity import Status
from techdesk.diagnostics.bundle import CheckDef
from techdesk.diagnostics.frames import FrameParser
from techdesk.diagnostics.sanitize import TRUNCATION_MARK
from tests.unit.diag_helpers import SHELLS, Run, bundle_of, run_bundle

needs_sh = pytest.mark.skipif(os.name != "posix" or not shutil.which("sh"),
                              reason="needs a POSIX sh")


def recorded_run() -> Run:
    bundle = bundle_of("""
[bundle]
name = "small"
os = "linux"
[[checks]]
id = "a"
script = "printf 'OK - first|m=1%%;80;90\\\\nmore\\\\n'"
[[checks]]
id = "b"
script = "printf 'no newline at end'; exit 2"
[[checks]]
id = "c"
script = "true"
[[checks]]
id = "d.e-f_g"
script = "printf '\\\\n\\\\nWARNING - after blank lines\\\\n'; exit 1"
""")
    return run_bundle(bundle, SHELLS["sh"])


def signature(results: list[CheckResult]) -> list[tuple]:
    return [(r.id, r.status, r.summary, r.exit_code, r.output, r.truncated,
             {k: m.as_json() for k, m in r.metrics.items()}) for r in results]


@needs_sh
def test_recorded_stream_results():
    run = recorded_run()
    assert signature(run.results) == [
        ("a", Status.OK, "first", 0, "OK - first|m=1%;80;90\nmore\n", False,
         {"m": {"value": 1.0, "uom": "%", "warn": 80.0, "crit": 90.0, "min": None, "max": None}}),
        ("b", Status.CRIT, "no newline at end", 2, "no newline at end", False, {}),
        ("c", Status.OK, "no output", 0, "", False, {}),
        ("d.e-f_g", Status.WARN, "after blank lines", 1, "\n\nWARNING - after blank lines\n",
         False, {}),
    ]


@needs_sh
def test_frames_split_at_every_byte():
    run = recorded_run()
    checks = [CheckDef(id=r.id, title=r.id, script="x") for r in run.results]
    expected = signature(run.results)
    data = run.raw
    for cut in range(len(data) + 1):
        parser = FrameParser(run.nonce, checks)
        got = parser.feed(data[:cut]) + parser.feed(data[cut:]) + parser.finish()
        assert signature(got) == expected, cut
    parser = FrameParser(run.nonce, checks)
    got = [r for i in range(len(data)) for r in parser.feed(data[i:i + 1])]
    assert signature(got + parser.finish()) == expected


@needs_sh
def test_finish_after_truncated_stream():
    run = recorded_run()
    checks = [CheckDef(id=r.id, title=r.id, script="x") for r in run.results]
    cut = run.raw.index(b"no newline at end") + 5  # inside check "b"
    parser = FrameParser(run.nonce, checks)
    first = parser.feed(run.raw[:cut])
    assert [r.id for r in first] == ["a"]
    rest = parser.finish("connection lost")
    assert [(r.id, r.status) for r in rest] == [("b", Status.UNKNOWN), ("c", Status.UNKNOWN),
                                                ("d.e-f_g", Status.UNKNOWN)]
    assert rest[0].summary == "no result: connection lost (check was running)"
    assert rest[0].output == "no ne" and rest[0].exit_code is None
    assert rest[1].summary == "no result: connection lost (check did not start)"
    assert parser.finish() == [] and parser.feed(run.raw[cut:]) == []
    assert len(parser.results) == 4


NONCE = "0123456789abcdef0123456789abcdef"
M = f"@@TD-{NONCE}".encode()


def checks_ab(**thresholds) -> list[CheckDef]:
    return [CheckDef(id="a", title="A", script="x", timeout=7, thresholds=thresholds),
            CheckDef(id="b", title="B", script="x")]


def test_unexpected_frames_are_plain_output():
    stream = (b"banner\n" + b"\n" + M + b" BEGIN b\n"          # b before a: stray text
              + b"\n" + M + b" BEGIN a\n" + b"OK - a\n"
              + b"\n" + M + b" END b 0 -\n"                     # wrong id: output of a
              + b"\n@@TD-ffffffffffffffffffffffffffffffff END a 0 -\n"  # other nonce
              + b"\n" + M + b" BEGIN a\n"                       # BEGIN inside a: output
              + b"\n" + M + b" END a 2 -\n"
              + b"\n" + M + b" BEGIN b\n" + b"\n" + M + b" END b x -\n")
    parser = FrameParser(NONCE, checks_ab())
    a, b = parser.feed(stream)
    assert (a.status, a.exit_code, a.summary) == (Status.CRIT, 2, "a")
    assert f"{M.decode()} END b 0 -" in a.output and "@@TD-ffff" in a.output
    assert f"{M.decode()} BEGIN a" in a.output
    assert (b.status, b.exit_code) == (Status.UNKNOWN, None)
    assert "banner" in parser.stray_output and "BEGIN b" in parser.stray_output
    assert parser.done and parser.finish() == []


def test_timeout_flag_cap_thresholds_and_durations():
    clock = iter([10.0, 12.5, 13.0, 13.25]).__next__
    parser = FrameParser(NONCE, checks_ab(m={"warn": 5}), output_cap=1000,
                         thresholds={"b": {"n": {"crit": 1}}}, clock=clock)
    out = parser.feed(b"\n" + M + b" BEGIN a\nOK - x|m=6\n")
    out += parser.feed(b"y" * 5000 + b"\n" + M + b" END a 3 T\n")
    out += parser.feed(b"\n" + M + b" BEGIN b\nOK - fine|n=1\n")
    out += parser.feed(b"\n" + M + b" END b 0 -\n")
    a, b = out
    assert (a.status, a.exit_code, a.timed_out, a.truncated) == (Status.UNKNOWN, 3, True, True)
    assert a.summary == "timed out after 7 s" and a.output.endswith(TRUNCATION_MARK)
    assert a.metrics["m"].warn == 5.0 and a.duration_s == 2.5
    assert (b.status, b.summary, b.duration_s) == (Status.CRIT, "fine", 0.25)
    assert b.metrics["n"].crit == 1.0


def test_overlong_marker_line_is_output():
    parser = FrameParser(NONCE, checks_ab())
    junk = b"\n" + M + b" " + b"z" * 2000
    a, _ = parser.feed(b"\n" + M + b" BEGIN a\n" + junk + b"\n" + M + b" END a 0 -\n") \
        + parser.finish()
    assert a.status is Status.OK and "z" * 2000 in a.output
