"""Run a compiled bundle through a real local shell, as over SSH: the script
on stdin, stdout parsed chunk by chunk by FrameParser. Shared by the tests."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from techdesk.core.findings import CheckResult
from techdesk.diagnostics.bundle import Bundle, parse_bundle
from techdesk.diagnostics.compile import (
    DEFAULT_OUTPUT_CAP,
    CompiledScript,
    compile_script,
    new_nonce,
)
from techdesk.diagnostics.frames import FrameParser, ScriptFeed


@dataclass
class Run:
    results: list[CheckResult]
    parser: FrameParser
    raw: bytes
    nonce: str
    script: CompiledScript
    elapsed: float
    cpu: float  # CPU seconds of the shell and everything it waited for

    def by_id(self) -> dict[str, CheckResult]:
        return {r.id: r for r in self.results}


def run_bundle(bundle: Bundle, argv: list[str], cap: int = DEFAULT_OUTPUT_CAP,
               env: dict[str, str] | None = None, timeout: float = 60) -> Run:
    """Send the compiled script to ``argv`` on stdin, as over SSH, and parse
    stdout chunk by chunk as it arrives."""
    nonce = new_nonce()
    script = compile_script(bundle, nonce, output_cap=cap)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)
    parser = FrameParser(script, bundle.checks, output_cap=cap)
    feed = ScriptFeed(script, parser)
    lock = threading.Lock()  # the script is written by a thread, tokens by the reader

    def send() -> None:
        with lock:
            try:
                if proc.stdin.closed:
                    return
                data = feed.take()
                if data:
                    proc.stdin.write(data)
                    proc.stdin.flush()
                if feed.closed:
                    proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass

    threading.Thread(target=send, daemon=True).start()
    killer = threading.Timer(timeout, proc.kill)  # a hung run fails, never blocks
    killer.start()
    results, raw = [], bytearray()
    fd = proc.stdout.fileno()
    try:
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            raw += chunk
            results += parser.feed(chunk)
            send()
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert time.monotonic() - start < timeout, f"run took longer than {timeout} s"
    results += parser.finish("stream ended")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(results, parser, bytes(raw), nonce, script, time.monotonic() - start, cpu)


SHELLS = {
    "sh": ["sh", "-s"],
    "dash": ["dash", "-s"],
    "bash": ["bash", "-s"],
    "busybox": ["busybox", "sh", "-s"],
}
AVAILABLE = [name for name, argv in SHELLS.items() if shutil.which(argv[0])]


def bundle_of(toml: str) -> Bundle:
    return parse_bundle(toml, source="test")


def path_of(tmp: Path, tools: dict[str, str]) -> dict[str, str] | None:
    """A PATH with only ``tools`` (name -> program found on this machine)."""
    tmp.mkdir()
    for name, tool in tools.items():
        found = shutil.which(tool)
        if found is None:
            return None
        (tmp / name).symlink_to(found)
    return {"PATH": str(tmp)}


def busybox_path(tmp: Path) -> dict[str, str] | None:
    """A PATH holding every busybox applet and nothing else."""
    busybox = shutil.which("busybox")
    if busybox is None:
        return None
    tmp.mkdir(exist_ok=True)
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split()
    for name in applets:
        (tmp / name).symlink_to(busybox)
    return {"PATH": str(tmp)}


def nonroot_argv() -> list[str] | None:
    if os.geteuid() != 0:
        return ["sh", "-s"]  # already not root
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-s"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--", "sh", "-s"]
    return None


