"""Predicted probe accuracy: learning-curve extrapolation from small subsamples, with an interval.

What a candidate's linear probe would reach (:func:`~transferscope.probes.repeated.linear_cv_probe`
on the same splits) is predicted without fitting it on the full training parts: on each of the
first few splits the linear probe is fitted on nested stratified fractions (by default 1/8, 1/4,
1/2) of the training and validation parts and scored on the split's test part. The error
``e(m) = 1 - score`` (1 - accuracy, or 1 - R^2) of the mean curve is fitted by an inverse power
law ``e(m) = b * m^(-c)``, least squares in log-log space with ``0 <= c <= 1`` (``c = 0``: no gain
from more data; ``c = 1``: the parametric rate), and extrapolated to the full training size.
This is the classic learning-curve model (Cortes et al., NeurIPS 1993; Hestness et al., 2017,
and Figueroa et al., 2012, for small-sample extrapolation); a floor (Bayes error) is not fitted,
because three noisy points cannot identify it.

The interval is calibrated, not assumed. The prediction's own noise ``s`` is the corrected
standard error (Nadeau-Bengio, as for the probe) of the per-split extrapolations, floored at
one test sample (``1 / n_test``); the interval is ``[p + q_lo * s, p + q_hi * s]`` where ``q_lo``
and ``q_hi`` are quantiles of the normalised residuals ``(measured - predicted) / s`` observed
on benchmark targets (:data:`RESIDUAL_QUANTILES`, measured by ``benchmarks/bench_prediction.py``,
whose coverage is measured leave-one-target-out). Accuracy intervals are clipped to [0, 1],
R^2 intervals to at most 1.

Cost: the fractions sum to 7/8 of a training part on each of ``n_splits`` (4) of the 10 splits;
measured, 0.42 of the time of the repeated-split probe it predicts (benchmarks/bench_prediction.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError

__all__ = ["LearningCurve", "fit_learning_curve", "predict_probe_score", "prediction_interval",
           "PredictedScore", "DEFAULT_FRACTIONS", "RESIDUAL_QUANTILES", "PREDICTION_LEVELS"]

DEFAULT_FRACTIONS = (0.125, 0.25, 0.5)

#: Quantiles of the normalised residual ``(measured - predicted) / s`` by probability, measured by
#: ``benchmarks/bench_prediction.py --max-samples 1000`` on 2026-12-02 over 112 candidates of 8
#: offline targets (sentence-polarity, word-language, vader-polarity, vader-valence: MiniLM layers
#: x mean/cls, random MiniLM, TF-IDF, hashing; digits10, digits-mod3, digits-loops,
#: mnist-heldout-rot180: pixels, PCA, HOG, scattering). Leave-one-target-out, the 80% interval built
#: from the other targets' quantiles covered 0.797 of the candidates (mean over targets; 0.786
#: pooled), the 90% one 0.839, the 95% one 0.943. The interval of level L uses the (1-L)/2 and
#: (1+L)/2 quantiles; the skew (measured above predicted more often) is the data's.
RESIDUAL_QUANTILES: dict[float, float] = {
    0.025: -3.113, 0.05: -2.322, 0.1: -1.723, 0.9: 0.868, 0.95: 1.654, 0.975: 2.815,
}
PREDICTION_LEVELS = (0.8, 0.9, 0.95)


@dataclass(frozen=True)
class LearningCurve:
    """The error curve ``e(m) = b * m^(-c)`` of a probe against its training size ``m``."""

    b: float
    c: float

    def error(self, size: float) -> float:
        """Predicted error (1 - score) at ``size`` training samples."""
        return float(self.b * float(size) ** (-self.c))


def fit_learning_curve(sizes: Any, errors: Any) -> LearningCurve:
    """Least-squares fit of ``log e = log b - c log m`` with ``0 <= c <= 1``.

    Errors at or below zero (a perfect score) are treated as one part in a million; a curve
    that rises with more data (noise) is fitted as flat (``c = 0``, ``b`` the geometric mean).

    Examples
    --------
    >>> curve = fit_learning_curve([100, 200, 400], [0.4, 0.4 / 2**0.5, 0.2])
    >>> round(curve.c, 3), round(curve.error(800), 4)
    (0.5, 0.1414)
    """
    m = np.asarray(sizes, dtype=float)
    e = np.asarray(errors, dtype=float)
    if m.ndim != 1 or m.shape != e.shape or m.size < 2 or np.unique(m).size < 2:
        raise InputError("a learning curve needs at least two distinct sizes, one error each")
    if not (np.all(np.isfinite(e)) and np.all(m > 0)):
        raise InputError("learning-curve sizes must be positive and errors finite")
    x, z = np.log(m), np.log(np.maximum(e, 1e-6))
    slope = float(np.polyfit(x, z, 1)[0])
    c = float(np.clip(-slope, 0.0, 1.0))
    log_b = float(np.mean(z + c * x))  # the least-squares intercept for that (clipped) slope
    return LearningCurve(b=float(np.exp(log_b)), c=c)


@dataclass(frozen=True)
class PredictedScore:
    """A predicted probe score with its calibrated interval (see the module docs)."""

    value: float
    low: float
    high: float
    level: float
    metric: str
    scale: float
    settings: dict[str, Any]

    def columns(self) -> dict[str, Any]:
        """``predicted_<metric>``, ``predicted_<metric>_low`` and ``_high`` columns."""
        name = f"predicted_{self.metric}"
        return {name: self.value, f"{name}_low": self.low, f"{name}_high": self.high}


def prediction_interval(value: float, scale: float, *, level: float = 0.8, metric: str = "accuracy",
                        quantiles: dict[float, float] | None = None) -> tuple[float, float]:
    """``[value + q_lo * scale, value + q_hi * scale]`` with the residual quantiles of ``level``.

    Examples
    --------
    >>> prediction_interval(0.75, 0.25, quantiles={0.1: -1.0, 0.9: 0.5})
    (0.5, 0.875)
    """
    table = RESIDUAL_QUANTILES if quantiles is None else quantiles
    lo_p, hi_p = round((1 - level) / 2, 6), round((1 + level) / 2, 6)
    keys = {round(k, 6): v for k, v in table.items()}
    if lo_p not in keys or hi_p not in keys:
        raise InputError(f"level must be one of {', '.join(f'{p:g}' for p in PREDICTION_LEVELS)} "
                         f"(calibrated residual quantiles), got {level!r}")
    low, high = value + keys[lo_p] * scale, value + keys[hi_p] * scale
    ceiling = 1.0
    floor = 0.0 if metric == "accuracy" else -np.inf
    return float(np.clip(low, floor, ceiling)), float(np.clip(high, floor, ceiling))


def _nested_order(indices: np.ndarray, strata: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """``indices`` in a seeded order whose every prefix is (as nearly as possible) stratified."""
    if strata is None:
        return rng.permutation(indices)
    keys = np.empty(indices.size)
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        # the k-th member of a class sorts at (k + u) / size: prefixes keep the class shares
        keys[members] = (rng.permutation(members.size) + rng.random()) / members.size
    return indices[np.argsort(keys, kind="stable")]


def predict_probe_score(
    features: Any,
    labels: Any,
    *,
    splits: Sequence[Any],
    task: Literal["classification", "regression"] = "classification",
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    n_splits: int = 4,
    level: float = 0.8,
    seed: int = 0,
    quantiles: dict[float, float] | None = None,
) -> PredictedScore:
    """Predict the repeated-split linear probe's score from probes on subsamples (module docs).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    splits : sequence of (train, val, test)
        The probe's splits (e.g. ``Dataset.repeated_splits()``); the first ``n_splits`` are used.
    task : {"classification", "regression"}
    fractions : sequence of float
        Shares of each split's training and validation parts fitted on (at least two, in (0, 1)).
    n_splits : int, default=4
    level : {0.8, 0.9, 0.95}
        Coverage the interval is calibrated for.
    seed : int, default=0
        Seeds the nested subsamples.
    quantiles : dict, optional
        Residual quantiles to calibrate with instead of :data:`RESIDUAL_QUANTILES`.

    Returns
    -------
    PredictedScore

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.datasets import Dataset
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 100)
    >>> x = rng.normal(size=(200, 5)) + 0.8 * y[:, None]
    >>> splits = Dataset("toy", x, y, "classification").repeated_splits()
    >>> p = predict_probe_score(x, y, splits=splits)
    >>> p.metric, 0.5 < p.value < 1, p.low <= p.value <= p.high
    ('accuracy', True, True)
    """
    # scikit-learn only when a prediction is computed: a cached rerun reads the interval without it
    from transferscope.probes.linear import linear_probe
    from transferscope.probes.repeated import corrected_standard_error, split_triples

    triples = split_triples(splits)
    fracs = sorted(float(f) for f in fractions)
    if len(fracs) < 2 or len(set(fracs)) < len(fracs) or not all(0 < f < 1 for f in fracs):
        raise InputError(f"fractions must be at least two distinct shares in (0, 1), got {list(fractions)!r}")
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise InputError(f"n_splits must be an integer >= 2, got {n_splits!r}")
    y = np.asarray(labels)
    strata = y if task == "classification" else None
    rng = np.random.default_rng(seed)
    used = triples[: int(n_splits)]
    curves = []  # per split: (sizes, scores)
    metric = "accuracy" if task == "classification" else "r2"
    for train, val, test in used:
        train, val, test = (np.asarray(a, dtype=np.int64) for a in (train, val, test))
        order_t = _nested_order(train, None if strata is None else strata[train], rng)
        order_v = _nested_order(val, None if strata is None else strata[val], rng)
        sizes, scores = [], []
        for f in fracs:
            sub_t = np.sort(order_t[: max(2, int(round(f * train.size)))])
            sub_v = np.sort(order_v[: max(1, int(round(f * val.size)))])
            if strata is not None and np.unique(strata[sub_t]).size < np.unique(strata[train]).size:
                continue  # a class missing from the subsample: that fraction is too small here
            result = linear_probe(features, y, splits=(sub_t, sub_v, test), task=task)
            sizes.append(sub_t.size + sub_v.size)
            scores.append(result.score)
        curves.append((np.asarray(sizes, float), np.asarray(scores, float), train.size + val.size, test.size))
    if any(c[0].size < 2 for c in curves):
        raise InputError("too few samples to predict the probe from subsamples: each fraction of the training "
                         "part must hold every class; give more data or larger fractions")
    # The pooled curve: mean score per fraction over splits (sizes agree up to rounding).
    sizes = np.mean([c[0] for c in curves if c[0].size == len(fracs)] or [curves[0][0]], axis=0)
    k = min(c[1].size for c in curves)
    mean_scores = np.mean([c[1][-k:] for c in curves], axis=0)
    full = float(np.mean([c[2] for c in curves]))
    curve = fit_learning_curve(sizes[-k:], 1.0 - mean_scores)
    value = 1.0 - curve.error(full)  # < 1: the fitted error is positive
    # Per-split extrapolations with the pooled exponent: the prediction's own noise.
    per_split = [1.0 - (1.0 - c[1][-1]) * (c[2] / c[0][-1]) ** (-curve.c) for c in curves]
    n_test = int(np.mean([c[3] for c in curves]))
    scale = max(corrected_standard_error(per_split, n_train=int(full), n_test=n_test), 1.0 / n_test)
    low, high = prediction_interval(value, scale, level=level, metric=metric, quantiles=quantiles)
    settings = {"predictor": "learning_curve", "fractions": fracs, "n_splits": len(used), "sizes": sizes.tolist(),
                "curve_scores": mean_scores.tolist(), "exponent": curve.c, "full_size": full,
                "per_split": [float(p) for p in per_split], "split_curves": [c[1].tolist() for c in curves],
                "n_test": n_test, "seed": int(seed)}
    return PredictedScore(value=value, low=low, high=high, level=float(level), metric=metric, scale=float(scale),
                          settings=settings)
