"""The card's layout: data files in the top-level resources/, shipped as the package
techdesk.resources. Proven here for a wheel and an editable install; the frozen build
in tests/unit/test_build_spec.py (and for real by scripts/smoke-build)."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter, away from the source tree: reads one file of every kind.
PROBE = """
import sys, techdesk, techdesk.resources as r
from techdesk.diagnostics import builtin_bundles
bundles, problems = builtin_bundles()
assert not problems and "linux-quick" in bundles, problems
from techdesk.reports.html import environment
assert environment().get_template("client_report.html.j2")
assert r.resource("checklists", "default.txt").read_text(encoding="utf-8").strip()
assert r.resource("icons", "techdesk-32.png").read_bytes()[:4] == b"\\x89PNG"
assert r.resource("demo", "stub.sh").read_bytes().startswith(b"#!")
print(techdesk.__file__)
print(r.__file__)
"""


def test_resources_is_top_level_and_mapped_into_the_package():
    setup_py = (ROOT / "setup.py").read_text(encoding="utf-8")
    assert 'package_dir={"techdesk.resources": "resources"}' in setup_py
    assert (ROOT / "resources" / "__init__.py").is_file()
    assert not (ROOT / "techdesk" / "resources").exists()
    with open(ROOT / "pyproject.toml", "rb") as fh:
        assert "techdesk.resources" in tomllib.load(fh)["tool"]["setuptools"]["package-data"]


def _run_probe(python: str, cwd: Path, env: dict | None = None) -> list[str]:
    # -P: the current folder is not put on sys.path (3.11+)
    out = subprocess.run([python, "-P", "-c", PROBE],
                         cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def _editable() -> bool:
    """Installed in this interpreter's site-packages with `pip install -e` (the egg-info
    the build leaves in the source tree says nothing about installation)."""
    sites = [p for p in sys.path if p.endswith("site-packages")]
    for dist in importlib.metadata.distributions(name="techdesk", path=sites):
        raw = dist.read_text("direct_url.json")
        if raw and json.loads(raw).get("dir_info", {}).get("editable"):
            return True
    return False


@pytest.mark.skipif(not _editable(), reason="techdesk is not installed editable (scripts/test installs it so)")
def test_editable_install_maps_resources_into_the_package(tmp_path):
    techdesk_file, resources_file = _run_probe(sys.executable, tmp_path)
    assert Path(techdesk_file) == ROOT / "techdesk" / "__init__.py"
    assert Path(resources_file) == ROOT / "resources" / "__init__.py"


def test_wheel_carries_resources_inside_the_package(tmp_path):
    # Build from a copy of the tracked files, so the build writes nothing into the tree.
    src = tmp_path / "src"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, tracked.decode().split("\0")):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    (src / "resources" / "__pycache__").mkdir(exist_ok=True)
    (src / "resources" / "__pycache__" / "junk.pyc").write_bytes(b"x")  # must stay out
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                          "--disable-pip-version-check", "-w", str(tmp_path / "dist"), str(src)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    (wheel,) = (tmp_path / "dist").glob("techdesk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in tracked.decode().split("\0"):  # every module of every subpackage, every data file
        if rel.startswith("resources/"):
            assert f"techdesk/{rel}" in names, rel
        elif rel.startswith("techdesk/") and rel.endswith(".py"):
            assert rel in names, rel
    assert not [n for n in names if "__pycache__" in n or n.startswith("resources/")]

    # Installed = unpacked, first on the path (dependencies from the test venv).
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    techdesk_file, resources_file = _run_probe(sys.executable, tmp_path, env)
    assert Path(techdesk_file) == site / "techdesk" / "__init__.py"
    assert Path(resources_file) == site / "techdesk" / "resources" / "__init__.py"
