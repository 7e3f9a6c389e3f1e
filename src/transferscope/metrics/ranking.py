"""Meta-evaluation: how well estimator scores predict measured transfer.

``weighted_kendall`` is ``scipy.stats.weightedtau`` with its defaults
(hyperbolic weights ``1 / (r + 1)``, additive), the definition used by the
LogME, SFDA and ETran papers. Selection measures look at the top of the
ranking, which is what a user acts on:

* ``top{k}`` (e.g. ``top3``): 1.0 if the truly best candidate is among the
  estimator's top ``k``, else 0.0 (average over targets for a hit rate);
* ``regret@{k}``: ``max(truth) - max(truth over the estimator's top k)``
  (lower is better, 0 when the best is picked);
* ``relative_top1``: ``truth[estimator's pick] / max(truth)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from transferscope.errors import InputError

__all__ = ["rank_correlation", "rank_correlation_ci", "batch_rank_correlation", "mean_rank", "rank_scale", "learn_rank_weights",
           "weighted_rank", "mantel_test", "METHODS"]

METHODS = ("weighted_kendall", "kendall", "spearman", "pearson", "top{k}", "regret@{k}", "relative_top1")
_TOPK = re.compile(r"^top(\d+)$")
_REGRET = re.compile(r"^regret@(\d+)$")


def _vector(values: Any, name: str) -> np.ndarray:
    # Numbers only: a string or a mapping would otherwise reach numpy (a raw ValueError / TypeError).
    if isinstance(values, (str, bytes, Mapping)) or values is None:
        raise InputError(f"{name} must be a sequence of numbers, one per candidate, got {type(values).__name__}")
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must hold numbers, one per candidate, got {arr.dtype} values")
    if arr.ndim > 1 and max(arr.shape) != arr.size:
        raise InputError(f"{name} must be 1-D (one number per candidate), got shape {arr.shape}")
    return arr.astype(np.float64).ravel()


def _check_pair(scores: Any, truth: Any) -> tuple[np.ndarray, np.ndarray]:
    s = _vector(scores, "scores")
    t = _vector(truth, "truth")
    if s.shape != t.shape:
        raise InputError(f"scores has {s.size} entries but truth has {t.size}")
    if s.size < 2:
        raise InputError(f"need at least 2 candidates to compare, got {s.size}")
    if not (np.isfinite(s).all() and np.isfinite(t).all()):
        raise InputError("scores and truth must be finite")
    return s, t


def _constant(x: np.ndarray) -> bool:
    # Equal up to rounding (e.g. an H-score saturated at C - 1 for every candidate):
    # any correlation would only rank rounding noise.
    return bool(np.ptp(x) <= 1e-12 * max(1.0, float(np.abs(x).max())))


def _top(s: np.ndarray, k: int) -> np.ndarray:
    # Stable: among tied scores, the earlier candidate ranks first.
    return np.argsort(-s, kind="stable")[:k]


def _evaluate(s: np.ndarray, t: np.ndarray, method: str) -> float:
    if (m := _TOPK.match(method)) is not None:
        return float(t[_top(s, int(m.group(1)))].max() == t.max())
    if (m := _REGRET.match(method)) is not None:
        return float(t.max() - t[_top(s, int(m.group(1)))].max())
    if method == "relative_top1":
        if t.max() <= 0:
            raise InputError("relative_top1 needs a positive best truth value (e.g. accuracy)")
        return float(t[_top(s, 1)[0]] / t.max())
    if _constant(s) or _constant(t):
        return float("nan")
    from scipy import stats  # lazily: importing scipy.stats costs ~0.7 s, and a cached rerun needs none

    if method == "weighted_kendall":
        return float(stats.weightedtau(s, t).statistic)
    if method == "kendall":
        return float(stats.kendalltau(s, t).statistic)
    if method == "spearman":
        return float(stats.spearmanr(s, t).statistic)
    if method == "pearson":
        return float(stats.pearsonr(s, t).statistic)
    raise InputError(f"method must be one of {', '.join(METHODS)} (k a positive integer), got {method!r}")


def _check_method(method: str) -> str:
    method = str(method).strip().lower()
    for pattern in (_TOPK, _REGRET):
        m = pattern.match(method)
        if m is not None and int(m.group(1)) < 1:
            raise InputError(f"k in {method!r} must be >= 1")
    known = {"weighted_kendall", "kendall", "spearman", "pearson", "relative_top1"}
    if method not in known and not (_TOPK.match(method) or _REGRET.match(method)):
        raise InputError(f"method must be one of {', '.join(METHODS)} (k a positive integer), got {method!r}")
    return method


def rank_correlation(scores: Any, truth: Any, *, method: str = "weighted_kendall") -> float:
    """Agreement between estimator ``scores`` and measured ``truth`` over candidates.

    Parameters
    ----------
    scores, truth : array-like of shape (n_candidates,)
        Higher is better for both.
    method : str
        ``weighted_kendall``, ``kendall``, ``spearman``, ``pearson``, ``top{k}``,
        ``regret@{k}`` or ``relative_top1`` (see the module docs).

    Returns
    -------
    float
        NaN when a correlation is undefined: constant input, or input equal up to
        rounding (relative spread below 1e-12).

    Examples
    --------
    >>> from transferscope.metrics.ranking import rank_correlation
    >>> rank_correlation([0.1, 0.5, 0.9], [10, 20, 30], method="kendall")
    1.0
    >>> rank_correlation([0.9, 0.5, 0.1], [10, 20, 30], method="regret@1")
    20.0
    """
    method = _check_method(method)
    s, t = _check_pair(scores, truth)
    return _evaluate(s, t, method)


def batch_rank_correlation(scores: Any, truth: Any, *, method: str = "weighted_kendall",
                           max_elements: int = 4_000_000) -> np.ndarray:
    """:func:`rank_correlation` of each row of ``scores`` against the same row of ``truth``, at once.

    The rows are bootstrap resamples (ties are frequent: a resample repeats candidates). The
    correlations are computed from their pairwise definition, vectorised over rows: with
    ``s_ij = sign(scores_i - scores_j)`` and ``t_ij`` likewise, ``tau = sum w_ij s_ij t_ij /
    sqrt(sum w_ij |s_ij| * sum w_ij |t_ij|)`` over pairs ``i < j``; Kendall's tau-b has ``w = 1``;
    the weighted tau has ``w_ij = 1 / (r_i + 1) + 1 / (r_j + 1)``, ``r`` the rank of each element
    when ordered by decreasing scores (ties by decreasing truth), averaged with the same quantity
    ordered by truth first: the definition of :func:`scipy.stats.weightedtau` with its defaults
    (equal to it to rounding, tested with ties). ``top{k}``, ``regret@{k}`` and ``relative_top1``
    are evaluated per row; ``spearman`` and ``pearson``, and every method beyond
    ``_PAIRWISE_LIMIT`` candidates (where the O(n log n) SciPy routines win), row by row. A row whose
    scores or truth are constant (to rounding) gives NaN, as :func:`rank_correlation` does.
    O(rows x candidates^2) memory, in chunks of ``max_elements``.

    Examples
    --------
    >>> s = np.array([[0.1, 0.4, 0.3, 0.9], [0.1, 0.1, 0.3, 0.9]])
    >>> t = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 3.0, 4.0]])
    >>> batch_rank_correlation(s, t, method="kendall").round(6).tolist()
    [0.666667, 1.0]
    """
    method = _check_method(method)
    x = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    y = np.atleast_2d(np.asarray(truth, dtype=np.float64))
    if x.shape != y.shape or x.ndim != 2 or x.shape[1] < 2:
        raise InputError(f"scores and truth must be (rows x candidates) of one shape with >= 2 candidates, "
                         f"got {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("scores and truth must be finite")
    rows, n = x.shape
    if method in ("top1", "regret@1"):
        picked = y[np.arange(rows), np.argmax(x, axis=1)]  # argmax: the first of tied scores, as _top
        best = y.max(axis=1)
        return (picked == best).astype(float) if method == "top1" else best - picked
    if method not in ("weighted_kendall", "kendall") or n > _PAIRWISE_LIMIT:
        return np.array([_evaluate(x[b], y[b], method) for b in range(rows)])
    out = np.empty(rows)
    first, second = np.triu_indices(n, k=1)
    chunk = max(1, int(max_elements // first.size))
    for start in range(0, rows, chunk):
        xs, ys = x[start:start + chunk], y[start:start + chunk]
        sx = np.sign(xs[:, first] - xs[:, second])
        sy = np.sign(ys[:, first] - ys[:, second])
        if method == "kendall":
            value = _pair_tau(sx, sy, None)
        else:
            value = (_pair_tau(sx, sy, _hyperbolic_weights(xs, ys, first, second))
                     + _pair_tau(sx, sy, _hyperbolic_weights(ys, xs, first, second))) / 2
        constant = _constant_rows(xs) | _constant_rows(ys)
        out[start:start + chunk] = np.where(constant, np.nan, value)
    return out


_PAIRWISE_LIMIT = 120  # candidates; beyond, SciPy's O(n log n) per row is faster than O(n^2) pairs at once


def _hyperbolic_weights(primary: np.ndarray, secondary: np.ndarray, first: np.ndarray,
                        second: np.ndarray) -> np.ndarray:
    """Pair weights ``1 / (r_i + 1) + 1 / (r_j + 1)`` of the pairs (first, second), ``r`` the position
    by decreasing (primary, secondary)."""
    order = np.lexsort((-secondary, -primary), axis=-1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(primary.shape[1]), order.shape), axis=-1)
    w = 1.0 / (rank + 1.0)
    return w[:, first] + w[:, second]


def _pair_tau(sx: np.ndarray, sy: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    if weights is None:
        num, dx, dy = (sx * sy).sum(axis=1), np.abs(sx).sum(axis=1), np.abs(sy).sum(axis=1)
    else:
        num = (weights * sx * sy).sum(axis=1)
        dx, dy = (weights * np.abs(sx)).sum(axis=1), (weights * np.abs(sy)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / np.sqrt(dx * dy)


def _constant_rows(x: np.ndarray) -> np.ndarray:
    return np.ptp(x, axis=1) <= 1e-12 * np.maximum(1.0, np.abs(x).max(axis=1))


def rank_correlation_ci(
    scores: Any,
    truth: Any,
    *,
    method: str = "weighted_kendall",
    truth_splits: Any = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """The value of :func:`rank_correlation` with a percentile bootstrap interval.

    Candidates are resampled with replacement ``n_boot`` times (resamples where
    the measure is undefined are dropped). With ``truth_splits``, the ground truth's own noise
    is resampled too: ``truth_splits[i, j]`` is candidate ``i``'s measured transfer on split
    ``j`` (the same splits for every candidate, e.g. a repeated K-fold probe's
    ``split_scores``; ``truth`` is then their row mean); each resample also draws the splits
    with replacement and takes the truth as the mean over the drawn splits, so the interval
    covers both which candidates were benchmarked and how noisily their transfer was measured.

    Returns
    -------
    (value, low, high)

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.ranking import rank_correlation_ci
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=30)
    >>> value, low, high = rank_correlation_ci(truth + 0.3 * rng.normal(size=30), truth, method="kendall")
    >>> low < value < high
    True
    >>> splits = truth[:, None] + 2.0 * rng.normal(size=(30, 4))  # a noisy ground truth
    >>> _, low2, high2 = rank_correlation_ci(truth, splits.mean(axis=1), truth_splits=splits, method="kendall")
    >>> bool(high2 - low2 > high - low)  # wider: the truth's noise is part of the interval
    True
    """
    method = _check_method(method)
    s, t = _check_pair(scores, truth)
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if n_boot < 10:
        raise InputError(f"n_boot must be >= 10, got {n_boot}")
    per_split = None
    if truth_splits is not None:
        per_split = np.asarray(truth_splits, dtype=float)
        if per_split.ndim != 2 or per_split.shape[0] != s.size or per_split.shape[1] < 1:
            raise InputError(f"truth_splits must be a (candidates x splits) matrix with {s.size} rows, "
                             f"got shape {per_split.shape}")
        if not np.isfinite(per_split).all():
            raise InputError("truth_splits must be finite")
    rng = np.random.default_rng(seed)
    rows, truths = [], []
    for _ in range(n_boot):
        idx = rng.integers(0, s.size, s.size)
        if per_split is None:
            drawn = t[idx]
        else:
            cols = rng.integers(0, per_split.shape[1], per_split.shape[1])
            drawn = per_split[np.ix_(idx, cols)].mean(axis=1)
        rows.append(idx)
        truths.append(drawn)
    replicates = batch_rank_correlation(s[np.array(rows)], np.array(truths), method=method)
    values = replicates[np.isfinite(replicates)].tolist()
    point = _evaluate(s, t, method)
    if not values:
        return point, float("nan"), float("nan")
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return point, float(low), float(high)


def mean_rank(scores: Any, *, higher_is_better: Any = None) -> np.ndarray:
    """Rank aggregation: each candidate's mean rank over several estimators, as a score.

    ``scores[i, j]`` is estimator ``j``'s score of candidate ``i``. Each column is ranked (1 = the
    worst candidate, ties share their mean rank; a NaN ranks worst), then the ranks are averaged
    over the columns, so that higher is better and every estimator weighs the same whatever its
    scale. ``higher_is_better`` (one bool per column, default all True) flips the columns of
    estimators where lower is better.

    Examples
    --------
    >>> mean_rank([[0.9, -3.0], [0.1, -1.0], [0.5, -2.0]]).tolist()
    [2.0, 2.0, 2.0]
    >>> mean_rank([[0.9, 3.0], [0.1, 1.0], [0.5, 2.0]]).tolist()
    [3.0, 1.0, 2.0]
    """
    matrix = np.asarray(scores, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] < 1:
        raise InputError(f"scores must be a (candidates x estimators) matrix with at least 2 rows, got {matrix.shape}")
    return _column_ranks(matrix, higher_is_better).mean(axis=1)


def _column_ranks(matrix: np.ndarray, higher_is_better: Any) -> np.ndarray:
    """Ranks 1..n of each column of a (candidates x estimators) ``matrix``, oriented so higher is
    better (``higher_is_better``: one flag per column), ties sharing their mean rank, NaN worst."""
    from scipy.stats import rankdata

    if matrix.ndim != 2 or matrix.shape[0] < 2:
        raise InputError(f"scores must be a (candidates x estimators) matrix with at least 2 rows, got {matrix.shape}")
    signs = np.ones(matrix.shape[1]) if higher_is_better is None else np.where(np.asarray(higher_is_better), 1.0, -1.0)
    if signs.shape != (matrix.shape[1],):
        raise InputError(f"higher_is_better must hold one flag per column ({matrix.shape[1]}), got {signs.shape[0]}")
    oriented = matrix * signs
    oriented = np.where(np.isfinite(oriented), oriented, -np.inf)  # a NaN is the worst score
    return rankdata(oriented, axis=0)


def rank_scale(scores: Any, *, higher_is_better: Any = None) -> np.ndarray:
    """Each column of ``scores`` (candidates x estimators) as ranks scaled to [0, 1] (0 = the
    worst candidate, ties share their mean rank, a NaN ranks worst), oriented so higher is better.

    Examples
    --------
    >>> rank_scale([[0.9, 3.0], [0.1, 1.0], [0.5, 2.0]], higher_is_better=[True, False]).tolist()
    [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    """
    matrix = np.asarray(scores, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    return (_column_ranks(matrix, higher_is_better) - 1.0) / (matrix.shape[0] - 1.0)


def learn_rank_weights(blocks: Any, *, higher_is_better: Any = None, alpha: float = 1.0) -> np.ndarray:
    """Non-negative weights of estimators whose weighted rank best predicts the truth's rank.

    ``blocks`` holds one ``(scores, truth)`` pair per training target: ``scores`` candidates x
    estimators, ``truth`` one measured value per candidate. Within each block both are rank-scaled
    (:func:`rank_scale`) and centred, so that targets of any size, scale or metric weigh alike and
    only orderings are learned; the weights solve the ridge problem
    ``min ||X w - y||^2 + alpha ||w||^2`` subject to ``w >= 0`` (``scipy.optimize.nnls`` on the
    augmented system), then are scaled to sum to 1. A learned combination in the spirit of the
    learned rankers of the model-selection literature, kept linear and non-negative so that a
    handful of targets cannot overfit it into flipping an estimator's sign.

    Examples
    --------
    >>> truth = [0.9, 0.1, 0.5, 0.3]
    >>> good, noise = [3.0, 0.0, 2.0, 1.0], [0.0, 1.0, 3.0, 2.0]
    >>> w = learn_rank_weights([(np.column_stack([good, noise]), truth)] * 3, alpha=0.1)
    >>> w.round(2).tolist()
    [1.0, 0.0]
    """
    from scipy.optimize import nnls

    xs, ys = [], []
    for scores, truth in blocks:
        x = rank_scale(scores, higher_is_better=higher_is_better)
        y = rank_scale(np.asarray(truth, dtype=float))[:, 0]
        xs.append(x - x.mean(axis=0))
        ys.append(y - y.mean())
    if not xs:
        raise InputError("learn_rank_weights needs at least one (scores, truth) block")
    x, y = np.vstack(xs), np.concatenate(ys)
    if not (isinstance(alpha, (int, float)) and alpha >= 0):
        raise InputError(f"alpha must be a number >= 0, got {alpha!r}")
    augmented = np.vstack([x, np.sqrt(alpha) * np.eye(x.shape[1])])
    weights, _ = nnls(augmented, np.concatenate([y, np.zeros(x.shape[1])]))
    total = weights.sum()
    return weights / total if total > 0 else np.full(x.shape[1], 1.0 / x.shape[1])


def weighted_rank(scores: Any, weights: Any, *, higher_is_better: Any = None) -> np.ndarray:
    """The combined score ``rank_scale(scores) @ weights`` (higher is better).

    Examples
    --------
    >>> weighted_rank([[0.9, 3.0], [0.1, 1.0], [0.5, 2.0]], [0.5, 0.5]).tolist()
    [1.0, 0.0, 0.5]
    """
    w = np.asarray(weights, dtype=float)
    x = rank_scale(scores, higher_is_better=higher_is_better)
    if w.shape != (x.shape[1],):
        raise InputError(f"weights must hold one value per estimator ({x.shape[1]}), got {w.shape}")
    return x @ w


def mantel_test(a: Any, b: Any, *, permutations: int = 9999, seed: int = 0) -> tuple[float, float]:
    """Do two distance matrices over the same items agree? The Mantel test, rank form.

    ``r`` is Spearman's correlation between the upper triangles of ``a`` and ``b``; the p-value
    (one-sided, larger agreement than chance) is ``(1 + #{r_perm >= r}) / (1 + permutations)``,
    where each ``r_perm`` permutes the items of ``b`` (rows and columns together), which keeps the
    dependence between distances that share an item (Mantel 1967; Legendre & Legendre, Numerical
    Ecology, 10.5.1). With ``n`` items there are only ``n!`` distinct permutations: for ``n <= 7``
    all of them are enumerated instead (exact p-value, ``permutations`` ignored).

    Parameters
    ----------
    a, b : array-like of shape (n, n)
        Symmetric distance matrices, zero diagonal, the same item order; ``n >= 3``.
    permutations : int, default=9999
    seed : int, default=0

    Returns
    -------
    (float, float)
        ``r`` and the p-value; ``(nan, nan)`` when either triangle is constant.

    Examples
    --------
    >>> import numpy as np
    >>> points = np.arange(6.0)[:, None] ** 2
    >>> d = np.abs(points - points.T)
    >>> r, p = mantel_test(d, 2 * d + 1 - np.eye(6))
    >>> round(r, 6), round(p, 4)  # perfect agreement; 1 / 6! of the orders match it as well as d itself
    (1.0, 0.0014)
    """
    from itertools import permutations as all_orders

    from scipy.stats import rankdata

    x, y = (np.asarray(m, dtype=float) for m in (a, b))
    if x.ndim != 2 or x.shape[0] != x.shape[1] or x.shape != y.shape:
        raise InputError(f"a and b must be square matrices of one shape, got {x.shape} and {y.shape}")
    n = x.shape[0]
    if n < 3:
        raise InputError(f"a and b need at least 3 items, got {n}")
    for name, m in (("a", x), ("b", y)):
        if not np.all(np.isfinite(m)) or not np.allclose(m, m.T):
            raise InputError(f"{name} must be a finite symmetric matrix")
    if not (isinstance(permutations, int) and permutations >= 1):
        raise InputError(f"permutations must be a positive integer, got {permutations!r}")
    upper = np.triu_indices(n, k=1)
    rx = rankdata(x[upper])
    rx = (rx - rx.mean()) / (np.linalg.norm(rx - rx.mean()) or np.nan)

    def correlation(order: np.ndarray) -> float:
        ry = rankdata(y[np.ix_(order, order)][upper])
        centred = ry - ry.mean()
        norm = np.linalg.norm(centred)
        return float(rx @ centred / norm) if norm > 0 else float("nan")

    r = correlation(np.arange(n))
    if not np.isfinite(r):
        return float("nan"), float("nan")
    if n <= 7:
        null = np.array([correlation(np.asarray(o)) for o in all_orders(range(n))])
        return r, float(np.mean(null >= r - 1e-12))
    rng = np.random.default_rng(seed)
    null = np.array([correlation(rng.permutation(n)) for _ in range(permutations)])
    return r, float((1 + np.sum(null >= r - 1e-12)) / (1 + permutations))
