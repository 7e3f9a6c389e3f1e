"""k-nearest-neighbour ground truth on frozen features.

The number of neighbours ``k`` is chosen on the validation split (the training
split is the index; top-1 accuracy, or ``R^2`` for regression; ties go to the
smaller ``k``), then the training and validation splits together form the index
and the test split is scored: top-1 accuracy, balanced accuracy and macro-F1, or
``R^2`` and Spearman of the mean neighbour target for regression.

scikit-learn's :class:`~sklearn.neighbors.KNeighborsClassifier` /
:class:`~sklearn.neighbors.KNeighborsRegressor` do the work (exact brute-force
search, uniform weights). A tied vote goes to the class that sorts first
(scikit-learn's rule). Unlike :func:`transferscope.metrics.transferability.knn.knn_loo`
(a training-free estimator over all samples), this is a held-out measurement on
the same splits as the other probes.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from transferscope.errors import InputError
from transferscope.metrics import (
    check_choice,
    check_classification_labels,
    check_features,
    check_positive_int,
    check_regression_targets,
)
from transferscope.probes._common import (
    check_grid,
    classification_metrics,
    regression_metrics,
    split_indices,
    split_sizes,
)
from transferscope.probes.result import ProbeResult

__all__ = ["knn_probe", "DEFAULT_K_GRID"]

DEFAULT_K_GRID = (1, 3, 5, 10, 20, 50)


def knn_probe(
    features: Any,
    labels: Any,
    *,
    splits: Any,
    task: Literal["classification", "regression"] = "classification",
    k_grid: tuple[int, ...] = DEFAULT_K_GRID,
    metric: Literal["cosine", "euclidean"] = "cosine",
    seed: int = 0,
) -> ProbeResult:
    """kNN probe: ``k`` chosen on the validation split, scored on the test split.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,) or (n_samples, n_targets) for regression
    splits : (train, val, test)
        Index arrays, e.g. ``Dataset.split(seed=0)``; fixed across candidates.
    task : {"classification", "regression"}, default="classification"
    k_grid : tuple of int, default=(1, 3, 5, 10, 20, 50)
        Neighbour counts tried; values larger than the training split are skipped.
    metric : {"cosine", "euclidean"}, default="cosine"
        Cosine distance (rows are compared by direction; an all-zero row is at
        distance 1 from everything) or Euclidean distance.
    seed : int, default=0
        Accepted for a uniform probe signature and recorded; exact kNN has no
        randomness, so it changes no number.

    Returns
    -------
    ProbeResult
        ``score`` is test top-1 accuracy (classification) or test ``R^2``
        (regression); ``settings`` hold the chosen ``k`` and the validation curve.

    Raises
    ------
    InputError
        Bad ``features``, ``labels``, ``splits``, ``task``, ``metric`` or ``k_grid``
        (including a grid whose every ``k`` exceeds the training split).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.probes.knn import knn_probe
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> x = rng.normal(size=(100, 3)) + 3 * np.eye(3)[y]  # two directions
    >>> idx = rng.permutation(100)
    >>> res = knn_probe(x, y, splits=(idx[:60], idx[60:80], idx[80:]))
    >>> res.metric, res.score >= 0.9
    ('accuracy', True)
    """
    task = check_choice(task, ("classification", "regression"), name="task")
    metric = check_choice(metric, ("cosine", "euclidean"), name="metric")
    grid = sorted(set(check_grid(k_grid, name="k_grid", integer=True)))
    seed = check_positive_int(seed, name="seed", minimum=0)
    x = check_features(features)
    train, val, test = split_indices(x.shape[0], splits)
    usable = [k for k in grid if k <= train.size]
    if not usable:
        raise InputError(f"k_grid: every k ({grid}) exceeds the {train.size} samples of the train split")
    if task == "classification":
        y, _ = check_classification_labels(labels, x.shape[0])
        model_cls: type = KNeighborsClassifier
        scorer = accuracy_score
    else:
        y = check_regression_targets(labels, x.shape[0])
        y = y[:, 0] if y.shape[1] == 1 else y
        model_cls = KNeighborsRegressor
        scorer = r2_score

    def make(k: int) -> Any:
        return model_cls(n_neighbors=k, weights="uniform", algorithm="brute", metric=metric)

    val_curve = [float(scorer(y[val], make(k).fit(x[train], y[train]).predict(x[val]))) for k in usable]
    best_k = usable[int(np.argmax(val_curve))]  # first maximum: the smallest k
    index = np.concatenate([train, val])
    pred = make(best_k).fit(x[index], y[index]).predict(x[test])
    if task == "classification":
        metrics = classification_metrics(y[test], pred)
        headline = "accuracy"
    else:
        metrics = regression_metrics(y[test], pred)
        headline = "r2"
    settings = {
        "probe": "knn", "task": task, "k": int(best_k), "k_grid": usable,
        "k_skipped": [k for k in grid if k not in usable], "metric": metric, "weights": "uniform",
        f"val_{'accuracy' if task == 'classification' else 'r2'}": val_curve, "seed": seed,
        **split_sizes(train, val, test),
    }
    return ProbeResult(metrics[headline], headline, metrics, settings)
