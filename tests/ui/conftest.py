import pytest

from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.workspace import Workspace


@pytest.fixture
def services(tmp_path):
    svc = Services(Workspace(tmp_path / "ws"))
    yield svc
    svc.close()


@pytest.fixture
def window(qtbot, services):
    import qasync  # noqa: F401 - the window expects an asyncio loop for runs

    from techdesk.ui.main_window import MainWindow

    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def sample_roster(services):
    r = services.roster
    r.add(HostSpec(name="fs01", address="10.0.0.10", client="Acme", site="HQ", tags=["files"]))
    r.add(HostSpec(name="web01", address="10.0.0.20", client="Acme", site="HQ", tags=["web"]))
    r.add(HostSpec(name="pos1", address="192.168.1.31", client="Bäckerei Müller", tags=["pos"]))
    r.add(HostSpec(name="homelab", address="pi.home.arpa"))
    return services


@pytest.fixture(scope="session")
def qloop(qapp):
    """One qasync loop for the session: the window's runs are asyncio tasks on the Qt loop."""
    import asyncio

    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()  # also ends qasync's default executor threads before Qt goes away
