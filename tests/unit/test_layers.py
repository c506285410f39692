"""The house's rules, read from the source (docs/architecture.md): arrows point down,
Qt only in ui/ and the PDF writer, the core free of I/O libraries, no import cycles."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "techdesk"

# Package __init__ <-> its own submodules (the submodules import shared helpers from
# the package): known, and left to the owner of roster_io/.
KNOWN_CYCLES = [{"techdesk.roster_io", "techdesk.roster_io.ansible", "techdesk.roster_io.csv_io",
                 "techdesk.roster_io.ssh_config"}]


def _module(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules imported (anywhere, or only at import time: not in functions or
    TYPE_CHECKING blocks). ``from a import b`` counts as a and a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


SOURCES = {_module(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_qt_only_in_ui_and_the_pdf_writer():
    # reports/ paints its PDF pages and its charts (PDF and SVG vectors) with Qt.
    offenders = {m for m, p in SOURCES.items()
                 if not _under(m, "techdesk.ui", "techdesk.reports.pdf", "techdesk.reports.charts")
                 and any(_under(i, "PySide6", "qasync") for i in _imports(p, top_level_only=False))}
    assert not offenders, offenders


def test_core_imports_only_core_and_no_io_libraries():
    for module, path in SOURCES.items():
        if _under(module, "techdesk.core"):
            imports = _imports(path, top_level_only=False)
            ours = {i for i in imports if _under(i, "techdesk") and not _under(i, "techdesk.core")}
            assert not ours, f"{module} imports {ours}"
            assert not {i for i in imports if _under(i, "paramiko", "sqlite3", "keyring", "PySide6")}, module


def test_arrows_point_down():
    """Only the window (and the app entry, and `selftest` opening it) import ui/; only
    the command line's own modules import cli/; the store imports no service."""
    for module, path in SOURCES.items():
        imports = {i for i in _imports(path, top_level_only=False) if _under(i, "techdesk")}
        if not _under(module, "techdesk.ui", "techdesk.app", "techdesk.cli.demo"):
            assert not {i for i in imports if _under(i, "techdesk.ui")}, module
        if not _under(module, "techdesk.cli", "techdesk.__main__"):
            assert not {i for i in imports if _under(i, "techdesk.cli")}, module
        if _under(module, "techdesk.store", "techdesk.ssh", "techdesk.diagnostics"):
            assert not {i for i in imports if _under(i, "techdesk.services", "techdesk.ui")}, module


def test_no_import_cycles_at_import_time():
    edges = {m: {i for i in _imports(p, top_level_only=True) if i in SOURCES and i != m}
             for m, p in SOURCES.items()}
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(component)

    for v in edges:
        if v not in index:
            visit(v)
    assert [c for c in cycles if c not in KNOWN_CYCLES] == []
