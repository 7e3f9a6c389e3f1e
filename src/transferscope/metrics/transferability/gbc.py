"""GBC: Gaussian Bhattacharyya Coefficient between the classes.

Pándy, Agostinelli, Uijlings, Ferrari & Mensink, "Transferability Estimation
using Bhattacharyya Class Separability", CVPR 2022.

Each class ``c`` is modelled by a Gaussian ``N(mu_c, Sigma_c)`` with ``mu_c`` the
class mean and ``Sigma_c`` either diagonal (the per-dimension variances) or
spherical (``sigma_c^2 I`` with ``sigma_c^2`` the mean of those variances). With
``Sigma = (Sigma_i + Sigma_j) / 2`` the Bhattacharyya distance and coefficient are

    D_B(i, j) = 1/8 (mu_i - mu_j)^T Sigma^-1 (mu_i - mu_j)
                + 1/2 log( det Sigma / sqrt(det Sigma_i det Sigma_j) ),
    BC(i, j)  = exp(-D_B(i, j)),
    GBC       = - sum_{i != j} BC(i, j)        (over ordered pairs),

so GBC lies in ``[-C (C - 1), 0]`` and is 0 for perfectly separated classes.

Variances are population variances (divided by ``N_c``), floored at
``min_variance`` (default 1e-4, the reference implementation's constant) *per
dimension* before any averaging. This is what keeps one-sample classes and
constant dimensions finite; it is an absolute floor, so GBC depends on the
scale of the features.

Difference from the reference implementation (google-research
``stable_transfer/transferability/gbc.py``): for spherical Gaussians it omits the
factor ``D`` of the log-determinant term (``log det(s I_D) = D log s``); here it
is kept, so the spherical score is the Bhattacharyya coefficient of the
spherical Gaussians. Diagonal scores agree with the reference.

The paper's experiments first reduce the features to 64 dimensions with PCA;
``pca_dim`` does the same (see :func:`gbc`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.spatial.distance import pdist

from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
    check_positive_float,
    check_positive_int,
)
from transferscope.metrics.registry import MetricInfo
from transferscope.metrics.transferability._classwise import class_sums, one_hot

__all__ = ["gbc", "gbc_spherical"]


def _class_moments(feats: np.ndarray, codes: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class means and population variances, each ``(C, D)`` (two passes)."""
    onehot = one_hot(codes, n_classes)
    counts = np.bincount(codes, minlength=n_classes)[:, None]
    means = class_sums(onehot, feats) / counts
    dev = means[codes]
    np.subtract(feats, dev, out=dev)
    np.multiply(dev, dev, out=dev)
    return means, class_sums(onehot, dev) / counts


def gbc(
    features: Any,
    labels: Any,
    *,
    covariance: Literal["diagonal", "spherical"] = "diagonal",
    pca_dim: int | None = None,
    min_variance: float = 1e-4,
) -> float:
    """Gaussian Bhattacharyya Coefficient score (higher is better, at most 0).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    covariance : {"diagonal", "spherical"}, default="diagonal"
        Covariance of each class Gaussian: the per-dimension variances, or their
        mean times the identity.
    pca_dim : int or None, default=None
        If given, first project the features on their top ``pca_dim`` principal
        components (:class:`sklearn.decomposition.PCA`, full SVD), as the paper
        does with 64. It is capped at ``min(N, D)``; note that even
        ``pca_dim >= D`` rotates the features, which changes the diagonal score.
    min_variance : float, default=1e-4
        Floor on every per-class, per-dimension variance (the reference
        implementation's constant), so that one-sample classes and constant
        dimensions give finite distances.

    Returns
    -------
    float
        ``-sum_{i != j} exp(-D_B(i, j))`` over ordered class pairs, in
        ``[-C (C - 1), 0]``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.gbc import gbc
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 50)
    >>> good = rng.normal(size=(150, 8)) + 3.0 * np.eye(3, 8)[y]
    >>> bad = rng.normal(size=(150, 8))
    >>> gbc(good, y) > gbc(bad, y)
    True
    >>> round(gbc(bad, y), 1)  # overlapping classes: close to -C (C - 1) = -6
    -5.5
    """
    covariance = check_choice(covariance, ("diagonal", "spherical"), name="covariance")
    feats = check_features(features)
    n, d = feats.shape
    codes, classes = check_classification_labels(labels, n)
    n_classes = classes.shape[0]
    min_variance = check_positive_float(min_variance, name="min_variance")
    if pca_dim is not None:
        pca_dim = check_positive_int(pca_dim, name="pca_dim")
        from sklearn.decomposition import PCA  # lazily: sklearn costs ~0.5 s to import

        feats = PCA(n_components=min(pca_dim, n, d), svd_solver="full").fit_transform(feats)
        d = feats.shape[1]
    means, variances = _class_moments(feats, codes, n_classes)
    variances = np.maximum(variances, min_variance)
    if covariance == "spherical":
        variances = variances.mean(axis=1, keepdims=True)  # sigma_c^2, shape (C, 1)
    log_var = np.log(variances)
    # BC(i, j) = BC(j, i) exactly (every term is symmetric in i and j), so the sum
    # over ordered pairs is twice the sum over i < j.
    if covariance == "spherical":
        var, log_var = variances[:, 0], log_var[:, 0]
        i, j = np.triu_indices(n_classes, 1)  # the order of pdist's condensed output
        avg = 0.5 * (var[i] + var[j])
        mahalanobis = pdist(means, "sqeuclidean") / avg / 8.0
        # log det over D dimensions: D times the one value for spherical covariances.
        log_det = d * (np.log(avg) - 0.5 * (log_var[i] + log_var[j]))
        return -2.0 * float(np.exp(-(mahalanobis + 0.5 * log_det)).sum())
    log_det_classes = log_var.sum(axis=1)
    total = 0.0
    for i in range(n_classes - 1):
        avg = 0.5 * (variances[i] + variances[i + 1:])  # (C - 1 - i, D)
        diff = means[i] - means[i + 1:]
        mahalanobis = np.einsum("ij,ij->i", diff, diff / avg) / 8.0
        log_det = np.log(avg).sum(axis=1) - 0.5 * (log_det_classes[i] + log_det_classes[i + 1:])
        total += float(np.exp(-(mahalanobis + 0.5 * log_det)).sum())
    return -2.0 * total


def gbc_spherical(
    features: Any, labels: Any, *, pca_dim: int | None = None, min_variance: float = 1e-4
) -> float:
    """GBC with spherical class Gaussians: ``gbc(..., covariance="spherical")``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.gbc import gbc_spherical
    >>> y = np.repeat([0, 1], 20)
    >>> f = np.random.default_rng(0).normal(size=(40, 4)) + 10.0 * y[:, None]
    >>> gbc_spherical(f, y) > -1e-6  # far apart classes: BC -> 0
    True
    """
    return gbc(features, labels, covariance="spherical", pca_dim=pca_dim, min_variance=min_variance)


_CITATION = (
    "Pándy, Agostinelli, Uijlings, Ferrari & Mensink, Transferability Estimation using "
    "Bhattacharyya Class Separability, CVPR 2022"
)

METRICS = [
    MetricInfo(
        name="gbc",
        family="transferability",
        func=gbc,
        summary="Minus the sum over class pairs of the Bhattacharyya coefficient of per-class "
        "Gaussians (diagonal covariance; covariance='spherical' for spherical).",
        citation=_CITATION,
        task_types=("classification",),
        complexity="O(N D + C^2 D), plus O(N D min(N, D)) with pca_dim",
        unreliable_when="feature scale is tiny: the absolute variance floor (min_variance) dominates",
    ),
    MetricInfo(
        name="gbc_spherical",
        family="transferability",
        func=gbc_spherical,
        summary="Minus the sum over class pairs of the Bhattacharyya coefficient of per-class "
        "spherical Gaussians.",
        citation=_CITATION,
        task_types=("classification",),
        complexity="O(N D + C^2 D), plus O(N D min(N, D)) with pca_dim",
        unreliable_when="feature scale is tiny: the absolute variance floor (min_variance) dominates",
    ),
]
