"""Cache of per-candidate results (estimator scores, probe results).

A result depends only on the feature values, the labels, the metric, its
options and the library versions; the key hashes exactly these, so a rerun
skips finished cells and any change recomputes. Stored as small JSON files
(never pickle) under ``<cache root>/scores``, written atomically with the
user's umask.

Every read is validated (:func:`result_problem`): a JSON object whose
``value`` / ``score`` is a finite number or NaN (JSON's ``NaN`` token, the
explicit marker of an estimator that gave NaN), whose ``warnings`` is a list
of strings, ``metrics`` a mapping of names to such numbers, ``settings`` a
mapping, and which has the fields the caller requires. A file that fails
(``{}``, ``[1, 2]``, ``{"value": null}``, ``{"value": "abc"}``, garbled text)
is reported in one line on the ``transferscope.cache`` logger, removed and
treated as absent, so the result is recomputed; a computed result that would
fail (an infinite score) is returned but not stored. Concurrent writers of one
entry each rename a complete file into place (the last one wins; both hold
the same result).
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.extraction.cache import default_cache_dir, report_damage
from transferscope.extraction.versions import library_versions
from transferscope.hashing import hash_array, hash_fields, hash_inputs, write_atomic

__all__ = ["ScoreCache", "CacheMiss", "labels_fingerprint", "result_problem"]

LOGGER = logging.getLogger("transferscope.cache")


def labels_fingerprint(labels: np.ndarray) -> str:
    """Hash of label values and their type (``1`` and ``"1"`` differ)."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "biuf":
        return hash_array(arr)
    return hash_inputs([f"{type(v).__name__}:{v!r}" for v in arr.tolist()])


def _is_score(value: Any) -> bool:
    """A finite real number or NaN (bools and infinities are not scores)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            and (math.isfinite(value) or math.isnan(value)))


def result_problem(result: Any, required: Sequence[str] = ()) -> str | None:
    """Why ``result`` is not a valid cached result, or None when it is.

    Examples
    --------
    >>> result_problem({"value": 0.5, "warnings": []}, ["value", "warnings"]) is None
    True
    >>> result_problem({"value": float("nan")}) is None  # NaN is a legitimate result
    True
    >>> result_problem({"value": "abc"})
    "'value' is 'abc', not a finite number or NaN"
    >>> result_problem([1, 2])
    'it is a JSON list, not an object'
    >>> result_problem({}, ["value"])
    "'value' is missing"
    """
    if not isinstance(result, dict):
        return f"it is a JSON {type(result).__name__}, not an object"
    for name in required:
        if name not in result:
            return f"{name!r} is missing"
    for name in ("value", "score"):
        if name in result and not _is_score(result[name]):
            return f"{name!r} is {result[name]!r}, not a finite number or NaN"
    if "warnings" in result and not (isinstance(result["warnings"], list)
                                     and all(isinstance(w, str) for w in result["warnings"])):
        return "'warnings' is not a list of strings"
    if "metric" in result and not isinstance(result["metric"], str):
        return "'metric' is not a string"
    if "metrics" in result and not (isinstance(result["metrics"], dict)
                                    and all(_is_score(v) for v in result["metrics"].values())):
        return "'metrics' is not a mapping of names to finite numbers or NaN"
    if "settings" in result and not isinstance(result["settings"], dict):
        return "'settings' is not a mapping"
    return None


class CacheMiss(Exception):
    """A result asked for with ``cached_only`` is not in the score cache."""


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

    def get(self, key: str, required: Sequence[str] = ()) -> dict[str, Any] | None:
        """The stored result, or None when absent; a damaged one is reported, removed, and None."""
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                inode = os.fstat(handle.fileno()).st_ino
                text = handle.read()
        except FileNotFoundError:
            return None
        except OSError:
            return None  # unreadable (permissions): a miss; put() replaces it if it can
        try:
            result = json.loads(text)
        except ValueError:
            problem = "not valid JSON"
        else:
            problem = result_problem(result, required)
            if problem is None:
                return result
        try:
            if os.stat(path).st_ino == inode:  # not a sound file another writer just renamed in
                os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            report_damage("score cache entry", path, problem, removed=False)
            return None
        report_damage("score cache entry", path, problem)
        return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` atomically; where it cannot be written (a full disk, a quota) it is
        not stored, with a warning: the result is used all the same."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, lambda handle: handle.write(json.dumps(value).encode()))
        except OSError as exc:
            LOGGER.warning("transferscope: could not store score cache entry %s (%s); the result is used uncached",
                           path, exc.strerror or exc)

    @staticmethod
    def fetch(cache: ScoreCache | None, compute: Callable[[], dict[str, Any]], *, cached_only: bool = False,
              required: Sequence[str] = (), **fields: Any) -> dict[str, Any]:
        """``compute()`` through ``cache`` (None: no cache): a sound stored result (with the fields
        ``required``) is reused, a damaged one recomputed, and a computed one that would not
        validate is not stored. With ``cached_only`` a miss raises :class:`CacheMiss`.

        Examples
        --------
        >>> import tempfile
        >>> cache = ScoreCache(tempfile.mkdtemp())
        >>> ScoreCache.fetch(cache, lambda: {"value": 2.0}, metric="m")
        {'value': 2.0}
        >>> ScoreCache.fetch(cache, lambda: {"value": 3.0}, metric="m")  # the stored one
        {'value': 2.0}
        """
        if cache is None:
            if cached_only:
                raise CacheMiss
            return compute()
        key = cache.key(**fields)
        hit = cache.get(key, required)
        if hit is None:
            if cached_only:
                raise CacheMiss
            hit = compute()
            if result_problem(hit, required) is None:
                cache.put(key, hit)
        return hit
