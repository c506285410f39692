"""Where bundles come from: the built-ins shipped with techdesk, then folders.

Later sources override earlier ones by bundle name: a workspace bundle named
like a built-in replaces it. A bad file never stops the others from loading:
it is reported as one "<file>:<line>: <message>" line and skipped.
"""

from __future__ import annotations

from pathlib import Path

from techdesk.diagnostics.bundle import BUILTIN, Bundle, BundleError, load_bundle_file, parse_bundle
from techdesk.resources import resource


def builtin_bundles() -> tuple[dict[str, Bundle], list[str]]:
    """The bundles in resources/bundles/ (package data)."""
    bundles: dict[str, Bundle] = {}
    problems: list[str] = []
    folder = resource("bundles")
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".toml")),
                     key=lambda e: e.name)
    for entry in entries:
        try:
            bundle = parse_bundle(entry.read_text(encoding="utf-8"), source=BUILTIN,
                                  filename=f"{BUILTIN}:{entry.name}")
        except BundleError as exc:
            problems.append(str(exc))
            continue
        bundles[bundle.name] = bundle
    return bundles, problems


def load_bundles(extra_dirs: list[Path]) -> tuple[dict[str, Bundle], list[str]]:
    """Built-ins, then every *.toml in each of ``extra_dirs`` (in order).

    Returns (bundles by name, problems). A folder that does not exist is
    skipped silently (a fresh workspace has none); an unreadable or invalid
    file is a problem line.
    """
    bundles, problems = builtin_bundles()
    origin: dict[str, str] = {}
    for folder in extra_dirs:
        try:
            files = sorted(p for p in Path(folder).glob("*.toml") if p.is_file())
        except OSError as exc:
            problems.append(f"{folder}:1: cannot list folder: {exc.strerror or exc}")
            continue
        for path in files:
            try:
                bundle = load_bundle_file(path)
            except BundleError as exc:
                problems.append(str(exc))
                continue
            if bundle.name in origin:
                problems.append(f"{path}:1: bundle {bundle.name!r} is also defined in "
                                f"{origin[bundle.name]}; using this file")
            origin[bundle.name] = str(path)
            bundles[bundle.name] = bundle
    return bundles, problems
