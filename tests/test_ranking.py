"""Meta-evaluation measures: definitions, closed forms, bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr, weightedtau

import transferscope as ts
from transferscope.errors import InputError

S = [0.1, 0.4, 0.3, 0.9, 0.2]
T = [1.0, 2.0, 3.0, 4.0, 0.5]


def test_correlations_equal_scipy_definitions():
    assert ts.rank_correlation(S, T) == pytest.approx(weightedtau(S, T).statistic)  # hyperbolic, additive
    assert ts.rank_correlation(S, T, method="kendall") == pytest.approx(kendalltau(S, T).statistic)
    assert ts.rank_correlation(S, T, method="spearman") == pytest.approx(spearmanr(S, T).statistic)


def test_weighted_kendall_weighs_the_top():
    truth = np.arange(10.0)
    swap_top = truth.copy()
    swap_top[[8, 9]] = swap_top[[9, 8]]
    swap_bottom = truth.copy()
    swap_bottom[[0, 1]] = swap_bottom[[1, 0]]
    assert ts.rank_correlation(swap_top, truth, method="kendall") == ts.rank_correlation(swap_bottom, truth, method="kendall")
    assert ts.rank_correlation(swap_top, truth) < ts.rank_correlation(swap_bottom, truth)


def test_selection_measures():
    # Estimator's order: idx 3 (truth 4.0), 1 (2.0), 2 (3.0), 4, 0
    assert ts.rank_correlation(S, T, method="top1") == 1.0
    assert ts.rank_correlation(S, T, method="regret@1") == 0.0
    wrong = [0.9, 0.1, 0.2, 0.3, 0.4]  # picks idx 0 (truth 1.0), then 4 (0.5), 3 (4.0)
    assert ts.rank_correlation(wrong, T, method="top1") == 0.0
    assert ts.rank_correlation(wrong, T, method="top2") == 0.0
    assert ts.rank_correlation(wrong, T, method="top3") == 1.0
    assert ts.rank_correlation(wrong, T, method="regret@1") == 3.0
    assert ts.rank_correlation(wrong, T, method="regret@2") == 3.0
    assert ts.rank_correlation(wrong, T, method="regret@3") == 0.0
    assert ts.rank_correlation(wrong, T, method="relative_top1") == pytest.approx(0.25)


def test_perfect_and_reversed():
    truth = np.linspace(0, 1, 8)
    assert ts.rank_correlation(truth * 3 + 1, truth) == pytest.approx(1.0)
    assert ts.rank_correlation(-truth, truth, method="kendall") == pytest.approx(-1.0)


def test_bootstrap_interval_contains_value_and_is_seeded():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=40)
    scores = truth + 0.5 * rng.normal(size=40)
    a = ts.rank_correlation_ci(scores, truth, method="spearman", n_boot=300, seed=1)
    b = ts.rank_correlation_ci(scores, truth, method="spearman", n_boot=300, seed=1)
    assert a == b
    value, low, high = a
    assert low <= value <= high and high - low < 0.6
    assert value == pytest.approx(ts.rank_correlation(scores, truth, method="spearman"))


def test_constant_input_gives_nan_and_bad_input_errors():
    assert np.isnan(ts.rank_correlation([1, 1, 1], [1, 2, 3], method="kendall"))
    saturated = 1.0 + np.array([0.0, 2e-16, -1e-16])  # H-score = C - 1 up to rounding
    assert np.isnan(ts.rank_correlation(saturated, [1, 2, 3]))
    with pytest.raises(InputError, match="3 entries but truth has 2"):
        ts.rank_correlation([1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="method must be one of"):
        ts.rank_correlation([1, 2], [1, 2], method="auc")
    with pytest.raises(InputError, match="k in"):
        ts.rank_correlation([1, 2], [1, 2], method="top0")
    with pytest.raises(InputError, match="finite"):
        ts.rank_correlation([1, np.nan], [1, 2])
