"""Window start-up leaves paramiko and pyte unloaded (~0.3 s of imports at start-up):
Terminal/Files/Tunnels are made on first use, the runner is loaded off the GUI thread
after the window is up (main_window.start_preload) or by the first run."""

from __future__ import annotations

import subprocess
import sys

from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.workspace import Workspace

CHILD = r"""
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
import asyncio, qasync
asyncio.set_event_loop(qasync.QEventLoop(app))
from techdesk.services.context import Services
from techdesk.workspace import Workspace
from techdesk.ui import main_window
window = main_window.MainWindow(Services(Workspace(sys.argv[1])))
window.show()
app.processEvents()
window._first_refresh()
print("started:", sorted(m for m in ("paramiko", "pyte", "techdesk.services.runner") if m in sys.modules))
main_window._preload()
print("preloaded:", sorted(m for m in ("paramiko", "techdesk.services.runner") if m in sys.modules))
window.close()
"""


def test_start_up_loads_no_ssh_or_terminal_modules(tmp_path):
    svc = Services(Workspace(tmp_path / "ws"))
    svc.roster.add(HostSpec(name="web1", address="10.0.0.1", client="Acme"))
    svc.close()
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "ws")], capture_output=True, text=True,
                         timeout=120, env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "started: []" in out.stdout, out.stdout
    assert "preloaded: ['paramiko', 'techdesk.services.runner']" in out.stdout, out.stdout
