"""Leave-one-out k-nearest-neighbour score.

Each sample is predicted from its ``k`` nearest *other* samples: the majority
class (ties broken towards the nearer neighbours) for classification, the mean
target for regression. The score is the leave-one-out accuracy, or ``R^2`` for
regression. A non-parametric, training-free baseline that the literature uses
as a strong proxy for linear-probe accuracy.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.neighbors import NearestNeighbors

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
    check_positive_int,
    check_regression_targets,
)

__all__ = ["knn_loo"]


def _neighbours_without_self(features: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Indices ``(N, k)`` of each row's k nearest other rows, nearest first."""
    n = features.shape[0]
    index = NearestNeighbors(n_neighbors=k + 1, metric=metric, algorithm="brute").fit(features)
    _, idx = index.kneighbors(features)
    is_self = idx == np.arange(n)[:, None]
    # A duplicate row may push the row itself out of place; drop it where found,
    # else drop the farthest neighbour so that exactly k remain.
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(idx, dtype=bool)
    keep[np.arange(n), drop] = False
    return idx[keep].reshape(n, k)


def knn_loo(
    features: Any,
    labels: Any,
    *,
    k: int = 5,
    metric: Literal["cosine", "euclidean"] = "cosine",
    task: Literal["classification", "regression"] = "classification",
) -> float:
    """Leave-one-out kNN accuracy (classification) or R^2 (regression).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,) or (n_samples, n_targets)
    k : int, default=5
        Number of neighbours; must be smaller than ``n_samples``.
    metric : {"cosine", "euclidean"}, default="cosine"
    task : {"classification", "regression"}, default="classification"

    Returns
    -------
    float
        Accuracy in ``[0, 1]``, or the mean ``R^2`` over target columns.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.knn import knn_loo
    >>> y = np.repeat([0, 1], 20)
    >>> x = np.c_[y * 10.0 + np.arange(40) % 3, np.ones(40)]
    >>> knn_loo(x, y, k=3, metric="euclidean")
    1.0
    """
    task = check_choice(task, ("classification", "regression"), name="task")
    metric = check_choice(metric, ("cosine", "euclidean"), name="metric")
    feats = check_features(features)
    n = feats.shape[0]
    k = check_positive_int(k, name="k")
    if k >= n:
        raise InputError(f"k must be smaller than the number of samples ({n}), got {k}")
    neighbours = _neighbours_without_self(feats, k, metric)
    if task == "regression":
        targets = check_regression_targets(labels, n)
        pred = targets[neighbours].mean(axis=1)
        sst = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
        sse = ((targets - pred) ** 2).sum(axis=0)
        return float(np.mean(1.0 - sse / sst))
    codes, classes = check_classification_labels(labels, n)
    votes = np.zeros((n, classes.shape[0]))
    # Each neighbour votes 1 plus a small bonus decreasing with rank: the bonuses
    # add up to less than one vote, so they only break ties, towards nearer ones.
    weights = 1.0 + (k - np.arange(k)) / (k * k + 1.0)
    np.add.at(votes, (np.repeat(np.arange(n), k), codes[neighbours].ravel()), np.tile(weights, n))
    return float(np.mean(votes.argmax(axis=1) == codes))
