"""PARC: Pairwise Annotation Representation Comparison.

Bolya, Mittapalli & Hoffman, "Scalable Diverse Model Selection for Accessible
Transfer Learning", NeurIPS 2021 (reference code: dbolya/parc, ``methods.PARC``).

The features are reduced by PCA to ``n_dims`` components (the reference's randomized
PCA, one power iteration, seeded) and standardised per component. With ``corr``
the Pearson correlation between two *samples* (rows),

    PARC = Spearman( {1 - corr(f_i, f_j)}_{i<j}, {1 - corr(e_{y_i}, e_{y_j})}_{i<j} ),

where ``e_y`` is the one-hot label. The label distance takes two values only: 0
within a class and ``C / (C - 1)`` across classes, so PARC equals the Pearson
correlation between the ranks of the feature distances and the indicator
``y_i != y_j``, which is how it is computed here (no label matrix is formed).

Memory and time: PARC needs all ``N (N - 1) / 2`` pairwise feature distances and
their ranks by definition, ``O(N^2)`` memory and ``O(N^2 (k + log N))`` time. The
distances are formed block by block into one condensed vector (never an N x N
matrix); the peak is about 70 bytes per pair, in ``scipy.stats.rankdata``. By default
at most ``max_samples = 2000`` samples are used, drawn without replacement with
``np.random.default_rng(seed)``: 2 million pairs, ~140 MB and about a second. Raise it
(``None`` = all samples) for an exact score on larger sets: 20 000 samples need ~14 GB.

Differences from the reference:

* The result is the correlation in ``[-1, 1]``; the reference multiplies it by 100.
* The reference calls ``PCA(n_components=min(n_dims, N))``, which fails when
  ``D < n_dims``; here the PCA keeps ``min(n_dims, N, D)`` components, using the exact
  solver when that is the full rank, and drops components of numerically zero
  variance: when ``N <= n_dims`` the reference keeps the last component of the
  centred data, a zero column that still enters every sample's mean and so the
  correlations (e.g. 0.0509 instead of 0.0511 for 20 samples in 100 dimensions).
* The label distances are exactly two-valued here; the reference computes them with
  ``np.corrcoef``, whose rounding noise (0, 1e-16, 2e-16 within a class) splits the
  ties so that Spearman's ranks, and the score, shift by up to a few percent.
* A sample whose reduced features are constant has no correlation with any other
  (the reference gets NaN); it is given correlation 0 (distance 1). When every pair
  has the same feature distance, or every pair crosses classes, the rank correlation
  is undefined and 0.0 is returned with a RuntimeWarning.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.decomposition import PCA

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_classification_labels,
    check_features,
    check_positive_int,
)
from transferscope.metrics.registry import MetricInfo

__all__ = ["parc"]


def _reduce(feats: np.ndarray, n_dims: int, seed: int) -> np.ndarray:
    """PCA to ``min(n_dims, N, D)`` components, then standardise each component.

    Components with numerically zero variance (rank below ``min(N, D)``, e.g. after
    centring ``N <= D`` samples) are dropped: standardising them would blow rounding
    noise up to unit variance.
    """
    n, d = feats.shape
    k = min(n_dims, n, d)
    solver = "full" if k == min(n, d) else "randomized"
    pca = PCA(n_components=k, svd_solver=solver, random_state=seed, iterated_power=1)
    with warnings.catch_warnings():
        # Constant features: sklearn divides by a zero total variance when reporting ratios.
        warnings.simplefilter("ignore", RuntimeWarning)
        reduced = pca.fit_transform(feats)
    var = reduced.var(axis=0)
    keep = var > var.max(initial=0.0) * max(n, d) * np.finfo(np.float64).eps
    reduced = reduced[:, keep]
    return (reduced - reduced.mean(axis=0)) / np.sqrt(var[keep])


def _condensed_correlation_distance(z: np.ndarray, *, chunk: int = 1024) -> np.ndarray:
    """``1 - corr`` between rows, for pairs ``i < j`` in ``scipy.spatial.distance.pdist`` order."""
    n = z.shape[0]
    if z.shape[1] == 0:
        return np.ones(n * (n - 1) // 2)
    z = z - z.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(z, axis=1)
    unit = z / np.where(norms > 0, norms, 1.0)[:, None]  # constant rows stay zero: corr 0
    out = np.empty(n * (n - 1) // 2)
    pos = 0
    for start in range(0, n - 1, chunk):
        stop = min(start + chunk, n - 1)
        block = unit[start:stop] @ unit.T
        for row in range(start, stop):
            length = n - row - 1
            out[pos : pos + length] = 1.0 - block[row - start, row + 1 :]
            pos += length
    return out


def _condensed_different_class(codes: np.ndarray) -> np.ndarray:
    """Boolean indicator ``y_i != y_j`` for pairs ``i < j`` in condensed order."""
    n = codes.shape[0]
    out = np.empty(n * (n - 1) // 2, dtype=bool)
    pos = 0
    for row in range(n - 1):
        length = n - row - 1
        out[pos : pos + length] = codes[row + 1 :] != codes[row]
        pos += length
    return out


def parc(
    features: Any,
    labels: Any,
    *,
    n_dims: int = 32,
    max_samples: int | None = 2000,
    seed: int = 0,
) -> float:
    """PARC: rank correlation of feature and label dissimilarities (higher is better).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    n_dims : int, default=32
        PCA components kept before the correlation distances (the reference's ``f=32``).
    max_samples : int or None, default=2000
        Use a seeded random subset of at most this many samples (memory is quadratic
        in it, see the module docstring); ``None`` uses all samples.
    seed : int, default=0
        Seeds the subsample and the randomized PCA (the reference uses 1919).

    Returns
    -------
    float
        Spearman correlation in ``[-1, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.parc import parc
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 30)
    >>> good = rng.normal(size=(90, 8)) + 3.0 * np.eye(3, 8)[y]
    >>> bad = rng.normal(size=(90, 8))
    >>> parc(good, y) > 0.3 > parc(bad, y)
    True
    """
    feats = check_features(features)
    n = feats.shape[0]
    codes, _ = check_classification_labels(labels, n)
    n_dims = check_positive_int(n_dims, name="n_dims")
    if max_samples is not None:
        max_samples = check_positive_int(max_samples, name="max_samples", minimum=3)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if n < 3:
        raise InputError(f"PARC needs at least 3 samples, got {n}")
    if max_samples is not None and n > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(n, size=max_samples, replace=False))
        feats, codes = feats[keep], codes[keep]
    dist = _condensed_correlation_distance(_reduce(feats, n_dims, int(seed)))
    different = _condensed_different_class(codes)
    n_pairs, n_different = dist.shape[0], int(np.count_nonzero(different))
    if np.ptp(dist) == 0 or n_different in (0, n_pairs):
        warnings.warn(
            "PARC is undefined when all pairwise feature distances are equal or no two samples "
            "share a class; returning 0.0",
            RuntimeWarning,
            stacklevel=2,
        )
        return 0.0
    ranks = rankdata(dist)  # average ranks of ties, as Spearman's correlation uses
    del dist
    # Pearson correlation of the ranks (mean (M + 1) / 2) with the 0/1 indicator.
    mean_rank = (n_pairs + 1) / 2.0
    covariance = float(np.sum(ranks, where=different)) - n_different * mean_rank
    rank_scatter = float(ranks @ ranks) - n_pairs * mean_rank**2
    indicator_scatter = n_different * (1.0 - n_different / n_pairs)
    return float(covariance / np.sqrt(rank_scatter * indicator_scatter))


METRICS = [
    MetricInfo(
        name="parc",
        family="transferability",
        func=parc,
        summary="Spearman correlation between pairwise (1 - Pearson) distances of PCA-reduced "
        "features and of one-hot labels.",
        citation="Bolya, Mittapalli & Hoffman, Scalable Diverse Model Selection for Accessible "
        "Transfer Learning, NeurIPS 2021",
        task_types=("classification",),
        uses_seed=True,
        complexity="O(M^2 (k + log M)) time and O(M^2) memory, M = min(N, max_samples), k = n_dims",
        unreliable_when="N > max_samples (a random subsample is scored)",
    )
]
