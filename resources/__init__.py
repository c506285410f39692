"""techdesk's data files, shipped as the package ``techdesk.resources``.

The files live in the top-level resources/ folder of the source tree (bundles,
report templates, checklists, icons, demo data); setup.py maps that folder
into the package (setuptools package-dir) and build.spec bundles it at the same
place, so ``resource("bundles")`` finds them from a wheel, an editable install
and the frozen build alike (tests/unit/test_resources_layout.py).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def resource(*parts: str) -> Traversable:
    """A file or folder under resources/, e.g. ``resource("templates")``."""
    return files(__name__).joinpath(*parts)
