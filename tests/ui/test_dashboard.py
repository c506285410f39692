"""The dashboard shows fleet counts, forecasts and stale hosts from the demo history."""

from techdesk.demo.workspace import DemoEnvironment
from techdesk.services.context import Services
from techdesk.workspace import Workspace


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
        rows = [[view.attention.topLevelItem(i).text(c) for c in range(6)]
                for i in range(view.attention.topLevelItemCount())]
        forecasts = [r for r in rows if r[3].startswith("Forecast")]
        assert forecasts, rows
        assert any(r[1] == "acme-db01" and "swap" in r[4] for r in forecasts)
        stale = [view.stale.topLevelItem(i).text(0) for i in range(view.stale.topLevelItemCount())]
        assert "lager-pc02" in stale
        # Double-click opens the host page.
        item = view.attention.topLevelItem(0)
        view.attention.itemDoubleClicked.emit(item, 1)
        assert window.tabs.currentWidget() is window.host_page
        assert window.host_page.host_name == item.text(1)
        window.close()
    finally:
        services.close()
        env.close()
