"""Prediction-based similarity: how well one representation linearly predicts the other.

- :func:`linear_regression`: the share of ``Y``'s variance that a least-squares
  (optionally ridge) map from ``X`` explains. Asymmetric; ``variant="resi"`` is
  ReSi's ``LinearRegression``, which reads its arguments the other way round.
- :func:`gulp`: the GULP distance, how differently ridge regressions on ``X``
  and on ``Y`` would predict any target. Symmetric, a metric.

Both work through the principal directions of the centred ``X`` (see
``_linalg``): a ridge fit on ``X = U diag(s) V^T`` predicts ``U diag(s^2 / (s^2 + lam)) U^T`` times
the target, exact also for rank-deficient ``X`` and ``N < D``.

Against ReSi (mklabunde/resi ``repsim.measures.linear_regression.linear_reg``):
``linear_reg(R, Rp)`` is ``||Q^T R_c||_F^2 / ||R_c||_F^2`` with
``Q = Rp_c (Rp_c^T Rp_c)^{-1/2}``: the *second* argument predicts the first, as
in Kornblith et al.'s formula. That is the whole difference on full-rank
inputs (``linear_regression(X, Y, variant="resi") == linear_regression(Y, X)``,
equal to ReSi to ~1e-15). ReSi's explicit ``inv(sqrtm(Rp^T Rp))`` is not a
convention but a numerical weakness: it raises ``LinAlgError`` when ``Rp`` has a
constant column and exceeds its bound 1 when ``Rp`` spans the centred sample
space (``N - 1 <= d``: 1 + 5e-10 in float64, 1 + 5e-4 on float32 input, which
ReSi computes in float32). The ``_linalg`` basis used here gives the exact
value (1) there.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import check_choice, check_paired_features, check_positive_float
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo
from transferscope.metrics.similarity._linalg import centred_spectrum

__all__ = ["linear_regression", "gulp"]


def _shrinkage(s: np.ndarray, lam: float) -> np.ndarray:
    """Ridge shrinkage factors ``s^2 / (s^2 + lam)`` (all 1 for ``lam == 0``)."""
    return s**2 / (s**2 + lam)


def linear_regression(
    X: Any, Y: Any, *, ridge: float = 0.0, variant: Literal["default", "resi"] = "default"
) -> float:
    """R^2 of predicting ``Y`` from ``X`` by (ridge) least squares, with intercept.

    ``R^2 = 1 - ||Y_c - X_c B||_F^2 / ||Y_c||_F^2`` with ``X_c``, ``Y_c`` the
    centred representations and ``B = (X_c^T X_c + ridge I)^+ X_c^T Y_c``; for
    ``ridge = 0`` this is ``||Q_X^T Y_c||_F^2 / ||Y_c||_F^2`` with ``Q_X`` an
    orthonormal basis of the centred ``X``. The residuals of all columns of
    ``Y`` are pooled, so columns with more variance count more (scikit-learn's
    ``r2_score(..., multioutput="variance_weighted")``).

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
        The predictor.
    Y : array-like of shape (n_samples, d_y)
        The target; it must vary.
    ridge : float, default=0.0
        Ridge penalty ``>= 0`` on the squared coefficients, on the scale of
        the sums of squares (scikit-learn ``Ridge(alpha=ridge)``).
    variant : {"default", "resi"}, default="default"
        ``"default"``: ``X`` predicts ``Y``, as described here. ``"resi"``:
        ReSi's ``LinearRegression()(X, Y, "nd")``, in which ``Y`` predicts ``X``
        (``R^2_LR`` of Kornblith et al. with ``X`` the target); the values in
        the ReSi benchmark (Klabunde et al. 2024) were computed this way. Same
        fit, arguments read the other way round; ``ridge`` then applies to ``Y``.

    Returns
    -------
    float
        In ``[0, 1]``; 1 when ``Y`` is an affine function of ``X`` (and ``ridge = 0``).

    Notes
    -----
    Kornblith et al. 2019 list the same fit the other way round
    (``R^2_LR = ||Q_Y^T X||_F^2 / ||X||_F^2``, ``X`` predicted from ``Y``), and
    ReSi follows them (``variant="resi"``); here the first argument predicts
    the second, like ``predictor.fit(X, Y)`` in scikit-learn and the
    ``(features, target)`` order of the transferability estimators. ReSi
    inverts ``sqrtm(Y^T Y)`` explicitly, so it fails (``LinAlgError``) on a
    constant column of its predictor and exceeds 1 when the predictor spans
    the centred sample space; ``variant="resi"`` gives the exact values there
    (see the module notes). With ``ridge = 0`` and
    ``N - 1 <= rank(X)`` any ``Y`` is fitted exactly and ``R^2 = 1``.
    Rescaling, translating, rotating or permuting ``Y`` leaves the value
    unchanged; a general invertible map of ``Y`` reweights its directions and
    changes it. Any invertible map of ``X`` leaves it unchanged for ``ridge = 0``.

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton, Similarity of Neural Network
    Representations Revisited, ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.regression import linear_regression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 4))
    >>> round(linear_regression(X, X @ rng.normal(size=(4, 3)) + 5.0), 6)
    1.0
    >>> Y = X[:, :2]
    >>> linear_regression(Y, X) < linear_regression(X, Y)
    True
    >>> linear_regression(X, Y, variant="resi") == linear_regression(Y, X)
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    ridge = check_positive_float(ridge, name="ridge", allow_zero=True)
    variant = check_choice(variant, ("default", "resi"), name="variant")
    names = ("X", "Y")
    if variant == "resi":  # Y predicts X
        x, y, names = y, x, ("Y", "X")
    if not np.any(np.ptp(y, axis=0) > 0):
        raise InputError(f"{names[1]} has no variance: every column is constant across the rows")
    spec = centred_spectrum(x, name=names[0])
    yc = y - y.mean(axis=0)
    total = float(np.sum(yc**2))
    f = _shrinkage(spec.s, ridge)
    # ||Y - U F U^T Y||^2 = ||Y||^2 - sum_i (2 f_i - f_i^2) ||(U^T Y)_i||^2
    captured = np.sum((spec.u.T @ yc) ** 2, axis=1)
    return float(np.clip(np.dot(2.0 * f - f**2, captured) / total, 0.0, 1.0))


def _ridge_factors(x: np.ndarray, lam: float, *, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Basis ``U`` and shrinkage factors of ridge on ``x`` centred and scaled to unit norm."""
    spec = centred_spectrum(x, name=name)
    return spec.u, _shrinkage(spec.s / np.linalg.norm(spec.s), lam)


def gulp(X: Any, Y: Any, *, lam: float = 1e-2) -> float:
    """GULP distance: how differently ridge regression on ``X`` and on ``Y`` predicts.

    Each representation is centred and scaled to unit Frobenius norm (total
    variance 1 under the per-sample covariance ``X^T X``). With
    ``H(X) = X (X^T X + lam I)^{-1} X^T`` the ridge "hat" matrix that maps any
    target vector on the ``N`` inputs to its in-sample ridge prediction,

    ``d(X, Y)^2 = ||H(X) - H(Y)||_F^2
    = tr H(X)^2 + tr H(Y)^2 - 2 tr H(X) H(Y)``,

    the expected squared difference between the two ridge predictions of a
    white-noise target ``eta ~ N(0, I_N)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    lam : float, default=1e-2
        Ridge regularisation ``>= 0`` relative to the unit total variance.
        ``lam = 0`` (ordinary least squares) gives
        ``d^2 = r_x + r_y - 2 sum_i rho_i^2`` with ``rho`` the canonical
        correlations, invariant to invertible linear maps; larger ``lam``
        discounts low-variance directions, like Procrustes.

    Returns
    -------
    float
        A distance ``>= 0`` (at most ``sqrt(r_x + r_y)``); a metric.

    Notes
    -----
    Matches the square root of ``predictor_dist(A, B, lmbda=lam)`` of the GULP
    repository (sgstepaniants/GULP), which returns ``d^2`` on inputs laid out
    as neurons x samples, centred per neuron and scaled by
    ``sqrt(N) / ||A||_F`` as in its experiment scripts; the square root is the
    metric the paper proves. Directions below the ``_linalg`` rank tolerance are
    dropped, where the reference counts any positive eigenvalue.

    References
    ----------
    Boix-Adsera, Lawrence, Stepaniants & Rigollet, GULP: a prediction-based
    metric between representations, NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.regression import gulp
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 4))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    >>> round(gulp(X, 3.0 * X @ Q + 1.0), 6)
    0.0
    >>> round(gulp(X, X @ rng.normal(size=(4, 4)), lam=0.0), 6)
    0.0
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    lam = check_positive_float(lam, name="lam", allow_zero=True)
    ux, fx = _ridge_factors(x, lam, name="X")
    uy, fy = _ridge_factors(y, lam, name="Y")
    # Write uy = ux C + Q R with Q orthonormal and orthogonal to ux. In the orthonormal
    # basis [ux, Q], H(X) = diag(fx, 0) and H(Y) = K diag(fy) K^T with K = [C; R], so
    # ||H(X) - H(Y)||_F is that of a small matrix: a direct difference, without the
    # cancellation of tr H(X)^2 + tr H(Y)^2 - 2 tr H(X) H(Y) near 0.
    c = ux.T @ uy
    k = np.vstack([c, np.linalg.qr(uy - ux @ c, mode="r")])
    diff = (k * fy) @ k.T
    diff[: fx.size, : fx.size] -= np.diag(fx)
    return float(np.linalg.norm(diff))


METRICS = [
    MetricInfo(
        name="linear_regression",
        family="similarity",
        func=linear_regression,
        summary="R^2 of a least-squares (or ridge) map from X predicting Y; asymmetric.",
        citation="Kornblith, Norouzi, Lee & Hinton, Similarity of Neural Network "
        "Representations Revisited, ICML 2019 (linear regression fit)",
        complexity="O(N d_x min(N, d_x) + N d_x d_y)",
        unreliable_when="N is not well above d_x with ridge=0: with N - 1 <= rank(X) every Y fits (R^2 = 1)",
        measure=MeasureProperties(
            kind="similarity",
            symmetric=False,
            is_metric=False,
            range=(0.0, 1.0),
            identity=1.0,
            # Transforms of Y (the target) alone.
            invariant=Invariances.all_except("invertible_linear"),
        ),
    ),
    MetricInfo(
        name="gulp",
        family="similarity",
        func=gulp,
        summary="GULP: distance between the ridge predictors of X and Y, ||H(X) - H(Y)||_F.",
        citation="Boix-Adsera, Lawrence, Stepaniants & Rigollet, GULP: a prediction-based "
        "metric between representations, NeurIPS 2022",
        higher_is_better=False,
        complexity="O(N D min(N, D)): two Gram matrices and their eigendecompositions",
        unreliable_when="lam near 0 with N not well above the dimensions (OLS fits noise)",
        measure=MeasureProperties(
            kind="distance",
            symmetric=True,
            is_metric=True,
            range=(0.0, None),
            identity=0.0,
            invariant=Invariances.all_except("invertible_linear"),
        ),
    ),
]
