"""Versions of the libraries that determine extracted numbers (part of cache keys)."""

from __future__ import annotations

from importlib import metadata

from transferscope._version import __version__

__all__ = ["library_versions"]

_LIBRARIES = ("torch", "transformers", "sentence-transformers", "scikit-learn", "numpy")


def library_versions() -> dict[str, str]:
    """``{package: version}`` for transferscope and the numerical libraries installed."""
    versions = {"transferscope": __version__}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions
