"""Static baselines: what is known about a candidate without looking at the target.

A user-supplied prior per candidate (ImageNet accuracy, parameter count,
release date, ...) ranks candidates the same way for every target. Every
benchmark should show it next to the estimators: an estimator that does not
beat it adds nothing over knowing nothing about the target.
"""

from __future__ import annotations

import math
from typing import Any

from transferscope.errors import InputError
from transferscope.metrics._validation import check_features_shape
from transferscope.metrics.registry import MetricInfo

__all__ = ["static_prior"]


def static_prior(features: Any, labels: Any, *, prior: float) -> float:
    """Return the candidate's ``prior`` unchanged (features and labels are ignored).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Only checked, so that a static baseline fails where the estimators fail.
    labels : array-like
        Ignored.
    prior : float
        The candidate's prior score, higher = expected to transfer better (pass
        ``-parameter_count`` to prefer small models).

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> ts.score("static", np.ones((4, 2)), [0, 1, 0, 1], prior=76.1)
    76.1
    """
    n, _ = check_features_shape(features)  # only validated: a static prior ignores them
    try:
        n_labels = len(labels)
    except TypeError:
        raise InputError(f"labels must be a sequence, got {type(labels).__name__}") from None
    if n_labels != n:
        raise InputError(f"labels has {n_labels} entries but features has {n} rows")
    try:
        value = float(prior)
    except (TypeError, ValueError):
        raise InputError(f"prior must be a number, got {prior!r}") from None
    if not math.isfinite(value):
        raise InputError(f"prior must be finite, got {prior!r}")
    return value


METRICS = [
    MetricInfo(
        name="static",
        scale_invariant=True,
        family="transferability",
        func=static_prior,
        summary="A user-supplied prior per candidate (e.g. ImageNet accuracy); ignores the target.",
        citation="Baseline used e.g. by Kornblith et al., CVPR 2019 (ImageNet accuracy as predictor)",
        task_types=("classification", "regression", "multilabel"),
        complexity="O(1)",
        uses_features=False,
        required_options={"prior": 1.0},
    )
]
