"""`python -m techdesk` and the `techdesk` entry point: GUI without arguments, CLI with them."""

import sys


def main() -> int:
    from techdesk.cli import _command_word
    from techdesk.cli import main as cli_main

    code = cli_main(sys.argv[1:])
    if _command_word(sys.argv[1:]) not in (None, "gui"):  # the window tears Qt down its own way
        _exit_without_teardown(code)
    return code


def _exit_without_teardown(code: int) -> None:
    """End a finished command the way the interpreter would, minus freeing every module
    and object one by one: after a run (paramiko, asyncio, sqlite3 loaded) that teardown
    is 30 ms idle, 100+ ms on a busy machine, for memory the OS takes back anyway
    (scripts/bench_startup.py). What an exit must do still happens, in the interpreter's
    order: non-daemon threads are joined (thread pools), atexit handlers run (logging's
    flush, temporary folders, the demo's servers), the output streams are flushed. The
    command has already closed the workspace (database committed, audit written).
    Falls back to the ordinary exit if this interpreter lacks the hooks, a flush fails
    (a closed pipe is then reported as usual) or a profiler or tracer is watching
    (`python -m cProfile -o`, coverage: they write their results after main returns)."""
    import atexit
    import os
    import threading

    join_threads = getattr(threading, "_shutdown", None)
    run_atexit = getattr(atexit, "_run_exitfuncs", None)
    if join_threads is None or run_atexit is None or sys.getprofile() or sys.gettrace():
        return
    join_threads()
    run_atexit()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
