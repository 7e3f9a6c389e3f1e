"""TransRate: the coding-rate reduction from knowing the labels.

Huang, Huang, Rong, Yang & Wei, "Frustratingly Easy Transferability
Estimation", ICML 2022.

With the features ``Z`` centred (over all samples), ``Z_c`` the rows of class
``c`` and ``N_c`` their number,

    R(Z, eps) = 1/2 log det( I_D + Z^T Z / (N eps) ),
    TrR(Z, y) = R(Z, eps) - 1/C sum_c R(Z_c, eps).

This is the normalisation of the authors' released code (and of
``tllib.ranking.transrate``), ``eps = 1e-4``. The paper writes the coding rate as
``1/2 log det(I + D / (N eps'^2) Z^T Z)``; the two agree for ``eps'^2 = D eps``.
Also as in that code, the class term is the plain average over classes (not
weighted by ``N_c / N``), and the features are not rescaled, so the score
depends on their scale.

Each log-determinant is computed from the eigenvalues of the smaller of the
``D x D`` matrix ``Z^T Z`` and the Gram matrix ``Z Z^T``
(``det(I + a Z^T Z) = det(I + a Z Z^T)``).

Reading the value: while the feature variances dwarf ``eps``, each rate is about
``1/2 sum_k log s_k - 1/2 rank(Z) log(N eps)`` (``s_k`` the nonzero eigenvalues of
``Z^T Z``), so the score contains ``1/2 log(1/eps) (rank Z - mean_c rank Z_c)``, a
term set by the counts and ``D`` alone (ranks ``min(N - 1, D)`` and ``min(N_c, D)``
for generic features). It is the same for all features of one dimension on one
data set, so scores rank models of equal ``D`` by their spectra, but it dominates
when ``N <= D`` and biases comparisons across different ``D``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from transferscope.metrics._validation import (
    check_classification_labels,
    check_features,
    check_positive_float,
)
from transferscope.metrics.registry import MetricInfo

__all__ = ["transrate"]


def _coding_rate(z: np.ndarray, eps: float) -> float:
    """``1/2 log det(I + Z^T Z / (n eps))`` via the smaller of Z^T Z and Z Z^T."""
    n, d = z.shape
    gram = z.T @ z if d <= n else z @ z.T
    s = np.maximum(np.linalg.eigvalsh(gram), 0.0)
    return 0.5 * float(np.sum(np.log1p(s / (n * eps))))


def transrate(features: Any, labels: Any, *, eps: float = 1e-4) -> float:
    """TransRate of features for a classification target (higher is better).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    eps : float, default=1e-4
        Distortion of the coding rate, in the normalisation of the reference
        code: ``R(Z) = 1/2 log det(I + Z^T Z / (N eps))``.

    Returns
    -------
    float
        ``R(Z, eps) - mean_c R(Z_c, eps)`` in nats, with ``Z`` the centred
        features.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.transrate import transrate
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 50)
    >>> good = rng.normal(size=(150, 8)) + 3.0 * np.eye(3, 8)[y]
    >>> bad = rng.normal(size=(150, 8))
    >>> transrate(good, y) > transrate(bad, y)
    True
    """
    feats = check_features(features)
    n = feats.shape[0]
    codes, classes = check_classification_labels(labels, n)
    eps = check_positive_float(eps, name="eps")
    feats -= feats.mean(axis=0)
    # The rows of each class as one contiguous block of a class-sorted copy.
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=classes.shape[0]))))
    by_class = feats[order]
    class_rates = [_coding_rate(by_class[start:stop], eps) for start, stop in zip(bounds[:-1], bounds[1:])]
    return float(_coding_rate(feats, eps) - np.mean(class_rates))


METRICS = [
    MetricInfo(
        name="transrate",
        family="transferability",
        func=transrate,
        summary="Coding rate of the centred features minus the mean coding rate within classes.",
        citation="Huang et al., Frustratingly Easy Transferability Estimation, ICML 2022",
        task_types=("classification",),
        complexity="O(N D min(N, D) + min(N, D)^3)",
        unreliable_when="comparing features of different D, or N <= D: a term "
        "1/2 log(1/eps) (rank Z - mean rank Z_c) set by counts and D dominates",
    )
]
