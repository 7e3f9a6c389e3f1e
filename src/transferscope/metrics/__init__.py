"""Pure metric functions on arrays: numpy float64 in, Python float out, no I/O.

Also the registry's types (:class:`MetricInfo`, :class:`MeasureProperties`,
:class:`Invariances`) and the input checkers every metric calls first
(``check_features``, ``check_classification_labels``, ...), which the probes and the
workflows use too.
"""

from __future__ import annotations

import inspect
from typing import Any

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    all_finite,
    check_choice,
    check_classification_labels,
    check_features,
    check_features_shape,
    check_fraction,
    check_multilabel_targets,
    check_paired_features,
    check_pairwise_memory,
    check_positive_float,
    check_positive_int,
    check_regression_targets,
    check_source_probs,
)
from transferscope.metrics.properties import TRANSFORMS, Invariances, MeasureProperties
from transferscope.metrics.ranking import rank_correlation, rank_correlation_ci
from transferscope.metrics.registry import MetricInfo, get_metric, list_metrics

__all__ = [
    "score",
    "check_options",
    "list_metrics",
    "get_metric",
    "rank_correlation",
    "rank_correlation_ci",
    "MetricInfo",
    "MeasureProperties",
    "Invariances",
    "TRANSFORMS",
    # Input checkers, shared with the probes and the workflows (one implementation: _validation).
    "check_features",
    "check_features_shape",
    "check_paired_features",
    "check_pairwise_memory",
    "check_classification_labels",
    "check_regression_targets",
    "check_multilabel_targets",
    "check_source_probs",
    "check_positive_int",
    "check_positive_float",
    "check_fraction",
    "check_choice",
    "all_finite",
]


def score(name: str, features: Any, labels: Any, **options: Any) -> float:
    """Transferability score of ``features`` for ``labels`` (higher = better transfer).

    Parameters
    ----------
    name : str
        A registered transferability estimator (see :func:`list_metrics`).
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,) or (n_samples, n_targets)
    **options
        Keyword options of the estimator, e.g. ``task="regression"`` or ``k=10``.

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["cat", "dog"], 30)
    >>> f = rng.normal(size=(60, 5)) + 2.0 * (y == "dog")[:, None]
    >>> ts.score("knn", f, y) > 0.8
    True
    """
    info = get_metric(name, "transferability")
    check_options(info, options)
    return info.func(features, labels, **options)


def check_options(info: MetricInfo, options: dict[str, Any]) -> None:
    """Raise :class:`InputError` naming any option ``info.func`` does not take."""
    params = inspect.signature(info.func).parameters
    allowed = [p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InputError(
            f"{info.name} does not take option(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(allowed) or 'none'}"
        )
    required = [p for p in allowed if params[p].default is inspect.Parameter.empty and p not in options]
    if required:
        raise InputError(f"{info.name} requires the option(s) {', '.join(required)}")
