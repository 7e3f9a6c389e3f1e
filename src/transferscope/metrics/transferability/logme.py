"""LogME: the log marginal evidence of a Bayesian linear model on frozen features.

You, Liu, Wang & Long, "LogME: Practical Assessment of Pre-trained Models for
Transfer Learning", ICML 2021 (and the TPAMI 2022 extension).

For each target column ``y`` (one one-hot column per class, or each regression
target) the model is ``y = F w + e`` with prior ``w ~ N(0, alpha^-1 I_D)`` and
noise ``e ~ N(0, beta^-1 I_N)``. With ``A = alpha I + beta F^T F`` the log evidence is

    L(alpha, beta) = D/2 log alpha + N/2 log beta - N/2 log 2 pi
                     - beta/2 ||F m - y||^2 - alpha/2 ||m||^2 - 1/2 log det A,
    m = beta A^-1 F^T y.

The score is ``sup L / N`` over ``alpha, beta > 0``, averaged over target columns.

How the supremum is found (exactly, not by MacKay's fixed point)
-----------------------------------------------------------------
Let ``s_i`` (``i = 1..r``) be the nonzero eigenvalues of ``F^T F``, ``z_i^2`` the
squared projections of ``y`` on the matching left singular vectors and
``delta`` the squared norm of ``y`` outside span(F). With ``t = alpha / beta``,
``w_i = t / (s_i + t)`` and ``Q(t) = delta + sum_i z_i^2 w_i`` (the residual plus
the weight penalty, divided by ``beta``), the evidence becomes

    L = r/2 log t + N/2 log beta - beta/2 Q(t) - 1/2 sum_i log(s_i + t) - N/2 log 2 pi,

so for fixed ``t`` the best ``beta`` is ``N / Q(t)`` and what is left is the
one-dimensional *profile*

    P(t) = N/2 (log N - 1 - log 2 pi) - N/2 log Q(t) - 1/2 sum_i log(1 + s_i / t).

(The ``D - r`` null directions of ``F`` cancel exactly: ``D`` does not appear.)
``P`` is maximised in ``u = log t`` for all columns at once: first on a grid of
``u`` with spacing 1/4 that covers every scale where ``P`` can turn (the
eigenvalues, and the exact-fit scale ``t* = r delta / ((N - r) sum z^2/s)``, each
widened by e^8; outside it ``P`` is provably monotone up to terms below
``e^-8``), evaluated by one matrix product; then by a safeguarded Newton
iteration on ``P'(u)`` inside the bracket around each column's best grid point.
The limits are taken explicitly: ``t -> inf`` (``w = 0``) gives
``P = const - N/2 log ||y||^2``; ``t -> 0`` gives ``-inf`` when ``delta > 0`` and,
when ``F`` has full row rank (``r = N``, so ``delta = 0``), the finite limit
``const - N/2 log sum(z^2/s) - 1/2 sum log s``. The score is the largest of the
three.

Correctness notes (where common implementations go wrong):

* ``log det A`` runs over all ``D`` eigenvalues. When ``N < D`` the ``D - rank``
  zero eigenvalues contribute ``log alpha`` each; dropping them (as the
  reference implementations do) gives a wrong score.
* MacKay's fixed point (the reference implementations, and this module before
  it was replaced) can stop below the maximum: it is slow near the limits of
  ``t``, may settle on a non-global stationary point, and with a clipped ``t``
  returned values far below the supremum (one case in six on random inputs
  with ``N < D``). The profile maximisation above reaches the same value where
  the fixed point does converge (the golden tests below are the converged
  reference values).
* A column fitted exactly by ``F`` with ``N > r`` (duplicated rows, features
  that contain the label) has an unbounded evidence (noise-free fit, ``beta ->
  inf``). Its residual ``delta`` is then pure rounding, so it is floored at the
  rounding level of the computation, ``max(N, D) eps ||y||^2``: the score is the
  finite, high value of a fit exact to machine precision, never ``-1e9``.
* LogME is invariant to scaling the features (``s`` and ``t`` scale together),
  so features of extreme magnitude are rescaled by a power of two (exact) first:
  values from ``1e-170`` to ``1e300`` give the same score without overflow.
* Labels are remapped to ``0..C-1`` first, so gaps such as ``{0, 5}`` do not
  create empty classes.
* Everything is computed in the eigenbasis of ``F^T F`` (``N >= D``) or of the
  Gram matrix ``F F^T`` (``N < D``): one product and one symmetric
  eigendecomposition, the algorithmic floor. Class sums of a one-hot target are
  one sparse product, ``O(N D)``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
    check_multilabel_targets,
    check_positive_float,
    check_positive_int,
    check_regression_targets,
)
from transferscope.metrics.registry import MetricInfo
from transferscope.metrics.transferability._classwise import class_sums, one_hot

__all__ = ["logme"]

_LOG_2PI = float(np.log(2.0 * np.pi))
_EPS = float(np.finfo(np.float64).eps)
_GRID_STEP = 0.25  # spacing of the grid in u = log t
_MARGIN = 8.0  # how far (in u) beyond the scales where P can turn the grid reaches


def _spectrum(
    features: np.ndarray, targets: np.ndarray | None, codes: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(s, z2, delta, yy)`` for every target column.

    ``s``: nonzero eigenvalues of ``F^T F``; ``z2``: squared projections of each
    column on the matching left singular vectors; ``delta``: squared norm of each
    column outside span(F) (exactly 0 when F has full row rank); ``yy``: squared
    norm of each column. Targets are either dense (``targets``) or the one-hot
    encoding of ``codes``, used through a sparse product.
    """
    n, d = features.shape
    if codes is not None:
        n_classes = int(codes.max()) + 1
        onehot = one_hot(codes, n_classes)
        yy = np.bincount(codes, minlength=n_classes).astype(np.float64)

        def project(basis: np.ndarray) -> np.ndarray:  # basis^T Y, (k, C)
            return class_sums(onehot, basis).T
    else:
        yy = np.einsum("ij,ij->j", targets, targets)

        def project(basis: np.ndarray) -> np.ndarray:
            return basis.T @ targets

    cut = max(n, d) * _EPS
    if n >= d:
        s, v = np.linalg.eigh(features.T @ features)
        keep = s > s[-1] * cut
        s = s[keep]
        proj = v[:, keep].T @ project(features)  # V^T F^T Y = sqrt(s) * z
        z2 = proj**2 / s[:, None]
        delta = np.maximum(yy - z2.sum(axis=0), 0.0)
    else:
        s, u = np.linalg.eigh(features @ features.T)
        keep = s > s[-1] * cut
        s = s[keep]
        proj = project(u)  # (n, C): all N directions, so delta needs no subtraction
        z2 = proj[keep] ** 2
        delta = (proj[~keep] ** 2).sum(axis=0)
    if s.size < n:
        # N > r: delta is rounding where the fit is exact; floor it there (see the notes).
        delta = np.maximum(delta, cut * yy)
    else:
        delta = np.zeros_like(yy)
    return s, z2, delta, yy


def _profile_terms(
    u: np.ndarray, s: np.ndarray, z2: np.ndarray, delta: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``P(u)``, ``P'(u)`` and ``P''(u)`` per column, at one ``u = log t`` per column."""
    ratio = s[:, None] * np.exp(-u)[None, :]  # s / t, (r, C)
    w = 1.0 / (1.0 + ratio)  # t / (s + t)
    om = ratio * w  # s / (s + t) = 1 - w, without cancellation
    q = delta + (z2 * w).sum(axis=0)
    q1 = (z2 * w * om).sum(axis=0) / q
    q2 = (z2 * w * om * (om - w)).sum(axis=0) / q
    value = n / 2.0 * (np.log(n) - 1.0 - _LOG_2PI) - n / 2.0 * np.log(q) - 0.5 * np.log1p(ratio).sum(axis=0)
    first = -n / 2.0 * q1 + 0.5 * om.sum(axis=0)
    second = -n / 2.0 * (q2 - q1**2) - 0.5 * (w * om).sum(axis=0)
    return value, first, second


def _max_profile(
    s: np.ndarray, z2: np.ndarray, delta: np.ndarray, yy: np.ndarray, n: int, *, tol: float, max_iter: int
) -> np.ndarray:
    """``sup_t P(t)`` for every column (see the module docstring), as ``L / N``."""
    r = s.shape[0]
    const = n / 2.0 * (np.log(n) - 1.0 - _LOG_2PI)
    candidates = [const - n / 2.0 * np.log(yy)]  # t -> inf: w = 0
    if r == n:  # full row rank: delta = 0 and t -> 0 has a finite limit
        candidates.append(const - n / 2.0 * np.log((z2 / s[:, None]).sum(axis=0)) - 0.5 * np.log(s).sum())
    lo, hi = float(np.log(s[0])), float(np.log(s[-1]))
    if r < n:
        a = (z2 / s[:, None]).sum(axis=0)
        fitted = a > 0
        if fitted.any():
            t_star = r * delta[fitted] / ((n - r) * a[fitted])
            lo = min(lo, float(np.log(t_star.min())))
    lo, hi = lo - _MARGIN, hi + _MARGIN
    grid = np.linspace(lo, hi, int(np.ceil((hi - lo) / _GRID_STEP)) + 1)
    ratio = s[None, :] * np.exp(-grid)[:, None]  # (G, r)
    q_grid = (1.0 / (1.0 + ratio)) @ z2 + delta  # one product for every grid point and column
    p_grid = const - n / 2.0 * np.log(q_grid) - 0.5 * np.log1p(ratio).sum(axis=1)[:, None]
    k = np.argmax(p_grid, axis=0)
    cols = np.arange(z2.shape[1])
    x, px = grid[k], p_grid[k, cols]
    left, right = grid[np.maximum(k - 1, 0)], grid[np.minimum(k + 1, grid.size - 1)]
    # Safeguarded Newton on P'(u) = 0 inside [left, right]; the bracket keeps P(x) >= P at its ends.
    for _ in range(max_iter):
        _, first, second = _profile_terms(x, s, z2, delta, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - first / second
        inside = (second < 0) & (newton > left) & (newton < right)
        bisect = np.where(x - left > right - x, 0.5 * (left + x), 0.5 * (x + right))
        trial = np.where(inside, newton, bisect)
        # Done where the step is below tol, or where Newton's predicted gain is below the
        # rounding level of P itself (there P can no longer tell two points apart).
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = np.where(second < 0, -0.5 * first**2 / second, np.inf)
        done = (np.abs(trial - x) <= tol * np.maximum(1.0, np.abs(x))) | (gain <= 64 * _EPS * np.abs(px))
        if np.all(done):
            break
        p_trial = _profile_terms(trial, s, z2, delta, n)[0]
        better = p_trial > px
        up = trial > x
        left = np.where(better & up, x, np.where(~better & ~up, trial, left))
        right = np.where(better & ~up, x, np.where(~better & up, trial, right))
        x, px = np.where(better, trial, x), np.where(better, p_trial, px)
    candidates.append(px)
    return np.max(candidates, axis=0) / n


def logme(
    features: Any,
    labels: Any,
    *,
    task: Literal["classification", "regression", "multilabel"] = "classification",
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> float:
    """LogME score: average maximised log evidence per sample (higher is better).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Frozen features of the target inputs.
    labels : array-like of shape (n_samples,) or (n_samples, n_targets)
        Class labels of any hashable type (classification), real targets
        (regression, one or several columns), or a 0/1 indicator matrix
        (multilabel, one column per label).
    task : {"classification", "regression", "multilabel"}, default="classification"
        Classification one-hot encodes the remapped labels; multilabel uses each
        indicator column as a target.
    tol : float, default=1e-10
        Convergence tolerance on ``log(alpha / beta)`` of the Newton refinement
        of the evidence's maximum (relative where ``|log t| > 1``); it also stops
        where the predicted gain in evidence is below its rounding error.
    max_iter : int, default=1000
        Upper bound on refinement iterations (about 5-10 are used; the bracket
        guarantees the result is never below the best grid point).

    Returns
    -------
    float
        Mean over target columns of the maximised log evidence divided by ``N``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.logme import logme
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> good = rng.normal(size=(100, 8)) + 3.0 * y[:, None]
    >>> bad = rng.normal(size=(100, 8))
    >>> logme(good, y) > logme(bad, y)
    True
    """
    task = check_choice(task, ("classification", "regression", "multilabel"), name="task")
    tol = check_positive_float(tol, name="tol")
    max_iter = check_positive_int(max_iter, name="max_iter")
    feats = check_features(features, scale="rescale")  # scale-invariant
    n = feats.shape[0]
    codes = targets = None
    if task == "classification":
        codes, _ = check_classification_labels(labels, n)
    elif task == "multilabel":
        targets = check_multilabel_targets(labels, n)
    else:
        targets = check_regression_targets(labels, n)
        zero = np.flatnonzero(~targets.any(axis=0))
        if zero.size:
            raise InputError(f"labels column {int(zero[0])} is all zeros: every model fits it exactly "
                             "and its evidence is unbounded")
    s, z2, delta, yy = _spectrum(feats, targets, codes)
    if s.size == 0:
        # All-zero features explain nothing: only the w = 0 (t -> inf) limit remains,
        # with the noise precision beta = N / ||y||^2.
        return float(np.mean(0.5 * (np.log(n / yy) - 1.0 - _LOG_2PI)))
    return float(np.mean(_max_profile(s, z2, delta, yy, n, tol=tol, max_iter=max_iter)))


METRICS = [
    MetricInfo(
        name="logme",
        scale_invariant=True,
        family="transferability",
        func=logme,
        summary="Log marginal evidence of a Bayesian linear model on the features, per sample.",
        citation="You et al., LogME: Practical Assessment of Pre-trained Models for "
        "Transfer Learning, ICML 2021",
        task_types=("classification", "regression", "multilabel"),
        complexity="O(N D min(N, D) + min(N, D)^3)",
    )
]
