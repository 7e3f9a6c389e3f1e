"""Ground truth with its noise: the linear probe over repeated splits.

A single 60/20/20 split measures a probe's accuracy with a noise that is often larger than the
differences between candidates (on 40 test samples one standard error is ~7 points). This
protocol fits :func:`~transferscope.probes.linear.linear_probe` on each of several splits
(:meth:`Dataset.repeated_splits <transferscope.datasets.Dataset.repeated_splits>`: repeated
stratified K-fold, the regularisation chosen on a validation part *inside* each training fold,
as CLIP_benchmark sweeps its weight decay) and reports the mean, its standard error and every
per-split value.

Standard error: the per-split scores are not independent (the training sets overlap), so the
naive ``s / sqrt(J)`` is too small. We use Nadeau & Bengio's corrected variance of the mean,
``(1/J + n_test/n_train) * s^2`` (Machine Learning 52, 2003), the standard correction for
repeated resampling.

Ties: each split's ``C`` is the smallest one (strongest regularisation) among those with the
best validation accuracy, and accuracies are ratios of integer counts, so a tie is exact and is
broken the same way on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.probes.linear import linear_probe
from transferscope.probes.result import ProbeResult

__all__ = ["linear_cv_probe", "corrected_standard_error", "split_triples"]


def split_triples(splits: Sequence[Any]) -> list[tuple[Any, Any, Any]]:
    """``splits`` (``Splits`` objects or (train, val, test) tuples) as a list of index triples;
    one InputError unless there are at least two.

    Examples
    --------
    >>> split_triples([([0], [1], [2]), ([1], [2], [0])])[1]
    ([1], [2], [0])
    """
    triples = [tuple(s) for s in splits]  # a Splits is a (train, val, test) triple
    if len(triples) < 2 or any(len(t) != 3 for t in triples):
        raise InputError("splits must be at least two (train, val, test) index triples, "
                         "e.g. Dataset.repeated_splits()")
    return triples  # type: ignore[return-value]


def corrected_standard_error(scores: Any, *, n_train: int, n_test: int) -> float:
    """Standard error of the mean of ``scores`` measured on ``J`` overlapping resamples
    (Nadeau & Bengio's correction: ``sqrt((1/J + n_test/n_train) * var(scores))``).

    Examples
    --------
    >>> round(corrected_standard_error([0.8, 0.9, 0.85, 0.75], n_train=60, n_test=40), 4)
    0.0618
    """
    values = np.asarray(scores, dtype=float)
    if values.size < 2:
        return float("nan")
    return float(np.sqrt((1.0 / values.size + n_test / n_train) * values.var(ddof=1)))


def linear_cv_probe(
    features: Any,
    labels: Any,
    *,
    splits: Sequence[Any],
    task: Literal["classification", "regression"] = "classification",
) -> ProbeResult:
    """The linear probe on every split of ``splits``: mean, corrected standard error, per-split values.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    splits : sequence of (train, val, test)
        Index triples, e.g. ``Dataset.repeated_splits(repeats=5, folds=2)``; fixed across candidates.
    task : {"classification", "regression"}

    Returns
    -------
    ProbeResult
        ``score``: the mean over splits of the headline metric (accuracy or R^2); ``metrics``:
        the mean of every metric and ``<metric>_se``, the corrected standard error of the
        headline one; ``settings``: ``split_scores`` and the setting chosen on each split.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.datasets import Dataset
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> x = rng.normal(size=(60, 4)) + y[:, None]
    >>> splits = Dataset("toy", x, y, "classification").repeated_splits(repeats=2, folds=2)
    >>> result = linear_cv_probe(x, y, splits=splits)
    >>> result.metric, len(result.settings["split_scores"]), 0 < result.metrics["accuracy_se"] < 0.2
    ('accuracy', 4, True)
    """
    triples = split_triples(splits)
    results = [linear_probe(features, labels, splits=t, task=task) for t in triples]
    metric = results[0].metric
    scores = [r.score for r in results]
    metrics = {name: float(np.mean([r.metrics[name] for r in results])) for name in results[0].metrics}
    n_test = float(np.mean([len(t[2]) for t in triples]))
    n_train = float(np.mean([len(t[0]) + len(t[1]) for t in triples]))
    metrics[f"{metric}_se"] = corrected_standard_error(scores, n_train=int(n_train), n_test=int(n_test))
    setting = "C" if metric == "accuracy" else "alpha"
    settings = {"probe": "linear_cv", "n_splits": len(triples), "split_scores": scores,
                setting: float(np.median([r.settings[setting] for r in results])),
                f"{setting}_per_split": [r.settings[setting] for r in results],
                "n_train": int(n_train), "n_test": int(n_test)}
    return ProbeResult(float(np.mean(scores)), metric, metrics, settings)
