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

Normalisation (``variant``): ``S`` and ``G`` are both formed with ``1 / N`` (the
normalisation of scikit-learn's Ledoit-Wolf estimate), so that the score is bounded
by the plain H-score and equals it when ``alpha = 0``. The widely used implementation
in Transfer-Learning-Library (``tllib.ranking.hscore.regularized_h_score``) forms
``G`` with ``np.cov`` (``1 / (N - 1)``) but ``S`` with ``1 / N``, so its values are
this score times ``N / (N - 1)`` and can exceed ``C - 1`` slightly;
``variant="tllib"`` returns that value. No code by the paper's authors is public:
values reported from tllib (its model-ranking benchmarks and papers that ran it) are
``variant="tllib"``. The factor is the same for every model scored on one data set,
so rankings and rank correlations are identical under both conventions; only the raw
values differ, by ``1 / (N - 1)`` relative.

Computation: one Gram matrix of the centred features (``F^T F``, or ``F F^T`` when
``N < D``) serves both the Ledoit-Wolf shrinkage and the eigenbasis in which the
trace is evaluated. The shrinkage is scikit-learn's formula
(:func:`sklearn.covariance.ledoit_wolf_shrinkage`) written with that Gram matrix,
``||S||_F^2 = ||F^T F||_F^2 / N^2 = ||F F^T||_F^2 / N^2``, and the row norms,
``sum_ij (F^2)^T F^2 = sum_k ||f_k||^4``, instead of its two further ``D x D``
products of the squared and the plain features.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.linalg import cholesky, solve_triangular

from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
)
from transferscope.metrics.registry import MetricInfo
from transferscope.metrics.transferability._classwise import class_sums, one_hot

__all__ = ["shrinkage_hscore"]

#: Below this bound on the condition number of Sigma_alpha the trace is evaluated by a
#: Cholesky solve; above it (little shrinkage), in the eigenbasis of S.
_MAX_CHOLESKY_CONDITION = 1e4


def _ledoit_wolf_shrinkage(gram: np.ndarray, row_norms2: np.ndarray, n: int, d: int) -> float:
    """scikit-learn's Ledoit-Wolf shrinkage of centred features ``F`` from their Gram
    matrix (``F^T F`` or ``F F^T``) and the squared row norms ``||f_k||^2``."""
    if d == 1:
        return 0.0  # one feature: the result is the same whatever the shrinkage
    emp_cov_trace = float(row_norms2.sum()) / n  # tr(S)
    mu = emp_cov_trace / d
    beta_ = float(np.dot(row_norms2, row_norms2))  # sum of the entries of (F^2)^T F^2
    delta_ = float(np.einsum("ij,ij->", gram, gram)) / n**2  # ||S||_F^2
    beta = 1.0 / (d * n) * (beta_ / n - delta_)
    delta = (delta_ - 2.0 * mu * emp_cov_trace + d * mu**2) / d  # ||S - mu I||_F^2 / D
    beta = min(beta, delta)
    return 0.0 if beta == 0 else beta / delta


def shrinkage_hscore(features: Any, labels: Any, *, variant: Literal["default", "tllib"] = "default") -> float:
    """Shrinkage (regularised) H-score of features for a classification target.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    variant : {"default", "tllib"}, default="default"
        ``"default"``: the between-class covariance ``G`` normalised by ``1 / N``,
        like the Ledoit-Wolf covariance (bounded by the plain H-score).
        ``"tllib"``: ``G`` normalised by ``1 / (N - 1)`` as in
        ``tllib.ranking.hscore.regularized_h_score``, i.e. the default times
        ``N / (N - 1)``: the convention of values reported from tllib. Rankings
        of models on one data set are the same under both.

    Returns
    -------
    float
        ``(1 - alpha) tr(Sigma_alpha^-1 G)`` with the Ledoit-Wolf covariance
        ``Sigma_alpha`` (see the module docstring); higher is better, in
        ``[0, C - 1]`` (times ``N / (N - 1)`` for ``variant="tllib"``).

    Notes
    -----
    The shrinkage intensity is that of
    :func:`sklearn.covariance.ledoit_wolf_shrinkage` on the centred features.
    When ``N >= D`` and the shrinkage bounds the condition number of
    ``Sigma_alpha`` below 1e4, the trace is one Cholesky solve; otherwise it is
    evaluated in the eigenbasis of ``F^T F`` (``N >= D``) or of the Gram matrix
    ``F F^T`` (``N < D``; the class means lie in the row space of ``F``, so the
    null space of ``S`` contributes nothing).

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
    >>> bool(np.isclose(shrinkage_hscore(good, y, variant="tllib"), shrinkage_hscore(good, y) * 30 / 29))
    True
    """
    variant = check_choice(variant, ("default", "tllib"), name="variant")
    feats = check_features(features, scale="rescale")  # scale-invariant
    n, d = feats.shape
    codes, classes = check_classification_labels(labels, n)
    n_classes = classes.shape[0]
    feats -= feats.mean(axis=0)
    row_norms2 = np.einsum("ij,ij->i", feats, feats)
    mu = float(row_norms2.sum()) / (n * d)
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    onehot = one_hot(codes, n_classes)
    gram = feats.T @ feats if n >= d else feats @ feats.T
    alpha = _ledoit_wolf_shrinkage(gram, row_norms2, n, d)
    gram /= n
    eps = np.finfo(np.float64).eps
    if n >= d and mu > 0.0 and alpha > 0.0 and (1.0 + (1.0 - alpha) * d / alpha) < _MAX_CHOLESKY_CONDITION:
        # Sigma_alpha is well conditioned (lam_max(S) <= tr S = D mu bounds its condition
        # number by 1 + (1 - alpha) D / alpha): a Cholesky solve gives the quadratic forms
        # to ~1e-12 relative, with no eigenvalue small enough to be clipped below.
        sigma = (1.0 - alpha) * gram
        sigma.flat[:: d + 1] += alpha * mu
        chol = cholesky(sigma, lower=True, check_finite=False)
        means = class_sums(onehot, feats) / counts[:, None]
        half = solve_triangular(chol, means.T, lower=True, check_finite=False)  # L^-1 m_c
        quad = np.einsum("ij,ij->j", half, half)  # m_c^T Sigma_alpha^-1 m_c
        score = float((1.0 - alpha) * np.dot(counts, quad) / n)
        return score * n / (n - 1) if variant == "tllib" else score
    if n >= d:
        lam, vec = np.linalg.eigh(gram)
        proj = (class_sums(onehot, feats) / counts[:, None]) @ vec  # class means in the eigenbasis of S
    else:
        lam, u = np.linalg.eigh(gram)
        lam = np.maximum(lam, 0.0)
        # m_c^T v_k = sqrt(N lam_k) * mean of u_k over class c, v_k = F^T u_k / sqrt(N lam_k)
        proj = (class_sums(onehot, u) / counts[:, None]) * np.sqrt(n * lam)
    denom = (1.0 - alpha) * np.maximum(lam, 0.0) + alpha * mu
    keep = denom > denom.max() * max(n, d) * eps
    if not keep.any():
        return 0.0  # constant features
    quad = np.sum(proj[:, keep] ** 2 / denom[keep], axis=1)  # m_c^T Sigma_alpha^-1 m_c
    score = float((1.0 - alpha) * np.dot(counts, quad) / n)
    return score * n / (n - 1) if variant == "tllib" else score


METRICS = [
    MetricInfo(
        name="shrinkage_hscore",
        scale_invariant=True,
        family="transferability",
        func=shrinkage_hscore,
        summary="(1-a) tr(cov_a(F)^-1 cov(E[F|y])) with the Ledoit-Wolf shrunk covariance cov_a.",
        citation="Ibrahim, Ponomareva & Mazumder, Newer is not always better: Rethinking "
        "transferability metrics, their peculiarities, stability and performance, ECML-PKDD 2022",
        task_types=("classification",),
        complexity="O(N D^2 + min(N, D)^3)",
    )
]
