"""techdesk's command line: the same services as the window, for scripts and schedulers.

The contract (names, flags, exit codes, JSON) is ../shared/CLI.md; docs/cli.md
documents what we added. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
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


def build_parser() -> argparse.ArgumentParser:
    from techdesk.cli import actions, demo, diagnostics, hosts, keys, monitor, reports, sync, work

    parser = _Parser(prog="techdesk", description="Remote support for field IT technicians.")
    parser.add_argument("--version", action="version", version=f"techdesk {__version__}")
    parser.add_argument("--workspace", metavar="DIR", help="local data folder (env TECHDESK_WORKSPACE)")
    parser.add_argument("--shared", metavar="DIR", help="the team's shared folder (env TECHDESK_SHARED)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = sub.add_parser("gui", help="open the window")
    gui.add_argument("--demo", action="store_true", help="a throwaway demo workspace with demo hosts")
    gui.set_defaults(func=None)

    hosts.register(sub)
    keys.register(sub)
    diagnostics.register(sub)
    actions.register(sub)
    work.register(sub)
    reports.register(sub)
    sync.register(sub)
    monitor.register(sub)
    demo.register(sub)
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
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
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
    from techdesk.workspace import Workspace

    bad_input, operational = _known_errors()
    services = None
    try:
        if getattr(args, "own_workspace", False):  # demo and selftest make their own
            return args.func(None, args)
        workspace = Workspace(args.workspace, shared=args.shared)
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
    except Exception as exc:  # a bug: keep the details, show one line
        logging.getLogger("techdesk").error("unexpected error", exc_info=True)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        print(f"techdesk: error: internal error: {detail} (details in the log)", file=sys.stderr)
        return EX_SOFTWARE
    finally:
        if services is not None:
            services.close()
