"""techdesk's command line: the same services as the window, for scripts and schedulers.

The contract (names, flags, exit codes, JSON) is ../shared/CLI.md; docs/cli.md
documents what we added. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import traceback

from techdesk import __version__

EX_USAGE = 64      # bad command line or bad input (unknown host, malformed file)
EX_SOFTWARE = 70   # a bug: the traceback goes to the log file, one line to stderr


class UsageError(Exception):
    """Bad input from the user: exit 64."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2; our contract says 64
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"techdesk: error: {message}\n")


# Top-level command -> the module under techdesk/cli/ whose register() adds it. A command
# imports only its own module (and that module only what it needs at the top), so
# `techdesk hosts list` does not load paramiko, asyncio or the sync engine. A command
# missing here still works (every module is registered); tests/unit/test_cli_startup.py
# says which entry to add.
COMMANDS = {
    "hosts": "hosts",
    "password": "keys", "hostkeys": "keys",
    "bundles": "diagnostics", "run": "diagnostics", "history": "diagnostics", "audit": "diagnostics",
    "notes": "work", "visits": "work",
    "report": "reports", "brief": "reports",
    "exec": "actions", "fix": "actions", "tunnel": "connect",
    "clients": "hosts", "runs": "diagnostics",
    "sync": "sync", "conflicts": "sync", "trash": "sync", "restore": "sync",
    "schedule": "monitor", "sweep": "monitor", "health": "monitor", "alerts": "monitor",
    "notify": "monitor",
    "demo": "demo", "selftest": "demo",
}
MODULES = ("hosts", "keys", "diagnostics", "actions", "connect", "work", "reports", "sync", "monitor", "demo")
_GLOBAL_OPTIONS_WITH_VALUE = ("--workspace", "--shared")


def _command_word(argv: list[str]) -> str | None:
    """The command named on the line (the first word that is no global option or its value)."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if word in _GLOBAL_OPTIONS_WITH_VALUE:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _modules_for(argv: list[str] | None) -> tuple[str, ...]:
    if argv is None:
        return MODULES
    word = _command_word(argv)
    before = argv[:argv.index(word)] if word is not None else argv
    if {"-h", "--help"} & set(before):
        return MODULES  # the top-level help lists every command
    if word in COMMANDS:
        return (COMMANDS[word],)
    if word is None:
        return ()  # the window, --version, or a usage error: no command module needed
    return MODULES  # an unknown word gets argparse's full "choose from" message


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the command line, with only the commands it can use registered."""
    import importlib

    parser = _Parser(prog="techdesk", description="Remote support for field IT technicians.")
    parser.add_argument("--version", action="version", version=f"techdesk {__version__}")
    parser.add_argument("--workspace", metavar="DIR", help="local data folder (env TECHDESK_WORKSPACE)")
    parser.add_argument("--shared", metavar="DIR", help="the team's shared folder (env TECHDESK_SHARED)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = sub.add_parser("gui", help="open the window")
    gui.add_argument("--demo", action="store_true", help="a throwaway demo workspace with demo hosts")
    gui.set_defaults(func=None)

    for name in _modules_for(argv):
        importlib.import_module(f"techdesk.cli.{name}").register(sub)
    return parser


def _known_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(bad-input errors -> 64, operational errors -> 1)."""
    from techdesk.core.roster import RosterError
    from techdesk.core.work import WorkError
    from techdesk.diagnostics.bundle import BundleError
    from techdesk.secrets import SecretsError
    from techdesk.ssh.errors import SshError
    from techdesk.store.db import SchemaTooNew
    from techdesk.workspace import WorkspaceError

    return (RosterError, WorkError, BundleError, UsageError), (WorkspaceError, SchemaTooNew, SecretsError, SshError, OSError)


def main(argv: list[str] | None = None) -> int:
    from techdesk.cli.output import clean_output_streams

    with clean_output_streams():  # nothing raw from outside reaches the terminal
        return _main(sys.argv[1:] if argv is None else argv)


def _broken_store(exc: BaseException) -> bool:
    """SQLite errors that mean the database file cannot be used (corrupt, truncated,
    read-only, locked, not a database) rather than a bug in a query."""
    import sqlite3

    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError)


def _main(argv: list[str]) -> int:
    parser = build_parser(argv)
    # `techdesk exec HOSTS -- COMMAND ARGS`: everything after the first -- is the command.
    remainder = None
    if "--" in argv and "exec" in argv[:argv.index("--")]:
        cut = argv.index("--")
        argv, remainder = argv[:cut], argv[cut + 1:]
    args, extra = parser.parse_known_args(argv)
    if remainder is not None and getattr(args, "takes_remainder", False):
        args.remainder = remainder
    # `techdesk run BUNDLE --json web1`: host names after an option are still host names.
    if extra and isinstance(getattr(args, "hosts", None), list) and not any(e.startswith("-") for e in extra):
        args.hosts.extend(extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command in (None, "gui"):
        from techdesk.app import run_gui

        return run_gui(args.workspace, args.shared, demo=getattr(args, "demo", False))

    from techdesk.services.context import Services
    from techdesk.workspace import Workspace, log_to_file

    bad_input, operational = _known_errors()
    services = workspace = log_handler = None
    try:
        if getattr(args, "own_workspace", False):  # demo and selftest make their own
            return args.func(None, args)
        workspace = Workspace(args.workspace, shared=args.shared)
        log_handler = log_to_file(workspace.log_path)
        services = Services(workspace)
        return args.func(services, args)
    except bad_input as exc:
        print(f"techdesk: error: {exc}", file=sys.stderr)
        return EX_USAGE
    except operational as exc:
        print(f"techdesk: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("techdesk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if _broken_store(exc):  # a fault of the file, not of techdesk: exit 1
            logging.getLogger("techdesk").error("workspace database unusable", exc_info=True)
            where = workspace.db_path if workspace is not None else "the workspace database"
            print(f"techdesk: error: cannot use {where}: {exc} (it was not changed; "
                  f"details in {_log_name(workspace)})", file=sys.stderr)
            return 1
        # a bug: keep the details, show one line
        logging.getLogger("techdesk").error("unexpected error", exc_info=True)
        detail = " ".join("".join(traceback.format_exception_only(type(exc), exc)).split())
        print(f"techdesk: error: internal error: {detail} (details in {_log_name(workspace)})",
              file=sys.stderr)
        return EX_SOFTWARE
    finally:
        if services is not None:
            with contextlib.suppress(Exception):  # closing a broken store must not mask the error
                services.close()
        if log_handler is not None:
            logging.getLogger("techdesk").removeHandler(log_handler)
            log_handler.close()


def _log_name(workspace) -> str:
    return str(workspace.log_path) if workspace is not None else "the log"
