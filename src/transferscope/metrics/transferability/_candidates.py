"""Helpers for combining per-model terms across a set of candidate models.

Private module (not scanned for ``METRICS``): used by the explicit
cross-candidate combiners ``etran_combine`` and ``ncti_combine``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from transferscope.errors import InputError


def check_candidate_scores(values: Any, name: str, n_models: int | None = None) -> np.ndarray:
    """Return one score per candidate as a float64 1-D copy, or raise naming ``name``."""
    try:
        arr = np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a 1-D array of numbers, one per candidate model") from None
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise InputError(
            f"{name} must be a non-empty 1-D array (one score per candidate model), got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise InputError(f"{name} contains NaN or inf")
    if n_models is not None and arr.shape[0] != n_models:
        raise InputError(f"{name} has {arr.shape[0]} entries but the first term has {n_models}")
    return arr


def check_weight(value: Any, name: str) -> float:
    """Return a finite float weight, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def minmax(scores: np.ndarray) -> np.ndarray:
    """``(s - min s) / (max s - min s)`` over candidates, in ``[0, 1]``.

    All zeros when every candidate has the same score: the term then does not
    change the ranking (the reference implementations divide by zero there).
    """
    span = scores.max() - scores.min()
    if span == 0:
        return np.zeros_like(scores)
    return (scores - scores.min()) / span
