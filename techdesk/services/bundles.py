"""Bundles: the built-in ones plus the technician's own from the workspace."""

from __future__ import annotations

from pathlib import Path

from techdesk.diagnostics.bundle import Bundle, BundleError
from techdesk.diagnostics.registry import load_bundles


class UnknownBundle(BundleError):
    """A bundle name that is not on this device (one line, exit 64)."""

    def __init__(self, message: str) -> None:  # not tied to a file and line
        ValueError.__init__(self, message)
        self.file, self.line, self.message = "", 0, message


class BundleService:
    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs
        self._bundles: dict[str, Bundle] | None = None
        self.problems: list[str] = []

    def all(self) -> dict[str, Bundle]:
        if self._bundles is None:
            self._bundles, self.problems = load_bundles([d for d in self.dirs if d.is_dir()])
        return self._bundles

    def get(self, name: str) -> Bundle:
        bundles = self.all()
        if name not in bundles:
            known = ", ".join(sorted(bundles)) or "none"
            raise UnknownBundle(f"no bundle named {name!r} (known: {known})")
        return bundles[name]

    def reload(self) -> None:
        self._bundles = None
