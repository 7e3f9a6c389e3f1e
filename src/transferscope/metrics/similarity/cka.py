"""Centered kernel alignment (CKA) and its minibatch form.

CKA compares two representations of the same ``N`` inputs through their
``N x N`` kernel (Gram) matrices ``K`` (of ``X``) and ``L`` (of ``Y``):

    CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)),

with HSIC the Hilbert-Schmidt independence criterion. The biased estimator
``HSIC_0 = tr(K H L H) / (N - 1)^2`` (``H = I - 11'/N``) gives the CKA of
Kornblith et al. (2019); the unbiased estimator of Song et al. (2012) gives
"debiased" CKA, which is near 0 for independent representations even when the
dimension is large relative to ``N`` (the biased one is not). With the linear
kernel, ``tr(K H L H) = ||Xc' Yc||_F^2`` on column-centred features, so CKA
costs ``N D^2`` in feature space instead of ``N^2 D`` with Gram matrices.

For data too large for memory, see :mod:`transferscope.metrics.similarity.streaming`
(exact one-pass linear CKA); :func:`minibatch_cka` is the estimator of Nguyen,
Raghu & Kornblith (2021).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.spatial.distance import pdist, squareform

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_choice,
    check_paired_features,
    check_pairwise_memory,
    check_positive_float,
    check_positive_int,
)
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo
from transferscope.metrics.similarity._hsic import (
    center_columns,
    cka_from_hsic,
    feature_space_hsic,
    feature_space_is_cheaper,
    gram_space_hsic,
)

__all__ = ["cka", "minibatch_cka"]


def _check_not_constant(x: np.ndarray, name: str) -> None:
    if not np.ptp(x, axis=0).any():
        raise InputError(f"{name} is constant (all rows are identical), so CKA is undefined")


def _rbf_gram(x: np.ndarray, sigma: float | None, threshold: float, name: str) -> np.ndarray:
    """``exp(-||x_i - x_j||^2 / (2 sigma^2))``, sigma from the median heuristic when None."""
    sq_dist = squareform(pdist(x, "sqeuclidean"))
    if sigma is None:
        # Kornblith et al.'s heuristic: the median over all N^2 entries of the squared
        # distance matrix, zero diagonal included, then sigma^2 = threshold^2 * median.
        median = float(np.median(sq_dist))
        if median <= 0.0:
            raise InputError(
                f"{name}: the median squared distance between rows is 0 (mostly duplicate rows); "
                "pass sigma explicitly"
            )
        sigma_sq = threshold**2 * median
    else:
        sigma_sq = sigma**2
    sq_dist *= -1.0 / (2.0 * sigma_sq)
    return np.exp(sq_dist, out=sq_dist)


def cka(
    X: Any,
    Y: Any,
    *,
    kernel: Literal["linear", "rbf"] = "linear",
    estimator: Literal["biased", "debiased"] = "biased",
    space: Literal["auto", "feature", "gram"] = "auto",
    sigma: float | None = None,
    threshold: float = 1.0,
) -> float:
    """Centered kernel alignment between two representations of the same inputs.

    ``CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` with ``K``, ``L`` the kernel
    matrices of ``X`` and ``Y``. For the linear kernel and the biased estimator,

        CKA = ||Xc' Yc||_F^2 / (||Xc' Xc||_F ||Yc' Yc||_F)

    with column-centred ``Xc``, ``Yc``. The debiased estimator replaces each HSIC by
    the unbiased HSIC_1 of Song et al. (2012),

        HSIC_1 = [tr(K0 L0) + (1'K0 1)(1'L0 1) / ((N-1)(N-2)) - 2/(N-2) 1'K0 L0 1] / (N (N-3)),

    ``K0``, ``L0`` the kernels with zeroed diagonals. Biased CKA lies in ``[0, 1]``;
    debiased CKA lies in ``[-1, 1]`` and is close to 0 for independent data.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
        Row ``i`` of both is input ``i``; the widths may differ.
    kernel : {"linear", "rbf"}, default="linear"
        ``"rbf"``: ``k(a, b) = exp(-||a - b||^2 / (2 sigma^2))``.
    estimator : {"biased", "debiased"}, default="biased"
        HSIC estimator; ``"debiased"`` needs at least 4 rows.
    space : {"auto", "feature", "gram"}, default="auto"
        Linear kernel only: ``"feature"`` uses ``D x D`` cross-products (cost ``N D^2``),
        ``"gram"`` the ``N x N`` kernels (cost ``N^2 D``), ``"auto"`` the cheaper one.
        Both give the same value up to rounding. The RBF kernel always uses Gram matrices.
        Arrays whose float64 copies would exceed ``BLOCKWISE_BYTES`` (1 GiB; e.g.
        memory-mapped features larger than memory) are not copied: the feature-space
        sums are accumulated block by block over their rows, with the same result.
    sigma : float or None, default=None
        RBF kernel only: the bandwidth, the same for ``X`` and ``Y``. None: the median heuristic of
        Kornblith et al., separately for ``X`` and ``Y``:
        ``sigma^2 = threshold^2 * median(||a_i - a_j||^2)``, the median of the
        *squared* Euclidean distances over all ``N^2`` pairs (zero diagonal included).
    threshold : float, default=1.0
        RBF kernel only, when ``sigma`` is None: ``sigma = threshold * sqrt(median squared
        distance)``, i.e. this multiple of the median distance (up to how the middle pair of
        an even count is averaged), as ``gram_rbf(x, threshold)`` in Kornblith et al.'s code;
        ``threshold=0.5`` is the "half the median distance" of their examples.

    Returns
    -------
    float
        1 for representations equal up to rotation, isotropic scaling and translation.

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton, Similarity of Neural Network Representations
    Revisited, ICML 2019. Song, Smola, Gretton, Bedo & Borgwardt, Feature Selection via
    Dependence Maximization, JMLR 2012 (unbiased HSIC).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.cka import cka
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 10))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    >>> round(cka(X, 3.0 * X @ Q + 1.0), 10)
    1.0
    >>> Z = rng.normal(size=(200, 10))
    >>> cka(X, Z) > 0.02, abs(cka(X, Z, estimator="debiased")) < 0.02
    (True, True)
    """
    kernel = check_choice(kernel, ("linear", "rbf"), name="kernel")
    estimator = check_choice(estimator, ("biased", "debiased"), name="estimator")
    space = check_choice(space, ("auto", "feature", "gram"), name="space")
    threshold = check_positive_float(threshold, name="threshold")
    if sigma is not None:
        sigma = check_positive_float(sigma, name="sigma")
    if kernel == "linear" and (sigma is not None or threshold != 1.0):
        raise InputError("sigma and threshold set the RBF bandwidth; they need kernel='rbf'")
    if sigma is not None and threshold != 1.0:
        raise InputError("give sigma (a fixed bandwidth) or threshold (median heuristic), not both")
    if kernel == "rbf" and space == "feature":
        raise InputError("space='feature' needs kernel='linear'; the RBF kernel is computed in Gram space")
    debiased = estimator == "debiased"
    if kernel == "linear" and space != "gram" and _larger_than_a_copy_should_be(X, Y):
        return _blockwise_linear_cka(X, Y, debiased=debiased)
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    n = x.shape[0]
    if debiased and n < 4:
        raise InputError(f"estimator='debiased' needs at least 4 rows, got {n}")
    _check_not_constant(x, "X")
    _check_not_constant(y, "Y")
    gram = kernel == "rbf" or not (space == "feature" or (
        space == "auto" and feature_space_is_cheaper(n, x.shape[1], y.shape[1])))
    if gram:
        check_pairwise_memory(n, 3, measure="cka in Gram space")
    if kernel == "rbf":
        hsic = gram_space_hsic(
            _rbf_gram(x, sigma, threshold, "X"), _rbf_gram(y, sigma, threshold, "Y"), debiased=debiased
        )
        return cka_from_hsic(*hsic)
    xc, yc = center_columns(x, in_place=True), center_columns(y, in_place=True)  # our own copies
    if space == "feature" or (space == "auto" and feature_space_is_cheaper(n, x.shape[1], y.shape[1])):
        return cka_from_hsic(*feature_space_hsic(xc, yc, debiased=debiased))
    return cka_from_hsic(*gram_space_hsic(xc @ xc.T, yc @ yc.T, debiased=debiased))


#: Inputs whose float64 copies would exceed this many bytes (both together) are not
#: copied: linear CKA then runs block by block over their rows, exactly, from the
#: running sums of :class:`~transferscope.metrics.similarity.streaming.StreamingLinearCKA`.
#: This is what lets memory-mapped features larger than memory be compared.
BLOCKWISE_BYTES = 2**30
_BLOCK_ROWS = 16_384


def _larger_than_a_copy_should_be(X: Any, Y: Any) -> bool:
    if not (isinstance(X, np.ndarray) and isinstance(Y, np.ndarray) and X.ndim == Y.ndim == 2):
        return False  # lists and other inputs are validated (and copied) as usual
    if X.shape[0] != Y.shape[0] or X.dtype.kind not in "fiu" or Y.dtype.kind not in "fiu":
        return False  # the usual checks give the usual messages
    return 8 * X.shape[0] * (X.shape[1] + Y.shape[1]) > BLOCKWISE_BYTES


def _blockwise_linear_cka(X: np.ndarray, Y: np.ndarray, *, debiased: bool) -> float:
    """Exact linear CKA over row blocks of (possibly memory-mapped) arrays, without copying them."""
    from transferscope.metrics.similarity.streaming import StreamingLinearCKA

    acc = StreamingLinearCKA()
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        stop = start + _BLOCK_ROWS
        try:
            acc.update(X[start:stop], Y[start:stop])
        except InputError as exc:  # name the whole input and the row, not the block
            raise InputError(f"{str(exc).replace('x_batch', 'X').replace('y_batch', 'Y')} "
                             f"(in rows {start}..{min(stop, X.shape[0]) - 1})") from None
    return acc.value(debiased=debiased)


def _linear_unbiased_hsic(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Unbiased linear HSIC_1 terms of one minibatch, in the cheaper space."""
    n = x.shape[0]
    xc, yc = center_columns(x), center_columns(y)
    if feature_space_is_cheaper(n, x.shape[1], y.shape[1]):
        terms = feature_space_hsic(xc, yc, debiased=True)
    else:
        terms = gram_space_hsic(xc @ xc.T, yc @ yc.T, debiased=True)
    scale = 1.0 / (n * (n - 3.0))
    return terms[0] * scale, terms[1] * scale, terms[2] * scale


def _minibatch_indices(n: int, batch_size: int, n_batches: int, seed: int) -> list[np.ndarray]:
    """``n_batches`` index sets of size ``batch_size``, consecutive slices of seeded
    permutations of ``range(n)`` (a new permutation once one is used up; the
    ``n % batch_size`` rows left at the end of each permutation are skipped)."""
    rng = np.random.default_rng(seed)
    per_pass = n // batch_size
    batches: list[np.ndarray] = []
    while len(batches) < n_batches:
        perm = rng.permutation(n)
        for start in range(0, per_pass * batch_size, batch_size):
            if len(batches) == n_batches:
                break
            batches.append(perm[start : start + batch_size])
    return batches


def minibatch_cka(
    X: Any,
    Y: Any,
    *,
    batch_size: int = 256,
    n_batches: int | None = None,
    seed: int = 0,
) -> float:
    """Minibatch linear CKA: unbiased HSIC averaged over random minibatches.

    The rows are split into minibatches ``b = 1..k`` of ``batch_size`` rows each, and

        CKA_mb = mean_b HSIC_1(K_b, L_b) / sqrt(mean_b HSIC_1(K_b, K_b) * mean_b HSIC_1(L_b, L_b)),

    with ``HSIC_1`` the unbiased estimator of Song et al. (2012) and linear kernels
    ``K_b = X_b X_b'``, ``L_b = Y_b Y_b'``. Because ``HSIC_1`` is unbiased, the mean
    over minibatches estimates the same population HSIC as the full data, with memory
    ``O(batch_size^2)``. The value lies in ``[-1, 1]`` and depends on the seeded split.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    batch_size : int, default=256
        Rows per minibatch (at least 4); reduced to ``n_samples`` when larger, in
        which case the value equals ``cka(X, Y, estimator="debiased")``.
    n_batches : int or None, default=None
        Number of minibatches. None: one pass over a seeded permutation of the rows,
        ``n_samples // batch_size`` batches (the remaining rows are skipped). Larger
        values continue with fresh permutations.
    seed : int, default=0
        Seed of the permutations.

    Returns
    -------
    float

    References
    ----------
    Nguyen, Raghu & Kornblith, Do Wide and Deep Networks Learn the Same Things?
    Uncovering How Neural Network Representations Vary with Width and Depth, ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.cka import minibatch_cka
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2048, 16))
    >>> round(minibatch_cka(X, 2.0 * X + 1.0), 10)
    1.0
    >>> abs(minibatch_cka(X, rng.normal(size=(2048, 16)))) < 0.01
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    batch_size = check_positive_int(batch_size, name="batch_size", minimum=4)
    if n_batches is not None:
        n_batches = check_positive_int(n_batches, name="n_batches")
    seed = check_positive_int(seed, name="seed", minimum=0)
    n = x.shape[0]
    if n < 4:
        raise InputError(f"minibatch_cka needs at least 4 rows, got {n}")
    _check_not_constant(x, "X")
    _check_not_constant(y, "Y")
    batch_size = min(batch_size, n)
    if n_batches is None:
        n_batches = n // batch_size
    sums = np.zeros(3)
    for idx in _minibatch_indices(n, batch_size, n_batches, seed):
        sums += _linear_unbiased_hsic(x[idx], y[idx])
    return cka_from_hsic(*(sums / n_batches))


METRICS = [
    MetricInfo(
        name="cka",
        family="similarity",
        func=cka,
        summary="Centered kernel alignment (linear or RBF kernel; biased or debiased HSIC).",
        citation="Kornblith, Norouzi, Lee & Hinton, Similarity of Neural Network Representations "
        "Revisited, ICML 2019; debiased: Song et al., Feature Selection via Dependence "
        "Maximization, JMLR 2012",
        complexity="O(N D^2) linear in feature space, O(N^2 D) in Gram space (RBF, or D > N)",
        unreliable_when="biased estimator with D comparable to or larger than N (inflated even for "
        "independent data; use estimator='debiased'); dominated by a few high-variance directions",
        higher_is_better=True,
        measure=MeasureProperties(
            kind="similarity",
            symmetric=True,
            is_metric=False,
            # Default (biased) estimator; estimator="debiased" can be negative, in [-1, 1].
            range=(0.0, 1.0),
            identity=1.0,
            invariant=Invariances.all_except("invertible_linear"),
        ),
    ),
    MetricInfo(
        name="minibatch_cka",
        family="similarity",
        func=minibatch_cka,
        summary="Linear CKA from unbiased HSIC averaged over seeded random minibatches.",
        citation="Nguyen, Raghu & Kornblith, Do Wide and Deep Networks Learn the Same Things? "
        "Uncovering How Neural Network Representations Vary with Width and Depth, ICLR 2021",
        complexity="O(N B D) with batch size B (O(N D^2) when D < B)",
        unreliable_when="batch_size small relative to D (noisy per-batch HSIC); value depends on "
        "the seeded split of the rows",
        higher_is_better=True,
        uses_seed=True,
        measure=MeasureProperties(
            kind="similarity",
            symmetric=True,
            is_metric=False,
            range=(-1.0, 1.0),
            identity=1.0,
            # The seeded split assigns row positions to batches, so reordering rows changes it.
            invariant=Invariances.all_except("invertible_linear", "sample_order"),
            # Two full default batches, so that the minibatch split (and its order dependence) shows.
            min_samples=512,
        ),
    ),
]
