"""A closed window's timers do nothing: on a loaded machine the dashboard's minute
timer fired after a test had closed its window and services (a flake in later tests)."""

from __future__ import annotations

from techdesk.services.context import Services
from techdesk.workspace import Workspace


def test_closed_window_does_not_sweep(qtbot, tmp_path):
    from techdesk.ui.main_window import MainWindow

    services = Services(Workspace(tmp_path / "ws"))
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.close()
    services.close()
    controller = next(c for c in window.findChildren(object) if type(c).__name__ == "DashboardController")
    controller._tick()  # the timer's slot: must not touch the closed store
