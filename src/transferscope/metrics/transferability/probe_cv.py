"""Cross-validated linear probe score: the training-based reference estimator.

Mean k-fold score of a standardised logistic regression (accuracy) or ridge
regression (R^2). Slower than the training-free estimators, but the most
direct proxy of frozen-feature transfer; every other estimator should be
judged against what it costs and gains relative to this one.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
    check_positive_int,
    check_regression_targets,
)
from transferscope.metrics.registry import MetricInfo

__all__ = ["cv_probe"]


def cv_probe(
    features: Any,
    labels: Any,
    *,
    task: Literal["classification", "regression"] = "classification",
    folds: int = 5,
    c: float = 1.0,
    alpha: float = 1.0,
    seed: int = 0,
) -> float:
    """Mean cross-validated probe score (accuracy, or R^2 for regression).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    task : {"classification", "regression"}
    folds : int, default=5
        Stratified for classification, reduced to the smallest class size when needed;
        unstratified when a class has a single sample.
    c : float, default=1.0
        Inverse regularisation of the logistic regression (on standardised features).
    alpha : float, default=1.0
        Ridge penalty for regression.
    seed : int, default=0
        Seed of the fold shuffling.

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> ts.score("cv_probe", rng.normal(size=(60, 3)) + 3 * y[:, None], y) > 0.9
    True
    """
    task = check_choice(task, ("classification", "regression"), name="task")
    x = check_features(features, scale="rescale")  # scale-invariant
    n = x.shape[0]
    folds = check_positive_int(folds, name="folds", minimum=2)
    # sklearn is imported here: it costs ~0.5 s, which every command would pay at registration.
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if task == "classification":
        codes, _ = check_classification_labels(labels, n)
        smallest = int(np.bincount(codes).min())
        if n < 2 * folds and n < 4:
            raise InputError(f"cv_probe needs at least 4 samples, got {n}")
        # Stratified folds, fewer when a class is small; plain folds when a class has
        # a single sample (it is then always misclassified when held out).
        splitter: Any = (StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=seed)
                         if smallest >= 2 else KFold(n_splits=min(folds, n), shuffle=True, random_state=seed))
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
        target: np.ndarray = codes
    else:
        target = check_regression_targets(labels, n)
        target = target[:, 0] if target.shape[1] == 1 else target
        if n < folds:
            raise InputError(f"cv_probe needs at least {folds} samples for {folds} folds")
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
        model = make_pipeline(StandardScaler(), Ridge(alpha=alpha))
    # Fold assignment must not depend on sample order beyond the seed: sort rows by
    # a content hash first so that permuting the inputs permutes nothing else.
    # Likewise class codes are renumbered by first appearance in that order, so that
    # renaming the classes cannot change the stratified folds.
    order = np.lexsort(np.c_[x, target.reshape(n, -1)].T[::-1])
    target = target[order]
    if task == "classification":
        _, first = np.unique(target, return_index=True)
        renumber = np.argsort(np.argsort(first))
        target = renumber[target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(model, x[order], target, cv=splitter,
                                 scoring="accuracy" if task == "classification" else "r2")
    return float(np.mean(scores))


METRICS = [
    MetricInfo(
        name="cv_probe",
        scale_invariant=True,
        family="transferability",
        func=cv_probe,
        summary="Mean k-fold accuracy (R^2) of a standardised logistic (ridge) probe.",
        citation="Linear evaluation protocol, e.g. Kornblith, Shlens & Le, CVPR 2019",
        task_types=("classification", "regression"),
        uses_seed=True,
        complexity="O(folds x iterations x N D C)",
    )
]
