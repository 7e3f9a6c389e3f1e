"""Uniformity of L2-normalised representations on the hypersphere (Wang & Isola 2020).

``log mean_{i<j} exp(-t ||u_i - u_j||^2)`` over distinct pairs of the L2-normalised rows
``u_i``: the log of a Gaussian-potential energy, lower (more negative) = more uniformly
spread on the sphere. Wang & Isola use it as a loss (with ``t = 2``) alongside alignment.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from transferscope.errors import InputError
from transferscope.metrics._normalize import unit_rows
from transferscope.metrics._validation import check_features, check_positive_float, check_positive_int
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo

__all__ = ["uniformity"]


def _log_mean_pair_kernel(u: np.ndarray, t: float, *, memory: int = 2**22) -> float:
    """``log mean_{i<j} exp(-t ||u_i - u_j||^2)`` for unit rows ``u``, exactly, by row blocks.

    ``||u_i - u_j||^2 = 2 - 2 <u_i, u_j>``; each block of rows against the later rows is
    reduced with a log-sum-exp, so nothing under- or overflows; blocks hold ~``memory`` floats.
    """
    n = u.shape[0]
    chunk = max(1, memory // n)
    total = -np.inf
    for start in range(0, n - 1, chunk):
        stop = min(start + chunk, n - 1)
        sq = np.maximum(2.0 - 2.0 * (u[start:stop] @ u[start + 1 :].T), 0.0)  # rows i, columns j > start
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(start + 1, n)[None, :]
        logs = np.where(cols > rows, -t * sq, -np.inf)  # keep j > i only
        total = np.logaddexp(total, logsumexp(logs))
    return float(total - np.log(n * (n - 1) / 2))


def uniformity(
    X: np.ndarray,
    *,
    t: float = 2.0,
    max_samples: int | None = None,
    seed: int = 0,
) -> float:
    """Uniformity loss of Wang & Isola (2020).

    ``log( 2 / (N (N - 1)) sum_{i<j} exp(-t ||u_i - u_j||^2) )`` with ``u_i = x_i / ||x_i||``.
    It lies in ``[-4 t, 0]``: 0 when all rows point the same way, lower when the
    directions spread out. For points uniform on the sphere ``S^(D-1)`` the expectation is
    ``log E exp(-2 t (1 - s))`` where ``s = <u, v>`` has density proportional to
    ``(1 - s^2)^((D - 3) / 2)`` on ``[-1, 1]``.

    The exact value costs O(N^2 D) time (all pairs, computed in blocks of rows of about
    4 million entries). ``max_samples`` estimates it from a seeded random subset of rows
    instead (the estimate is unbiased for the pair mean, not for its log).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least 2 rows, none of them all-zero.
    t : float, default=2.0
        Temperature of the Gaussian potential, > 0.
    max_samples : int or None, default=None
        If set and smaller than ``n_samples``, use this many rows drawn without replacement.
    seed : int, default=0
        Seed of the row subsample (used only with ``max_samples``).

    Returns
    -------
    float
        In ``[-4 t, 0]``; lower is more uniform.

    References
    ----------
    Wang & Isola, Understanding contrastive representation learning through alignment and
    uniformity on the hypersphere, ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.uniformity import uniformity
    >>> round(uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]])), 6)  # antipodal: ||u - v||^2 = 4
    -8.0
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    t = check_positive_float(t, name="t")
    if points.shape[0] < 2:
        raise InputError(f"X needs at least 2 rows for pairs, got {points.shape[0]}")
    if max_samples is not None:
        max_samples = check_positive_int(max_samples, name="max_samples", minimum=2)
        if max_samples < points.shape[0]:
            rng = np.random.default_rng(check_positive_int(seed, name="seed", minimum=0))
            points = points[np.sort(rng.choice(points.shape[0], size=max_samples, replace=False))]
    return _log_mean_pair_kernel(unit_rows(points), t)


METRICS = [
    MetricInfo(
        name="uniformity",
        family="geometry",
        func=uniformity,
        summary="Wang-Isola uniformity: log mean Gaussian potential exp(-t||u_i-u_j||^2) of normalised rows.",
        citation="Wang & Isola, Understanding contrastive representation learning through alignment "
        "and uniformity on the hypersphere, ICML 2020",
        complexity="O(N^2 D) exact in row blocks; O(M^2 D) with max_samples=M",
        unreliable_when="features are not centred (a common offset makes all rows point one way)",
        higher_is_better=False,
        uses_seed=True,
        measure=MeasureProperties.geometry(
            range=(None, 0.0), invariant=Invariances.all_except("translation", "invertible_linear")
        ),
    )
]
