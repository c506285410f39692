"""The dashboard shows fleet counts, forecasts and stale hosts from the demo history."""

from techdesk.demo.workspace import DemoEnvironment
from techdesk.services.context import Services
from techdesk.workspace import Workspace


def _rows(tree) -> list[dict[str, str]]:
    """A tree's rows by its column headers (what the technician reads), not positions."""
    header = tree.headerItem()
    names = [header.text(c) for c in range(tree.columnCount())]
    return [{name: tree.topLevelItem(i).text(c) for c, name in enumerate(names)}
            for i in range(tree.topLevelItemCount())]


def test_dashboard_shows_forecast_and_stale_host(qloop, qtbot, tmp_path):
    from techdesk.ui.main_window import MainWindow

    env = DemoEnvironment.create(tmp_path / "demo")
    services = Services(Workspace(env.workspace_path))
    try:
        window = MainWindow(services)
        qtbot.addWidget(window)
        window.dashboard_ctl.refresh()
        view = window.dashboard
        assert int(view.tiles["crit"].count.text()) >= 1
        rows = _rows(view.attention)
        forecasts = [r for r in rows if r["Finding"].startswith("Forecast")]
        assert forecasts, rows
        assert any(r["Host"] == "acme-db01" and "swap" in r["Details"] for r in forecasts)
        assert "lager-pc02" in [r["Host"] for r in _rows(view.stale)]
        # Double-click opens the host page.
        item = view.attention.topLevelItem(0)
        view.attention.itemDoubleClicked.emit(item, 0)
        assert window.tabs.currentWidget() is window.host_page
        assert window.host_page.host_name == rows[0]["Host"]
        window.close()
    finally:
        services.close()
        env.close()
