"""Checks on folders that a command will write into, made before any work starts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from transferscope.errors import InputError

__all__ = ["is_writable_folder", "check_cache_folder", "check_output_file"]


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


def check_cache_folder(cache_dir: str | Path | None, *, name: str = "cache_dir") -> None:
    """Fail before any work on a cache folder that cannot be written (``cache_dir`` or the default).

    A folder that does not exist yet is created later: its nearest existing parent must be a
    writable folder. ``name`` is how the caller calls the argument (``--cache-dir`` on the CLI).

    Examples
    --------
    >>> import tempfile
    >>> check_cache_folder(tempfile.mkdtemp() + "/new/cache")  # created later: fine
    >>> check_cache_folder("/proc/version/cache")
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: cache_dir '/proc/version/cache' is not a folder: '/proc/version' is a file
    """
    from transferscope.extraction.cache import default_cache_dir

    folder = default_cache_dir(None if cache_dir is None else str(cache_dir))
    what = f"{name} '{cache_dir}'" if cache_dir is not None else f"the cache folder '{folder}' (set {name})"
    probe = folder
    while probe != probe.parent:  # a link that leads nowhere is not a folder to be created later
        if probe.is_symlink() and not probe.exists():
            raise InputError(f"{what} is not a folder: '{probe}' is a symbolic link that leads nowhere (a loop or "
                             "a missing target)")
        probe = probe.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{what} is not a folder: '{existing}' is a file")
    if not is_writable_folder(existing):
        raise InputError(f"{what} is not writable")


def check_output_file(path: str | Path, *, name: str, suffixes: tuple[str, ...]) -> Path:
    """The one check of a file a command will write (``--output``, ``--report``, ...), made before
    any work: a wrong suffix, an existing folder of that name, a missing, non-folder or read-only
    folder are refused naming ``name``.

    Examples
    --------
    >>> import tempfile
    >>> check_output_file(tempfile.gettempdir(), name="--report", suffixes=(".html",))
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: --report must end in one of .html, got '/tmp'
    """
    target = Path(path).expanduser()
    if target.suffix.lower() not in suffixes:
        raise InputError(f"{name} must end in one of {', '.join(suffixes)}, got '{path}'")
    if target.is_dir():
        raise InputError(f"{name} '{path}' is an existing folder; give a file name")
    folder = target.parent
    if not folder.exists():
        raise InputError(f"{name} folder '{folder}' does not exist")
    if not folder.is_dir():
        raise InputError(f"{name} folder '{folder}' is not a folder")
    if not is_writable_folder(folder):
        raise InputError(f"{name} folder '{folder}' is not writable")
    return target
