"""Checks on folders that a command will write into, made before any work starts."""

from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["is_writable_folder"]


def is_writable_folder(folder: str | Path) -> bool:
    """Whether a file can be created in ``folder``: tried, not guessed from the mode bits.

    Examples
    --------
    >>> import tempfile
    >>> is_writable_folder(tempfile.gettempdir())
    True
    >>> is_writable_folder("/nonexistent/folder")
    False
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
