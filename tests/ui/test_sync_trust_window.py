"""The trust rules in the window: held deletions are confirmed, the trash restores, and a
host that moved asks before its stored password is sent."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QApplication, QLabel

from techdesk.cli import main as cli_main
from techdesk.core.roster import HostSpec
from techdesk.sync import SharedFolder, heads, make_revision


def test_held_deletions_are_confirmed_and_the_trash_restores(services, qloop, window, qtbot, tmp_path):
    shared = tmp_path / "shared"
    services.workspace.settings.shared = str(shared)
    services.workspace.save_settings()
    assert cli_main(["--workspace", str(services.workspace.path), "sync", "--init"]) == 0
    services.roster.add(HostSpec(name="fs01", address="10.0.0.1", client="Acme"))
    notes = [services.notes.add(f"Visit {i}", "checked the backups", host="fs01") for i in range(12)]
    qloop.run_until_complete(window.sync.sync_now())
    tips = {rid: hs for (kind, rid), hs in heads(SharedFolder(shared).scan().revisions).items() if kind == "note"}
    for note in notes[:11]:  # a peer deletes 11 of the 12 notes
        SharedFolder(shared).write(make_revision("note", note.id, {}, [tips[note.id][0].rev], "mallory",
                                                 "mallory-pc", deleted=True))
    qloop.run_until_complete(window.sync.sync_now())
    dialog = window.sync.held_dialog
    assert dialog is not None
    assert any("11 notes" in label.text() for label in dialog.findChildren(QLabel))
    assert len(services.notes.list()) == 12  # nothing deleted while asking
    dialog.grab().save(str(tmp_path / "held.png"))
    dialog.apply_button.click()
    qloop.run_until_complete(window.sync.task)
    assert [n.id for n in services.notes.list()] == [notes[11].id]

    from techdesk.ui.dialogs.trust_dialogs import TRASH_COLUMNS, TrashDialog

    trash = TrashDialog(services.sync, window)
    qtbot.addWidget(trash)
    assert trash.tree.topLevelItemCount() == 11
    trash.tree.setCurrentItem(trash.tree.topLevelItem(0))
    restored = trash.tree.currentItem().text(TRASH_COLUMNS.index("Title"))
    trash.restore_button.click()
    assert trash.tree.topLevelItemCount() == 10 and "Restored note" in trash.hint.text()
    assert restored in {n.title for n in services.notes.list()}


def test_a_moved_host_asks_before_its_password_is_sent(qloop, qtbot, tmp_path, isolated):
    from techdesk.demo.workspace import DemoEnvironment
    from techdesk.services.context import Services
    from techdesk.ui.main_window import MainWindow
    from techdesk.workspace import Workspace

    env = DemoEnvironment.create(tmp_path / "demo")
    services = Services(Workspace(env.workspace_path))
    window = None
    try:
        host, other = "praxis-empfang", next(h.name for h in services.roster.hosts() if h.name != "praxis-empfang")
        client = services.roster.get(host).spec.client
        services.roster.set_defaults(client, key="")  # no key: only a password can log in
        from techdesk.secrets import set_secret

        set_secret("password", host, "demo", endpoint=services.roster.endpoint(host))
        moved = services.roster.get(other)
        services.roster.edit(host, address=moved.address, port=moved.port)  # as a synced edit would
        window = MainWindow(services)  # deleted below, before its store is closed (its timers)
        answers = ["refuse", "send"]
        shots = []

        def answer():
            dialog = window.endpoint_prompt.last_dialog
            if dialog is None:
                QTimer.singleShot(50, answer)
                return
            if not shots:
                shots.append(dialog.grab().save(str(tmp_path / "endpoint.png")))
            (dialog.refuse_button if answers.pop(0) == "refuse" else dialog.send_button).click()

        QTimer.singleShot(50, answer)
        window.run_on([host], "linux-quick")
        qloop.run_until_complete(window.runs.task)
        error = window.runs.last_report.results[0].error
        assert error is not None and error.kind == "auth" and "hosts confirm" in error.message
        QTimer.singleShot(50, answer)
        window.run_on([host], "linux-quick")
        qloop.run_until_complete(window.runs.task)
        assert window.runs.last_report.results[0].error is None
        assert answers == []
        assert services.roster.endpoint_changes(host) == []  # remembered: no question next time
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        services.close()
        env.close()
