"""Spectrum of one representation: effective rank, RankMe, alpha-ReQ, matrix entropy.

All five are functions of the singular values ``s_1 >= s_2 >= ...`` of ``X`` (optionally
column-centred), computed by LAPACK's SVD in float64; the covariance / Gram eigenvalues are
``s_i^2`` (up to a constant factor that cancels after normalisation).

Singular values or eigenvalues? The literature uses both under one name:

- :func:`effective_rank` (Roy & Vetterli 2007) and :func:`rankme` (Garrido et al. 2023, eq. 1)
  normalise the *singular values*: ``p_i = s_i / sum(s)``.
- :func:`rankme_eigen` normalises the *covariance eigenvalues* ``p_i = s_i^2 / sum(s^2)`` of
  the centred ``X``, as reptrix's ``get_rankme`` (by the alpha-ReQ authors) and the
  "effective rank" of several self-supervised-learning codebases do; it is ``exp`` of the
  von Neumann entropy of the trace-normalised covariance, the quantity of the
  matrix-entropy line of work (Skean et al. 2025; Wei et al. 2024 "Diff-eRank"). With
  ``eps=0`` ``rankme_eigen(X) == exp(matrix_entropy(X, alpha=1))``.

The two differ a lot: for a power-law spectrum the eigenvalue version is much smaller.
"""

from __future__ import annotations

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import check_features, check_positive_float, check_positive_int
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo

__all__ = ["effective_rank", "rankme", "rankme_eigen", "alpha_req", "matrix_entropy"]


def _singular_values(X: np.ndarray, center: bool) -> np.ndarray:
    """Singular values of ``X`` (column-centred when ``center``), descending, float64."""
    matrix = X - X.mean(axis=0) if center else X
    return np.linalg.svd(matrix, compute_uv=False)


def _distribution(values: np.ndarray) -> np.ndarray:
    """``values / sum(values)``; raise if ``X`` has no spread at all."""
    total = values.sum()
    if not total > 0:
        raise InputError("X has no spread (all singular values are zero); its spectrum is undefined")
    return values / total


def _shannon(p: np.ndarray) -> float:
    """Shannon entropy (nats) of non-negative weights ``p``, with ``0 log 0 = 0``."""
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def effective_rank(X: np.ndarray, *, center: bool = True) -> float:
    """Effective rank (Roy & Vetterli 2007): ``exp(H(p))`` with ``p_i = s_i / sum(s)``.

    ``s_i`` are the singular values of ``X``, column-centred by default so that the value
    describes the spread of the representation around its mean (Roy & Vetterli define it
    for a matrix as given: pass ``center=False``). It lies in ``[1, rank(X)]`` and equals
    ``r`` when the non-zero singular values are ``r`` equal values.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    center : bool, default=True
        Subtract the column means first.

    Returns
    -------
    float
        In ``[1, min(n_samples, n_features)]``.

    References
    ----------
    Roy & Vetterli, The effective rank: a measure of effective dimensionality, EUSIPCO 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.spectrum import effective_rank
    >>> round(effective_rank(np.eye(4), center=False), 6)
    4.0
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    p = _distribution(_singular_values(points, bool(center)))
    return float(np.exp(_shannon(p)))


def rankme(X: np.ndarray, *, eps: float = 1e-7) -> float:
    """RankMe (Garrido et al. 2023): ``exp(-sum p_k log p_k)``, ``p_k = s_k / ||s||_1 + eps``.

    ``s_k`` are the singular values of the (not centred) embedding matrix, as in the paper
    and its reference code; ``eps`` is the paper's ``1e-7``. For isotropic Gaussian data the
    value is close to ``min(n_samples, n_features)``. See :func:`rankme_eigen` for the
    variant on covariance eigenvalues.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    eps : float, default=1e-7
        Added to every normalised singular value, >= 0.

    Returns
    -------
    float
        Roughly in ``[1, min(n_samples, n_features)]``.

    References
    ----------
    Garrido, Balestriero, Najman & LeCun, RankMe: Assessing the downstream performance of
    pretrained self-supervised representations by their rank, ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.spectrum import rankme
    >>> X = np.random.default_rng(0).normal(size=(4000, 64))
    >>> rankme(X) > 0.9 * 64
    True
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    eps = check_positive_float(eps, name="eps", allow_zero=True)
    p = _distribution(_singular_values(points, False)) + eps
    return float(np.exp(_shannon(p)))


def rankme_eigen(X: np.ndarray, *, eps: float = 1e-7) -> float:
    """RankMe on covariance eigenvalues: ``exp(-sum p_k log p_k)``, ``p_k = l_k / sum(l) + eps``.

    ``l_k = s_k^2 / (N - 1)`` are the eigenvalues of the covariance of ``X`` (columns
    centred), where :func:`rankme` uses the singular values of the uncentred ``X``. This is
    the RankMe of reptrix (``get_rankme``, by the alpha-ReQ authors: PCA explained-variance
    ratios + 1e-7) and the "effective rank" of several self-supervised-learning codebases.
    It is ``exp`` of the von Neumann entropy of the trace-normalised covariance: with
    ``eps=0`` it equals ``exp(matrix_entropy(X, alpha=1))``. It is much smaller than
    :func:`rankme` for a decaying spectrum, so compare it only with itself.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    eps : float, default=1e-7
        Added to every normalised eigenvalue, >= 0.

    Returns
    -------
    float
        Roughly in ``[1, min(n_samples - 1, n_features)]``.

    References
    ----------
    Garrido, Balestriero, Najman & LeCun, RankMe, ICML 2023 (the singular-value original);
    reptrix 0.1.0 ``get_rankme`` (github.com/arnab39/reptrix), the eigenvalue variant.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.spectrum import rankme_eigen
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> round(rankme_eigen(X, eps=0.0), 6)
    2.0
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    eps = check_positive_float(eps, name="eps", allow_zero=True)
    p = _distribution(_singular_values(points, True) ** 2) + eps
    return float(np.exp(_shannon(p)))


def alpha_req(X: np.ndarray, *, first: int = 1, last: int | None = None) -> float:
    """alpha-ReQ (Agrawal et al. 2022): decay exponent of the covariance eigenspectrum.

    With ``lambda_1 >= lambda_2 >= ...`` the eigenvalues of the covariance of ``X``
    (columns centred), fits ``log lambda_i = c - alpha log i`` by weighted least squares
    with weights ``1 / i`` over the indices ``i = first .. last`` (1-based, inclusive) and
    returns ``alpha``. The ``1 / i`` weights (they balance the many tail points against
    the few head points of a log-spaced axis) are those of the authors' reptrix
    ``get_powerlaw``, taken from Stringer et al. 2019; reptrix fits ranks 6..100 by
    default (``first=6, last=100`` here).
    ``last=None`` uses every numerically non-zero eigenvalue (the numerical rank of the
    centred ``X``, as :func:`numpy.linalg.matrix_rank` counts it: ``s_i > s_1 max(N, D)``
    times machine epsilon; at most ``min(N - 1, D)``). Agrawal et al. find ``alpha`` close to 1 for good representations: smaller
    means a flatter (whiter) spectrum, larger a faster collapse onto few directions.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    first : int, default=1
        First eigenvalue index in the fit, >= 1.
    last : int or None, default=None
        Last eigenvalue index in the fit; the range must hold at least 2 non-zero eigenvalues.

    Returns
    -------
    float
        ``alpha`` >= 0 (a least-squares slope of a non-increasing sequence is <= 0).

    References
    ----------
    Agrawal, Mondal, Ghosh & Richards, alpha-ReQ: Assessing representation quality in
    self-supervised learning by measuring eigenspectrum decay, NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.spectrum import alpha_req
    >>> G = np.random.default_rng(0).normal(size=(500, 20))
    >>> Q, _ = np.linalg.qr(G - G.mean(axis=0))  # orthonormal, centred columns
    >>> round(alpha_req(Q * np.arange(1, 21) ** -0.5), 6)  # eigenvalues ~ i^-1
    1.0
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    first = check_positive_int(first, name="first")
    sv = _singular_values(points, True)
    nonzero = int(np.sum(sv > sv[0] * max(points.shape) * np.finfo(np.float64).eps))
    eig = sv**2
    last = nonzero if last is None else check_positive_int(last, name="last")
    if last > nonzero:
        raise InputError(f"last={last} but X has only {nonzero} non-zero covariance eigenvalue(s)")
    if last - first + 1 < 2:
        raise InputError(
            f"alpha_req needs at least 2 eigenvalues in first..last, got first={first}, last={last} "
            f"({nonzero} non-zero eigenvalue(s) available)"
        )
    index = np.arange(first, last + 1)
    slope = np.polyfit(np.log(index), np.log(eig[first - 1 : last]), 1, w=1.0 / np.sqrt(index))[0]
    return float(-slope)


def matrix_entropy(X: np.ndarray, *, alpha: float = 1.0, center: bool = True) -> float:
    """Matrix-based Renyi entropy of order ``alpha`` of the trace-normalised Gram matrix.

    With ``K = X X^T`` (rows centred by the column means when ``center``, so that ``K`` has
    the eigenvalues of the scatter matrix) and ``p_i = lambda_i(K) / tr(K)``:
    ``S_alpha = log(sum p_i^alpha) / (1 - alpha)``, and for ``alpha = 1`` the von Neumann
    entropy ``-sum p_i log p_i`` (natural log). It lies in ``[0, log rank(X)]``; ``K`` and
    ``X^T X`` share their non-zero eigenvalues, so the cost is one SVD of ``X``. Giraldo et
    al. use a normalised kernel Gram matrix; Skean et al. apply the linear kernel to
    layer representations (whose rows they also centre and L2-normalise, which you can
    do before calling).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    alpha : float, default=1.0
        Order of the Renyi entropy, > 0; 1 is the von Neumann (Shannon) limit.
    center : bool, default=True
        Subtract the column means first.

    Returns
    -------
    float
        In ``[0, log min(n_samples, n_features)]`` nats.

    References
    ----------
    Giraldo, Rao & Principe, Measures of entropy from data using infinitely divisible
    kernels, IEEE Transactions on Information Theory 2015; Skean, Arefin, Zhao, Patel,
    Naghiyev, LeCun & Shwartz-Ziv, Layer by layer: uncovering hidden representations in
    language models, ICML 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.spectrum import matrix_entropy
    >>> X = np.diag([3.0, 3.0, 3.0, 3.0])
    >>> round(matrix_entropy(X, center=False, alpha=2.0), 6), round(float(np.log(4)), 6)
    (1.386294, 1.386294)
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    alpha = check_positive_float(alpha, name="alpha")
    p = _distribution(_singular_values(points, bool(center)) ** 2)
    if alpha == 1.0:
        return _shannon(p)
    p = p[p > 0]
    return float(np.log(np.sum(p**alpha)) / (1.0 - alpha))


_LINEAR_INVARIANT = Invariances.all_except("invertible_linear")
_UNCENTRED_INVARIANT = Invariances.all_except("translation", "invertible_linear")

METRICS = [
    MetricInfo(
        name="effective_rank",
        family="geometry",
        func=effective_rank,
        summary="Roy-Vetterli effective rank: exp entropy of normalised singular values (centred).",
        citation="Roy & Vetterli, The effective rank: a measure of effective dimensionality, EUSIPCO 2007",
        complexity="O(N D min(N, D)) one SVD",
        unreliable_when="N much smaller than D (at most N - 1 directions are visible)",
        higher_is_better=True,
        measure=MeasureProperties.geometry(range=(1.0, None), invariant=_LINEAR_INVARIANT),
    ),
    MetricInfo(
        name="rankme",
        family="geometry",
        func=rankme,
        summary="RankMe: exp entropy of normalised singular values + 1e-7 (uncentred, as published).",
        citation="Garrido, Balestriero, Najman & LeCun, RankMe: Assessing the downstream performance "
        "of pretrained self-supervised representations by their rank, ICML 2023",
        complexity="O(N D min(N, D)) one SVD",
        unreliable_when="N < D; a large common offset (not centred) counts as one strong direction",
        higher_is_better=True,
        measure=MeasureProperties.geometry(range=(0.0, None), invariant=_UNCENTRED_INVARIANT),
    ),
    MetricInfo(
        name="rankme_eigen",
        family="geometry",
        func=rankme_eigen,
        summary="RankMe on covariance eigenvalues (squared singular values, centred) + 1e-7, as reptrix.",
        citation="Garrido et al., RankMe, ICML 2023 (singular-value original); eigenvalue variant "
        "as in reptrix get_rankme (Agrawal, Mondal, Ghosh et al.)",
        complexity="O(N D min(N, D)) one SVD",
        unreliable_when="N < D; compare only with itself, never with rankme",
        higher_is_better=True,
        measure=MeasureProperties.geometry(range=(0.0, None), invariant=_LINEAR_INVARIANT),
    ),
    MetricInfo(
        name="alpha_req",
        family="geometry",
        func=alpha_req,
        summary="alpha-ReQ: power-law decay exponent of the covariance eigenspectrum (log-log fit).",
        citation="Agrawal, Mondal, Ghosh & Richards, alpha-ReQ: Assessing representation quality in "
        "self-supervised learning by measuring eigenspectrum decay, NeurIPS 2022",
        complexity="O(N D min(N, D)) one SVD",
        unreliable_when="the spectrum is not a power law; N < D truncates the tail; best near 1, not monotone",
        higher_is_better=False,
        measure=MeasureProperties.geometry(range=(0.0, None), invariant=_LINEAR_INVARIANT),
    ),
    MetricInfo(
        name="matrix_entropy",
        family="geometry",
        func=matrix_entropy,
        summary="Renyi alpha-entropy of the trace-normalised linear Gram matrix (von Neumann at alpha=1).",
        citation="Giraldo, Rao & Principe, Measures of entropy from data using infinitely divisible "
        "kernels, IEEE Trans. Inf. Theory 2015; Skean et al., Layer by layer, ICML 2025",
        complexity="O(N D min(N, D)) one SVD",
        unreliable_when="N much smaller than D (bounded by log N)",
        higher_is_better=True,
        measure=MeasureProperties.geometry(range=(0.0, None), invariant=_LINEAR_INVARIANT),
    ),
]
