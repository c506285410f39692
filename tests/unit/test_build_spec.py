"""build.spec, checked without building: it is run with stand-ins for PyInstaller's
Analysis/PYZ/EXE/COLLECT/BUNDLE, and what it would hand to them is inspected.
(The real build and its smoke test: scripts/build, scripts/smoke-build.)"""

from __future__ import annotations

import importlib.metadata
import pkgutil
import re
import subprocess
import sys
import tempfile
import tomllib
import types
from pathlib import Path

import keyring.backends
import pytest

import techdesk

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build.spec"


class _Recorder:
    def __init__(self, kind: str, calls: list, *args, **kwargs) -> None:
        self.kind, self.args, self.kwargs = kind, args, kwargs
        self.binaries, self.datas, self.pure, self.scripts = [], [], [], []
        calls.append(self)


def run_spec(platform: str = "linux") -> tuple[dict, list[_Recorder]]:
    calls: list[_Recorder] = []
    namespace = {
        "__file__": str(SPEC),
        "SPECPATH": str(ROOT),
        "workpath": tempfile.mkdtemp(prefix="techdesk-spec-"),
        **{kind: (lambda *a, _k=kind, **kw: _Recorder(_k, calls, *a, **kw))
           for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")},
    }
    real_platform = sys.platform
    sys.platform = platform
    try:
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    finally:
        sys.platform = real_platform
    return namespace, calls


@pytest.fixture(scope="module")
def spec():
    return run_spec()


def _one(calls, kind):
    found = [c for c in calls if c.kind == kind]
    assert len(found) == 1, f"{kind} called {len(found)} times"
    return found[0]


def test_name_and_version_come_from_the_package(spec):
    ns, calls = spec
    with open(ROOT / "pyproject.toml", "rb") as fh:
        project = tomllib.load(fh)["project"]
    assert ns["NAME"] == project["name"] == "techdesk"
    assert ns["VERSION"] == techdesk.__version__
    assert _one(calls, "EXE").kwargs["name"] == ns["NAME"]
    assert _one(calls, "COLLECT").kwargs["name"] == ns["NAME"]


def test_one_folder_console_build(spec):
    _, calls = spec
    exe = _one(calls, "EXE")
    assert exe.kwargs["exclude_binaries"] is True  # binaries go to the folder, not into the exe
    assert exe.kwargs["console"] is True  # the CLI prints; no arguments opens the window
    collect = _one(calls, "COLLECT")
    assert exe in collect.args
    assert not [c for c in calls if c.kind == "BUNDLE"]


def test_entry_script_is_the_package_main(spec):
    _, calls = spec
    assert _one(calls, "Analysis").args[0] == [str(ROOT / "techdesk" / "__main__.py")]


def test_every_resource_file_is_bundled_in_place(spec):
    _, calls = spec
    datas = set(_one(calls, "Analysis").kwargs["datas"])
    resources = ROOT / "resources"
    files = [p for p in resources.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert files
    for path in files:
        # top-level resources/ goes where setup.py maps it: the package techdesk.resources
        dest = Path("techdesk", "resources", path.parent.relative_to(resources))
        assert (str(path), str(dest)) in datas, path
    kinds = {p.relative_to(resources).parts[0] for p in files}
    assert {"bundles", "templates", "checklists", "icons", "demo", "__init__.py"} <= kinds


def test_frozen_layout_makes_techdesk_resources_importable(spec, tmp_path):
    """The bundle as PyInstaller lays it out: techdesk/ in the archive (its __path__ is
    its folder in the bundle) and the datas copied to their destinations. Laid out here
    from source with the spec's own datas; importlib.resources must find every kind."""
    _, calls = spec
    for src, dest in _one(calls, "Analysis").kwargs["datas"]:
        if dest.startswith("techdesk"):
            (tmp_path / dest).mkdir(parents=True, exist_ok=True)
            (tmp_path / dest / Path(src).name).write_bytes(Path(src).read_bytes())
    (tmp_path / "techdesk" / "__init__.py").write_text("")  # stands for the frozen package
    probe = ("from techdesk.resources import resource; "
             "print(sorted(p.name for p in resource().iterdir() if p.name != '__pycache__')); "
             "print(resource('checklists', 'default.txt').read_text()[:1] != '')")
    # -S: no site-packages, so no editable install's mapping; only the laid-out bundle
    out = subprocess.run([sys.executable, "-S", "-E", "-c", probe], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == [
        "['__init__.py', 'bundles', 'checklists', 'demo', 'icons', 'templates']", "True"]


def test_keyring_backends_are_hidden_imports(spec):
    _, calls = spec
    hidden = set(_one(calls, "Analysis").kwargs["hiddenimports"])
    # every backend keyring announces through its entry points...
    announced = {ep.value.split(":")[0] for ep in importlib.metadata.entry_points(group="keyring.backends")
                 if ep.value.startswith("keyring.")}
    assert announced and announced <= hidden
    # ...and every module of keyring.backends (imported by name from PYTHON_KEYRING_BACKEND
    # or keyringrc.cfg)
    modules = {f"keyring.backends.{m.name}" for m in pkgutil.iter_modules(keyring.backends.__path__)}
    assert modules <= hidden


def test_every_techdesk_module_is_a_hidden_import(spec):
    """Commands are imported by name (techdesk.cli.COMMANDS) and techdesk.ssh/diagnostics
    load names lazily: the frozen build must carry every module anyway."""
    from techdesk import cli

    _, calls = spec
    hidden = set(_one(calls, "Analysis").kwargs["hiddenimports"])
    assert {f"techdesk.cli.{m}" for m in cli.MODULES} <= hidden
    for path in (ROOT / "techdesk").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        assert ".".join(parts[:-1] if parts[-1] == "__init__" else parts) in hidden, path


def test_keyring_metadata_is_bundled_for_its_entry_points(spec):
    _, calls = spec
    datas = _one(calls, "Analysis").kwargs["datas"]
    dist_info = [(src, dest) for src, dest in datas if re.fullmatch(r"keyring-[^/\\]+\.dist-info", dest)]
    assert len(dist_info) == 1
    assert (Path(dist_info[0][0]) / "entry_points.txt").is_file()


def test_qt_modules_in_use_are_kept_and_the_big_unused_ones_excluded(spec):
    ns, calls = spec
    excludes = set(_one(calls, "Analysis").kwargs["excludes"])
    used = set()
    for path in (ROOT / "techdesk").rglob("*.py"):
        used |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    assert used and set(ns["QT_USED"]) >= used, "a new Qt module is used: add it to QT_USED, remove it from QT_UNUSED"
    assert not {f"PySide6.{m}" for m in used} & excludes
    for module in ("QtWebEngineCore", "QtWebEngineWidgets", "Qt3DCore", "QtQuick", "QtQml",
                   "QtMultimedia", "QtCharts", "QtDataVisualization", "QtBluetooth", "QtNetwork"):
        assert f"PySide6.{module}" in excludes


def test_plugins_the_window_needs_are_kept(spec):
    ns, _ = spec
    dropped, translation = ns["_is_dropped_plugin"], ns["_is_translation"]
    for plugin in ("platforms/libqxcb.so", "platforms/libqwayland.so", "platforms/libqoffscreen.so",
                   "xcbglintegrations/libqxcb-glx-integration.so", "iconengines/libqsvgicon.so",
                   "imageformats/libqjpeg.so", "platforminputcontexts/libcomposeplatforminputcontextplugin.so",
                   "wayland-shell-integration/libxdg-shell.so"):
        assert not dropped(f"PySide6/Qt/plugins/{plugin}"), plugin
    for plugin in ("platforms/libqeglfs.so", "platforms/libqvnc.so", "tls/libqopensslbackend.so",
                   "platformthemes/libqgtk3.so", "egldeviceintegrations/libqeglfs-kms-integration.so"):
        assert dropped(f"PySide6/Qt/plugins/{plugin}"), plugin
    assert translation("PySide6/Qt/translations/qtbase_de.qm")
    assert not translation("techdesk/resources/templates/_base.html.j2")


def test_pruning_removes_only_what_dropped_plugins_alone_need(spec, monkeypatch):
    ns, _ = spec
    needs = {
        "/src/libqvnc.so": ["libQt6Network.so.6", "libQt6Gui.so.6"],
        "/src/QtGui.abi3.so": ["libQt6Gui.so.6"],
        "/src/libqxcb.so": ["libQt6Gui.so.6"],
    }
    bindepend = types.ModuleType("PyInstaller.depend.bindepend")
    bindepend.get_imports = lambda src: {(name, f"/x/{name}") for name in needs.get(src, [])}
    for name in ("PyInstaller", "PyInstaller.depend"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.depend.bindepend", bindepend)
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqvnc.so", "/src/libqvnc.so", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        ("PySide6/QtGui.abi3.so", "/src/QtGui.abi3.so", "EXTENSION"),
        ("PySide6/Qt/lib/libQt6Network.so.6", "/src/libQt6Network.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/src/libQt6Gui.so.6", "BINARY"),
        ("libQt6Network.so.6", "PySide6/Qt/lib/libQt6Network.so.6", "SYMLINK"),
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
    ]
    kept = {dest for dest, _, _ in ns["_prune_binaries"](binaries)}
    assert kept == {"PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/QtGui.abi3.so",
                    "PySide6/Qt/lib/libQt6Gui.so.6", "libQt6Gui.so.6"}


def test_application_icon_files(spec):
    ns, calls = spec
    icon = Path(_one(calls, "EXE").kwargs["icon"])
    assert icon.name == "techdesk.ico" and icon.read_bytes()[:4] == b"\0\0\1\0"
    icons = ROOT / "resources" / "icons"
    assert (icons / "techdesk.icns").read_bytes()[:4] == b"icns"
    assert (icons / "techdesk-256.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_other_platforms(platform):
    ns, calls = run_spec(platform)
    exes = [c for c in calls if c.kind == "EXE"]
    if platform == "win32":  # a console exe for the CLI and a windowed twin for shortcuts
        assert [e.kwargs["console"] for e in exes] == [True, False]
        assert not exes[0].kwargs["strip"]
    else:
        bundle = _one(calls, "BUNDLE")
        assert bundle.kwargs["version"] == techdesk.__version__
        assert exes[0].kwargs["icon"].endswith("techdesk.icns")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the hook acts on Linux and other ELF systems")
def test_runtime_hook_gives_started_programs_the_users_library_path(spec):
    _, calls = spec
    (hook,) = _one(calls, "Analysis").kwargs["runtime_hooks"]
    show = "import os; print(os.environ.get('LD_LIBRARY_PATH'), 'LD_LIBRARY_PATH_ORIG' in os.environ)"
    code = f"exec(open({hook!r}).read()); {show}"
    for env, expected in (({"LD_LIBRARY_PATH": "/app/_internal", "LD_LIBRARY_PATH_ORIG": "/opt/lib"}, "/opt/lib False"),
                          ({"LD_LIBRARY_PATH": "/app/_internal"}, "None False")):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected
