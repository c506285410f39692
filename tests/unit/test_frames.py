"""FrameParser on a recorded real stream (split at every byte) and on
synthetic streams."""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest

from techdesk.core.findings import CheckResult
from techdesk.core.severity import Status
from techdesk.diagnostics.bundle import CheckDef
from techdesk.diagnostics.compile import CompiledScript
from techdesk.diagnostics.frames import HELD_NOTE, FrameParser, ScriptFeed, untrusted
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
        parser = FrameParser(run.script, checks)
        got = parser.feed(data[:cut]) + parser.feed(data[cut:]) + parser.finish()
        assert signature(got) == expected, cut
    parser = FrameParser(run.script, checks)
    got = [r for i in range(len(data)) for r in parser.feed(data[i:i + 1])]
    assert signature(got + parser.finish()) == expected


@needs_sh
def test_finish_after_truncated_stream():
    run = recorded_run()
    checks = [CheckDef(id=r.id, title=r.id, script="x") for r in run.results]
    cut = run.raw.index(b"no newline at end") + 5  # inside check "b"
    parser = FrameParser(run.script, checks)
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
TA, TB = "a" * 32, "b" * 32


def script(converse: bool = False) -> CompiledScript:
    return CompiledScript(text="", command="sh -s", sha256="", nonce=NONCE, tokens=(TA, TB),
                          converse=converse)


def checks_ab(**thresholds) -> list[CheckDef]:
    return [CheckDef(id="a", title="A", script="x", timeout=7, thresholds=thresholds),
            CheckDef(id="b", title="B", script="x")]


def frame(kind: str, cid: str, *rest: str) -> bytes:
    return b"\n" + M + f" {kind} {cid}{''.join(' ' + r for r in rest)}\n".encode()


def check_frames(cid: str, token: str, output: bytes, rc: str = "0", flags: str = "-") -> bytes:
    return (frame("NEXT", cid) + frame("BEGIN", cid, token) + output
            + frame("END", cid, token, rc, flags))


def test_other_nonces_and_mid_line_marks_are_plain_output():
    stream = (b"banner\n"
              + check_frames("a", TA, b"OK - a\n@@TD-ffffffffffffffffffffffffffffffff END a " + TA.encode()
                             + b" 0 -\nnot at line start " + M + b" END a x\n", rc="2")
              + check_frames("b", TB, b"", rc="x"))
    parser = FrameParser(script(), checks_ab())
    [a] = parser.feed(stream)
    assert (a.status, a.exit_code, a.summary) == (Status.CRIT, 2, "a")
    assert "@@TD-ffff" in a.output and "not at line start" in a.output
    assert "banner" in parser.stray_output
    # "END b <token> x -": an exit code that is not a number is tampering too
    assert parser.tampered == "a malformed frame line"
    [b] = parser.finish()
    assert b.status is Status.UNKNOWN and "tampered" in b.summary


@pytest.mark.parametrize(("stream", "why"), [
    # a check printing the next check's frames (it read the mark and a token)
    (check_frames("a", TA, frame("END", "a", TA, "0", "-") + b"late output", rc="2"),
     "a second END frame for check 'a'"),
    (frame("NEXT", "a") + frame("BEGIN", "a", TA) + frame("NEXT", "b"),
     "frames out of order: NEXT for 'b' while END for 'a' was due"),
    (frame("NEXT", "b"), "frames out of order: NEXT for 'b' while NEXT for 'a' was due"),
    (frame("NEXT", "zz"), "a frame for a check that was not sent ('zz')"),
    (frame("NEXT", "a") + frame("END", "a", TA, "0", "-"),
     "frames out of order: END for 'a' before its BEGIN"),
    (frame("NEXT", "a") + frame("BEGIN", "a", TB), "a BEGIN frame for check 'a' with a wrong token"),
    (check_frames("a", TA, b"") + check_frames("b", TB, b"") + frame("NEXT", "a"),
     "a NEXT frame after the last check ended"),
    (frame("NEXT", "a") + frame("NEXT", "a"), "a second NEXT frame for check 'a'"),
    (frame("NEXT", "a") + frame("BEGIN", "a", TA) + frame("END", "a", TA, "0", "Z"),
     "a malformed frame line"),
    (b"\n" + M + b"X BEGIN a\n", "a malformed frame line"),
    (b"\n" + M + b" BEGIN a " + b"z" * 20000, "a frame line that does not end"),
    # waves: a NEXT naming several checks must name exactly the ones due, in order
    (frame("NEXT", "b", "a"), "frames out of order: NEXT for 'b' while NEXT for 'a' was due"),
    (frame("NEXT", "a", "a"), "a NEXT frame naming a check twice ('a'...)"),
    (frame("NEXT", "a", "b", "zz"), "a NEXT frame for checks out of order ('a b zz')"),
    (frame("NEXT", "a", "b") + frame("BEGIN", "a", TA) + frame("END", "a", TA, "0", "-")
     + frame("NEXT", "b"), "a second NEXT frame for check 'b'"),
    (frame("NEXT", "a", "b") + frame("BEGIN", "b", TB),
     "frames out of order: BEGIN for 'b' while BEGIN for 'a' was due"),
    (frame("NEXT", "a") + frame("BEGIN", "a", TA) + frame("END", "a", TA, "0", "-", "1.5"),
     "a malformed frame line"),
])
def test_tampering_is_detected_and_stops_the_run(stream, why):
    parser = FrameParser(script(converse=True), checks_ab())
    for i in range(len(stream)):  # byte by byte: frames split anywhere
        parser.feed(stream[i:i + 1])
    assert parser.tampered == why
    assert parser.input_closed and parser.take_input() in (b"", TA.encode() + b"\n")
    # nothing after the tampering counts, not even genuine frames
    assert parser.feed(check_frames("b", TB, b"OK - b\n")) == []
    rest = parser.finish()
    assert all(r.status is Status.UNKNOWN for r in rest)
    assert all(untrusted(r, "x").status is Status.UNKNOWN for r in parser.results)


def test_tokens_are_released_one_at_a_time():
    parser = FrameParser(script(converse=True), checks_ab())
    assert parser.take_input() == b"" and not parser.input_closed
    parser.feed(frame("NEXT", "a"))
    assert parser.take_input() == TA.encode() + b"\n"
    parser.feed(frame("BEGIN", "a", TA) + b"OK\n")
    assert parser.take_input() == b""  # b's token does not exist remotely while a runs
    parser.feed(frame("END", "a", TA, "0", "H") + frame("NEXT", "b"))
    assert parser.take_input() == TB.encode() + b"\n"
    [b] = parser.feed(frame("BEGIN", "b", TB) + frame("END", "b", TB, "1", "-"))
    assert b.status is Status.WARN and parser.done and parser.input_closed
    assert parser.tampered is None
    a = parser.results[0]
    assert a.output.endswith(HELD_NOTE) and a.status is Status.OK


def test_a_wave_gets_its_tokens_in_one_line_and_reports_its_own_durations():
    """Checks run together on the host ask for their tokens once, after all of them
    ended; the END frame then carries how long each ran (centiseconds)."""
    parser = FrameParser(script(converse=True), checks_ab(), clock=lambda: 50.0)
    parser.feed(frame("NEXT", "a", "b"))
    assert parser.take_input() == f"{TA} {TB}\n".encode()
    out = parser.feed(frame("BEGIN", "a", TA) + b"OK - a\n" + frame("END", "a", TA, "0", "-", "123")
                      + frame("BEGIN", "b", TB) + b"WARNING - b\n" + frame("END", "b", TB, "1", "-", "-"))
    assert parser.take_input() == b"" and parser.tampered is None and parser.done
    assert [(r.id, r.status, r.duration_s) for r in out] == [
        ("a", Status.OK, 1.23), ("b", Status.WARN, 0.0)]


def test_script_feed_sends_the_script_then_tokens():
    compiled = dataclasses.replace(script(converse=True), text="echo hi\n")
    parser = FrameParser(compiled, checks_ab())
    feed = ScriptFeed(compiled, parser)
    assert feed.take() == b"echo hi\n" and not feed.closed
    parser.feed(frame("NEXT", "a"))
    assert feed.take() == TA.encode() + b"\n"
    parser.feed(frame("BEGIN", "a", TA) + frame("BEGIN", "a", TA))
    assert feed.closed and feed.take() == b""


def test_timeout_flag_cap_thresholds_and_durations():
    clock = iter([10.0, 12.5, 13.0, 13.25]).__next__
    parser = FrameParser(script(), checks_ab(m={"warn": 5}), output_cap=1000,
                         thresholds={"b": {"n": {"crit": 1}}}, clock=clock)
    out = parser.feed(frame("NEXT", "a") + frame("BEGIN", "a", TA) + b"OK - x|m=6\n")
    out += parser.feed(b"y" * 5000 + frame("END", "a", TA, "3", "T"))
    out += parser.feed(frame("NEXT", "b") + frame("BEGIN", "b", TB) + b"OK - fine|n=1\n")
    out += parser.feed(frame("END", "b", TB, "0", "-"))
    a, b = out
    assert (a.status, a.exit_code, a.timed_out, a.truncated) == (Status.UNKNOWN, 3, True, True)
    assert a.summary == "timed out after 7 s" and a.output.endswith(TRUNCATION_MARK)
    assert a.metrics["m"].warn == 5.0 and a.duration_s == 2.5
    assert (b.status, b.summary, b.duration_s) == (Status.CRIT, "fine", 0.25)
    assert b.metrics["n"].crit == 1.0
