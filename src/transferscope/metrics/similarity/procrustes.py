"""Shape metrics: distances after optimally aligning one representation onto the other.

Williams et al. (2021) treat two representations as the same "shape" when one
is an allowed transformation of the other, and measure the distance left after
the best alignment. Each representation is first centred and scaled to unit
Frobenius norm; a representation with fewer columns is zero-padded, which
leaves every quantity below unchanged (the padding contributes zero rows or
columns to ``X^T Y``).

- :func:`procrustes`: alignment by any orthogonal map; Euclidean distance
  ``sqrt(2 - 2 ||X^T Y||_*)`` (Ding et al. 2021 report its square).
- :func:`shape_metric`: angular distance ``arccos ||X_a^T Y_a||_* / (||X_a|| ||Y_a||)``
  after partial whitening ``X_a`` with strength ``1 - alpha`` (netrep's
  ``LinearMetric(score_method="angular")``).
- :func:`permutation_procrustes`: alignment restricted to permutations of the
  columns (optimal assignment on ``X^T Y``).

All three obey the triangle inequality on equivalence classes of representations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import orthogonal_procrustes
from scipy.optimize import linear_sum_assignment

from transferscope.errors import InputError
from transferscope.metrics._validation import check_fraction, check_paired_features
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo
from transferscope.metrics.similarity._linalg import centred_spectrum

__all__ = ["procrustes", "shape_metric", "permutation_procrustes"]


def _normalised(x: np.ndarray, *, name: str) -> np.ndarray:
    """``x`` centred and scaled to unit Frobenius norm, in place: ``x`` is the caller's own copy
    (:func:`~transferscope.metrics.check_paired_features` returns copies), so no other is made."""
    if not np.any(np.ptp(x, axis=0) > 0):
        raise InputError(f"{name} has no variance: every column is constant across the rows")
    x -= x.mean(axis=0)
    x /= np.linalg.norm(x)
    return x


def _whitened(x: np.ndarray, alpha: float, *, name: str) -> np.ndarray:
    """``x`` centred, unit-norm, partially whitened and rotated to its ``r`` principal axes.

    Partial whitening ``X (alpha I + (1 - alpha) (X^T X)^(-1/2))`` maps the
    singular values ``s`` of the unit-norm ``X`` to ``alpha s + (1 - alpha)``;
    the result ``U diag(alpha s + 1 - alpha)`` (``N x r``) is rescaled to unit
    norm. It differs from the whitened ``X`` by an orthogonal map of the
    columns, which no alignment below can see.
    """
    spec = centred_spectrum(x, name=name, overwrite=True)  # x: the checked copy
    g = alpha * spec.s / np.linalg.norm(spec.s) + (1.0 - alpha)
    u = spec.u
    u *= g / np.linalg.norm(g)  # the spectrum's own array: scaled where it is
    return u


#: Below this squared distance the closed form ``|a|^2 + |b|^2 - 2 ||a^T b||_*`` has lost too many
#: digits to cancellation (its error is about 1e-15 absolute; at 1e-4 that is 1e-11 relative in the
#: distance), and the aligned difference itself is computed instead.
_CLOSED_FORM_ABOVE = 1e-4


def _unwhitened(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` centred and unit-norm: :func:`_whitened` with ``alpha = 1`` up to an
    orthogonal map of the columns (which no alignment sees), without its singular value
    decomposition."""
    return _normalised(x, name="X"), _normalised(y, name="Y")


def _aligned_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``min_Q ||a - b Q||_F`` over orthogonal ``Q``, the narrower matrix zero-padded.

    ``sqrt(|a|^2 + |b|^2 - 2 ||a^T b||_*)``: one (d_a x d_b) product and its singular values,
    the floor of any exact method. Near 0 that difference cancels (it loses half the digits), so
    below :data:`_CLOSED_FORM_ABOVE` the norm of the aligned difference is computed instead.
    """
    from scipy.linalg import svdvals

    squared = float(np.vdot(a, a) + np.vdot(b, b) - 2.0 * np.sum(svdvals(a.T @ b)))
    if squared > _CLOSED_FORM_ABOVE:
        return float(np.sqrt(squared))
    width = max(a.shape[1], b.shape[1])
    a = np.pad(a, ((0, 0), (0, width - a.shape[1])))
    b = np.pad(b, ((0, 0), (0, width - b.shape[1])))
    rotation, _ = orthogonal_procrustes(b, a)
    return float(np.linalg.norm(a - b @ rotation))


def procrustes(X: Any, Y: Any) -> float:
    """Orthogonal Procrustes distance between centred, unit-norm representations.

    ``d(X, Y) = min_Q ||X - Y Q||_F = sqrt(2 - 2 ||X^T Y||_*)`` over orthogonal
    ``Q``, after centring each representation and scaling it to unit
    Frobenius norm (``||.||_*`` is the nuclear norm: the sum of singular values).

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
        The smaller is implicitly zero-padded to the larger dimension.

    Returns
    -------
    float
        A distance in ``[0, sqrt(2)]``; 0 iff ``Y`` is ``X`` up to rotation,
        reflection, translation and global scale.

    Notes
    -----
    The square of this value is the Procrustes distance of Ding, Denain &
    Steinhardt 2021 (and of ``procrustes`` in the GULP repository) on
    normalised inputs; the square root makes it a metric (Williams et al.
    2021, netrep ``LinearMetric(alpha=1, score_method="euclidean")`` on
    normalised inputs). ``2 * arcsin(d / 2)`` is :func:`shape_metric` with
    ``alpha=1``.

    References
    ----------
    Williams, Kunz, Kornblith & Linderman, Generalized Shape Metrics on Neural
    Representations, NeurIPS 2021.
    Ding, Denain & Steinhardt, Grounding Representation Similarity Through
    Statistical Testing, NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.procrustes import procrustes
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    >>> round(procrustes(X, 2.0 * X @ Q + 1.0), 6)
    0.0
    >>> round(procrustes(X, -X[:, :1]), 3) > 0.5
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    return _aligned_distance(*_unwhitened(x, y))


def shape_metric(X: Any, Y: Any, *, alpha: float = 1.0) -> float:
    """Angular shape metric with partial whitening (Williams et al. 2021).

    Each representation is centred, scaled to unit Frobenius norm, and
    partially whitened, ``X_a = X (alpha I + (1 - alpha) (X^T X)^(-1/2))``;
    the distance is the angle left after the best rotation,

    ``theta(X, Y) = arccos( ||X_a^T Y_a||_* / (||X_a||_F ||Y_a||_F) )``.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    alpha : float, default=1.0
        In ``[0, 1]``. 1: no whitening, the angular Procrustes distance,
        invariant to rotations and global scale. 0: full whitening, invariant
        to every invertible linear map; then ``cos theta`` is the sum of the
        canonical correlations over ``sqrt(r_x r_y)``. In between: partial whitening.

    Returns
    -------
    float
        An angle in ``[0, pi/2]``, a metric on equivalence classes for every ``alpha``.

    Notes
    -----
    Equal to netrep ``LinearMetric(alpha=alpha, score_method="angular")``
    (which zero-pads the smaller input) when the inputs are centred and
    scaled to unit Frobenius norm. netrep whitens the raw centred data, so
    for ``0 < alpha < 1`` its value changes with the overall scale of the data
    and with ``N``; normalising first makes the metric scale-invariant for every
    ``alpha``. The whitening uses the numerical rank of ``_linalg`` instead
    of netrep's absolute eigenvalue floor of 1e-7.

    References
    ----------
    Williams, Kunz, Kornblith & Linderman, Generalized Shape Metrics on Neural
    Representations, NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.procrustes import shape_metric
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 4))
    >>> A = rng.normal(size=(4, 4))
    >>> round(shape_metric(X, X @ A, alpha=0.0), 6)
    0.0
    >>> shape_metric(X, X @ A) > 0.05
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    alpha = check_fraction(alpha, name="alpha")
    if alpha == 1.0:
        a, b = _unwhitened(x, y)
    else:  # each checked copy is let go once its whitened basis exists: one N x d array less at the peak
        a, x = _whitened(x, alpha, name="X"), None
        b, y = _whitened(y, alpha, name="Y"), None
    chord = _aligned_distance(a, b)
    # Unit-norm matrices at angle theta are 2 sin(theta / 2) apart; arcsin is stable near 0.
    return float(2.0 * np.arcsin(min(chord / 2.0, np.sqrt(0.5))))


def permutation_procrustes(X: Any, Y: Any) -> float:
    """Procrustes distance with the alignment restricted to permutations of the columns.

    ``d(X, Y) = min_P ||X - Y P||_F = sqrt(2 - 2 max_P tr(X^T Y P))`` over
    permutation matrices ``P``, after centring and scaling each representation
    to unit Frobenius norm; the optimal ``P`` solves a linear assignment
    problem on ``X^T Y`` (:func:`scipy.optimize.linear_sum_assignment`).

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
        The smaller is implicitly zero-padded to the larger dimension: the
        assignment pairs ``min(d_x, d_y)`` columns and the rest meet zeros.

    Returns
    -------
    float
        A distance in ``[0, 2]``; 0 iff ``Y`` is ``X`` with its columns
        permuted, up to translation and global scale.

    Notes
    -----
    Equal to netrep ``PermutationMetric(score_method="euclidean")`` on
    centred, unit-norm inputs. Unlike :func:`procrustes` it is not invariant
    to rotations: it asks whether individual units (neurons) correspond.

    References
    ----------
    Williams, Kunz, Kornblith & Linderman, Generalized Shape Metrics on Neural
    Representations, NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.procrustes import permutation_procrustes
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 5))
    >>> round(permutation_procrustes(X, 3.0 * X[:, [4, 2, 0, 1, 3]]), 6)
    0.0
    >>> Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    >>> permutation_procrustes(X, X @ Q) > 0.1
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    xn, yn = _normalised(x, name="X"), _normalised(y, name="Y")
    cross = xn.T @ yn
    rows, cols = linear_sum_assignment(cross, maximize=True)
    # |xn|^2 + |yn|^2 - 2 (matched inner products): unmatched columns meet the zero padding.
    squared = float(np.vdot(xn, xn) + np.vdot(yn, yn) - 2.0 * np.sum(cross[rows, cols]))
    if squared > _CLOSED_FORM_ABOVE:
        return float(np.sqrt(squared))
    unmatched = np.sum(np.delete(xn, rows, axis=1) ** 2) + np.sum(np.delete(yn, cols, axis=1) ** 2)
    return float(np.sqrt(np.sum((xn[:, rows] - yn[:, cols]) ** 2) + unmatched))  # near 0: no cancellation


_WILLIAMS = ("Williams, Kunz, Kornblith & Linderman, Generalized Shape Metrics on Neural "
             "Representations, NeurIPS 2021")


METRICS = [
    MetricInfo(
        name="procrustes",
        family="similarity",
        func=procrustes,
        summary="Orthogonal Procrustes distance sqrt(2 - 2||X^T Y||_*) on centred, unit-norm data.",
        citation=_WILLIAMS + "; Ding, Denain & Steinhardt, Grounding Representation "
        "Similarity Through Statistical Testing, NeurIPS 2021",
        higher_is_better=False,
        complexity="O(N D min(N, D)): two Gram matrices and their eigendecompositions",
        unreliable_when="a few high-variance directions dominate (it weighs directions by variance)",
        measure=MeasureProperties(
            kind="distance",
            symmetric=True,
            is_metric=True,
            range=(0.0, float(np.sqrt(2.0))),
            identity=0.0,
            invariant=Invariances.all_except("invertible_linear"),
        ),
    ),
    MetricInfo(
        name="shape_metric",
        family="similarity",
        func=shape_metric,
        summary="Angular shape metric with partial whitening alpha (1: angular Procrustes, 0: CCA-like).",
        citation=_WILLIAMS,
        higher_is_better=False,
        complexity="O(N D min(N, D)): two Gram matrices and their eigendecompositions",
        unreliable_when="alpha near 0 with N not well above the dimensions (whitening amplifies noise)",
        measure=MeasureProperties(
            kind="distance",
            symmetric=True,
            is_metric=True,
            range=(0.0, float(np.pi / 2)),
            identity=0.0,
            # Default alpha=1; with alpha=0 it is invariant to invertible linear maps too.
            invariant=Invariances.all_except("invertible_linear"),
        ),
    ),
    MetricInfo(
        name="permutation_procrustes",
        family="similarity",
        func=permutation_procrustes,
        summary="Procrustes distance with the alignment restricted to permutations of units.",
        citation=_WILLIAMS,
        higher_is_better=False,
        complexity="O(N d_x d_y + max(d_x, d_y)^3) (assignment)",
        unreliable_when="units are not meant to correspond (then use procrustes)",
        measure=MeasureProperties(
            kind="distance",
            symmetric=True,
            is_metric=True,
            range=(0.0, 2.0),
            identity=0.0,
            invariant=Invariances.all_except("orthogonal", "invertible_linear"),
        ),
    ),
]
