"""Stable content hashes for cache keys: inputs, files and key fields."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["hash_inputs", "hash_files", "hash_fields", "hash_array"]

_CHUNK = 1 << 20


def hash_array(array: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes."""
    arr = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest()


def hash_inputs(inputs: Sequence[Any] | np.ndarray) -> str:
    """Fingerprint of a dataset's inputs (order matters).

    Strings are hashed length-prefixed, so ``["ab", "c"]`` and ``["a", "bc"]``
    differ; arrays by dtype, shape and bytes; paths by their file contents.
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


def hash_files(paths: Iterable[Path]) -> str:
    """sha256 over the names and contents of ``paths`` (sorted by name)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            while block := handle.read(_CHUNK):
                digest.update(block)
    return digest.hexdigest()


def hash_fields(fields: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``fields`` (sorted keys)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
