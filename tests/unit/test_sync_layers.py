"""The sync package reads top to bottom: store/ never imports it, and its modules
import each other without a cycle (checked from the source, so a lazy import inside
a function counts too)."""

from __future__ import annotations

import ast
from pathlib import Path

import techdesk

ROOT = Path(techdesk.__file__).parent


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    mod = _module(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            name = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
    return {n for n in found if n.startswith("techdesk")}


def _graph(package: str) -> dict[str, set[str]]:
    files = sorted((ROOT.parent / package.replace(".", "/")).rglob("*.py"))
    modules = {_module(p): p for p in files}
    return {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}


def test_store_does_not_import_sync():
    for path in (ROOT / "store").rglob("*.py"):
        assert not {i for i in _imports(path) if i.startswith("techdesk.sync")}, path.name


def test_sync_package_has_no_import_cycle():
    graph = _graph("techdesk.sync")
    assert "techdesk.sync.engine.batch" in graph and "techdesk.sync.format.folder" in graph
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if nxt.startswith(node + "."):
                continue  # a package's __init__ re-exporting its own modules
            assert state.get(nxt) != 1, " -> ".join(path + [nxt])
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])


def test_format_does_not_import_the_engine_or_the_store():
    for mod, deps in _graph("techdesk.sync.format").items():
        assert not {d for d in deps if not d.startswith("techdesk.sync.format")}, mod
    for path in (ROOT / "sync" / "format").rglob("*.py"):
        assert not {i for i in _imports(path) if i.startswith(("techdesk.store", "techdesk.sync.engine"))}
