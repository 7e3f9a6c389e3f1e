"""Row normalisation shared by the measures: :func:`unit_rows`."""

from __future__ import annotations

from typing import Literal

import numpy as np

from transferscope.errors import InputError

__all__ = ["unit_rows"]


def unit_rows(X: np.ndarray, *, zero_rows: Literal["raise", "keep"] = "raise", name: str = "X") -> np.ndarray:
    """Rows of the checked float64 array ``X`` scaled to unit L2 norm (a new array).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Checked float64 points (the measures validate their inputs first).
    zero_rows : {"raise", "keep"}, default="raise"
        An all-zero row has no direction: ``"raise"`` refuses it (an :class:`InputError`
        naming ``name`` and the first such row), ``"keep"`` leaves it zero (cosine
        neighbour searches, where it is equally far from every row).
    name : str, default="X"
        The argument named in the error.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics._normalize import unit_rows
    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 2.0]])).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]), zero_rows="keep").tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    if zero_rows not in ("raise", "keep"):
        raise ValueError(f"zero_rows must be 'raise' or 'keep', got {zero_rows!r}")
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    zero = norms[:, 0] == 0
    if zero_rows == "raise" and zero.any():
        first = np.flatnonzero(zero)
        raise InputError(
            f"{name} has {first.size} all-zero row(s), first at row {int(first[0])}; "
            "a zero vector has no direction to normalise"
        )
    return X / np.where(norms == 0, 1.0, norms)
