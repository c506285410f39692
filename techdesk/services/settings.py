"""Settings changed through one door: validated, saved atomically, services refreshed.

The CLI (`techdesk notify`, `sync --init`) and the window's Settings dialog both call
``SettingsService.update``; the rule for each key is ``workspace.check_setting``, the
same one that checks the file when it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from techdesk.workspace import Settings, SettingsError, Workspace, check_setting

__all__ = ["SettingsError", "SettingsService"]


class SettingsService:
    def __init__(self, workspace: Workspace, on_change: Callable[[], None] | None = None) -> None:
        self.workspace = workspace
        self._on_change = on_change

    @property
    def current(self) -> Settings:
        return self.workspace.settings

    def update(self, **changes) -> list[str]:
        """Set the given settings ("" clears a text setting); all or nothing. Returns the
        keys whose value changed. SettingsError (one line, naming the key) changes nothing."""
        settings = self.workspace.settings
        unknown = sorted(set(changes) - set(Settings.__dataclass_fields__) - {"device_id"})
        if unknown or "device_id" in changes:
            raise SettingsError((unknown or ["device_id"])[0], "is not a setting that can be changed")
        values = {}
        for key, value in changes.items():
            if isinstance(value, str):
                value = value.strip() or None
            values[key] = check_setting(key, value)
        changed = [k for k, v in values.items() if getattr(settings, k) != v]
        if not changed:
            return []
        for key in changed:
            setattr(settings, key, values[key])
        self.workspace.save_settings()
        if self._on_change is not None:
            self._on_change()
        return changed
