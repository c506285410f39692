"""The demo: a throwaway workspace whose hosts are served by an SSH server inside techdesk.

`DemoEnvironment.create()` (workspace.py) is what `techdesk gui --demo`, `techdesk demo`
and `techdesk selftest` use; `DemoServer` (server.py) is the paramiko server; the demo
hosts and what their checks find are in personas.py. See docs/demo.md.
"""

from techdesk.demo.server import DemoError, DemoServer

__all__ = ["DemoEnvironment", "DemoError", "DemoServer"]


def __getattr__(name: str):
    if name == "DemoEnvironment":  # lazy: the server alone needs no store or services
        from techdesk.demo.workspace import DemoEnvironment

        return DemoEnvironment
    raise AttributeError(name)
