"""Stable content hashes for cache keys: inputs, files and key fields.

Hashing a model's weights (hundreds of MB) on every run would dominate a rerun
served from the cache, so :func:`hash_files` can remember a digest under
``<memo_dir>/hashes``: one small JSON file per set of files, holding the
digest and, for every file, its absolute path, size, modification and change
times (nanoseconds), inode and device. The memo is served only when every one
of these is unchanged; any difference (a rewritten file, the same bytes
copied over, a file added or removed) hashes the contents again. A file
modified less than :data:`RACY_SECONDS` before it was hashed is never
remembered: a second write within the file system's timestamp granularity
could leave its size and times unchanged (git's "racy" entries). A memo that
cannot be read or written is ignored; it holds JSON only, written atomically
with the user's umask (shared caches stay shared).

The atomic write itself (:func:`write_atomic`, :func:`apply_umask`) lives here
too, below every package: the memo needs it, and so do the feature cache
(:mod:`transferscope.extraction.cache`) and the score cache above it.

This module is a leaf: it imports the standard library and NumPy only, so
``datasets``, ``extraction`` and ``workflows`` can all key their caches with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["hash_inputs", "hash_files", "file_sha256", "hash_fields", "hash_array", "RACY_SECONDS",
           "write_atomic", "apply_umask"]

_CHUNK = 1 << 20

#: Files modified this recently (seconds) before hashing are not remembered.
RACY_SECONDS = 3.0
_MEMO_FORMAT = 1


def hash_array(array: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes.

    Examples
    --------
    >>> import numpy as np
    >>> hash_array(np.zeros(3)) == hash_array(np.zeros(3, np.float32))
    False
    >>> len(hash_array(np.arange(4).reshape(2, 2)))
    64
    """
    arr = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest()


def hash_inputs(inputs: Sequence[Any] | np.ndarray) -> str:
    """Fingerprint of a dataset's inputs (order matters).

    Strings are hashed length-prefixed, so ``["ab", "c"]`` and ``["a", "bc"]``
    differ; arrays by dtype, shape and bytes; paths by their file contents.

    Examples
    --------
    >>> hash_inputs(["ab", "c"]) == hash_inputs(["a", "bc"])
    False
    >>> hash_inputs(["ab", "c"]).startswith("seq-")
    True
    """
    if isinstance(inputs, np.ndarray):
        return "arr-" + hash_array(inputs)
    digest = hashlib.sha256()
    for item in inputs:
        if isinstance(item, str):
            data = item.encode("utf-8")
            digest.update(b"s" + len(data).to_bytes(8, "little") + data)
        elif isinstance(item, Path):
            digest.update(b"p" + bytes.fromhex(hash_files([item])))
        elif isinstance(item, np.ndarray):
            digest.update(b"a" + bytes.fromhex(hash_array(item)))
        else:
            raise TypeError(f"cannot fingerprint input of type {type(item).__name__}")
    return "seq-" + digest.hexdigest()


def hash_files(paths: Iterable[str | os.PathLike[str]], *, memo_dir: str | os.PathLike[str] | None = None) -> str:
    """sha256 over the names and contents of ``paths`` (sorted by path).

    Parameters
    ----------
    paths : iterable of path-like
    memo_dir : path-like, optional
        Remember the digest under ``memo_dir/hashes`` and serve it while no
        file's path, size, times or inode changed (see the module notes).
        Without it every call reads every byte.

    Returns
    -------
    str
        The hex digest; the same with or without ``memo_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "w.bin").write_bytes(b"weights")
    >>> hash_files([folder / "w.bin"]) == hash_files([folder / "w.bin"], memo_dir=folder / "cache")
    True
    """
    files = sorted(Path(p) for p in paths)
    return _memoized(files, None, _digest_files, memo_dir)


def file_sha256(path: str | os.PathLike[str], *, memo_dir: str | os.PathLike[str] | None = None) -> str:
    """sha256 of one file's bytes (what ``sha256sum`` prints), remembered in this process and, with
    ``memo_dir``, on disk as :func:`hash_files` does (served while the file's state is unchanged).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "w.bin"
    >>> _ = path.write_bytes(b"abc")
    >>> file_sha256(path)[:16]
    'ba7816bf8f01cfea'
    """
    path = Path(path)
    state = tuple(_file_state(path))
    if state in _SHA256_IN_PROCESS:
        return _SHA256_IN_PROCESS[state]
    digest = _memoized([path], "sha256", lambda files: _plain_digest(files[0]), memo_dir)
    if state[2] < time.time_ns() - int(RACY_SECONDS * 1e9) and tuple(_file_state(path)) == state:
        _SHA256_IN_PROCESS[state] = digest
    return digest


#: file_sha256 results of this process, by file state (path, size, times, inode): a model's weights
#: are hashed once per process even without a memo folder.
_SHA256_IN_PROCESS: dict[tuple[Any, ...], str] = {}


def _memoized(files: list[Path], kind: str | None, digest: Callable[[list[Path]], str],
              memo_dir: str | os.PathLike[str] | None) -> str:
    """``digest(files)``, served from the memo under ``memo_dir`` while no file changed (module notes)."""
    if memo_dir is None:
        return digest(files)
    states = [_file_state(p) for p in files]
    memo = Path(memo_dir) / "hashes"
    fields: dict[str, Any] = {"files": [s[0] for s in states]}
    if kind is not None:
        fields["kind"] = kind
    key = hash_fields(fields)
    entry = memo / key[:2] / f"{key}.json"
    try:
        stored = json.loads(entry.read_text())
        if (stored.get("format") == _MEMO_FORMAT and stored.get("files") == states
                and isinstance(stored.get("sha256"), str)):
            return stored["sha256"]
    except (OSError, ValueError, AttributeError):
        pass
    value = digest(files)
    settled = time.time_ns() - int(RACY_SECONDS * 1e9)
    if [_file_state(p) for p in files] == states and all(s[2] < settled for s in states):
        _write_json_atomic(entry, {"format": _MEMO_FORMAT, "files": states, "sha256": value})
    return value


def _plain_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _digest_files(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            while block := handle.read(_CHUNK):
                digest.update(block)
    return digest.hexdigest()


def _file_state(path: Path) -> list[Any]:
    """What the memo compares: absolute path, size, mtime, ctime (ns), inode, device."""
    st = path.stat()
    return [os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _write_json_atomic(path: Path, value: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda handle: handle.write(json.dumps(value).encode()))
    except OSError:
        pass  # an unwritable cache only costs the next run a re-hash


def hash_fields(fields: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``fields`` (sorted keys).

    Examples
    --------
    >>> hash_fields({"layer": 3, "model": "m"}) == hash_fields({"model": "m", "layer": 3})
    True
    """
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(path: str | os.PathLike[str], *, directory: bool = False) -> None:
    """Give ``path`` the mode a plain ``open`` / ``mkdir`` would have under the user's umask.

    :func:`tempfile.mkstemp` and :func:`tempfile.mkdtemp` create 0600 / 0700 whatever the umask;
    call this before renaming such a file or folder into a shared place.

    Examples
    --------
    >>> import os, stat, tempfile
    >>> old = os.umask(0o002)
    >>> folder = tempfile.mkdtemp()
    >>> apply_umask(folder, directory=True)
    >>> oct(stat.S_IMODE(os.stat(folder).st_mode))
    '0o775'
    >>> _ = os.umask(old)
    """
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through ``write(handle)`` into a temporary file beside it, give it the
    user's umask and rename it into place: a reader sees the old file or the whole new one.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "value.json"
    >>> write_atomic(target, lambda handle: handle.write(b'{"value": 1.0}'))
    >>> target.read_text()
    '{"value": 1.0}'
    """
    if os.path.isdir(path):  # someone else's folder where a file of ours belongs: never replaced, named
        from transferscope.errors import InputError

        raise InputError(f"'{os.fspath(path)}' is a folder where transferscope writes a file (a cache entry or an "
                         "output); it is left as it is: move it away, or give another cache folder or output path")
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.fspath(path)) or ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        apply_umask(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
