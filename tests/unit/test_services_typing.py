"""The Services container is typed: every property names the service it returns (and the
name is the class it really returns), while the service modules still load lazily."""

from __future__ import annotations

import inspect
import subprocess
import sys
from functools import cached_property

from techdesk.services.context import Services
from techdesk.workspace import Workspace


def _properties() -> dict[str, cached_property | property]:
    return {name: attr for name, attr in inspect.getmembers(Services)
            if isinstance(attr, cached_property | property) and not name.startswith("_")}


def test_every_service_property_is_typed_with_the_class_it_returns(tmp_path):
    props = _properties()
    assert {"roster", "runner", "monitor", "sync", "reports"} <= set(props)
    svc = Services(Workspace(tmp_path / "ws"))
    try:
        for name, prop in props.items():
            func = prop.func if isinstance(prop, cached_property) else prop.fget
            annotation = func.__annotations__.get("return")
            assert annotation, f"Services.{name} has no return type"
            assert type(getattr(svc, name)).__name__ == annotation, f"Services.{name}"
    finally:
        svc.close()


def test_the_container_imports_no_service_until_it_is_used():
    probe = ("import sys; import techdesk.services.context; "
             "print(sorted(m for m in sys.modules if m.startswith('techdesk.services.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['techdesk.services.context', 'techdesk.services.roster']"
