"""Start the window (Qt is imported only here and in ui/)."""

from __future__ import annotations

import sys


def run_gui(workspace: str | None, shared: str | None, demo: bool = False) -> int:
    try:
        from techdesk.ui.main import main as ui_main
    except ImportError as exc:
        print(f"techdesk: error: the window cannot start: {exc}", file=sys.stderr)
        return 1
    return ui_main(workspace, shared, demo=demo)
