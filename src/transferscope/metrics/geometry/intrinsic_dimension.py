"""Intrinsic dimension from nearest-neighbour distances or local PCA.

Four estimators of the dimension ``d`` of the manifold the rows of ``X`` lie on:

- :func:`twonn`: ratio of the 2nd to the 1st neighbour distance (Facco et al. 2017);
- :func:`mle`: maximum likelihood on the ``k`` nearest distances (Levina & Bickel 2005),
  averaged over points as MacKay & Ghahramani (2005) propose;
- :func:`gride`: maximum likelihood on the ratio of the ``n2``-th to the ``n1``-th neighbour
  distance (Denti et al. 2022), which probes larger scales without decimating the data;
- :func:`local_pca`: mean number of significant local principal components (Fukunaga & Olsen 1971).

Neighbours come from :func:`transferscope.metrics._neighbors.nearest_neighbors` (exact FAISS
search, distances in float64). Duplicate rows would give zero distances and infinite log-ratios,
so every estimator first collapses exact duplicate rows into one (as DADApy's
``remove_identical_points`` does) and estimates on the distinct points.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.optimize import brentq

from transferscope.errors import InputError
from transferscope.metrics._neighbors import nearest_neighbors
from transferscope.metrics._validation import (
    check_choice,
    check_features,
    check_fraction,
    check_positive_int,
)
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo

__all__ = ["twonn", "mle", "gride", "local_pca"]


def _distinct_points(X: np.ndarray, needed: int) -> np.ndarray:
    """``X`` without duplicate rows; raise unless at least ``needed`` distinct rows remain."""
    points = np.unique(X, axis=0)
    if points.shape[0] < needed:
        raise InputError(
            f"X has {points.shape[0]} distinct row(s); this estimator needs at least {needed} "
            "(duplicate rows are collapsed into one)"
        )
    return points


def _neighbor_distances(X: np.ndarray, k: int, search: str) -> np.ndarray:
    """float64 distances ``(N, k)`` from each distinct row to its ``k`` nearest other rows."""
    distances, _ = nearest_neighbors(X, k, metric="euclidean",
                                     search=check_choice(search, ("exact", "approximate"), name="search"))
    return distances



def twonn(X: np.ndarray, *, discard_fraction: float = 0.1,
          search: Literal["exact", "approximate"] = "exact") -> float:
    """TwoNN intrinsic dimension (Facco et al. 2017).

    For each point ``mu = r2 / r1``, the ratio of its distances to its second and first
    nearest neighbours. On a locally uniform ``d``-dimensional manifold ``mu`` is Pareto
    distributed, ``F(mu) = 1 - mu^(-d)``, so ``-log(1 - F(mu)) = d log(mu)``. The ``mu`` are
    sorted, the largest ``discard_fraction`` of them dropped (they come from points in
    sparse regions), the empirical CDF set to ``F_i = i / N`` for the ``i``-th smallest
    (``i = 1..n_keep`` with ``n_keep = int(N (1 - discard_fraction))``), and ``d`` is the
    least-squares slope of ``-log(1 - F_i)`` against ``log(mu_i)`` on a line through the
    origin, ``d = sum(x y) / sum(x^2)``. This is the fit of scikit-dimension's ``TwoNN``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least 3 distinct rows; exact duplicate rows are collapsed into one first.
    discard_fraction : float, default=0.1
        Fraction of the largest ratios left out of the fit, in ``(0, 1)``. It must be
        positive because the largest ratio has ``F = 1`` and ``-log(0)`` is infinite.
    search : {"exact", "approximate"}, default="exact"
        Neighbour search: exact FAISS flat search, or the seeded IVF index for large N
        (see ``transferscope.metrics._neighbors.nearest_neighbors``; check its recall).

    Returns
    -------
    float
        The estimated dimension, > 0.

    References
    ----------
    Facco, d'Errico, Rodriguez & Laio, Estimating the intrinsic dimension of datasets by a
    minimal neighborhood information, Scientific Reports 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.intrinsic_dimension import twonn
    >>> X = np.random.default_rng(0).uniform(size=(2000, 2)) @ np.eye(2, 10)
    >>> round(twonn(X), 1)
    2.0
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    fraction = check_fraction(discard_fraction, name="discard_fraction")
    if not 0.0 < fraction < 1.0:
        raise InputError(f"discard_fraction must be in (0, 1), got {fraction}")
    points = _distinct_points(points, 3)
    distances = _neighbor_distances(points, 2, search)
    n = points.shape[0]
    n_keep = int(n * (1 - fraction))
    if n_keep < 2:
        raise InputError(
            f"discard_fraction={fraction} keeps {n_keep} of {n} distinct points; at least 2 are needed"
        )
    log_mu = np.sort(np.log(distances[:, 1] / distances[:, 0]))[:n_keep]
    y = -np.log1p(-np.arange(1, n_keep + 1) / n)
    return float(np.dot(log_mu, y) / np.dot(log_mu, log_mu))


def mle(X: np.ndarray, *, k: int = 20, average: Literal["inverse", "mean"] = "inverse",
        search: Literal["exact", "approximate"] = "exact") -> float:
    """Maximum-likelihood intrinsic dimension (Levina & Bickel 2005).

    With ``T_j(x)`` the distance from ``x`` to its ``j``-th nearest neighbour, the local
    estimate is ``m(x) = (k - 1) / sum_{j=1}^{k-1} log(T_k(x) / T_j(x))``. The global estimate
    averages over points either the inverses, ``d = 1 / mean(1 / m(x))`` (``"inverse"``, the
    correction of MacKay & Ghahramani 2005: it is the maximum-likelihood combination and
    is less biased than the plain mean), or the estimates themselves, ``d = mean(m(x))``
    (``"mean"``, Levina & Bickel's original). A point whose ``k`` neighbours are all at the
    same distance has no finite local estimate and is skipped.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least ``k + 1`` distinct rows; exact duplicate rows are collapsed into one first.
    k : int, default=20
        Neighbours per point, >= 2.
    average : {"inverse", "mean"}, default="inverse"
    search : {"exact", "approximate"}, default="exact"
        Neighbour search: exact FAISS flat search, or the seeded IVF index for large N
        (see ``transferscope.metrics._neighbors.nearest_neighbors``; check its recall).

    Returns
    -------
    float
        The estimated dimension, > 0.

    References
    ----------
    Levina & Bickel, Maximum likelihood estimation of intrinsic dimension, NeurIPS 2004
    (proceedings 2005); MacKay & Ghahramani, Comments on 'Maximum likelihood estimation of
    intrinsic dimension' by E. Levina and P. Bickel, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.intrinsic_dimension import mle
    >>> X = np.random.default_rng(0).normal(size=(2000, 3)) @ np.eye(3, 10)
    >>> round(mle(X))
    3
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    k = check_positive_int(k, name="k", minimum=2)
    average = check_choice(average, ("inverse", "mean"), name="average")
    points = _distinct_points(points, k + 1)
    distances = _neighbor_distances(points, k, search)
    log_sums = np.log(distances[:, -1:] / distances[:, :-1]).sum(axis=1)
    log_sums = log_sums[log_sums > 0]
    if log_sums.size == 0:
        raise InputError("every point of X has its k neighbours at one distance; no dimension can be estimated")
    if average == "inverse":
        return float((k - 1) / np.mean(log_sums))
    return float(np.mean((k - 1) / log_sums))


def _gride_score(d: float, log_mu: np.ndarray, n1: int, n2: int) -> float:
    """Derivative in ``d`` of the Gride log-likelihood (with DADApy's ``(N - 1) log d``)."""
    n = log_mu.shape[0]
    tail = np.sum(log_mu / -np.expm1(-d * log_mu)) if n2 - n1 > 1 else 0.0
    return (n - 1) / d + (n2 - n1 - 1) * tail - (n2 - 1) * np.sum(log_mu)


def gride(X: np.ndarray, *, n1: int = 1, n2: int = 2,
          search: Literal["exact", "approximate"] = "exact") -> float:
    """Generalized ratios intrinsic dimension estimator, Gride (Denti et al. 2022).

    For each point ``mu = r_{n2} / r_{n1}``, the ratio of its distances to its ``n2``-th and
    ``n1``-th nearest neighbours. On a locally uniform ``d``-dimensional manifold ``mu`` has the
    density ``f(mu) = d (mu^d - 1)^(n2-n1-1) / (B(n2-n1, n1) mu^((n2-1) d + 1))``, ``mu > 1``,
    and ``d`` is the root of the derivative of the log-likelihood (concave in ``d``), found
    with Brent's method. As in DADApy, the likelihood uses ``(N - 1) log d`` in place of
    ``N log d`` (with ``n1=1, n2=2`` this gives the unbiased TwoNN maximum-likelihood
    estimate ``(N - 1) / sum(log mu)``), and ratios at or above ``q50 + 20 (q95 - q50)`` of
    the ``mu`` are discarded as points whose neighbours nearly overlap. Tied distances
    (``mu = 1``) are dropped.

    The scale of the estimate grows with the neighbour orders: DADApy's scaling analysis
    uses ``n1 = 1, 2, 4, ...`` with ``n2 = 2 n1``; pass those pairs to probe larger scales
    (less sensitive to small-scale noise).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least ``n2 + 1`` distinct rows; exact duplicate rows are collapsed into one first.
    n1 : int, default=1
        Order of the nearer neighbour, >= 1.
    n2 : int, default=2
        Order of the farther neighbour, > ``n1`` (usually ``2 * n1``).
    search : {"exact", "approximate"}, default="exact"
        Neighbour search: exact FAISS flat search, or the seeded IVF index for large N
        (see ``transferscope.metrics._neighbors.nearest_neighbors``; check its recall).

    Returns
    -------
    float
        The estimated dimension, > 0.

    References
    ----------
    Denti, Doimo, Laio & Mira, The generalized ratios intrinsic dimension estimator,
    Scientific Reports 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.intrinsic_dimension import gride
    >>> X = np.random.default_rng(0).normal(size=(2000, 3)) @ np.eye(3, 10)
    >>> round(gride(X, n1=4, n2=8))
    3
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    n1 = check_positive_int(n1, name="n1")
    n2 = check_positive_int(n2, name="n2")
    if n2 <= n1:
        raise InputError(f"n2 must be larger than n1 (usually n2 = 2 * n1), got n1={n1}, n2={n2}")
    points = _distinct_points(points, n2 + 1)
    distances = _neighbor_distances(points, n2, search)
    mu = distances[:, n2 - 1] / distances[:, n1 - 1]
    mu = mu[mu > 1.0]
    if mu.size:
        q95, q50 = np.percentile(mu, [95, 50])
        mu = mu[mu < 20 * (q95 - q50) + q50]
    if mu.size < 2:
        raise InputError("fewer than 2 points of X have distinct n1-th and n2-th neighbour distances")
    log_mu = np.log(mu)
    high = 1.0
    while _gride_score(high, log_mu, n1, n2) > 0:
        high *= 2.0
    return float(brentq(_gride_score, 1e-8, high, args=(log_mu, n1, n2), xtol=1e-12, rtol=1e-12))


def _local_spectra(points: np.ndarray, neighbours: np.ndarray, *, memory: int = 2**22) -> np.ndarray:
    """Eigenvalues (descending) of each neighbourhood's centred scatter matrix, ``(N, m)``.

    ``m = min(k, D)``: the ``D x D`` scatter or, when smaller, the ``k x k`` Gram matrix of
    the centred neighbourhood (same non-zero eigenvalues). Batched to ~``memory`` floats.
    """
    n, k = neighbours.shape
    dim = points.shape[1]
    batch = max(1, memory // (k * max(dim, k)))
    spectra = []
    for start in range(0, n, batch):
        hood = points[neighbours[start : start + batch]]  # B x k x D
        hood = hood - hood.mean(axis=1, keepdims=True)
        if dim <= k:
            scatter = np.matmul(hood.transpose(0, 2, 1), hood)
        else:
            scatter = np.matmul(hood, hood.transpose(0, 2, 1))
        spectra.append(np.linalg.eigvalsh(scatter)[:, ::-1])
    return np.concatenate(spectra)


def local_pca(X: np.ndarray, *, k: int = 20, alpha: float = 0.05,
              search: Literal["exact", "approximate"] = "exact") -> float:
    """Local PCA intrinsic dimension with the Fukunaga-Olsen threshold.

    For each point, PCA of its ``k`` nearest neighbours (the point itself excluded, as in
    scikit-dimension's ``lPCA.fit_pw``): the local dimension is the number of eigenvalues of
    the neighbourhood's covariance larger than ``alpha`` times the largest one
    (scikit-dimension's ``ver="FO"`` with ``alphaFO=alpha``). The estimate is the mean of the
    local dimensions over all points. A neighbourhood of ``k`` points spans at most ``k - 1``
    directions, so raise ``k`` (scikit-dimension's ``fit_pw`` uses 100) when the dimension
    may approach it; the default 20 matches :func:`mle`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least ``k + 1`` distinct rows; exact duplicate rows are collapsed into one first.
    k : int, default=20
        Neighbourhood size, >= 2.
    alpha : float, default=0.05
        Fraction of the largest local eigenvalue an eigenvalue must exceed, in ``(0, 1)``.
    search : {"exact", "approximate"}, default="exact"
        Neighbour search: exact FAISS flat search, or the seeded IVF index for large N
        (see ``transferscope.metrics._neighbors.nearest_neighbors``; check its recall).

    Returns
    -------
    float
        Mean local dimension, in ``[1, min(k - 1, n_features)]``.

    References
    ----------
    Fukunaga & Olsen, An algorithm for finding intrinsic dimensionality of data, IEEE
    Transactions on Computers 1971; Bac, Mirkes, Gorban, Tyukin & Zinovyev,
    Scikit-Dimension: a Python package for intrinsic dimension estimation, Entropy 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.intrinsic_dimension import local_pca
    >>> X = np.random.default_rng(0).normal(size=(500, 3)) @ np.eye(3, 10)
    >>> local_pca(X, k=50)
    3.0
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    k = check_positive_int(k, name="k", minimum=2)
    alpha = check_fraction(alpha, name="alpha")
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    points = _distinct_points(points, k + 1)
    _, neighbours = nearest_neighbors(points, k, metric="euclidean",
                                      search=check_choice(search, ("exact", "approximate"), name="search"))
    spectra = _local_spectra(points, neighbours)
    counts = (spectra > alpha * spectra[:, :1]).sum(axis=1)
    return float(np.mean(counts))


_ID_INVARIANT = Invariances.all_except("invertible_linear")

METRICS = [
    MetricInfo(
        name="twonn",
        family="geometry",
        func=twonn,
        summary="TwoNN intrinsic dimension: Pareto fit of 2nd/1st neighbour distance ratios.",
        citation="Facco, d'Errico, Rodriguez & Laio, Estimating the intrinsic dimension of datasets "
        "by a minimal neighborhood information, Scientific Reports 2017",
        complexity="O(N^2 D) exact FAISS kNN",
        unreliable_when="noise at the scale of the nearest neighbours inflates it; few samples for large d",
        higher_is_better=False,
        measure=MeasureProperties.geometry(range=(0.0, None), invariant=_ID_INVARIANT),
    ),
    MetricInfo(
        name="mle",
        family="geometry",
        func=mle,
        summary="Levina-Bickel maximum-likelihood intrinsic dimension on k neighbours "
        "(MacKay-Ghahramani averaging).",
        citation="Levina & Bickel, Maximum likelihood estimation of intrinsic dimension, NeurIPS 2004; "
        "MacKay & Ghahramani, comment on Levina & Bickel, 2005",
        complexity="O(N^2 D) exact FAISS kNN",
        unreliable_when="k too large for curved manifolds or too small for noisy data; underestimates large d",
        higher_is_better=False,
        measure=MeasureProperties.geometry(range=(0.0, None), invariant=_ID_INVARIANT),
    ),
    MetricInfo(
        name="gride",
        family="geometry",
        func=gride,
        summary="Gride: maximum likelihood on the ratio of n2-th to n1-th neighbour distances.",
        citation="Denti, Doimo, Laio & Mira, The generalized ratios intrinsic dimension estimator, "
        "Scientific Reports 2022",
        complexity="O(N^2 D) exact FAISS kNN",
        unreliable_when="n1 = 1 on noisy data (raise n1, n2 = 2 n1); fewer samples than ~10 n2",
        higher_is_better=False,
        measure=MeasureProperties.geometry(range=(0.0, None), invariant=_ID_INVARIANT),
    ),
    MetricInfo(
        name="local_pca",
        family="geometry",
        func=local_pca,
        summary="Mean number of local PCA eigenvalues above alpha x the largest (Fukunaga-Olsen).",
        citation="Fukunaga & Olsen, An algorithm for finding intrinsic dimensionality of data, "
        "IEEE Transactions on Computers 1971",
        complexity="O(N^2 D + N k D min(k, D))",
        unreliable_when="curved manifolds at large k; dimension near k - 1 (saturates); anisotropic local scales",
        higher_is_better=False,
        measure=MeasureProperties.geometry(range=(1.0, None), invariant=_ID_INVARIANT),
    ),
]
