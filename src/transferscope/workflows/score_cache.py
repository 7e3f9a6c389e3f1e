"""Cache of per-candidate results (estimator scores, probe results).

A result depends only on the feature values, the labels, the metric, its
options and the library versions; the key hashes exactly these, so a rerun
skips finished cells and any change recomputes. Stored as small JSON files
(never pickle) under ``<cache root>/scores``, written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.extraction.cache import default_cache_dir
from transferscope.extraction.fingerprint import hash_array, hash_fields, hash_inputs
from transferscope.extraction.versions import library_versions

__all__ = ["ScoreCache", "labels_fingerprint"]


def labels_fingerprint(labels: np.ndarray) -> str:
    """Hash of label values and their type (``1`` and ``"1"`` differ)."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "biuf":
        return hash_array(arr)
    return hash_inputs([f"{type(v).__name__}:{v!r}" for v in arr.tolist()])


class ScoreCache:
    """JSON results keyed by a hash of everything they depend on.

    Examples
    --------
    >>> import tempfile
    >>> cache = ScoreCache(tempfile.mkdtemp())
    >>> key = cache.key(features="f", labels="l", metric="logme", options={})
    >>> cache.get(key) is None
    True
    >>> cache.put(key, {"value": 1.5}); cache.get(key)
    {'value': 1.5}
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = default_cache_dir(root) / "scores"

    @staticmethod
    def key(**fields: Any) -> str:
        return hash_fields({**fields, "versions": library_versions()})

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(value, handle)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
