"""Questions a run asks the technician (a new host key, a password), without blocking the loop."""

from __future__ import annotations

import asyncio

from techdesk.ssh.knownhosts import fingerprint
from techdesk.ui.dialogs.hostkey_dialog import UnknownHostKeyDialog


class HostKeyPrompter:
    """An awaitable prompt; one dialog at a time so a sweep never stacks dozens of them."""

    def __init__(self, window) -> None:
        self.window = window
        self._lock = asyncio.Lock()
        self.last_dialog: UnknownHostKeyDialog | None = None

    async def __call__(self, target, key) -> bool | str:
        """True = trust and remember, "once" = this connection only, False = refuse."""
        async with self._lock:
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            dialog = UnknownHostKeyDialog(target.name, target.address, target.port, key.get_name(),
                                          fingerprint(key), self.window)
            dialog.finished.connect(lambda code: future.done() or future.set_result(code))
            self.last_dialog = dialog
            dialog.open()  # window-modal, but the loop keeps running
            try:
                code = await future
            finally:
                self.last_dialog = None
                dialog.deleteLater()
            if code == UnknownHostKeyDialog.ONCE:
                return "once"
            return code == UnknownHostKeyDialog.REMEMBER


class SecretPrompter:
    """Asks for a password or passphrase the keyring does not have; one dialog at a time."""

    def __init__(self, window) -> None:
        self.window = window
        self._lock = asyncio.Lock()
        self.last_dialog = None

    async def __call__(self, kind: str, host: str) -> str | None:
        from techdesk.secrets import SecretsError, set_secret
        from techdesk.ui.dialogs.secret_dialog import SecretDialog

        async with self._lock:
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            dialog = SecretDialog(kind, host, self.window)
            dialog.finished.connect(lambda code: future.done() or future.set_result(code))
            self.last_dialog = dialog
            dialog.open()
            try:
                code = await future
            finally:
                self.last_dialog = None
                dialog.deleteLater()
            value = dialog.secret.text()
            if code != SecretDialog.DialogCode.Accepted or not value:
                return None
            if dialog.remember.isChecked():
                try:
                    set_secret(kind, host, value)
                except SecretsError as exc:
                    self.window.statusBar().showMessage(str(exc), 8000)
            return value


class EndpointPrompter:
    """Asks before a stored secret goes to a host's new endpoint; one dialog at a time."""

    def __init__(self, window) -> None:
        self.window = window
        self._lock = asyncio.Lock()
        self.last_dialog = None

    async def __call__(self, change) -> bool:
        from techdesk.ui.dialogs.trust_dialogs import EndpointChangedDialog

        async with self._lock:
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            dialog = EndpointChangedDialog(change, self.window)
            dialog.finished.connect(lambda code: future.done() or future.set_result(code))
            self.last_dialog = dialog
            dialog.open()
            try:
                code = await future
            finally:
                self.last_dialog = None
                dialog.deleteLater()
            return code == EndpointChangedDialog.DialogCode.Accepted
