"""Combining rankings: weights of several methods' ranks, learned on targets where the truth is known.

Every learner here sees each training target as a *block*: the candidates' scores by each method
(candidates x methods) and their measured transfer. Within a block, both are rank-scaled
(:func:`~transferscope.metrics.ranking.rank_scale`: 0 the worst candidate, 1 the best), so that
targets of any size, scale or metric weigh alike and only orderings are learned. A block is
reduced to a few sums (:func:`combination_statistics`), so that fitting on any subset of the
blocks (leave-one-target-out, nested) costs a sum and a tiny solve. The combined score of a
candidate is ``rank_scale(scores) @ weights`` (:func:`weighted_rank`); the weights are
non-negative and sum to 1, so a handful of targets cannot flip an input's sign. Learners
(:data:`COMBINERS`):

* ``rank-weights``: ridge regression of the truth's centred rank on the methods' centred ranks,
  ``min ||X w - y||^2 + alpha ||w||^2`` with ``w >= 0`` (pointwise least squares, in the spirit of
  the learned rankers of the model-selection literature);
* ``pairwise``: learning to rank from pairs, top-weighted: ``min sum_{i<j} v_ij (w . (x_i - x_j) -
  sign(y_i - y_j))^2 + alpha ||w||^2`` with ``w >= 0``, each pair weighted as weighted Kendall tau
  weighs it (``v_ij = 1 / (p_i + 1) + 1 / (p_j + 1)``, ``p`` the candidate's position by decreasing
  truth; a block's weights scaled to sum to its number of candidates). Its sums need O(n log n),
  not the O(n^2) pairs. (With ``v = 1`` it would reduce to ``rank-weights`` exactly: that is why
  the pairs are weighted.)
* ``bayes``: a Gaussian update. Each method, calibrated on the training blocks (``y ~ beta_k
  x_k``), is evidence about the truth's rank with its residual variance ``s_k^2`` as noise; the
  posterior mean (a prior's mean is one more such piece of evidence) weighs method ``k`` by
  ``beta_k / s_k^2`` (errors taken as independent; a method with ``beta_k <= 0`` gets 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from transferscope.errors import InputError

__all__ = ["COMBINERS", "BlockTruth", "CombinationStatistics", "combination_statistics", "fit_combination",
           "learn_rank_weights", "weighted_rank"]

COMBINERS = ("rank-weights", "pairwise", "bayes")


@dataclass(frozen=True)
class CombinationStatistics:
    """The sums of one or more blocks that every learner of :data:`COMBINERS` needs (they add).

    ``xtx``, ``xty``, ``yty``: centred cross-products of the methods' ranks and the truth's rank;
    ``count``: candidates; ``pair_xtx``, ``pair_xty``: the same for the weighted pair differences.
    """

    count: float
    xtx: np.ndarray
    xty: np.ndarray
    yty: float
    pair_xtx: np.ndarray
    pair_xty: np.ndarray

    def __add__(self, other: CombinationStatistics) -> CombinationStatistics:
        return CombinationStatistics(self.count + other.count, self.xtx + other.xtx, self.xty + other.xty,
                                     self.yty + other.yty, self.pair_xtx + other.pair_xtx,
                                     self.pair_xty + other.pair_xty)

    def __sub__(self, other: CombinationStatistics) -> CombinationStatistics:
        return CombinationStatistics(self.count - other.count, self.xtx - other.xtx, self.xty - other.xty,
                                     self.yty - other.yty, self.pair_xtx - other.pair_xtx,
                                     self.pair_xty - other.pair_xty)


@dataclass(frozen=True)
class BlockTruth:
    """What :func:`combination_statistics` needs of a block's truth, computed once per block
    (:meth:`of`): its centred rank, and the pair terms ``a`` (top weight of each candidate),
    ``c = sum_j sign(t_i - t_j)`` and ``e_j = sum_i a_i sign(t_i - t_j)``."""

    centred: np.ndarray
    a: np.ndarray
    c: np.ndarray
    e: np.ndarray

    @classmethod
    def of(cls, truth: Any) -> BlockTruth:
        from transferscope.metrics.ranking import rank_scale

        t = np.asarray(truth, dtype=float)
        if t.ndim != 1 or t.size < 2 or not np.isfinite(t).all():
            raise InputError(f"truth must hold one finite value per candidate (at least 2), got shape {t.shape}")
        y = rank_scale(t)[:, 0]
        # v_ij = a_i + a_j, a = 1 / (1 + number of candidates with a higher truth)
        ordered = np.sort(t)
        higher = t.size - np.searchsorted(ordered, t, side="right")
        lower = np.searchsorted(ordered, t, side="left")
        a = 1.0 / (1.0 + higher)
        cumulative = np.concatenate([[0.0], np.cumsum(a[np.argsort(t, kind="stable")])])
        below_a = cumulative[lower]  # sum of a over candidates with a lower truth
        above_a = cumulative[-1] - cumulative[t.size - higher]
        return cls(y - y.mean(), a, (lower - higher).astype(float), above_a - below_a)


def combination_statistics(scores: Any, truth: Any, *, higher_is_better: Any = None,
                           ranked: bool = False) -> CombinationStatistics:
    """The sums of one block: ``scores`` (candidates x methods, NaN ranks worst) and ``truth``
    (values, or their :class:`BlockTruth`); with ``ranked``, ``scores`` are already
    :func:`~transferscope.metrics.ranking.rank_scale` d (so that a caller re-ranking only some
    columns per fold ranks the others once).

    With ``ranked``, ``scores`` may also be a stack of blocks over the same candidates and truth
    (blocks x candidates x methods: one target's scores under several folds); every field of the
    result then has a leading axis, one entry per block.

    Examples
    --------
    >>> stats = combination_statistics([[3.0, 0.0], [0.0, 1.0], [2.0, 3.0], [1.0, 2.0]], [0.9, 0.1, 0.5, 0.3])
    >>> stats.count, stats.xtx.shape
    (4.0, (2, 2))
    """
    from transferscope.metrics.ranking import rank_scale

    x = (np.asarray(scores, dtype=float) if ranked
         else rank_scale(np.asarray(scores, dtype=float), higher_is_better=higher_is_better))
    terms = truth if isinstance(truth, BlockTruth) else BlockTruth.of(truth)
    if x.ndim not in (2, 3) or terms.a.size != x.shape[-2]:
        raise InputError(f"scores must be candidates x methods ({terms.a.size} candidates, the truth's), "
                         f"or a stack of such blocks when ranked; got shape {x.shape}")
    stacked = x if x.ndim == 3 else x[None]
    n = float(stacked.shape[1])
    xt = stacked.transpose(0, 2, 1)  # blocks x methods x candidates
    xc = stacked - stacked.mean(axis=1, keepdims=True)
    a = terms.a
    s, xa = stacked.sum(axis=1), xt @ a
    pair_xtx = (n * (xt * a) @ stacked - xa[:, :, None] * s[:, None, :] - s[:, :, None] * xa[:, None, :]
                + a.sum() * (xt @ stacked))
    pair_xty = xt @ (a * terms.c - terms.e)
    scale = n / ((n - 1.0) * a.sum())  # the block's pair weights sum to its candidates
    yty = float(terms.centred @ terms.centred)
    fields = (xc.transpose(0, 2, 1) @ xc, xc.transpose(0, 2, 1) @ terms.centred, scale * pair_xtx, scale * pair_xty)
    if x.ndim == 2:
        return CombinationStatistics(n, fields[0][0], fields[1][0], yty, fields[2][0], fields[3][0])
    blocks = np.full(len(stacked), 1.0)
    return CombinationStatistics(n * blocks, fields[0], fields[1], yty * blocks, fields[2], fields[3])


def fit_combination(statistics: CombinationStatistics | Sequence[CombinationStatistics], *,
                    method: str = "rank-weights", alpha: float = 1.0) -> np.ndarray:
    """Non-negative weights (summing to 1) of the methods, learned by ``method`` (module notes) from
    the summed statistics of the training blocks. Equal weights when nothing is learnable.

    Examples
    --------
    >>> truth = [0.9, 0.1, 0.5, 0.3]
    >>> good, noise = [3.0, 0.0, 2.0, 1.0], [0.0, 1.0, 3.0, 2.0]
    >>> stats = combination_statistics(np.column_stack([good, noise]), truth)
    >>> [fit_combination([stats] * 3, method=m, alpha=0.1).round(2).tolist() for m in COMBINERS]
    [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    """
    if method not in COMBINERS:
        raise InputError(f"method must be one of {', '.join(COMBINERS)}, got {method!r}")
    if not (isinstance(alpha, (int, float)) and np.isfinite(alpha) and alpha >= 0):
        raise InputError(f"alpha must be a number >= 0, got {alpha!r}")
    blocks = [statistics] if isinstance(statistics, CombinationStatistics) else list(statistics)
    if not blocks:
        raise InputError("fit_combination needs the statistics of at least one block")
    total = blocks[0]
    for block in blocks[1:]:
        total = total + block
    p = total.xty.size
    if method == "bayes":
        sxx = np.diag(total.xtx)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.where(sxx > 0, total.xty / sxx, 0.0)
            noise = np.maximum((total.yty - beta * total.xty) / max(total.count, 1.0), 1e-12 * max(total.yty, 1e-300))
        weights = np.where(beta > 0, beta / noise, 0.0)
    else:
        xtx, xty = (total.xtx, total.xty) if method == "rank-weights" else (total.pair_xtx, total.pair_xty)
        weights = _nonnegative_ridge(xtx, xty, alpha)
    weights = np.where(np.isfinite(weights), weights, 0.0)
    if weights.sum() <= 0:
        return np.full(p, 1.0 / p)
    if np.isinf(weights).any():
        weights = np.isinf(weights).astype(float)
    return weights / weights.sum()


def _nonnegative_ridge(xtx: np.ndarray, xty: np.ndarray, alpha: float) -> np.ndarray:
    """``argmin_{w >= 0} w' (xtx + alpha I) w - 2 w' xty`` through ``scipy.optimize.nnls`` on the
    equivalent least-squares system ``||R w - b||``, ``R' R = xtx + alpha I``."""
    from scipy.optimize import nnls

    values, vectors = np.linalg.eigh(xtx + alpha * np.eye(xty.size))
    keep = values > 1e-12 * max(float(values.max()), 1e-300)
    root = np.sqrt(values[keep])
    r = root[:, None] * vectors[:, keep].T
    b = (vectors[:, keep].T @ xty) / root
    weights, _ = nnls(r, b)
    return weights


def learn_rank_weights(blocks: Any, *, higher_is_better: Any = None, alpha: float = 1.0,
                       method: str = "rank-weights") -> np.ndarray:
    """Non-negative weights of estimators whose weighted rank best predicts the truth's rank.

    ``blocks`` holds one ``(scores, truth)`` pair per training target: ``scores`` candidates x
    estimators, ``truth`` one measured value per candidate. :func:`combination_statistics` of each
    block, then :func:`fit_combination` by ``method`` (default the ridge of ``rank-weights``).

    Examples
    --------
    >>> truth = [0.9, 0.1, 0.5, 0.3]
    >>> good, noise = [3.0, 0.0, 2.0, 1.0], [0.0, 1.0, 3.0, 2.0]
    >>> w = learn_rank_weights([(np.column_stack([good, noise]), truth)] * 3, alpha=0.1)
    >>> w.round(2).tolist()
    [1.0, 0.0]
    """
    stats = [combination_statistics(scores, truth, higher_is_better=higher_is_better) for scores, truth in blocks]
    if not stats:
        raise InputError("learn_rank_weights needs at least one (scores, truth) block")
    return fit_combination(stats, method=method, alpha=alpha)


def weighted_rank(scores: Any, weights: Any, *, higher_is_better: Any = None) -> np.ndarray:
    """The combined score ``rank_scale(scores) @ weights`` (higher is better).

    Examples
    --------
    >>> weighted_rank([[0.9, 3.0], [0.1, 1.0], [0.5, 2.0]], [0.5, 0.5]).tolist()
    [1.0, 0.0, 0.5]
    """
    from transferscope.metrics.ranking import rank_scale

    w = np.asarray(weights, dtype=float)
    x = rank_scale(scores, higher_is_better=higher_is_better)
    if w.shape != (x.shape[1],):
        raise InputError(f"weights must hold one value per estimator ({x.shape[1]}), got {w.shape}")
    return x @ w
