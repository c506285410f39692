#!/usr/bin/env python3
"""Start-up time of the frozen build next to techdesk run from source, side by side.

Measured from outside, on a real X server (Xvfb), without adding anything to the app:
the clock starts when `techdesk gui` is launched and stops when the X server reports
the main window ("techdesk — ...") mapped, i.e. shown on screen (MapNotify, watched
by one `xev -root -event substructure` for the whole run, so no polling; its title is
checked with xdotool afterwards). Its first paint follows within a frame. The two are run alternately (after one unmeasured warm-up each), on the same
prepared workspace (3 hosts), with a throwaway HOME and no D-Bus session (so no
keyring service: the same fast "no keyring" path for both). Also timed: the CLI,
`techdesk --version` and `techdesk hosts list`, to the process's exit.

Needs: Xvfb, xev, xdotool (Debian: xvfb, x11-utils, xdotool), a build (scripts/build).
(Polling with many short-lived xdotool connections instead made about 1 launch in 12
fail with "qt.qpa.xcb: could not connect to display", frozen or not: a client
connecting while others connect and disconnect in a tight loop on Xvfb.)
Usage: .venv/bin/python scripts/bench_window_startup.py [--runs 7] [--frozen PATH] [--source PATH]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_xvfb() -> tuple[subprocess.Popen, str]:
    rfd, wfd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(wfd)
    with os.fdopen(rfd) as fh:
        display = fh.readline().strip()
    deadline = time.perf_counter() + 10
    while display and time.perf_counter() < deadline:  # answers requests yet?
        env = dict(os.environ, DISPLAY=f":{display}")
        if subprocess.run(["xdotool", "getmouselocation"], env=env, capture_output=True).returncode == 0:
            return xvfb, f":{display}"
        time.sleep(0.05)
    xvfb.kill()
    raise SystemExit("bench_window_startup: Xvfb did not start")


class MapWatcher:
    """One xev on the root window: (time, window id) of every window the server maps."""

    def __init__(self, env: dict) -> None:
        self.events: queue.Queue[tuple[float, int]] = queue.Queue()
        self.proc = subprocess.Popen(["stdbuf", "-oL", "xev", "-root", "-event", "substructure"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        mapped_at = None
        for line in self.proc.stdout:
            if line.startswith("MapNotify event"):
                mapped_at = time.perf_counter()
            elif mapped_at is not None and (m := re.search(r"\bwindow (0x[0-9a-f]+)", line)):
                self.events.put((mapped_at, int(m.group(1), 16)))
                mapped_at = None

    def drain(self) -> None:
        while not self.events.empty():
            self.events.get_nowait()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def window_name(env: dict, window: int) -> str:
    out = subprocess.run(["xdotool", "getwindowname", str(window)], env=env, capture_output=True, text=True)
    return out.stdout.strip()


def time_window(exe: str, env: dict, workspace: Path, watcher: MapWatcher, timeout: float = 60.0) -> float:
    watcher.drain()
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "--workspace", str(workspace), "gui"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            try:
                mapped_at, window = watcher.events.get(timeout=0.05)
            except queue.Empty:
                mapped_at = None
            if mapped_at is not None and window_name(env, window).startswith("techdesk"):
                return mapped_at - t0
            if proc.poll() is not None:
                log = workspace / "logs" / "techdesk.log"
                log_tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise SystemExit(f"bench_window_startup: {exe} gui exited with {proc.returncode}: "
                                 f"{proc.stderr.read().decode(errors='replace')[-2000:]}\n{log_tail}")
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"bench_window_startup: no window from {exe} within {timeout:.0f} s")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def time_cli(argv: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def row(label: str, values: list[float]) -> str:
    return (f"  {label:<26} {statistics.median(values):7.3f} s  {min(values):7.3f} s  "
            f"{max(values):7.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--frozen", default=str(ROOT / "dist" / "techdesk" / "techdesk"))
    parser.add_argument("--source", default=str(ROOT / ".venv" / "bin" / "techdesk"),
                        help="techdesk from source (the editable install's entry point)")
    args = parser.parse_args()
    for tool in ("Xvfb", "xev", "xdotool", "stdbuf"):
        if not shutil.which(tool):
            raise SystemExit(f"bench_window_startup: {tool} is missing (apt-get install xvfb x11-utils xdotool)")
    subjects = {"frozen (dist/techdesk)": args.frozen, "from source (.venv)": args.source}
    for label, exe in subjects.items():
        if not os.access(exe, os.X_OK):
            raise SystemExit(f"bench_window_startup: {label}: {exe} not found (scripts/build makes the frozen one)")

    with tempfile.TemporaryDirectory(prefix="techdesk-bench-") as tmpdir:
        tmp = Path(tmpdir)
        env = {k: v for k, v in os.environ.items()
               if k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND", "WAYLAND_DISPLAY",
                            "TECHDESK_WORKSPACE", "TECHDESK_SHARED", "QT_QPA_PLATFORM")}
        env.update(HOME=str(tmp / "home"), XDG_CONFIG_HOME=str(tmp / "home" / ".config"),
                   XDG_RUNTIME_DIR=str(tmp / "run"))
        (tmp / "home").mkdir()
        (tmp / "run").mkdir(mode=0o700)
        workspaces = {}  # each made by its own techdesk: the two may differ in schema version
        for n, (label, exe) in enumerate(subjects.items()):
            workspaces[label] = tmp / f"ws{n}"
            for i in range(3):
                subprocess.run([exe, "--workspace", str(workspaces[label]), "hosts", "add", f"web{i}",
                                "--address", f"192.0.2.{10 + i}", "--user", "admin", "--client", "Acme",
                                "--site", "HQ"], env=env, check=True, stdout=subprocess.DEVNULL)
        xvfb, display = start_xvfb()
        env["DISPLAY"] = display
        watcher = MapWatcher(env)
        time.sleep(0.2)  # xev has selected the root window's events
        try:
            window = {label: [] for label in subjects}
            version = {label: [] for label in subjects}
            listing = {label: [] for label in subjects}
            for label, exe in subjects.items():  # warm-up: page cache, font cache, __pycache__
                time_window(exe, env, workspaces[label], watcher)
                time_cli([exe, "--version"], env)
            for _ in range(args.runs):
                for label, exe in subjects.items():
                    window[label].append(time_window(exe, env, workspaces[label], watcher))
                    version[label].append(time_cli([exe, "--version"], env))
                    listing[label].append(time_cli([exe, "--workspace", str(workspaces[label]), "hosts", "list"], env))
        finally:
            watcher.close()
            xvfb.terminate()
            xvfb.wait()

    size = sum(f.stat().st_size for f in Path(args.frozen).parent.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"techdesk start-up, {args.runs} runs each, alternating, after one warm-up "
          f"({os.cpu_count()} CPUs; frozen folder {size / 2**20:.0f} MiB)")
    print(f"  {'':<26} {'median':>9}  {'min':>9}  {'max':>9}")
    print("launch → main window shown (MapNotify on Xvfb)")
    for label in subjects:
        print(row(label, window[label]))
    print("techdesk --version (to exit)")
    for label in subjects:
        print(row(label, version[label]))
    print("techdesk hosts list, 3 hosts (to exit)")
    for label in subjects:
        print(row(label, listing[label]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
