"""H-score: how much of the feature covariance is explained by the class means.

Bao, Li, Huang, Zheng, Wornell & Zheng, "An Information-Theoretic Approach to
Transferability in Task Transfer Learning", ICIP 2019.

    H(F, y) = tr( cov(F)^+ cov(E[F | y]) )

``cov(E[F | y])`` is the covariance of the per-sample class means. The score
lies in ``[0, C - 1]``. When ``N - 1 <= D`` the sample covariance is singular
and the score saturates at ``C - 1`` for *any* features (random ones
included): a warning is emitted, and the shrinkage H-score should be used
instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from transferscope.metrics._validation import (
    check_classification_labels,
    check_features,
)
from transferscope.metrics.registry import MetricInfo
from transferscope.metrics.transferability._classwise import class_sums, one_hot

__all__ = ["hscore"]


def hscore(features: Any, labels: Any) -> float:
    """H-score of features for a classification target (higher is better).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.

    Returns
    -------
    float
        ``tr(pinv(cov(F)) @ cov(class means))``, in ``[0, C - 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.hscore import hscore
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 100)
    >>> round(hscore(rng.normal(size=(300, 4)) + 4.0 * np.eye(3, 4)[y], y), 2)
    1.72
    """
    feats = check_features(features, scale="rescale")  # scale-invariant
    n, d = feats.shape
    codes, classes = check_classification_labels(labels, n)
    n_classes = classes.shape[0]
    if n - 1 <= d:
        warnings.warn(
            f"H-score is unreliable when samples ({n}) do not exceed dimensions ({d}): "
            f"the sample covariance is singular and the score saturates at C - 1 = {n_classes - 1}",
            RuntimeWarning,
            stacklevel=2,
        )
    feats -= feats.mean(axis=0)
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    means = class_sums(one_hot(codes, n_classes), feats) / counts[:, None]
    cov_f = feats.T @ feats / (n - 1)
    eigval, eigvec = np.linalg.eigh(cov_f)
    keep = eigval > eigval.max() * max(n, d) * np.finfo(np.float64).eps
    if not keep.any():
        return 0.0
    whitened = (means @ eigvec[:, keep]) / np.sqrt(eigval[keep])
    return float(np.sum(counts[:, None] * whitened**2) / (n - 1))


METRICS = [
    MetricInfo(
        name="hscore",
        scale_invariant=True,
        family="transferability",
        func=hscore,
        summary="tr(cov(F)^+ cov(E[F|y])): feature variance explained by class means.",
        citation="Bao et al., An Information-Theoretic Approach to Transferability in "
        "Task Transfer Learning, ICIP 2019",
        task_types=("classification",),
        complexity="O(N D^2 + D^3)",
        unreliable_when="N <= D + 1 (saturates at C - 1)",
    )
]
