"""Shared arithmetic of the Fisher-discriminant estimators (SFDA, ETran's LDA term).

Private module (not scanned for ``METRICS``). Everything here takes already
validated float64 arrays and integer codes ``0..C-1``.

The regularised linear discriminant of SFDA (Shao et al., ECCV 2022) uses the
pooled within-class covariance ``S_w = (1/N) sum_i (x_i - mu_{y_i})(x_i - mu_{y_i})^T``
shrunk towards a scaled identity,

    S_w(lambda) = (1 - lambda) S_w + lambda (tr S_w / D) I,

and the class posterior of the Gaussian model with that shared covariance,

    log p(c | x) = x^T S_w(lambda)^-1 mu_c - 1/2 mu_c^T S_w(lambda)^-1 mu_c + log pi_c - log Z(x).

The reference code obtains ``S_w(lambda)^-1`` as ``V V^T`` from the generalised
eigenvectors ``V`` of ``(S_b, S_w(lambda))`` (the Fisher directions, which are
``S_w(lambda)``-orthonormal); projecting onto all ``D`` Fisher directions and
classifying there is therefore the same as whitening by ``S_w(lambda)``, which is
what ``_classwise.fisher_log_posterior`` does (through a D x C matrix).
"""

from __future__ import annotations

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import check_fraction


def total_variance(feats: np.ndarray) -> float:
    """Sum of the feature variances; exactly zero for constant columns."""
    variances = np.var(feats, axis=0)
    return float(variances[np.ptp(feats, axis=0) > 0].sum())


def power_iteration_eigenvalue(matrix: np.ndarray, iterations: int) -> float | None:
    """The reference's estimate of the largest eigenvalue of a PSD matrix.

    Starts from the row sums and takes ``iterations`` double steps, returning
    ``x^T A y`` as in SFDA's ``utils.iterative_A``. Returns ``None`` when the
    iteration breaks down (a zero vector, e.g. when the rows of ``A`` sum to zero),
    where the reference would produce NaN.
    """
    x = matrix.sum(axis=1)
    y = x
    for _ in range(iterations):
        temp = matrix @ x
        norm = np.linalg.norm(temp)
        if norm == 0 or not np.isfinite(norm):
            return None
        y = temp / norm
        temp = matrix @ y
        norm = np.linalg.norm(temp)
        if norm == 0 or not np.isfinite(norm):
            return None
        x = temp / norm
    return float(x @ matrix @ y)


def adaptive_shrinkage(
    eigvals: np.ndarray,
    s_w: np.ndarray,
    *,
    scale: float,
    floor: float,
    power_iterations: int | None,
) -> float:
    """SFDA's shrinkage ``lambda = max(exp(-scale * sigma_max(S_w)), floor)``.

    ``sigma_max`` is the exact largest eigenvalue (``power_iterations=None``) or the
    reference's power-iteration estimate.
    """
    sigma = float(eigvals.max()) if eigvals.size else 0.0
    if power_iterations is not None:
        estimate = power_iteration_eigenvalue(s_w, power_iterations)
        if estimate is not None:
            sigma = estimate
    return float(min(1.0, max(np.exp(-scale * sigma), floor)))


def check_within_class_scatter(s_w: np.ndarray, feats: np.ndarray, metric: str) -> None:
    """Reject features where every class is a single point (to rounding) but the
    classes differ: the discriminant is then undefined (the shrunk covariance is
    zero). All rows identical is allowed: the posteriors are then the priors."""
    total = total_variance(feats)
    if total > 0.0 and float(np.trace(s_w)) <= total * max(feats.shape) * np.finfo(np.float64).eps:
        raise InputError(
            f"{metric} is undefined when every class is a single point (zero within-class "
            "variance): each class needs two or more distinct feature rows"
        )


def check_unit_interval(value: object, *, name: str, allow_none: bool = False) -> float | None:
    """Return ``value`` as a float in ``[0, 1]`` (or ``None`` if allowed), or raise."""
    return check_fraction(value, name=name, allow_none=allow_none)
