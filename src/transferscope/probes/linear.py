"""Linear-probe ground truth on frozen features.

Classification follows CLIP's protocol: multinomial logistic regression
(L-BFGS) on standardised features, the inverse regularisation ``C`` chosen on a
validation split over a log grid (swept upwards with warm starts, stopping
early once validation accuracy keeps falling), then refitted on train + validation and
scored on the test split (top-1 accuracy, balanced accuracy, macro-F1).
Regression uses ridge regression the same way (R^2, Spearman).
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import StandardScaler

from transferscope.errors import InputError
from transferscope.metrics import (
    check_choice,
    check_classification_labels,
    check_features,
    check_regression_targets,
)
from transferscope.probes._common import classification_metrics, regression_metrics, split_indices
from transferscope.probes.result import ProbeResult

__all__ = ["linear_probe", "DEFAULT_C_GRID", "DEFAULT_ALPHA_GRID"]

DEFAULT_C_GRID = tuple(float(c) for c in np.logspace(-4, 2, 7))
DEFAULT_ALPHA_GRID = tuple(float(a) for a in np.logspace(-2, 5, 8))


def linear_probe(
    features: Any,
    labels: Any,
    *,
    splits: Any,
    task: Literal["classification", "regression"] = "classification",
    c_grid: tuple[float, ...] = DEFAULT_C_GRID,
    alpha_grid: tuple[float, ...] = DEFAULT_ALPHA_GRID,
    max_iter: int = 1000,
    patience: int = 2,
) -> ProbeResult:
    """Fit a linear probe with validation-chosen regularisation; score it on the test split.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    splits : (train, val, test)
        Index arrays, e.g. ``Dataset.split(seed=0)``; fixed across candidates.
    task : {"classification", "regression"}
    c_grid : tuple of float
        Inverse regularisation strengths tried for logistic regression.
    alpha_grid : tuple of float
        Ridge penalties tried for regression.
    max_iter : int, default=1000
        L-BFGS iterations.
    patience : int, default=2
        The ascending sweep over ``c_grid`` stops after this many values in a row
        score below the best validation accuracy so far.

    Returns
    -------
    ProbeResult
        ``score`` is test top-1 accuracy (classification) or test R^2 (regression).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.probes import linear_probe
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> x = rng.normal(size=(100, 3)) + 3 * y[:, None]
    >>> idx = rng.permutation(100)
    >>> res = linear_probe(x, y, splits=(idx[:60], idx[60:80], idx[80:]))
    >>> res.score >= 0.9
    True
    """
    task = check_choice(task, ("classification", "regression"), name="task")
    x = check_features(features)
    train, val, test = split_indices(x.shape[0], splits)
    if task == "classification":
        codes, _ = check_classification_labels(labels, x.shape[0])
        return _logistic(x, codes, train, val, test, c_grid, max_iter, patience)
    y = check_regression_targets(labels, x.shape[0])
    return _ridge(x, y, train, val, test, alpha_grid)


def _logistic(x: np.ndarray, y: np.ndarray, train: np.ndarray, val: np.ndarray, test: np.ndarray,
              c_grid: tuple[float, ...], max_iter: int, patience: int) -> ProbeResult:
    if np.unique(y[train]).size < 2:
        raise InputError("the train split holds a single class; a probe needs at least 2")
    scaler = StandardScaler().fit(x[train])
    xs = scaler.transform(x)
    val_acc: list[float] = []
    grid = sorted(c_grid)
    # Ascending C with warm starts: each fit starts from the previous solution. The
    # sweep stops once validation accuracy has fallen below its best for `patience`
    # consecutive values (weaker regularisation only overfits further).
    model = LogisticRegression(max_iter=max_iter, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for c in grid:
            model.set_params(C=c)
            model.fit(xs[train], y[train])
            val_acc.append(float(accuracy_score(y[val], model.predict(xs[val]))))
            best = int(np.argmax(val_acc))
            if len(val_acc) - 1 - best >= patience and all(a < val_acc[best] for a in val_acc[best + 1:]):
                break
        best_c = grid[int(np.argmax(val_acc))]
        fit_idx = np.concatenate([train, val])
        scaler = StandardScaler().fit(x[fit_idx])
        xs = scaler.transform(x)
        final = LogisticRegression(C=best_c, max_iter=max_iter).fit(xs[fit_idx], y[fit_idx])
    metrics = classification_metrics(y[test], final.predict(xs[test]))
    settings = {"probe": "logistic", "C": best_c, "c_grid": grid, "patience": patience,
                "val_accuracy": val_acc,
                "n_train": int(train.size), "n_val": int(val.size), "n_test": int(test.size)}
    return ProbeResult(metrics["accuracy"], "accuracy", metrics, settings)


def _ridge(x: np.ndarray, y: np.ndarray, train: np.ndarray, val: np.ndarray, test: np.ndarray,
           alpha_grid: tuple[float, ...]) -> ProbeResult:
    scaler = StandardScaler().fit(x[train])
    xs = scaler.transform(x)
    val_r2 = [float(r2_score(y[val], Ridge(alpha=a).fit(xs[train], y[train]).predict(xs[val])))
              for a in alpha_grid]
    best = alpha_grid[int(np.argmax(val_r2))]
    fit_idx = np.concatenate([train, val])
    xs = StandardScaler().fit(x[fit_idx]).transform(x)
    pred = Ridge(alpha=best).fit(xs[fit_idx], y[fit_idx]).predict(xs[test]).reshape(test.size, -1)
    metrics = regression_metrics(y[test], pred)
    settings = {"probe": "ridge", "alpha": best, "alpha_grid": list(alpha_grid), "val_r2": val_r2,
                "n_train": int(train.size), "n_val": int(val.size), "n_test": int(test.size)}
    return ProbeResult(metrics["r2"], "r2", metrics, settings)
