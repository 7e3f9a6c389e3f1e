"""Combining rankings (metrics.combination): each learner against its definition, computed by brute force."""

from __future__ import annotations

import numpy as np
import pytest

from transferscope.errors import InputError
from transferscope.metrics.combination import (
    COMBINERS,
    BlockTruth,
    combination_statistics,
    fit_combination,
    learn_rank_weights,
    weighted_rank,
)
from transferscope.metrics.ranking import rank_scale


def _blocks(n_blocks=5, n=15, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_blocks):
        truth = rng.integers(0, 5, n).astype(float) if ties else rng.normal(size=n)
        scores = np.column_stack([truth + 0.5 * rng.normal(size=n), rng.normal(size=n), -truth + rng.normal(size=n)])
        out.append((scores, truth))
    return out


@pytest.mark.parametrize("ties", [False, True])
def test_pair_statistics_equal_the_sum_over_pairs(ties):
    for scores, truth in _blocks(n_blocks=3, ties=ties):
        stats = combination_statistics(scores, truth)
        x, n = rank_scale(scores), len(truth)
        a = np.array([1.0 / (1 + (truth > t).sum()) for t in truth])  # position by decreasing truth
        q, r, total = np.zeros((3, 3)), np.zeros(3), 0.0
        for i in range(n):
            for j in range(i + 1, n):
                v, d = a[i] + a[j], x[i] - x[j]
                q += v * np.outer(d, d)
                r += v * d * np.sign(truth[i] - truth[j])
                total += v
        np.testing.assert_allclose(stats.pair_xtx, q * n / total, atol=1e-12)
        np.testing.assert_allclose(stats.pair_xty, r * n / total, atol=1e-12)


def test_rank_weights_solve_the_nonnegative_ridge_on_the_stacked_blocks():
    from scipy.optimize import nnls

    blocks = _blocks()
    xs, ys = [], []
    for scores, truth in blocks:
        x, y = rank_scale(scores), rank_scale(truth)[:, 0]
        xs.append(x - x.mean(axis=0))
        ys.append(y - y.mean())
    for alpha in (0.0, 0.5, 3.0):
        x, y = np.vstack(xs), np.concatenate(ys)
        expected, _ = nnls(np.vstack([x, np.sqrt(alpha) * np.eye(3)]), np.concatenate([y, np.zeros(3)]))
        got = learn_rank_weights(blocks, alpha=alpha)
        np.testing.assert_allclose(got, expected / expected.sum(), atol=1e-9)
        # the statistics add: fitting on their sum is fitting on the stacked blocks
        stats = [combination_statistics(s, t) for s, t in blocks]
        np.testing.assert_allclose(fit_combination(stats, alpha=alpha), got, atol=1e-12)
        total = stats[0] + stats[1] + stats[2] + stats[3] + stats[4]
        np.testing.assert_allclose(fit_combination(total - stats[4], alpha=alpha),
                                   fit_combination(stats[:4], alpha=alpha), atol=1e-9)


def test_bayes_weighs_each_calibrated_input_by_its_precision():
    blocks = _blocks(n_blocks=4)
    x = np.vstack([(lambda r: r - r.mean(axis=0))(rank_scale(s)) for s, _ in blocks])
    y = np.concatenate([(lambda r: r - r.mean())(rank_scale(t)[:, 0]) for _, t in blocks])
    beta = (x * y[:, None]).sum(axis=0) / (x ** 2).sum(axis=0)
    noise = ((y[:, None] - beta * x) ** 2).mean(axis=0)
    expected = np.where(beta > 0, beta / noise, 0.0)
    got = fit_combination([combination_statistics(s, t) for s, t in blocks], method="bayes")
    np.testing.assert_allclose(got, expected / expected.sum(), atol=1e-12)
    assert got[2] == 0.0 and got[0] > got[1]  # an input that ranks backwards carries no evidence


@pytest.mark.parametrize("method", COMBINERS)
def test_every_learner_finds_the_informative_input_and_never_flips_a_sign(method):
    weights = fit_combination([combination_statistics(s, t) for s, t in _blocks(n_blocks=8, n=30)], method=method)
    assert weights.min() >= 0 and weights.sum() == pytest.approx(1.0)
    assert weights[0] > 0.6 and weights[2] == 0.0


def test_orientation_and_bad_input():
    blocks = _blocks()
    flipped = [(s * np.array([1.0, 1.0, -1.0]), t) for s, t in blocks]
    for method in COMBINERS:
        a = learn_rank_weights(blocks, method=method)
        b = learn_rank_weights(flipped, higher_is_better=[True, True, False], method=method)
        np.testing.assert_allclose(a, b, atol=1e-12)
    # nothing learnable (every input constant): equal weights, not NaN
    flat = [(np.ones((6, 2)), np.arange(6.0))] * 3
    for method in COMBINERS:
        assert learn_rank_weights(flat, method=method).tolist() == [0.5, 0.5]
    with pytest.raises(InputError, match="method must be one of"):
        fit_combination(combination_statistics(*blocks[0]), method="magic")
    with pytest.raises(InputError, match="alpha"):
        learn_rank_weights(blocks, alpha=-1)
    with pytest.raises(InputError, match="at least one"):
        learn_rank_weights([])
    with pytest.raises(InputError, match="one finite value per candidate"):
        combination_statistics(np.ones((4, 2)), [1.0, 2.0, np.nan, 3.0])
    with pytest.raises(InputError, match="one value per estimator"):
        weighted_rank(np.ones((3, 2)), [1.0])


def test_stacked_blocks_give_each_blocks_statistics():
    """combination_statistics of a stack of ranked blocks (one target's scores under several folds)
    equals the statistics of each block alone."""
    rng = np.random.default_rng(7)
    truth = rng.normal(size=40)
    terms = BlockTruth.of(truth)
    stack = np.stack([rank_scale(rng.normal(size=(40, 3)) + k * truth[:, None]) for k in range(5)])
    stacked = combination_statistics(stack, terms, ranked=True)
    for i, block in enumerate(stack):
        alone = combination_statistics(block, terms, ranked=True)
        for name in ("count", "xtx", "xty", "yty", "pair_xtx", "pair_xty"):
            np.testing.assert_allclose(getattr(stacked, name)[i], getattr(alone, name), rtol=1e-12, atol=1e-12)
    with pytest.raises(InputError, match="candidates"):
        combination_statistics(stack[:, :30], terms, ranked=True)
