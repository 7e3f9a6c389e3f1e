"""Kendall's tau-b and the weighted tau of many bootstrap resamples, from their concordance products.

:func:`transferscope.metrics.ranking.resampled_rank_correlation` scores each resample from how many
times each candidate is drawn (``m``, one row per resample) and the matrix product ``P = m K``,
``K_il = sign(x_i - x_l) sign(y_i - y_l)``. What is left per resample is O(n): the hyperbolic
weights of the positions the drawn copies take (in the scores' order and in the truth's), three
dot products with ``P``, and the pairs not tied in ``x`` or ``y``. :func:`taus_from_products` does
that in one compiled pass per resample (numba, compiled on first use and cached on disk), where
NumPy needed a dozen passes over the (resamples x candidates) arrays; it releases the GIL, so
targets scored in threads run side by side.

With ``w`` the weights of a measure (``m`` for tau-b; ``h`` for the weighted tau, ``h_i`` the sum of
``1 / (r + 1)`` over the positions ``r`` of candidate ``i``'s copies, copies side by side):

* numerator ``w . P``: each ordered pair of drawn copies once per side, concordant +, discordant -;
* the pairs not tied in ``x``: ``sum_i w_i (total - M_g(i))`` = ``total * sum_i w_i - sum_g W_g M_g``
  over the groups ``g`` of equal ``x`` (``W_g``, ``M_g`` the sums of ``w`` and ``m`` over the group;
  without ties, ``sum_i w_i m_i``), and likewise in ``y``;
* tau-b is ``m . P / sqrt(untied_x(m) untied_y(m))``; the weighted tau (``scipy.stats.weightedtau``:
  additive hyperbolic weights, the mean of the values ranked by ``x`` and by ``y``) is half the sum
  of ``h . P / sqrt(untied_x(h) untied_y(h))`` for the two orders.

``products`` and the group ids are in the scores' order ``order`` (decreasing ``x``, ties by
decreasing ``y``: position ``p`` is candidate ``order[p]``); ``counts`` in the candidates' order;
``by_truth`` is the truth's order (decreasing ``y``, ties by decreasing ``x``), which places the
truth's weights.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

__all__ = ["taus_from_products", "draw_counts"]


@cache
def _compiled(kernel: str = "taus") -> Any:
    """A numba kernel of this module, compiled on first use (cached on disk by numba), not at import."""
    from numba import njit

    return njit(nogil=True, cache=True, error_model="numpy")({"taus": _taus, "counts": _counts}[kernel])


def _counts(draws: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled by numba; tested
    for b in range(draws.shape[0]):
        for d in range(draws.shape[1]):
            out[b, draws[b, d]] += 1.0


def draw_counts(draws: Any, n: int) -> np.ndarray:
    """How many times each of ``n`` candidates is drawn in each row of ``draws`` (resamples x
    draws, indices in ``[0, n)``, checked by the caller), as float32 (exact below 2^24): the
    counts :func:`taus_from_products` and the matrix products take, in one pass and one array.

    Examples
    --------
    >>> draw_counts(np.array([[0, 0, 2], [1, 2, 2]]), 3).tolist()
    [[2.0, 0.0, 1.0], [0.0, 1.0, 2.0]]
    """
    indices = np.asarray(draws)
    out = np.zeros((indices.shape[0], n), dtype=np.float32)
    _compiled("counts")(indices, out)
    return out


def _taus(products: np.ndarray, truth_mass: np.ndarray, counts: np.ndarray, order: np.ndarray,
          by_truth: np.ndarray, x_group: np.ndarray, y_group: np.ndarray, x_groups: int, y_groups: int,
          harmonic: np.ndarray, kendall: np.ndarray, weighted: np.ndarray, ends: np.ndarray,
          ) -> None:  # pragma: no cover - compiled by numba; its values are tested
    n = products.shape[1]
    h_truth = np.zeros(n)
    x_ties, y_ties = x_groups < n, y_groups < n
    gx = np.zeros((x_groups, 4))  # per group of equal x: sums of m, h_scores, h_truth (and spare)
    gy = np.zeros((y_groups, 4))
    for b in range(products.shape[0]):
        row, mass, drawn = products[b], truth_mass[b], counts[b]
        run = 0
        for k in range(n):  # the truth's order: where each candidate's copies fall
            i = by_truth[k]
            after = run + int(drawn[i])
            h_truth[i] = harmonic[after] - harmonic[run]
            run = after
        total = run
        num_m = num_s = num_t = 0.0
        own_m = own_s = own_t = 0.0  # sum_i w_i m_i: the within-candidate pairs
        run, before = 0, 0.0
        for p in range(n):  # the scores' order, without branches (an undrawn candidate adds zeros)
            i = order[p]
            c = drawn[i]
            run += int(c)
            through = harmonic[run]
            h_s = through - before
            before = through
            h_t = h_truth[i]
            value = row[p] - mass[i]
            num_m += c * value
            num_s += h_s * value
            num_t += h_t * value
            own_m += c * c
            own_s += h_s * c
            own_t += h_t * c
            if x_ties:
                g = x_group[p]
                gx[g, 0] += c
                gx[g, 1] += h_s
                gx[g, 2] += h_t
            if y_ties:
                g = y_group[p]
                gy[g, 0] += c
                gy[g, 1] += h_s
                gy[g, 2] += h_t
        tx_m, tx_s, tx_t = own_m, own_s, own_t
        if x_ties:
            tx_m = tx_s = tx_t = 0.0
            for g in range(x_groups):
                tx_m += gx[g, 0] * gx[g, 0]
                tx_s += gx[g, 1] * gx[g, 0]
                tx_t += gx[g, 2] * gx[g, 0]
                gx[g, 0] = gx[g, 1] = gx[g, 2] = 0.0
        ty_m, ty_s, ty_t = own_m, own_s, own_t
        if y_ties:
            ty_m = ty_s = ty_t = 0.0
            for g in range(y_groups):
                ty_m += gy[g, 0] * gy[g, 0]
                ty_s += gy[g, 1] * gy[g, 0]
                ty_t += gy[g, 2] * gy[g, 0]
                gy[g, 0] = gy[g, 1] = gy[g, 2] = 0.0
        for e, sequence in enumerate((order, by_truth)):  # the first and last drawn, in either order
            first = 0
            while first < n - 1 and drawn[sequence[first]] == 0:
                first += 1
            last = n - 1
            while last > 0 and drawn[sequence[last]] == 0:
                last -= 1
            ends[b, 2 * e], ends[b, 2 * e + 1] = first, last
        all_h = harmonic[total]  # sum_i h_i: every position's weight once, in either order
        kendall[b] = num_m / np.sqrt((total * total - tx_m) * (total * total - ty_m))
        weighted[b] = (num_s / np.sqrt((total * all_h - tx_s) * (total * all_h - ty_s))
                       + num_t / np.sqrt((total * all_h - tx_t) * (total * all_h - ty_t))) / 2


def taus_from_products(products: Any, truth_mass: Any, counts: Any, order: Any, by_truth: Any, x_group: Any,
                       y_group: Any, *, max_total: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tau-b and the weighted tau of each resample (row) from its concordance products.

    Parameters
    ----------
    products, truth_mass : arrays of shape (resamples, n)
        ``products - truth_mass[:, order]`` is ``counts @ K`` (exact integers) in the scores' order
        ``order``: ``products`` in that order, ``truth_mass`` (a part shared by every score column,
        ``counts @ sign(y_i - y_l)`` for the caller) in the candidates' order.
    counts : array of shape (resamples, n)
        How many times each candidate is drawn, in the candidates' order.
    order, by_truth : int arrays of shape (n,)
        The candidates by decreasing score (ties by decreasing truth), and by decreasing truth
        (ties by decreasing score).
    x_group, y_group : int arrays of shape (n,)
        Per score position, the id (``0 .. groups - 1``) of its group of equal scores / truths.
    max_total : int, optional
        The largest row sum of ``counts`` where the caller knows it (it saves a pass).

    Returns
    -------
    (kendall, weighted, ends)
        Two float arrays of shape (resamples,), undefined (NaN or inf) where a resample's drawn
        scores or truths are all tied (the caller masks those, from ``ends``); and an int array of
        shape (resamples, 4): the positions of the first and the last drawn candidate in ``order``,
        then in ``by_truth``.

    Examples
    --------
    Scores and truth of 3 candidates in the same order, the resample drawing each once:

    >>> K = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=np.float32)
    >>> m, ids = np.ones((1, 3), dtype=np.float32), np.arange(3)
    >>> tau, wtau, ends = taus_from_products(m @ K, np.zeros_like(m), m, ids, ids, ids, ids)
    >>> round(float(tau[0]), 12), round(float(wtau[0]), 12)
    (1.0, 1.0)
    """
    arrays = [np.ascontiguousarray(a, dtype=np.float32) for a in (products, truth_mass, counts)]
    indices = [np.ascontiguousarray(a, dtype=np.int64) for a in (order, by_truth, x_group, y_group)]
    most = max_total if max_total is not None else int(arrays[2].sum(axis=1).max()) if arrays[2].size else 0
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, most + 1))])
    rows = arrays[0].shape[0]
    kendall, weighted, ends = np.empty(rows), np.empty(rows), np.empty((rows, 4), dtype=np.int64)
    groups = [int(g.max()) + 1 if g.size else 0 for g in indices[2:]]
    _compiled("taus")(*arrays, *indices, *groups, harmonic, kendall, weighted, ends)
    return kendall, weighted, ends
