"""LogME: the log marginal evidence of a Bayesian linear model on frozen features.

You, Liu, Wang & Long, "LogME: Practical Assessment of Pre-trained Models for
Transfer Learning", ICML 2021 (and the TPAMI 2022 extension).

For each target column ``y`` (one one-hot column per class, or each regression
target) the model is ``y = F w + e`` with prior ``w ~ N(0, alpha^-1 I_D)`` and
noise ``e ~ N(0, beta^-1 I_N)``. With ``A = alpha I + beta F^T F`` the log evidence is

    L(alpha, beta) = D/2 log alpha + N/2 log beta - N/2 log 2 pi
                     - beta/2 ||F m - y||^2 - alpha/2 ||m||^2 - 1/2 log det A,
    m = beta A^-1 F^T y,

maximised over ``alpha, beta`` by MacKay's fixed point
``gamma = sum_i beta s_i / (alpha + beta s_i)``, ``alpha = gamma / ||m||^2``,
``beta = (N - gamma) / ||F m - y||^2`` where ``s_i`` are the eigenvalues of
``F^T F``. The score is the maximised ``L / N`` averaged over target columns.

Correctness notes (where common implementations go wrong):

* ``log det A`` runs over all ``D`` eigenvalues. When ``N < D`` the ``D - rank``
  zero eigenvalues contribute ``log alpha`` each; dropping them (as the
  reference implementations do) gives a wrong score.
* Labels are remapped to ``0..C-1`` first, so gaps such as ``{0, 5}`` do not
  create empty classes.
* Everything is computed in the eigenbasis of ``F^T F`` (``N >= D``) or of the
  Gram matrix ``F F^T`` (``N < D``): one product and one symmetric
  eigendecomposition, the algorithmic floor.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
    check_multilabel_targets,
    check_regression_targets,
)
from transferscope.metrics.registry import MetricInfo

__all__ = ["logme"]

_LOG_2PI = float(np.log(2.0 * np.pi))


def _spectrum(features: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(s, z2, delta)``: nonzero eigenvalues of F^T F, squared projections
    of each target column on the matching left singular vectors, and the squared
    norm of each column outside the span of F."""
    n, d = features.shape
    if n >= d:
        gram = features.T @ features
        s, v = np.linalg.eigh(gram)
        proj = v.T @ (features.T @ targets)  # = sqrt(s) * z
        keep = s > s.max() * max(n, d) * np.finfo(np.float64).eps
        s = s[keep]
        z2 = proj[keep] ** 2 / s[:, None]
    else:
        gram = features @ features.T
        s, u = np.linalg.eigh(gram)
        keep = s > s.max() * max(n, d) * np.finfo(np.float64).eps
        s = s[keep]
        z2 = (u[:, keep].T @ targets) ** 2
    delta = np.maximum(np.einsum("ij,ij->j", targets, targets) - z2.sum(axis=0), 0.0)
    return s, z2, delta


def _evidence(
    s: np.ndarray, z2: np.ndarray, delta: np.ndarray, n: int, d: int, *, tol: float, max_iter: int
) -> np.ndarray:
    """Maximise the evidence for every column at once; return ``L / N`` per column.

    The fixed point runs on ``t = alpha / beta`` so that no square of a huge number
    is formed. ``t`` is kept within ``[1e-12, 1e12] * max(s)``: beyond the upper end
    the features explain nothing of the column (``w -> 0``) and the evidence equals
    its limit to ~1e-12; below the lower end the fit is exact to rounding.
    """
    n_cols = z2.shape[1]
    tiny = np.finfo(np.float64).tiny
    scale = float(s.max()) if s.size and s.max() > 0 else 1.0
    t_min, t_max = 1e-12 * scale, 1e12 * scale
    sc = s[:, None]

    def update(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        denom = sc + t
        gamma = (sc / denom).sum(axis=0)
        m2 = (sc * z2 / denom**2).sum(axis=0)
        res2 = (t**2 * z2 / denom**2).sum(axis=0) + delta
        alpha = gamma / np.maximum(m2, tiny)
        beta = np.maximum(n - gamma, tiny) / np.maximum(res2, tiny)
        return alpha, beta, m2, res2

    t = np.ones(n_cols)  # alpha = beta = 1 to start, as in the paper
    for _ in range(max_iter):
        alpha, beta, _, _ = update(t)
        new_t = np.clip(alpha / beta, t_min, t_max)
        change = np.max(np.abs(new_t - t) / new_t)
        t = new_t
        if change < tol:
            break
    _, beta, m2, res2 = update(t)
    # beta stays finite in every limit; alpha follows from the (possibly clipped) ratio.
    alpha = t * beta
    logdet = np.log(beta) * s.shape[0] + np.log(sc + t).sum(axis=0) + (d - s.shape[0]) * np.log(alpha)
    evidence = (
        d / 2.0 * np.log(alpha)
        + n / 2.0 * np.log(beta)
        - alpha / 2.0 * m2
        - beta / 2.0 * res2
        - logdet / 2.0
        - n / 2.0 * _LOG_2PI
    )
    return evidence / n


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
        Relative change of ``alpha`` and ``beta`` at which the fixed point stops.
    max_iter : int, default=1000
        Upper bound on fixed-point iterations.

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
    feats = check_features(features)
    n, d = feats.shape
    if task == "classification":
        codes, classes = check_classification_labels(labels, n)
        targets = np.zeros((n, classes.shape[0]))
        targets[np.arange(n), codes] = 1.0
    elif task == "multilabel":
        targets = check_multilabel_targets(labels, n)
    else:
        targets = check_regression_targets(labels, n)
    s, z2, delta = _spectrum(feats, targets)
    if s.size == 0:
        # All-zero features explain nothing: the evidence is that of w = 0, the
        # alpha -> inf limit, with the noise precision beta = N / ||y||^2.
        yy = np.einsum("ij,ij->j", targets, targets)
        return float(np.mean(0.5 * (np.log(n / yy) - 1.0 - _LOG_2PI)))
    return float(np.mean(_evidence(s, z2, delta, n, d, tol=tol, max_iter=max_iter)))


METRICS = [
    MetricInfo(
        name="logme",
        family="transferability",
        func=logme,
        summary="Log marginal evidence of a Bayesian linear model on the features, per sample.",
        citation="You et al., LogME: Practical Assessment of Pre-trained Models for "
        "Transfer Learning, ICML 2021",
        task_types=("classification", "regression", "multilabel"),
        complexity="O(N D min(N, D) + min(N, D)^3)",
    )
]
