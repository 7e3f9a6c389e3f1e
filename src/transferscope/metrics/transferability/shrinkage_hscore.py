"""Shrinkage H-score: the H-score with a Ledoit-Wolf estimate of the feature covariance.

Ibrahim, Ponomareva & Mazumder, "Newer is not always better: Rethinking
transferability metrics, their peculiarities, stability and performance",
ECML-PKDD 2022.

With the features ``F`` centred, ``S = F^T F / N`` their covariance, ``G`` the
covariance of the per-sample class means and ``alpha`` the Ledoit-Wolf shrinkage
intensity of ``F``,

    Sigma_alpha = (1 - alpha) S + alpha mu I,     mu = tr(S) / D,
    H_alpha(F, y) = tr( Sigma_alpha^-1 (1 - alpha) G ),
    G = sum_c (N_c / N) m_c m_c^T                 (m_c: mean of class c).

The between-class covariance is shrunk by the same ``1 - alpha`` as ``S``, as in
the paper. ``Sigma_alpha`` is invertible as soon as ``alpha > 0``, so unlike the
plain H-score the value does not saturate at ``C - 1`` when ``N <= D``; it lies in
``[0, H]`` where ``H <= C - 1`` is the plain H-score, and equals ``H`` when
``alpha = 0``.

Normalisation: ``S`` and ``G`` are both formed with ``1 / N`` (the normalisation
of scikit-learn's Ledoit-Wolf estimate). The widely used implementation in
Transfer-Learning-Library (``tllib.ranking.hscore.regularized_h_score``) forms
``G`` with ``1 / (N - 1)`` but ``S`` with ``1 / N``, so its values are this score
times ``N / (N - 1)`` and can exceed ``C - 1`` slightly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.covariance import ledoit_wolf_shrinkage

from transferscope.metrics._validation import (
    check_classification_labels,
    check_features,
)
from transferscope.metrics.registry import MetricInfo

__all__ = ["shrinkage_hscore"]


def shrinkage_hscore(features: Any, labels: Any) -> float:
    """Shrinkage (regularised) H-score of features for a classification target.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.

    Returns
    -------
    float
        ``(1 - alpha) tr(Sigma_alpha^-1 G)`` with the Ledoit-Wolf covariance
        ``Sigma_alpha`` (see the module docstring); higher is better, in
        ``[0, C - 1]``.

    Notes
    -----
    The shrinkage intensity is :func:`sklearn.covariance.ledoit_wolf_shrinkage`
    of the centred features. The trace is evaluated in the eigenbasis of
    ``F^T F`` (``N >= D``) or of the Gram matrix ``F F^T`` (``N < D``; the class
    means lie in the row space of ``F``, so the null space of ``S`` contributes
    nothing).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.shrinkage_hscore import shrinkage_hscore
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 10)  # 30 samples in 100 dimensions
    >>> good = rng.normal(size=(30, 100)) + 3.0 * np.eye(3, 100)[y]
    >>> bad = rng.normal(size=(30, 100))
    >>> shrinkage_hscore(good, y) > shrinkage_hscore(bad, y)
    True
    """
    feats = check_features(features)
    n, d = feats.shape
    codes, classes = check_classification_labels(labels, n)
    n_classes = classes.shape[0]
    feats -= feats.mean(axis=0)
    alpha = float(ledoit_wolf_shrinkage(feats, assume_centered=True))
    mu = float(np.einsum("ij,ij->", feats, feats)) / (n * d)
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    if n >= d:
        lam, vec = np.linalg.eigh(feats.T @ feats / n)
        class_sums = np.zeros((n_classes, d))
        np.add.at(class_sums, codes, feats)
        proj = (class_sums / counts[:, None]) @ vec  # class means in the eigenbasis of S
    else:
        lam, u = np.linalg.eigh(feats @ feats.T / n)
        lam = np.maximum(lam, 0.0)
        # m_c^T v_k = sqrt(N lam_k) * mean of u_k over class c, v_k = F^T u_k / sqrt(N lam_k)
        class_sums = np.zeros((n_classes, n))
        np.add.at(class_sums, codes, u)
        proj = (class_sums / counts[:, None]) * np.sqrt(n * lam)
    denom = (1.0 - alpha) * np.maximum(lam, 0.0) + alpha * mu
    keep = denom > denom.max() * max(n, d) * np.finfo(np.float64).eps
    if not keep.any():
        return 0.0  # constant features
    quad = np.sum(proj[:, keep] ** 2 / denom[keep], axis=1)  # m_c^T Sigma_alpha^-1 m_c
    return float((1.0 - alpha) * np.dot(counts, quad) / n)


METRICS = [
    MetricInfo(
        name="shrinkage_hscore",
        family="transferability",
        func=shrinkage_hscore,
        summary="(1-a) tr(cov_a(F)^-1 cov(E[F|y])) with the Ledoit-Wolf shrunk covariance cov_a.",
        citation="Ibrahim, Ponomareva & Mazumder, Newer is not always better: Rethinking "
        "transferability metrics, their peculiarities, stability and performance, ECML-PKDD 2022",
        task_types=("classification",),
        complexity="O(N D^2 + min(N, D)^3)",
    )
]
