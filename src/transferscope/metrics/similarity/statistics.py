"""Statistical dependence and pairwise alignment between two representations.

- :func:`distance_correlation`: Székely et al.'s distance correlation, zero only
  for independent representations (in the population), from the double-centred
  ``N x N`` Euclidean distance matrices (``O(N^2)`` memory).
- :func:`alignment`: Wang & Isola's alignment, the mean distance between the
  unit-normalised rows ``x_i`` and ``y_i`` of two views in the same space.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import pdist, squareform

from transferscope.errors import InputError
from transferscope.metrics._validation import check_paired_features, check_pairwise_memory, check_positive_float
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo

__all__ = ["distance_correlation", "alignment"]


def _centred_distances(points: np.ndarray, bias_corrected: bool) -> np.ndarray:
    """Double-centred (or U-centred, zero diagonal) Euclidean distance matrix, ``N x N``."""
    n = points.shape[0]
    check_pairwise_memory(n, 2.5, measure="distance_correlation")  # pdist + squareform, for X then Y
    dist = squareform(pdist(points))
    if not bias_corrected:
        means = dist.mean(axis=1)  # symmetric: row means = column means
        dist -= means[:, None]
        dist -= means[None, :]
        dist += means.mean()
        return dist
    sums = dist.sum(axis=1)
    total = sums.sum()
    dist -= sums[:, None] / (n - 2)
    dist -= sums[None, :] / (n - 2)
    dist += total / ((n - 1) * (n - 2))
    np.fill_diagonal(dist, 0.0)
    return dist


def distance_correlation(X: Any, Y: Any, *, bias_corrected: bool = False) -> float:
    """Distance correlation between two representations (Székely, Rizzo & Bakirov 2007).

    With ``a_ij = ||x_i - x_j||`` double-centred to ``A = H a H`` (and ``B``
    likewise from ``Y``),

        dCov^2 = mean(A ∘ B),   dCor = sqrt(dCov^2(X, Y) / sqrt(dCov^2(X, X) dCov^2(Y, Y))),

    defined as 0 when either representation is constant.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    bias_corrected : bool, default=False
        Return instead the bias-corrected *squared* distance correlation
        ``R*^2`` (Székely & Rizzo 2014): the same ratio of U-centred
        inner products ``sum_{i != j} A~_ij B~_ij / (N (N - 3))``, unbiased for
        the population ``dCor^2``. It can be negative and is not square-rooted.
        Needs at least 4 samples.

    Returns
    -------
    float
        ``dCor`` in ``[0, 1]``: 0 for independent samples in the limit, 1 when
        ``Y`` is a similarity transform of ``X``. With ``bias_corrected``,
        ``R*^2`` in ``[-1, 1]``.

    References
    ----------
    Székely, Rizzo & Bakirov, Measuring and testing dependence by correlation of
    distances, Annals of Statistics 2007; Székely & Rizzo, Partial distance
    correlation with methods for dissimilarities, Annals of Statistics 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.statistics import distance_correlation
    >>> x = np.linspace(-1, 1, 201)[:, None]
    >>> round(distance_correlation(x, 3 * x + 1), 12)
    1.0
    >>> 0.2 < distance_correlation(x, x**2) < 0.6  # dependent although uncorrelated
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    if not isinstance(bias_corrected, (bool, np.bool_)):
        raise InputError(f"bias_corrected must be True or False, got {bias_corrected!r}")
    n = x.shape[0]
    if bias_corrected and n < 4:
        raise InputError(f"distance_correlation with bias_corrected=True needs at least 4 samples, got {n}")
    a = _centred_distances(x, bool(bias_corrected))
    b = _centred_distances(y, bool(bias_corrected))
    # Normalisation (1/N^2, or 1/(N(N-3)) for U-centred) cancels in the ratio.
    cov, var_x, var_y = np.vdot(a, b), np.vdot(a, a), np.vdot(b, b)
    if var_x <= 0 or var_y <= 0:
        return 0.0
    ratio = cov / np.sqrt(var_x * var_y)
    return float(ratio) if bias_corrected else float(np.sqrt(max(ratio, 0.0)))


def alignment(X: Any, Y: Any, *, alpha: float = 2.0) -> float:
    """Alignment of positive pairs (Wang & Isola 2020): mean distance between normalised pairs.

    ``align(X, Y) = 1/N sum_i || x_i / |x_i| - y_i / |y_i| ||_2^alpha``.
    ``X`` and ``Y`` hold two views of the same inputs embedded in the same space
    (e.g. two augmentations, or a query and its document), so they need the
    same number of columns. Lower is better aligned.

    Parameters
    ----------
    X : array-like of shape (n_samples, d)
    Y : array-like of shape (n_samples, d)
    alpha : float, default=2.0
        Exponent of the distances; must be > 0.

    Returns
    -------
    float
        In ``[0, 2^alpha]``; 0 when every pair points the same way.

    References
    ----------
    Wang & Isola, Understanding Contrastive Representation Learning through
    Alignment and Uniformity on the Hypersphere, ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.statistics import alignment
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> alignment(X, np.array([[3.0, 0.0], [0.0, -1.0]]))  # (0 + 2^2) / 2
    2.0
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    if x.shape[1] != y.shape[1]:
        raise InputError(
            f"alignment compares two views in the same space: X has {x.shape[1]} columns but Y has {y.shape[1]}"
        )
    alpha = check_positive_float(alpha, name="alpha")
    units = []
    for points, name in ((x, "X"), (y, "Y")):
        norms = np.linalg.norm(points, axis=1, keepdims=True)
        zero = np.flatnonzero(norms[:, 0] == 0)
        if zero.size:
            raise InputError(f"{name} row {int(zero[0])} is all zeros and has no direction")
        units.append(points / norms)
    return float(np.mean(np.linalg.norm(units[0] - units[1], axis=1) ** alpha))


METRICS = [
    MetricInfo(
        name="distance_correlation",
        family="similarity",
        func=distance_correlation,
        summary="Distance correlation dCor: dependence from double-centred Euclidean distance matrices.",
        citation="Székely, Rizzo & Bakirov, Measuring and testing dependence by correlation of "
        "distances, Annals of Statistics 2007",
        complexity="O(N^2 (d_x + d_y)) time, O(N^2) memory",
        unreliable_when="high dimension relative to N (dCor drifts toward 1 even for independent "
        "data: use bias_corrected=True); N above ~10^4 (N^2 memory)",
        measure=MeasureProperties(
            kind="similarity",
            symmetric=True,
            is_metric=False,
            range=(0.0, 1.0),
            identity=1.0,
            invariant=Invariances.all_except("invertible_linear"),
        ),
    ),
    MetricInfo(
        name="alignment",
        family="similarity",
        func=alignment,
        summary="Mean squared distance between unit-normalised paired rows x_i, y_i (same space).",
        citation="Wang & Isola, Understanding Contrastive Representation Learning through Alignment "
        "and Uniformity on the Hypersphere, ICML 2020",
        higher_is_better=False,
        complexity="O(N D)",
        unreliable_when="X and Y are not in the same space (different models: use a similarity "
        "measure instead); alone it rewards collapse (pair it with uniformity)",
        measure=MeasureProperties(
            kind="distance",
            symmetric=True,
            is_metric=False,
            range=(0.0, 4.0),
            identity=0.0,
            requires_equal_dims=True,
            invariant=Invariances.only("isotropic_scaling", "sample_order"),
        ),
    ),
]
