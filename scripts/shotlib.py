"""Shared by the screenshot scripts: the real window on a fresh demo workspace, and
helpers to let it settle and save a widget as PNG."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.fixtures: the in-memory keyring, the real sshd
if "DISPLAY" not in os.environ:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class Shots:
    def __init__(self, out: Path, loop, window, services) -> None:
        self.out, self.loop, self.window, self.services = out, loop, window, services

    def settle(self, ms: int = 150) -> None:
        self.loop.run_until_complete(asyncio.sleep(ms / 1000))

    def shot(self, widget, name: str) -> Path:
        widget.show()
        self.settle()
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        print(path)
        return path


def memory_keyring() -> None:
    """Screenshots show the window as on a machine with a keychain, and never touch the real one."""
    import keyring

    from tests.fixtures.keyring_backend import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())


@contextlib.contextmanager
def demo_window(out: Path, size: tuple[int, int] = (1280, 800)):
    """Yields Shots for a shown MainWindow on a new demo workspace; cleans up after."""
    out.mkdir(parents=True, exist_ok=True)
    import qasync
    from PySide6.QtWidgets import QApplication

    from techdesk.demo.workspace import DemoEnvironment
    from techdesk.services.context import Services
    from techdesk.ui.main_window import MainWindow
    from techdesk.workspace import Workspace

    memory_keyring()
    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    env = DemoEnvironment.create()
    services = Services(Workspace(env.workspace_path))
    try:
        window = MainWindow(services)
        window.resize(*size)
        window.show()
        yield Shots(out, loop, window, services)
        window.close()
    finally:
        services.close()
        env.close()
