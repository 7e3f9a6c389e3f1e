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

Spearman's correlation with a two-valued variable needs only the (average) ranks of
the feature distances: with ``M`` pairs, ``M_s`` of them within a class and ``r_p`` the
average rank of pair ``p``,

    PARC = (M_s (M + 1) / 2 - sum_{p within a class} r_p) / sqrt(R * M_s (M - M_s) / M),
    R = sum_p (r_p - (M + 1) / 2)^2 = (M^3 - M) / 12 - sum_ties (t^3 - t) / 12,

(``t`` the sizes of the groups of tied distances). Both sums come from one sort of the
distances: the average rank of a value ``v`` is ``(#{< v} + #{<= v} + 1) / 2``, found
by binary search of the (few) within-class distances in the sorted list, and summed
in exact integer arithmetic.

Memory and time: PARC needs all ``N (N - 1) / 2`` pairwise feature distances and
their ranks by definition, ``O(N^2)`` memory and ``O(N^2 (k + log N))`` time (one
``N x N x k`` product and one sort). The distances are formed block by block into one
condensed vector (never an N x N matrix); the peak is 12-20 bytes per pair beyond a few
thousand samples (the float64 distances and a few boolean masks). By
default at most ``max_samples = 2000`` samples are used, drawn without replacement
with ``np.random.default_rng(seed)``: 2 million pairs, ~60 MB and a fraction of a
second. Raise it (``None`` = all samples) for an exact score on larger sets: 20 000
samples need ~2.6 GB.

The reference convention, ``variant="dbolya"``: the published PARC tables (Bolya et
al. 2021, and the papers that compare to it through dbolya/parc) report
``100 x Spearman`` computed by that code. ``variant="dbolya"`` reproduces it: PCA to
``min(n_dims, N)`` components by the randomized solver with ``random_state = 1919``
(unless ``seed`` is given), ``sklearn.preprocessing.StandardScaler``, the correlation
distances of the rows, all zero-variance components kept, and the result times 100.
It departs from that code in two places only: the label distances are exactly
two-valued (the reference's ``1 - np.corrcoef(one_hot)`` adds rounding noise that
depends on the BLAS kernel, so its printed value does too; see below), and a sample
whose reduced features are constant gets correlation 0 where the reference gets NaN.

Differences from the reference:

* The result is the correlation in ``[-1, 1]``; the reference multiplies it by 100
  (``variant="dbolya"`` does too).
* The reference calls ``PCA(n_components=min(n_dims, N))``, which fails when
  ``D < n_dims``; here the PCA keeps ``min(n_dims, N, D)`` components, using the exact
  solver when that is the full rank, and drops components of numerically zero
  variance: when ``N <= n_dims`` the reference keeps the last component of the
  centred data, a zero column that still enters every sample's mean and so the
  correlations (e.g. 0.0509 instead of 0.0511 for 20 samples in 100 dimensions).
* The label distances are exactly two-valued here; the reference computes them with
  ``np.corrcoef``, whose rounding noise (0, 1e-16, 2e-16 within a class) splits the
  ties so that Spearman's ranks, and the score, shift by up to a few percent. That
  noise depends on the BLAS kernel: the same reference code on the same machine gives
  4.719 (OpenBLAS Haswell kernels), 4.801 (SkylakeX) or 4.671 (Prescott, where the
  label correlations come out exact) for the same 60 samples.
* A sample whose reduced features are constant has no correlation with any other
  (the reference gets NaN); it is given correlation 0 (distance 1). When every pair
  has the same feature distance, or every pair crosses classes, the rank correlation
  is undefined and 0.0 is returned with a RuntimeWarning.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
    check_positive_int,
)
from transferscope.metrics.registry import MetricInfo

__all__ = ["parc"]

VARIANTS = ("default", "dbolya")
#: The fixed ``random_state`` of the reference's PCA (dbolya/parc ``feature_reduce``).
REFERENCE_SEED = 1919


def _reduce(feats: np.ndarray, n_dims: int, seed: int) -> np.ndarray:
    """PCA to ``min(n_dims, N, D)`` components, then standardise each component.

    Components with numerically zero variance (rank below ``min(N, D)``, e.g. after
    centring ``N <= D`` samples) are dropped: standardising them would blow rounding
    noise up to unit variance.
    """
    from sklearn.decomposition import PCA  # imported when used: registration stays cheap

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


def _reduce_dbolya(feats: np.ndarray, n_dims: int, seed: int) -> np.ndarray:
    """The reference's reduction: randomized PCA to ``min(n_dims, N)`` components, then
    ``StandardScaler`` (zero-variance components are kept)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    n, d = feats.shape
    k = min(n_dims, n)
    if k > d:
        raise InputError(
            f"variant='dbolya' reduces to min(n_dims, n_samples) = {k} PCA components, as the "
            f"reference does, which needs at least that many feature dimensions (got {d}); "
            "lower n_dims or use the default variant"
        )
    pca = PCA(n_components=k, svd_solver="randomized", random_state=seed, iterated_power=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reduced = pca.fit_transform(feats)
    return StandardScaler().fit_transform(reduced)


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
        # The entries right of the diagonal, row by row: condensed (pdist) order.
        upper = np.arange(n)[None, :] > np.arange(start, stop)[:, None]
        values = block[upper]
        np.subtract(1.0, values, out=out[pos : pos + values.shape[0]])
        pos += values.shape[0]
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


def _spearman_with_indicator(dist: np.ndarray, different: np.ndarray) -> float:
    """Spearman correlation (average ranks) of ``dist`` with the 0/1 vector ``different``.

    One sort of ``dist`` (which is overwritten); see the module docstring. Integer sums
    are exact: int64 holds ``sum (#{<v} + #{<=v} + 1) < 2 M^2`` for ``M < 2e9`` pairs.
    """
    n_pairs = dist.shape[0]
    same = dist[~different]
    n_same = same.shape[0]
    dist.sort()
    same.sort()
    # 2 x the sum of the within-class pairs' average ranks (1-based), exactly.
    twice_rank_sum = int(np.sum(np.searchsorted(dist, same, side="left"), dtype=np.int64)) \
        + int(np.sum(np.searchsorted(dist, same, side="right"), dtype=np.int64)) + n_same
    tied = dist[1:] == dist[:-1]
    tie_term = 0.0
    if tied.any():
        bounds = np.flatnonzero(np.concatenate(([True], ~tied, [True])))
        sizes = np.diff(bounds).astype(np.float64)
        sizes = sizes[sizes > 1]
        tie_term = float(np.sum(sizes**3 - sizes))
    m = float(n_pairs)
    rank_scatter = (m**3 - m - tie_term) / 12.0
    covariance = (n_same * (n_pairs + 1) - twice_rank_sum) / 2.0
    indicator_scatter = n_same * (n_pairs - n_same) / m
    return float(covariance / np.sqrt(rank_scatter * indicator_scatter))


def parc(
    features: Any,
    labels: Any,
    *,
    n_dims: int = 32,
    max_samples: int | None = 2000,
    seed: int | None = None,
    variant: Literal["default", "dbolya"] = "default",
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
    seed : int, optional
        Seeds the subsample and the randomized PCA. Default 0, or 1919 (the reference's
        fixed ``random_state``) with ``variant="dbolya"``.
    variant : {"default", "dbolya"}, default="default"
        ``"dbolya"`` reproduces the reference code (dbolya/parc ``methods.PARC``), which
        the published tables used: ``100 x Spearman``, its PCA and standardisation (see
        the module docstring). Pass ``max_samples=None`` to score every sample as it does.

    Returns
    -------
    float
        Spearman correlation in ``[-1, 1]`` (``100 x`` that with ``variant="dbolya"``).

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
    >>> round(parc(good, y, n_dims=8, variant="dbolya", max_samples=None), 2)  # 100 x rho
    39.09
    """
    feats = check_features(features, scale="rescale")  # scale-invariant
    n = feats.shape[0]
    codes, _ = check_classification_labels(labels, n)
    n_dims = check_positive_int(n_dims, name="n_dims")
    if max_samples is not None:
        max_samples = check_positive_int(max_samples, name="max_samples", minimum=3)
    variant = check_choice(variant, VARIANTS, name="variant")
    if seed is None:
        seed = REFERENCE_SEED if variant == "dbolya" else 0
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if n < 3:
        raise InputError(f"PARC needs at least 3 samples, got {n}")
    if max_samples is not None and n > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(n, size=max_samples, replace=False))
        feats, codes = feats[keep], codes[keep]
    reduce = _reduce_dbolya if variant == "dbolya" else _reduce
    dist = _condensed_correlation_distance(reduce(feats, n_dims, int(seed)))
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
    rho = _spearman_with_indicator(dist, different)
    return 100.0 * rho if variant == "dbolya" else rho

METRICS = [
    MetricInfo(
        name="parc",
        scale_invariant=True,
        family="transferability",
        func=parc,
        summary="Spearman correlation between pairwise (1 - Pearson) distances of PCA-reduced "
        "features and of one-hot labels.",
        citation="Bolya, Mittapalli & Hoffman, Scalable Diverse Model Selection for Accessible "
        "Transfer Learning, NeurIPS 2021",
        task_types=("classification",),
        uses_seed=True,
        complexity="O(M^2 (k + log M)) time (one M x M x k product, one sort) and O(M^2) memory, "
        "M = min(N, max_samples), k = n_dims",
        unreliable_when="N > max_samples (a random subsample is scored)",
    )
]
