"""Where techdesk keeps its data, and the settings file.

A workspace is a local folder (never the shared folder: SQLite on network shares
corrupts). It holds settings.json, techdesk.db (SQLite, WAL), known_hosts (our own
host-key trust store), bundles/ (the technician's own bundles) and logs/.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "techdesk"


class WorkspaceError(Exception):
    """The workspace cannot be used (unwritable, newer schema, broken settings)."""


def default_workspace_path() -> Path:
    env = os.environ.get("TECHDESK_WORKSPACE")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def atomic_write_text(path: Path, text: str, mode: int = 0o600) -> None:
    """Write a file so a crash leaves either the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class SettingsError(ValueError):
    """A setting has a value of the wrong kind or out of range; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


# One rule per setting, used when the file is loaded and when a setting is changed:
# (kind, lowest, highest) for numbers, or a tuple of allowed words for choices.
_RULES: dict[str, tuple] = {
    "concurrency": ("int", 1, 1024), "stale_after_hours": ("int", 1, 24 * 365),
    "billing_round_minutes": ("int", 1, 60), "alert_open_after": ("int", 1, 1000),
    "alert_open_after_crit": ("int", 1, 1000), "alert_resolve_after": ("int", 1, 1000),
    "alert_unreachable_after": ("int", 1, 1000), "forecast_days": ("number", 0.01, 3650),
    "warm_connection_minutes": ("number", 0, 24 * 60),
    "smtp_port": ("int", 1, 65535), "smtp_security": ("choice", "starttls", "ssl", "none"),
    "technician": ("text",), "shared": ("text",), "webhook_url": ("text",), "smtp_host": ("text",),
    "smtp_user": ("text",), "smtp_from": ("text",), "smtp_to": ("text",), "device_id": ("id",),
    "terminal_transcript": ("bool",),
}


def setting_range(key: str) -> tuple[int, int]:
    """The lowest and highest value of a whole-number setting (for spin boxes)."""
    kind, low, high = _RULES[key]
    return int(low), int(high)


def check_setting(key: str, value):
    """The value if it fits the setting's rule, else SettingsError (one line)."""
    rule = _RULES.get(key)
    if rule is None:
        return value
    kind = rule[0]
    if kind in ("int", "number"):
        wanted = "a whole number" if kind == "int" else "a number"
        if isinstance(value, bool) or not isinstance(value, int if kind == "int" else (int, float)):
            raise SettingsError(key, f"must be {wanted}, not {json.dumps(value)[:40]}")
        if not rule[1] <= value <= rule[2]:
            raise SettingsError(key, f"must be {rule[1]:g} to {rule[2]:g}, not {value}")
    elif kind == "choice":
        if value not in rule[1:]:
            raise SettingsError(key, f"must be one of {', '.join(rule[1:])}, not {json.dumps(value)[:40]}")
    elif kind == "bool" and not isinstance(value, bool):
        raise SettingsError(key, f"must be true or false, not {json.dumps(value)[:40]}")
    elif kind == "text" and value is not None and not isinstance(value, str):
        raise SettingsError(key, f"must be text or null, not {json.dumps(value)[:40]}")
    elif kind == "id" and (not isinstance(value, str) or not value.strip()):
        raise SettingsError(key, "must be a non-empty text")
    return value


@dataclass
class Settings:
    technician: str | None = None
    shared: str | None = None
    concurrency: int = 16
    stale_after_hours: int = 72
    billing_round_minutes: int = 15
    device_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    # Warm SSH connections stay open this long after their last use (0 = off).
    warm_connection_minutes: float = 5
    # Proactive monitoring (docs/proactive.md "In the app"): alert rules, forecasts and
    # where alerts are sent. The SMTP password is in the keyring ("smtp", smtp_host).
    alert_open_after: int = 2
    alert_open_after_crit: int = 1
    alert_resolve_after: int = 1
    alert_unreachable_after: int = 3
    forecast_days: int = 14
    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_from: str | None = None
    smtp_to: str | None = None
    # Terminal tabs write what the host sent to <workspace>/transcripts/ (docs/connections.md).
    terminal_transcript: bool = False

    @classmethod
    def from_dict(cls, data: dict) -> Settings:
        """Settings from parsed JSON; SettingsError names the first bad key."""
        known = {k: check_setting(k, v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Workspace:
    """A workspace folder: settings, the local store, trust store and bundles."""

    def __init__(self, path: Path | str | None = None, shared: str | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_workspace_path()
        self._shared_override = shared or os.environ.get("TECHDESK_SHARED") or None
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create workspace {self.path}: {exc.strerror}") from None
        _private(self.path, 0o700)  # roster, history, audit: this user's only
        self.settings = self._load_settings()

    # -- paths ---------------------------------------------------------------
    @property
    def settings_path(self) -> Path:
        return self.path / "settings.json"

    @property
    def db_path(self) -> Path:
        return self.path / "techdesk.db"

    @property
    def known_hosts_path(self) -> Path:
        return self.path / "known_hosts"

    @property
    def bundles_dir(self) -> Path:
        return self.path / "bundles"

    @property
    def transcripts_dir(self) -> Path:
        return self.path / "transcripts"

    @property
    def log_path(self) -> Path:
        return self.path / "logs" / "techdesk.log"

    # -- settings ------------------------------------------------------------
    def _load_settings(self) -> Settings:
        if not self.settings_path.exists():
            settings = Settings()
            atomic_write_text(self.settings_path, json.dumps(settings.as_dict(), indent=2) + "\n")
            return settings
        try:
            data = json.loads(self.settings_path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"settings file {self.settings_path} is unreadable: {exc}") from None
        try:
            return Settings.from_dict(data)
        except SettingsError as exc:  # e.g. "concurrency": "lots": name the file and the key
            raise WorkspaceError(f"settings file {self.settings_path}: {exc}") from None

    def save_settings(self) -> None:
        atomic_write_text(self.settings_path, json.dumps(self.settings.as_dict(), indent=2) + "\n")

    @property
    def technician(self) -> str:
        return os.environ.get("TECHDESK_TECHNICIAN") or self.settings.technician or getpass.getuser()

    @property
    def shared(self) -> Path | None:
        value = self._shared_override or self.settings.shared
        return Path(value).expanduser() if value else None

    def open_db(self):
        """Open (and migrate) the local store."""
        from techdesk.store.db import open_database

        if os.name == "posix":  # SQLite gives its -wal/-shm files the database's mode
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            _private(self.db_path, 0o600)
        return open_database(self.db_path)


def log_to_file(path: Path) -> logging.Handler | None:
    """Send techdesk's log to ``path`` (the window and the CLI both keep logs/techdesk.log).
    Returns the handler (remove and close it when done), None if the file cannot be
    opened: a read-only workspace must still give its one-line error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("techdesk")
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler


def _private(path: Path, mode: int) -> None:
    """Tighten ``path`` to ``mode`` on POSIX (never loosen; a file we cannot chmod, e.g.
    someone else's, is left alone: opening it then fails or works on its own terms)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        current = path.stat().st_mode & 0o777
        if current & ~mode:
            os.chmod(path, current & mode)
