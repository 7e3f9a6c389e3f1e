"""Rank correlation between estimator scores and measured transfer.

The weighted Kendall tau is ``scipy.stats.weightedtau`` with its defaults
(hyperbolic weights ``1 / (r + 1)``, additive), the definition used by the
LogME, SFDA and ETran papers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from transferscope.errors import InputError
from transferscope.metrics._validation import check_choice

__all__ = ["rank_correlation", "METHODS"]

METHODS = ("weighted_kendall", "kendall", "spearman", "pearson", "regret@1")


def rank_correlation(scores: Any, truth: Any, *, method: str = "weighted_kendall") -> float:
    """Agreement between estimator ``scores`` and measured ``truth`` over candidates.

    Parameters
    ----------
    scores, truth : array-like of shape (n_candidates,)
        Higher is better for both.
    method : {"weighted_kendall", "kendall", "spearman", "pearson", "regret@1"}
        ``regret@1`` is ``max(truth) - truth[argmax(scores)]`` (lower is better).

    Returns
    -------
    float
        NaN when a correlation is undefined (constant input).

    Examples
    --------
    >>> from transferscope.metrics.ranking import rank_correlation
    >>> rank_correlation([0.1, 0.5, 0.9], [10, 20, 30], method="kendall")
    1.0
    """
    method = check_choice(method, METHODS, name="method")
    s = np.asarray(scores, dtype=np.float64).ravel()
    t = np.asarray(truth, dtype=np.float64).ravel()
    if s.shape != t.shape:
        raise InputError(f"scores has {s.size} entries but truth has {t.size}")
    if s.size < 2:
        raise InputError(f"need at least 2 candidates to correlate, got {s.size}")
    if not (np.isfinite(s).all() and np.isfinite(t).all()):
        raise InputError("scores and truth must be finite")
    if method == "regret@1":
        return float(t.max() - t[np.argmax(s)])
    if np.ptp(s) == 0 or np.ptp(t) == 0:
        return float("nan")
    if method == "weighted_kendall":
        return float(stats.weightedtau(s, t).statistic)
    if method == "kendall":
        return float(stats.kendalltau(s, t).statistic)
    if method == "spearman":
        return float(stats.spearmanr(s, t).statistic)
    return float(stats.pearsonr(s, t).statistic)
