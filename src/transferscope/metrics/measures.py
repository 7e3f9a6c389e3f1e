"""``similarity(name, X, Y)`` and ``geometry(name, X)``: the two registry-driven entry points.

They live here rather than in ``metrics/__init__`` because the family
subpackages ``metrics.similarity`` and ``metrics.geometry`` would shadow them.
"""

from __future__ import annotations

from typing import Any

from transferscope.metrics import check_options, get_metric

__all__ = ["similarity", "geometry"]


def similarity(name: str, X: Any, Y: Any, **options: Any) -> float:
    """Similarity (or distance, see the measure's ``kind``) between two representations.

    Parameters
    ----------
    name : str
        A registered similarity measure (see ``list_metrics("similarity")``).
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
        Two representations of the same inputs: row ``i`` of both is input ``i``.
    **options
        Keyword options of the measure, e.g. ``kernel="rbf"`` or ``k=10``.

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(8, 8)))
    >>> round(ts.similarity("cka", X, X @ Q), 6)
    1.0
    """
    info = get_metric(name, "similarity")
    check_options(info, options)
    return info.func(X, Y, **options)


def geometry(name: str, X: Any, **options: Any) -> float:
    """A geometric statistic of one representation ``X`` (samples x dimensions).

    Parameters
    ----------
    name : str
        A registered geometry measure (see ``list_metrics("geometry")``).
    X : array-like of shape (n_samples, n_features)
    **options
        Keyword options of the measure, e.g. ``k=10``.

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> X = np.random.default_rng(0).normal(size=(2000, 3)) @ np.eye(3, 20)
    >>> round(ts.geometry("twonn", X))
    3
    """
    info = get_metric(name, "geometry")
    check_options(info, options)
    return info.func(X, **options)
