"""On-disk feature cache: one directory per entry, written atomically.

Layout under the cache root::

    features/<kk>/<key>/features.npy   float32, memory-mapped on read
    features/<kk>/<key>/meta.json      the full key fields + shape
    partial/<group>/chunk-000003.npz   finished chunks of an unfinished extraction
    tmp/                               work area; entries are renamed out of it

The key is the sha256 of the key fields (model identity, layer, pooling,
dataset fingerprint, preprocessing, dtype, library versions). ``meta.json``
keeps the fields themselves and every read checks them, so an entry can never
be mistaken for another. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from transferscope.extraction.fingerprint import hash_fields

__all__ = ["FeatureCache", "default_cache_dir"]

ENV_VAR = "TRANSFERSCOPE_CACHE_DIR"


def default_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache_dir`` if given, else ``$TRANSFERSCOPE_CACHE_DIR``, else the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("transferscope"))


class FeatureCache:
    """Content-addressed, atomically written store of feature matrices.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from transferscope.extraction.cache import FeatureCache
    >>> cache = FeatureCache(tempfile.mkdtemp())
    >>> fields = {"model": "m", "layer": "l", "pooling": "mean", "dataset": "d"}
    >>> key = cache.key(fields)
    >>> cache.get(key, fields) is None
    True
    >>> cache.put(key, np.ones((2, 3)), fields).shape
    (2, 3)
    >>> cache.get(key, fields).dtype
    dtype('float32')
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = default_cache_dir(root)

    @staticmethod
    def key(fields: dict[str, Any]) -> str:
        """The entry key for ``fields``."""
        return hash_fields(fields)

    def _entry_dir(self, key: str) -> Path:
        return self.root / "features" / key[:2] / key

    def _tmp_dir(self) -> Path:
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=tmp))

    def get(self, key: str, fields: dict[str, Any]) -> np.ndarray | None:
        """The memory-mapped float32 array for ``key``, or None when absent or unreadable."""
        entry = self._entry_dir(key)
        try:
            meta = json.loads((entry / "meta.json").read_text())
            if meta.get("fields") != json.loads(json.dumps(fields, default=str)):
                return None
            array = np.load(entry / "features.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        if list(array.shape) != meta.get("shape"):
            return None
        return array

    def put(self, key: str, array: np.ndarray, fields: dict[str, Any]) -> np.ndarray:
        """Store ``array`` as float32 under ``key`` atomically; return the cached array."""
        data = np.ascontiguousarray(array, dtype=np.float32)
        work = self._tmp_dir()
        try:
            np.save(work / "features.npy", data, allow_pickle=False)
            meta = {"fields": fields, "shape": list(data.shape), "dtype": "float32"}
            (work / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
            target = self._entry_dir(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(work, target)
            except OSError:
                if not target.exists():
                    raise
                # Another process finished the same entry first: keep theirs.
        finally:
            shutil.rmtree(work, ignore_errors=True)
        cached = self.get(key, fields)
        if cached is None:
            raise OSError(f"feature cache entry {key} could not be read back from {self.root}")
        return cached

    # -- partial extractions (resume after an interruption) ------------------

    def _partial_dir(self, group: str) -> Path:
        return self.root / "partial" / group

    def put_chunk(self, group: str, index: int, arrays: dict[str, np.ndarray]) -> None:
        """Save the finished chunk ``index`` of extraction ``group`` atomically."""
        folder = self._partial_dir(group)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"chunk-{index:06d}.npz"
        fd, tmp_name = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})
            os.replace(tmp_name, final)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def get_chunk(self, group: str, index: int, names: list[str]) -> dict[str, np.ndarray] | None:
        """The arrays of a finished chunk, or None when absent or incomplete."""
        path = self._partial_dir(group) / f"chunk-{index:06d}.npz"
        try:
            with np.load(path, allow_pickle=False) as data:
                if not set(names) <= set(data.files):
                    return None
                return {name: data[name] for name in names}
        except (OSError, ValueError):
            return None

    def clear_partial(self, group: str) -> None:
        """Remove the chunks of a finished extraction."""
        shutil.rmtree(self._partial_dir(group), ignore_errors=True)

    def clear(self) -> None:
        """Delete every cache entry."""
        for sub in ("features", "partial", "tmp"):
            shutil.rmtree(self.root / sub, ignore_errors=True)
