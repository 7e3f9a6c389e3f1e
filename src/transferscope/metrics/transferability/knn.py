"""Leave-one-out k-nearest-neighbour score.

Each sample is predicted from its ``k`` nearest *other* samples (its own row is
excluded by index, so exact duplicates of it still count): the majority
class (ties broken towards the nearer neighbours) for classification, the mean
target for regression. The score is the leave-one-out accuracy, or ``R^2`` for
regression. A non-parametric, training-free baseline that the literature uses
as a strong proxy for linear-probe accuracy.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._neighbors import nearest_neighbors
from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
    check_positive_int,
    check_regression_targets,
)
from transferscope.metrics.registry import MetricInfo

__all__ = ["knn_loo"]


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
    feats = check_features(features, scale="rescale")  # scale-invariant
    n = feats.shape[0]
    if task == "regression":
        targets = check_regression_targets(labels, n)
    else:
        codes, classes = check_classification_labels(labels, n)
    k = check_positive_int(k, name="k")
    if k >= n:
        raise InputError(f"k must be smaller than the number of samples ({n}), got {k}")
    # Nearest first, ties toward the lower index; each row's own index is left out.
    _, neighbours = nearest_neighbors(feats, k, metric=metric)
    if task == "regression":
        pred = targets[neighbours].mean(axis=1)
        sst = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
        sse = ((targets - pred) ** 2).sum(axis=0)
        return float(np.mean(1.0 - sse / sst))
    votes = np.zeros((n, classes.shape[0]))
    # Each neighbour votes 1 plus a bonus 2^-(rank+1): the bonuses add up to less than
    # one vote and a larger one outweighs all smaller ones, so among classes tied on
    # votes the one holding the nearest neighbour wins.
    weights = 1.0 + 0.5 ** np.arange(1, k + 1)
    np.add.at(votes, (np.repeat(np.arange(n), k), codes[neighbours].ravel()), np.tile(weights, n))
    return float(np.mean(votes.argmax(axis=1) == codes))


METRICS = [
    MetricInfo(
        name="knn",
        scale_invariant=True,
        family="transferability",
        func=knn_loo,
        summary="Leave-one-out k-nearest-neighbour accuracy (R^2 for regression), cosine.",
        citation="Kornblith, Shlens & Le, Do Better ImageNet Models Transfer Better?, "
        "CVPR 2019 (kNN as a transfer proxy)",
        task_types=("classification", "regression"),
        complexity="O(N^2 D) exact FAISS search, O(N k) memory",
    )
]
