"""Clients and sites from the window: defaults, rename, remove with confirmation."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from techdesk.ui.dialogs.clients_dialog import ClientsDialog


def _button(box: QMessageBox, text: str):
    return next(b for b in box.buttons() if b.text().startswith(text))


def test_site_defaults_show_what_they_inherit_and_save(qtbot, window, sample_roster):
    services = sample_roster
    services.roster.set_defaults("Acme", user="admin", port="2222")
    dialog = ClientsDialog(services, window)
    qtbot.addWidget(dialog)
    dialog.select("Acme", "HQ")
    assert dialog.title.text() == "Site HQ of Acme"
    assert dialog.edits["user"].placeholderText() == "from Acme: admin"
    dialog.edits["port"].setText("70000")
    assert not dialog.save_defaults() and "out of range" in dialog.error.text()
    dialog.edits["port"].setText("22")
    dialog.edits["user"].setText("root")
    assert dialog.save_defaults()
    host = services.roster.get("fs01")
    assert (host.user, host.port) == ("root", 22)


def test_rename_a_client_from_the_dialog_updates_the_roster(qtbot, window, sample_roster):
    dialog = ClientsDialog(sample_roster, window)
    qtbot.addWidget(dialog)
    dialog.changed.connect(window.roster.refresh)
    dialog.select("Acme")
    assert not dialog.rename("Bäckerei Müller") and "already exists" in dialog.error.text()
    assert dialog.rename("Acme Logistics")
    assert dialog.current() == ("Acme Logistics", None)
    assert sample_roster.roster.get("web01").spec.client == "Acme Logistics"


def test_remove_asks_naming_the_hosts_and_cancel_changes_nothing(qtbot, window, sample_roster, monkeypatch):
    dialog = ClientsDialog(sample_roster, window)
    qtbot.addWidget(dialog)
    dialog.select("Acme")
    asked = []

    def answer(choice):
        def exec_(box):
            asked.append(box.text())
            target = _button(box, choice) if choice else box.button(QMessageBox.StandardButton.Cancel)
            target.click()
        return exec_

    monkeypatch.setattr(QMessageBox, "exec", answer(None))
    assert dialog.remove() is None
    assert "It holds 2 hosts: fs01, web01." in asked[-1]
    assert len(sample_roster.roster.hosts(client="Acme")) == 2
    monkeypatch.setattr(QMessageBox, "exec", answer("Remove with 2 hosts"))
    done = dialog.remove()
    assert done["hosts"] == ["fs01", "web01"]
    assert not sample_roster.roster.exists("fs01")
    assert [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())] == \
        ["Bäckerei Müller"]
