"""The window's roster: tree, filter, add-host dialog (pytest-qt, offscreen)."""

from PySide6.QtCore import Qt, QTimer

from techdesk.ui.models.roster_model import KIND_ROLE, NAME_ROLE, STATUS_ROLE


def _visible_hosts(panel) -> list[str]:
    proxy = panel.proxy
    found = []

    def walk(parent):
        for row in range(proxy.rowCount(parent)):
            index = proxy.index(row, 0, parent)
            if index.data(KIND_ROLE) == "host":
                found.append(index.data(NAME_ROLE))
            walk(index)

    from PySide6.QtCore import QModelIndex

    walk(QModelIndex())
    return sorted(found)


def test_tree_groups_client_site_host(sample_roster, window):
    model = window.roster_panel.model
    clients = [model.item(r, 0).text() for r in range(model.rowCount())]
    assert clients == ["Acme", "Bäckerei Müller", "(no client)"]
    acme = model.item(0, 0)
    assert acme.child(0, 0).text() == "HQ"
    assert sorted(acme.child(0, 0).child(r, 0).data(NAME_ROLE) for r in range(2)) == ["fs01", "web01"]
    assert model.item(0, 0).child(0, 0).child(0, 0).data(STATUS_ROLE) == "never"


def test_filter_matches_name_address_tag_client(sample_roster, window, qtbot):
    panel = window.roster_panel
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert panel.filter.hasFocus()
    qtbot.keyClicks(panel.filter, "web")
    assert _visible_hosts(panel) == ["web01"]
    panel.filter.setText("192.168")
    assert _visible_hosts(panel) == ["pos1"]
    panel.filter.setText("müller")
    assert _visible_hosts(panel) == ["pos1"]
    panel.filter.setText("acme files")
    assert _visible_hosts(panel) == ["fs01"]
    panel.filter.setText("")
    assert _visible_hosts(panel) == ["fs01", "homelab", "pos1", "web01"]


def test_add_host_through_dialog(sample_roster, window, qtbot):
    from techdesk.ui.dialogs.host_dialog import HostDialog

    def fill():
        dialog = next(w for w in window.findChildren(HostDialog) if w.isVisible())
        dialog.name.setText("nas01")
        dialog.address.setText("10.0.0.30")
        dialog.port.setText("99999")
        dialog.accept()  # invalid port: the dialog stays open with the reason
        assert dialog.isVisible()
        assert "out of range" in dialog.error.text()
        dialog.port.setText("2222")
        dialog.client.setCurrentText("Acme")
        dialog.site.setCurrentText("Lab")
        dialog.tags.setText("nas, backup")
        dialog.accept()

    QTimer.singleShot(50, fill)
    window.roster.add_host()
    host = sample_roster.roster.get("nas01")
    assert (host.address, host.port, host.spec.client, host.spec.site, host.spec.tags) == (
        "10.0.0.30", 2222, "Acme", "Lab", ["backup", "nas"])
    assert "nas01" in window.roster_panel.model.host_names()


def test_selecting_a_host_shows_its_page(sample_roster, window, qtbot):
    window.roster_panel.select_host("fs01")
    assert window.host_page.host_name == "fs01"
    assert window.host_page.title.text() == "fs01"
    assert window.host_page._detail_labels["Checked"].text() == "never"
    assert window.runs.targets == ["fs01"]


def test_roster_tooltip_made_on_hover_and_names_are_not_editable(sample_roster, window, qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    panel = window.roster_panel
    panel.filter.setText("web01")
    index = panel.proxy.mapFromSource(panel.model.host_item("web01").index())
    panel.tree.scrollTo(index)
    rect = panel.tree.visualRect(index)
    viewport = panel.tree.viewport()
    event = QHelpEvent(QEvent.Type.ToolTip, rect.center(), viewport.mapToGlobal(rect.center()))
    QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert QToolTip.text().startswith("<p") and "web01" in QToolTip.text() and "Never checked" in QToolTip.text()
    QToolTip.hideText()
    # Double-click or F2 on a name opens nothing to type into (the model's items are editable by default).
    panel.tree.setCurrentIndex(index)
    qtbot.keyClick(viewport, Qt.Key.Key_F2)
    assert panel.tree.state() != panel.tree.State.EditingState
    assert panel.model.host_item("web01").data(NAME_ROLE) == "web01"

