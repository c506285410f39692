#!/usr/bin/env python3
"""Responsiveness of the window, with baselines measured in the same run.

1. Start-up with 10,000 hosts: launch to window shown (a fresh process; the first
   dashboard refresh, queued before the clock stops, included), next to an empty
   QMainWindow in a fresh process (the cost of Python + Qt alone). Bytecode is compiled
   first and kept (PYTHONDONTWRITEBYTECODE dropped for these runs), as an installed copy has it.
2. Filter keystroke on the 10,000-host tree: from setting the filter's text to the tree
   painted with the filtered rows (the events it posts processed), ten keystrokes, 3 rounds.
3. Event-loop stalls during a run over 100 hosts (real OpenSSH sshd, one server
   under 100 names): a 5 ms timer probe on the GUI loop; worst gap and 99th
   percentile, next to the same probe on an idle loop.

Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_gui.py
"""

from __future__ import annotations

import asyncio
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STARTUP = r"""
import sys, time
t0 = float(sys.argv[1])
from PySide6.QtWidgets import QApplication, QMainWindow
from PySide6.QtCore import QTimer
app = QApplication([])
if sys.argv[2] == "empty":
    w = QMainWindow()
else:
    import asyncio, qasync
    asyncio.set_event_loop(qasync.QEventLoop(app))
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace
    from techdesk.ui.main_window import MainWindow
    w = MainWindow(Services(Workspace(sys.argv[2])))
w.show()
QTimer.singleShot(0, lambda: (print(time.time() - t0), app.quit()))
app.exec()
"""


def startup(args: list[str], runs: int = 5) -> dict[str, list[float]]:
    """Alternate runs of each case (after one unmeasured warm-up each), in fresh processes."""
    compileall.compile_dir(str(ROOT / "techdesk"), quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {arg: [] for arg in args}
    for i in range(runs + 1):
        for arg in args:
            out = subprocess.run([sys.executable, "-c", STARTUP, repr(time.time()), arg], capture_output=True,
                                 text=True, check=True, env=env, cwd=ROOT)
            if i:
                times[arg].append(float(out.stdout.strip().splitlines()[-1]))
    return times


def figures(values: list[float], scale: float = 1.0, unit: str = "s", digits: int = 3) -> str:
    return f"median {statistics.median(values) * scale:6.{digits}f}{unit} best {min(values) * scale:6.{digits}f}{unit}"


def make_roster(path: Path, count: int) -> None:
    from techdesk.core.roster import HostSpec
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace

    svc = Services(Workspace(path))
    specs = [HostSpec(name=f"{kind}{i:05d}", address=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                      client=f"Client {i // 100:03d}", site=f"Site {i // 25 % 4}", tags=[kind])
             for i, kind in ((i, ("web", "db", "fs", "ws")[i % 4]) for i in range(count))]
    svc.roster.import_hosts(specs)
    svc.close()


def probe_during(loop, coro_factory, interval_ms: int = 5) -> tuple[float, float, float]:
    """Run a coroutine on the qasync loop while a timer measures how late it fires."""
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000 - interval_ms)
        last[0] = now

    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(tick)
    timer.start()
    t0 = time.perf_counter()
    loop.run_until_complete(coro_factory())
    took = time.perf_counter() - t0
    timer.stop()
    gaps.sort()
    return max(gaps), gaps[int(len(gaps) * 0.99)], took


def main() -> int:
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="td-gui-bench-"))
    try:
        big = tmp / "big"
        t0 = time.perf_counter()
        make_roster(big, 10_000)
        print(f"(made a 10,000-host roster in {time.perf_counter() - t0:.1f}s)")
        runs = startup(["empty", str(big)])
        print(f"{'start-up, empty QMainWindow (baseline)':38} {figures(runs['empty'])}")
        print(f"{'start-up to window shown, 10k hosts':38} {figures(runs[str(big)])}  (goal < 1.2 s)")

        import qasync

        app = QApplication.instance() or QApplication([])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        from techdesk.services.context import Services
        from techdesk.ui.main import settle_heap
        from techdesk.ui.main_window import MainWindow
        from techdesk.workspace import Workspace

        window = MainWindow(Services(Workspace(big)))
        window.show()
        settle_heap()  # as the app does once its window is up
        app.processEvents()
        panel = window.roster_panel
        times = []
        for _ in range(3):
            for text in ("w", "we", "web", "web0", "web00", "web001", "", "client 04", "db", ""):
                t0 = time.perf_counter()
                panel.filter.setText(text)
                app.processEvents()
                times.append((time.perf_counter() - t0) * 1000)
        print(f"{'filter keystroke, 10k hosts':38} median {statistics.median(times):6.1f} ms | worst "
              f"{max(times):6.1f} ms  (goal: median < 20 ms)")
        window.close()

        from tests.fixtures.sshd import SshdServer

        server = SshdServer(tmp / "sshd").start()
        try:
            ws = Workspace(tmp / "run")
            shutil.copy(server.known_hosts_path, ws.known_hosts_path)
            svc = Services(ws)
            from techdesk.core.roster import HostSpec

            for i in range(100):
                svc.roster.add(HostSpec(name=f"h{i:03d}", address=server.host, port=server.port,
                                        user=server.user, key=str(server.client_key_path)))
            run_window = MainWindow(svc)
            run_window.show()
            idle = probe_during(loop, lambda: asyncio.sleep(3))
            names = [h.name for h in svc.roster.hosts()]

            async def run_from_window():
                await run_window.runs.start("linux-quick", names)

            busy = probe_during(loop, run_from_window)
            failed = [r for r in run_window.runs.last_report.results if r.error]
            print(f"{'loop stall, idle (baseline)':38} worst {idle[0]:6.1f} ms | p99 {idle[1]:6.1f} ms")
            print(f"{'loop stall, run over 100 hosts':38} worst {busy[0]:6.1f} ms | p99 {busy[1]:6.1f} ms "
                  f"| run took {busy[2]:.1f}s, {len(failed)} failed")
            run_window.close()
            svc.close()
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
