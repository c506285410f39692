"""A password the keyring does not have is asked for, and remembered when ticked."""

from PySide6.QtCore import QTimer

from techdesk.demo.workspace import DemoEnvironment
from techdesk.services.context import Services
from techdesk.workspace import Workspace


def test_password_prompt_remembers_in_keyring(qloop, qtbot, tmp_path, isolated):
    from techdesk.ui.main_window import MainWindow

    env = DemoEnvironment.create(tmp_path / "demo")
    services = Services(Workspace(env.workspace_path))
    try:
        host = "praxis-empfang"
        client = services.roster.get(host).spec.client
        services.roster.set_defaults(client, key="")  # no key: only a password can log in
        window = MainWindow(services)
        qtbot.addWidget(window)
        asked = []

        def answer():
            dialog = window.secret_prompt.last_dialog
            if dialog is None:
                QTimer.singleShot(50, answer)
                return
            asked.append(dialog.windowTitle())
            dialog.secret.setText("demo")
            dialog.remember.setChecked(True)
            dialog.accept()

        QTimer.singleShot(50, answer)
        window.run_on([host], "linux-quick")
        qloop.run_until_complete(window.runs.task)
        result = window.runs.last_report.results[0]
        assert result.error is None, result.error
        assert asked == [f"Password for {host}"]
        assert isolated.store[("techdesk", f"password:{host}")] == "demo"
        # The next run takes it from the keyring without asking.
        window.run_on([host], "linux-quick")
        qloop.run_until_complete(window.runs.task)
        assert window.runs.last_report.results[0].error is None
        assert len(asked) == 1
        window.close()
    finally:
        services.close()
        env.close()
