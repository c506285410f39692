"""Which packages go into the wheel; everything else is in pyproject.toml.

The data files live in the top-level resources/ folder and are mapped into the package
as techdesk.resources (setuptools' package_dir), so importlib.resources finds them in a
wheel and an editable install (build.spec does the same for the frozen build). The
packages are found, not listed, so a new subpackage is never left out of the wheel;
pyproject.toml cannot combine `find` with that mapping, hence this file.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["techdesk", "techdesk.*"]) + ["techdesk.resources"],
    package_dir={"techdesk.resources": "resources"},
)
