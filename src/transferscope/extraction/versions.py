"""Versions of the libraries that determine extracted numbers (part of cache keys).

They are read once per process (every cache key asks for them, and each
look-up scans the installed distributions): the versions that count are those
of the libraries this process has loaded.
"""

from __future__ import annotations

import functools
from importlib import metadata

from transferscope._version import __version__

__all__ = ["library_versions"]

_LIBRARIES = ("torch", "transformers", "sentence-transformers", "scikit-learn", "numpy")


def library_versions() -> dict[str, str]:
    """``{package: version}`` for transferscope and the numerical libraries installed."""
    return dict(_read_versions())


@functools.cache
def _read_versions() -> tuple[tuple[str, str], ...]:
    versions = [("transferscope", __version__)]
    for name in _LIBRARIES:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, "absent"))
    return tuple(versions)
