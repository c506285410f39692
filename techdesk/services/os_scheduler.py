"""The OS timer that runs `techdesk sweep` (systemd, launchd, cron, Windows schtasks).

One place for what `techdesk schedule install` and the window's Schedules dialog
offer: ``install_plan`` says what would be written or run, ``install`` writes the
files that techdesk may write itself (systemd units, a launchd plist); cron and
schtasks entries are only shown, never applied behind the technician's back.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from techdesk.workspace import atomic_write_text

SWEEP_EVERY_MIN = 5


@dataclass
class InstallResult:
    """What ``install`` did: the plan and the files written or already in place."""

    plan: dict
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def installed(self) -> bool:
        return bool(self.written or self.unchanged)

    def as_json(self) -> dict:
        return {**self.plan, "written": self.written, "unchanged": self.unchanged, "installed": self.installed}

    def describe(self) -> str:
        """Plain text for a dialog: what happened and what is left to do."""
        plan, lines = self.plan, []
        lines += [f"wrote {p}" for p in self.written] + [f"already installed: {p}" for p in self.unchanged]
        if self.installed:
            if plan["commands"]:
                lines.append("to start it now:\n  " + "\n  ".join(plan["commands"]))
        elif plan["files"]:
            lines += [f"# {p}\n{text}" for p, text in plan["files"].items()]
            if plan["commands"]:
                lines.append("then:\n  " + "\n  ".join(plan["commands"]))
        else:
            lines.append(plan["entry"])
        lines.append(f"({plan['system']}: {plan['note']})")
        return "\n".join(lines)


def sweep_command(workspace: Path) -> list[str]:
    """The command an OS scheduler runs: this techdesk, this workspace, `sweep`."""
    if getattr(sys, "frozen", False):  # a packaged build: the executable is techdesk itself
        return [sys.executable, "--workspace", str(workspace), "sweep"]
    exe = Path(sys.executable)
    if os.name == "nt" and (exe.parent / "pythonw.exe").exists():
        exe = exe.parent / "pythonw.exe"  # no console window every five minutes
    return [str(exe), "-m", "techdesk", "--workspace", str(workspace), "sweep"]


def detect_system() -> str:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "launchd"
    runtime = os.environ.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "")
    if shutil.which("systemctl") and runtime and Path(runtime, "systemd").is_dir():
        return "systemd"
    return "cron"


def _systemd_quote(arg: str) -> str:
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$") + '"'


def install_plan(system: str, workspace: Path, command: list[str] | None = None) -> dict:
    """What `schedule install` writes or prints for ``system`` (systemd, cron, launchd,
    windows): {"system", "files": {path: text}, "commands": [str], "entry": str, "note"}."""
    workspace = Path(workspace)
    command = command or sweep_command(workspace)
    tag = hashlib.sha256(str(workspace.absolute()).encode("utf-8")).hexdigest()[:8]
    log = workspace / "logs" / "sweep.log"
    every = SWEEP_EVERY_MIN
    if system == "systemd":
        name = f"techdesk-sweep-{tag}"
        config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"
        service = (f"[Unit]\nDescription=techdesk sweep: scheduled diagnostics for {workspace}\n\n"
                   f"[Service]\nType=oneshot\nExecStart={' '.join(_systemd_quote(a) for a in command)}\n")
        timer = (f"[Unit]\nDescription=Run techdesk sweep every {every} minutes ({workspace})\n\n"
                 f"[Timer]\nOnBootSec=2min\nOnUnitActiveSec={every}min\nAccuracySec=30s\n\n"
                 f"[Install]\nWantedBy=timers.target\n")
        files = {str(config / f"{name}.service"): service, str(config / f"{name}.timer"): timer}
        return {"system": system, "files": files, "entry": timer,
                "commands": [f"systemctl --user daemon-reload && systemctl --user enable --now {name}.timer"],
                "note": "user timers run while you are logged in; to keep them running after logout: "
                        "loginctl enable-linger $USER. Output goes to the journal: "
                        f"journalctl --user -u {name}.service"}
    if system == "launchd":
        label = f"com.techdesk.sweep.{tag}"
        path = Path.home() / "Library" / "LaunchAgents" / f"{label}.plist"
        plist = plistlib.dumps({"Label": label, "ProgramArguments": command, "StartInterval": every * 60,
                                "RunAtLoad": True, "StandardOutPath": str(log),
                                "StandardErrorPath": str(log)}).decode("utf-8")
        return {"system": system, "files": {str(path): plist}, "entry": plist,
                "commands": [f"launchctl bootstrap gui/$(id -u) {shlex.quote(str(path))}"],
                "note": "it starts by itself at your next login; the command starts it now"}
    if system == "windows":
        inner = subprocess.list2cmdline(command)
        task = f"techdesk sweep {tag}"
        entry = (f'schtasks /Create /F /SC MINUTE /MO {every} /TN "{task}" /TR "'
                 + inner.replace('"', '\\"') + '"')
        return {"system": system, "files": {}, "entry": entry, "commands": [entry],
                "note": "run this in a Command Prompt as yourself (not as administrator); remove it with "
                        f'schtasks /Delete /TN "{task}"'}
    line = f"*/{every} * * * * {shlex.join(command)} >> {shlex.quote(str(log))} 2>&1"
    line = line.replace("%", "\\%")  # a bare % ends the command in a crontab
    return {"system": "cron", "files": {}, "entry": line, "commands": [],
            "note": "add this line with `crontab -e` (techdesk does not edit your crontab)"}


def install(workspace: Path, system: str | None = None, print_only: bool = False) -> InstallResult:
    """Write the timer's files for ``system`` (default: this machine's); a file already
    holding the same text is left alone. ``print_only``: write nothing."""
    workspace = Path(workspace).absolute()
    result = InstallResult(install_plan(system or detect_system(), workspace))
    if print_only or not result.plan["files"]:
        return result
    (workspace / "logs").mkdir(parents=True, exist_ok=True)
    for path, text in result.plan["files"].items():
        target = Path(path)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            result.unchanged.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text, mode=0o644)
        result.written.append(path)
    return result
