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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics.resampled_taus import draw_counts, taus_from_products
from transferscope.metrics.triangular import upper_triangular_product

__all__ = ["rank_correlation", "rank_correlation_ci", "batch_rank_correlation", "resampled_rank_correlation", "mean_rank", "rank_scale", "mantel_test", "METHODS"]

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


def _within_rounding(low: Any, high: Any) -> Any:
    """Whether values from ``low`` to ``high`` are equal up to rounding (relative spread at most
    1e-12); elementwise for arrays (the one rule of :func:`_constant` and its batch forms)."""
    return high - low <= 1e-12 * np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))


def _constant(x: np.ndarray) -> bool:
    # Equal up to rounding (e.g. an H-score saturated at C - 1 for every candidate):
    # any correlation would only rank rounding noise.
    return bool(_within_rounding(x.min(), x.max()))


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

    The rows are bootstrap resamples whose truth differs row by row (e.g. the truth's own splits
    resampled too); resamples of one (scores, truth) pair are faster through
    :func:`resampled_rank_correlation`. Ties are frequent (a resample repeats candidates). The
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


_GEMM_LIMIT = 4096  # candidates; the n x n concordance matrix (float32) is 64 MiB there


def resampled_rank_correlation(scores: Any, truth: Any, draws: Any, *,
                               methods: Sequence[str] = ("weighted_kendall",),
                               truth_splits: Any = None, split_draws: Any = None) -> dict[str, np.ndarray]:
    """Each of ``methods`` on every bootstrap resample ``draws`` of (scores, truth), for one or
    several score columns at once.

    ``draws[b]`` holds the candidate indices of resample ``b`` (with repeats). Rather than
    rebuilding each resample, Kendall's tau-b and the weighted tau are computed from how many
    times each candidate is drawn: with ``m`` those counts and ``K_ij = sign(scores_i - scores_j)
    * sign(truth_i - truth_j)``, the resample's concordance is ``m' K m / 2``, and its weighted
    form (hyperbolic weights of each drawn copy's position, copies of one candidate side by side)
    is ``h' K m``, ``h_i`` the sum of ``1 / (r + 1)`` over the positions ``r`` that candidate ``i``'s
    copies take; the pairs not tied in scores (or truth) follow from the counts of tied groups in
    closed form. ``M K`` for all resamples is one matrix product, exact in float32 (integer sums
    below 2^24). The values equal :func:`batch_rank_correlation` on the rebuilt resamples (and so
    :func:`scipy.stats.weightedtau` and ``kendalltau``) to rounding, ties included (tested).

    A NaN score marks a candidate that column does not cover: it is left out of every resample
    (the resample shrinks, as when a method is scored on the candidates it covers). A resample
    whose covered scores or truth are constant (to rounding), or that covers fewer than 2 draws,
    gives NaN for the correlations; ``top1`` / ``regret@1`` need 2 covered draws and take the
    first drawn of tied top scores. Beyond ``_GEMM_LIMIT`` candidates the resamples are rebuilt
    and scored one by one.

    With ``truth_splits`` (candidates x splits: the truth measured on each split, ``truth`` their
    mean) and ``split_draws`` (resamples x splits, indices), the truth's own noise is resampled
    too: resample ``b``'s truth is the mean of candidate ``i``'s drawn splits ``split_draws[b]``.
    Each resample then has its own truth, and is rebuilt and scored through
    :func:`batch_rank_correlation` (every column must cover every candidate).

    Parameters
    ----------
    scores : array-like of shape (n,) or (n, k)
        One score column, or ``k`` columns scored against the same truth and resamples.
    truth : array-like of shape (n,)
    draws : array-like of int, shape (n_resamples, d)
    methods : sequence of str
        Any of ``weighted_kendall``, ``kendall``, ``top1``, ``regret@1`` (others row by row).

    Returns
    -------
    dict
        Method name -> array of shape (n_resamples,), or (k, n_resamples) for 2-D ``scores``.

    Examples
    --------
    >>> scores, truth = np.array([0.1, 0.4, 0.3, 0.9]), np.array([1.0, 2.0, 3.0, 4.0])
    >>> draws = np.array([[0, 1, 2, 3], [0, 0, 2, 3]])
    >>> resampled_rank_correlation(scores, truth, draws, methods=["kendall"])["kendall"].round(6).tolist()
    [0.666667, 1.0]
    """
    methods = [_check_method(m) for m in methods]
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    idx = np.asarray(draws)
    columns = x[:, None] if x.ndim == 1 else x
    if columns.ndim != 2 or y.ndim != 1 or columns.shape[0] != y.size or y.size < 2:
        raise InputError(f"scores must be (n,) or (n, k) and truth (n,) with n >= 2, got {x.shape} and {y.shape}")
    if not np.isfinite(y).all() or np.isinf(columns).any():
        raise InputError("truth must be finite and scores finite or NaN (not covered)")
    if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer) or idx.size == 0 \
            or idx.min() < 0 or idx.max() >= y.size:
        raise InputError(f"draws must be a (resamples x draws) matrix of indices in [0, {y.size}), got shape {idx.shape}")
    rows = np.arange(idx.shape[0])
    if truth_splits is not None:
        return _resampled_with_truth_noise(columns, truth_splits, idx, split_draws, methods,
                                           single=x.ndim == 1)
    out = {m: np.full((columns.shape[1], idx.shape[0]), np.nan) for m in methods}
    taus = [m for m in methods if m in ("weighted_kendall", "kendall")]
    covered = np.isfinite(columns)
    counts = draw_counts(idx, y.size) if y.size <= _GEMM_LIMIT else None
    for mask in {c.tobytes(): c for c in covered.T}.values():  # columns sharing a coverage share their work
        group = np.flatnonzero((covered == mask[:, None]).all(axis=0))
        values: dict[str, np.ndarray] = {}
        if taus and counts is not None:
            drawn = counts if mask.all() else np.ascontiguousarray(counts[:, mask])  # a mask's copy is F-ordered
            values = _tau_from_counts(columns[mask][:, group], y[mask], drawn, taus)
            for m in taus:
                out[m][group] = values[m]
        picks = [m for m in methods if m in ("top1", "regret@1")]
        if picks:
            drawn = counts if counts is not None else draw_counts(idx, y.size)
            present = drawn > 0
            if not mask.all():
                present &= mask
            enough = (drawn[:, mask].sum(axis=1) if not mask.all() else np.full(len(idx), idx.shape[1])) >= 2
            best = values["best_drawn"] if values else y[_first_present(present, np.argsort(-y, kind="stable"))]
        for local, j in enumerate(group):
            if picks:
                column = columns[:, j]
                if np.unique(column[mask]).size == mask.sum():  # no ties: the top drawn score is one candidate
                    picked = y[mask][values["top_drawn"][local]] if values else \
                        y[_first_present(present, np.argsort(-np.where(mask, column, -np.inf), kind="stable"))]
                else:  # tied top scores: the first drawn of them
                    picked = y[idx[rows, np.argmax(np.where(mask[idx], column[idx], -np.inf), axis=1)]]
            for m in methods:
                if m == "top1":
                    out[m][j] = np.where(enough, (picked == best).astype(float), np.nan)
                elif m == "regret@1":
                    out[m][j] = np.where(enough, best - picked, np.nan)
                elif m not in taus or counts is None:  # row by row
                    out[m][j] = [_evaluate_covered(columns[row, j], y[row], m) for row in idx]
    return {m: v[0] if x.ndim == 1 else v for m, v in out.items()}


def _resampled_with_truth_noise(columns: np.ndarray, truth_splits: Any, idx: np.ndarray, split_draws: Any,
                                methods: Sequence[str], *, single: bool) -> dict[str, np.ndarray]:
    per_split = np.asarray(truth_splits, dtype=float)
    picks = np.asarray(split_draws)
    if per_split.ndim != 2 or per_split.shape[0] != columns.shape[0] or per_split.shape[1] < 1 \
            or not np.isfinite(per_split).all():
        raise InputError(f"truth_splits must be a finite (candidates x splits) matrix with {columns.shape[0]} rows, "
                         f"got shape {per_split.shape}")
    if picks.ndim != 2 or picks.shape[0] != idx.shape[0] or not np.issubdtype(picks.dtype, np.integer) \
            or picks.min() < 0 or picks.max() >= per_split.shape[1]:
        raise InputError(f"split_draws must be one row of split indices in [0, {per_split.shape[1]}) per resample")
    if not np.isfinite(columns).all():
        raise InputError("with truth_splits, scores must cover every candidate (no NaN)")
    truths = np.stack([per_split[np.ix_(row, cols)].mean(axis=1) for row, cols in zip(idx, picks)])
    out = {m: np.stack([batch_rank_correlation(columns[:, j][idx], truths, method=m)
                        for j in range(columns.shape[1])]) for m in methods}
    return {m: v[0] if single else v for m, v in out.items()}


def _first_present(present: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Per row of ``present`` (resamples x candidates): the first candidate of ``order`` drawn."""
    return order[np.argmax(present[:, order], axis=1)]


def _evaluate_covered(s: np.ndarray, t: np.ndarray, method: str) -> float:
    ok = np.isfinite(s)
    if ok.sum() < 2:
        return float("nan")
    return _evaluate(s[ok], t[ok], method)


def _tau_from_counts(columns: np.ndarray, y: np.ndarray, counts: np.ndarray, methods: Sequence[str],
                     ) -> dict[str, np.ndarray]:
    """Kendall's tau-b / the weighted tau of each score column of ``columns`` against ``y`` on the
    resamples whose draw counts are ``counts`` (see :func:`resampled_rank_correlation`).

    Each column is worked in its own score order (decreasing scores, ties by decreasing truth):
    its product ``counts @ K`` there (:func:`_concordance_products`, less the truth's part that
    every column shares), then the sums per resample in one compiled pass
    (:func:`~transferscope.metrics.resampled_taus.taus_from_products`), which also finds the first
    and last drawn candidate in either order: whether the drawn values are constant, and (for the
    picks) ``top_drawn``, per column and resample the top-scored candidate drawn (the first of
    tied scores by truth), and ``best_drawn``, per resample the best truth drawn."""
    k = columns.shape[1]
    counts32 = np.asarray(counts, dtype=np.float32, order="C")
    against_truth = _signed_mass(counts32, y)  # counts @ sign(y_i - y_l), every column's
    _, y_rank = np.unique(y, return_inverse=True)  # dense ranks of the truth: its groups of ties
    totals = counts.sum(axis=1)
    few = totals < 2
    out = {m: np.empty((k, counts.shape[0])) for m in methods}
    out["top_drawn"] = np.empty((k, counts.shape[0]), dtype=np.int64)
    scratch = (np.empty(counts.shape, dtype=np.float32), np.empty((y.size, y.size), dtype=np.float32))  # every column's
    for j in range(k):
        x = columns[:, j]
        order, by_truth = np.lexsort((-y, -x)), np.lexsort((-x, -y))  # by scores, then truth; and the reverse
        _, x_group = np.unique(x[order], return_inverse=True)
        products = _concordance_products(counts32, order, x_group, y_rank[order], against_truth, scratch=scratch)
        kendall, weighted, ends = taus_from_products(products, against_truth, counts32, order, by_truth, x_group,
                                                     y_rank[order], max_total=int(totals.max()))
        # Drawn scores (or truths) all equal to rounding: the first and last drawn in their order.
        constant = few | _within_rounding(x[order[ends[:, 1]]], x[order[ends[:, 0]]]) \
            | _within_rounding(y[by_truth[ends[:, 3]]], y[by_truth[ends[:, 2]]])
        for m, value in (("kendall", kendall), ("weighted_kendall", weighted)):
            if m in out:
                out[m][j] = np.where(constant, np.nan, value)
        out["top_drawn"][j] = order[ends[:, 0]]
        out["best_drawn"] = y[by_truth[ends[:, 2]]]
    return out


def _signed_mass(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``counts @ sign(values_i - values_l)`` without the product, float32 (``counts`` float32, exact
    below 2^24): per resample and candidate ``l``, the draws above ``values_l`` less those below it
    (cumulative counts in sorted order)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    cumulative = np.zeros((counts.shape[0], values.size + 1), dtype=np.float32)
    np.cumsum(np.take(counts, order, axis=1), axis=1, out=cumulative[:, 1:])
    below = np.take(cumulative, np.searchsorted(ordered, values, side="left"), axis=1)
    above = np.take(cumulative, np.searchsorted(ordered, values, side="right"), axis=1)
    np.subtract(cumulative[:, -1:], above, out=above)
    above -= below
    return above

def _concordance_products(counts: np.ndarray, order: np.ndarray, x_group: np.ndarray, y_rank: np.ndarray,
                          against_truth: np.ndarray, *, scratch: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``counts @ K + against_truth`` in the scores' order ``order`` (its columns are the candidates
    ``order[p]``), float32 and exact (integer sums below 2^24), ``K_il = sign(x_i - x_l) * sign(y_i -
    y_l)``, in half a matrix product; ``against_truth = counts @ sign(y_i - y_l)`` is the truth's
    part, which the caller subtracts. ``counts`` and ``against_truth`` are in the candidates' order;
    ``x_group`` and ``y_rank`` are the dense ranks of the scores and of the truth in the scores'
    order (decreasing scores).

    In that order ``K = U + U'`` with ``U`` its strict upper triangle, and the pairs of the upper
    triangle are those where ``x`` decides; there ``counts @ U'`` follows from ``counts @ U`` and
    the truth's product: ``counts @ K = 2 counts @ U - against_truth + T``, ``T_l = sum_{i: x_i =
    x_l} counts_i sign(y_i - y_l)`` the pairs tied in ``x`` (a block product over the tied
    candidates only). ``counts @ U`` costs half a full product
    (:func:`~transferscope.metrics.triangular.upper_triangular_product`). Where most candidates
    tie, the full product is cheaper. ``scratch`` (an array shaped as ``counts`` and an (n x n)
    one, float32) holds the work, reused from column to column; the result is ``scratch[0]``."""
    work, signs = scratch
    sizes = np.bincount(x_group)
    tied = np.flatnonzero(sizes[x_group] > 1)
    ordered = np.take(counts, order, axis=1, out=work, mode="clip")
    if 2 * tied.size ** 2 > x_group.size ** 2:
        full = ordered @ (np.sign(np.subtract.outer(x_group, x_group)) * np.sign(np.subtract.outer(y_rank, y_rank))
                          ).astype(np.float32)
        return full + against_truth[:, order]
    ranks = y_rank.astype(np.float32)  # exact below 2^24
    np.subtract.outer(ranks, ranks, out=signs)
    np.sign(signs, out=signs)  # sign(y_i - y_l), zero diagonal
    if tied.size:
        signs *= np.not_equal.outer(x_group, x_group)  # pairs tied in x: not in U
        block = np.equal.outer(x_group[tied], x_group[tied]) * np.sign(np.subtract.outer(y_rank[tied], y_rank[tied]))
        within = ordered[:, tied] @ block.astype(np.float32)
    out = upper_triangular_product(ordered, signs, scale=2.0, overwrite=True)  # 2 counts @ U (signs: zero diagonal)
    if tied.size:
        out[:, tied] += within
    return out


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
    return _within_rounding(x.min(axis=1), x.max(axis=1))


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
    rows, picks = [], []
    for _ in range(n_boot):
        rows.append(rng.integers(0, s.size, s.size))
        if per_split is not None:
            picks.append(rng.integers(0, per_split.shape[1], per_split.shape[1]))
    replicates = resampled_rank_correlation(s, t, np.array(rows), methods=[method], truth_splits=per_split,
                                            split_draws=np.array(picks) if picks else None)[method]
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
