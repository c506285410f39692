"""Questions a run asks the technician (a new host key, a password), without blocking the loop."""

from __future__ import annotations

import asyncio

from techdesk.ui.dialogs.hostkey_dialog import UnknownHostKeyDialog


class _Prompter:
    """An awaitable dialog; one at a time so a sweep never stacks dozens of them."""

    def __init__(self, window) -> None:
        self.window = window
        self._lock = asyncio.Lock()
        self.last_dialog = None

    async def _ask(self, dialog) -> int:
        """Open the dialog window-modal (the loop keeps running) and wait for its answer."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        dialog.finished.connect(lambda code: future.done() or future.set_result(code))
        self.last_dialog = dialog
        dialog.open()
        try:
            return await future
        finally:
            self.last_dialog = None
            dialog.deleteLater()


class HostKeyPrompter(_Prompter):
    async def __call__(self, target, key) -> bool | str:
        """True = trust and remember, "once" = this connection only, False = refuse."""
        # paramiko: loaded when a run first asks, not at start-up
        from techdesk.ssh.knownhosts import fingerprint

        async with self._lock:
            code = await self._ask(UnknownHostKeyDialog(target.name, target.address, target.port,
                                                        key.get_name(), fingerprint(key), self.window))
            if code == UnknownHostKeyDialog.ONCE:
                return "once"
            return code == UnknownHostKeyDialog.REMEMBER


class SecretPrompter(_Prompter):
    """Asks for a password or passphrase the keyring does not have."""

    async def __call__(self, kind: str, host: str) -> str | None:
        from techdesk.secrets import SecretsError, set_secret
        from techdesk.ui.dialogs.secret_dialog import SecretDialog

        async with self._lock:
            dialog = SecretDialog(kind, host, self.window)
            code = await self._ask(dialog)
            value = dialog.secret.text()
            if code != SecretDialog.DialogCode.Accepted or not value:
                return None
            if dialog.remember.isChecked():
                try:
                    set_secret(kind, host, value)
                except SecretsError as exc:
                    self.window.statusBar().showMessage(str(exc), 8000)
            return value


class EndpointPrompter(_Prompter):
    """Asks before a stored secret goes to a host's new endpoint (techdesk.secrets)."""

    async def __call__(self, change) -> bool:
        from techdesk.ui.dialogs.trust_dialogs import EndpointChangedDialog

        async with self._lock:
            code = await self._ask(EndpointChangedDialog(change, self.window))
            return code == EndpointChangedDialog.DialogCode.Accepted


def endpoint_prompt_for(parent) -> EndpointPrompter:
    """The endpoint question the window's runs ask (one prompter, so one question at a
    time across runs, fixes and commands); a prompter of its own without such a window."""
    widget = parent
    while widget is not None:
        prompt = getattr(widget, "endpoint_prompt", None)
        if isinstance(prompt, EndpointPrompter):
            return prompt
        widget = widget.parentWidget()
    return EndpointPrompter(parent)
