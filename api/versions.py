"""Library versions recorded with every result, so a result can be traced to the code."""

from __future__ import annotations

import functools
import platform
from importlib import metadata

LIBRARIES = ("ipvalue", "numpy", "scipy", "pandas", "pydantic", "pymc", "arviz", "statsmodels")


def library_versions() -> dict[str, str]:
    """Python's and each library's installed version (``"absent"`` when not installed)."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found
