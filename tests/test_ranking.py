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


def test_learned_rank_weights_find_the_informative_estimator_and_ignore_scale():
    from transferscope.metrics.combination import learn_rank_weights, weighted_rank
    from transferscope.metrics.ranking import rank_correlation, rank_scale

    rng = np.random.default_rng(0)
    blocks = []
    for _ in range(4):
        truth = rng.normal(size=12)
        good = truth + 0.1 * rng.normal(size=12)
        bad = rng.normal(size=12)
        blocks.append((np.column_stack([np.exp(3 * good), bad * 1e6, -truth]), truth))  # any monotone scale
    w = learn_rank_weights(blocks, higher_is_better=[True, True, False], alpha=0.01)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    assert w[1] < 0.05 and w[0] + w[2] > 0.95  # the noise estimator gets (almost) nothing
    # monotone transforms of a column change nothing: only ranks are learned
    w2 = learn_rank_weights([(np.column_stack([np.log(x[:, 0]), x[:, 1], x[:, 2] ** 3]), t) for x, t in blocks],
                            higher_is_better=[True, True, False], alpha=0.01)
    np.testing.assert_allclose(w, w2, atol=1e-12)
    # a NaN ranks worst; the combined score orders candidates like the good estimator
    scaled = rank_scale([[1.0], [np.nan], [3.0]])
    assert scaled[:, 0].tolist() == [0.5, 0.0, 1.0]
    x, t = blocks[0]
    combined = weighted_rank(x, w, higher_is_better=[True, True, False])
    assert rank_correlation(combined, t, method="kendall") > 0.8
    with pytest.raises(InputError, match="alpha"):
        learn_rank_weights(blocks, alpha=-1)
    with pytest.raises(InputError, match="block"):
        learn_rank_weights([])
    with pytest.raises(InputError, match="weights"):
        weighted_rank(x, [1.0])


def test_mantel_r_is_spearman_of_the_upper_triangles_and_the_p_value_is_calibrated():
    from scipy.stats import spearmanr

    from transferscope.metrics.ranking import mantel_test

    rng = np.random.default_rng(0)

    def distances(points):
        return np.linalg.norm(points[:, None] - points[None], axis=-1)

    points = rng.normal(size=(12, 3))
    a = distances(points)
    b = distances(points + 0.3 * rng.normal(size=points.shape))
    upper = np.triu_indices(12, k=1)
    r, p = mantel_test(a, b, permutations=999)
    assert r == pytest.approx(spearmanr(a[upper], b[upper]).statistic)
    assert p == pytest.approx(1 / 1000)  # one structure, no permutation does as well
    # relabelling the items of both matrices the same way changes nothing; of one only, it breaks the agreement
    order = rng.permutation(12)
    assert mantel_test(a[np.ix_(order, order)], b[np.ix_(order, order)], permutations=999)[0] == pytest.approx(r)
    assert mantel_test(a[np.ix_(order, order)], b, permutations=999)[0] < 0.5 * r
    # under the null (independent structures) the p-values are roughly uniform
    ps = [mantel_test(distances(rng.normal(size=(9, 2))), distances(rng.normal(size=(9, 2))), permutations=199)[1]
          for _ in range(60)]
    assert 0.3 < np.mean(ps) < 0.7 and np.mean(np.array(ps) < 0.05) < 0.15
    # with 7 items or fewer every order is enumerated: the exact p-value of a perfect agreement is 1 / n!
    small = distances(points[:5])
    assert mantel_test(small, 3 * small)[1] == pytest.approx(1 / 120)
    assert np.isnan(mantel_test(np.ones((4, 4)) - np.eye(4), small[:4, :4])[0])
    for bad, message in (((a, b[:5, :5]), "one shape"), ((a[:2, :2], b[:2, :2]), "at least 3"),
                         ((a + np.triu(np.ones_like(a)), b), "symmetric")):
        with pytest.raises(InputError, match=message):
            mantel_test(*bad)


def test_resampled_rank_correlation_equals_the_rebuilt_resamples(monkeypatch):
    """The counts-and-matrix-product form against every resample rebuilt and scored one by one
    (SciPy through rank_correlation), with ties, repeats, uncovered candidates and several columns."""
    from transferscope.metrics import ranking
    from transferscope.metrics.ranking import rank_correlation, resampled_rank_correlation

    methods = ["weighted_kendall", "kendall", "top1", "regret@1", "spearman"]
    rng = np.random.default_rng(3)

    def one_by_one(column, truth, draws, method):
        out = []
        for row in draws:
            s, t = column[row], truth[row]
            ok = np.isfinite(s)
            out.append(np.nan if ok.sum() < 2 else rank_correlation(s[ok], t[ok], method=method))
        return np.array(out)

    for n in (2, 3, 7, 30, 90, 300):  # 300: the triangular product in several blocks
        truth = rng.normal(size=n).round(1)  # ties in the truth too
        columns = np.column_stack([rng.integers(0, 5, n).astype(float), rng.normal(size=n), rng.normal(size=n),
                                   np.where(rng.random(n) < 0.15, rng.integers(0, 3, n), rng.normal(size=n))])
        columns[rng.random(n) < 0.2, 2] = np.nan  # a method that does not cover every candidate
        columns[:, 1] *= 1e9  # scale does not matter
        # column 0: most candidates tied (the full product); column 3: a few tied (the tied blocks apart)
        draws = rng.integers(0, n, (40, n))
        got = resampled_rank_correlation(columns, truth, draws, methods=methods)
        for j in range(4):
            single = resampled_rank_correlation(columns[:, j], truth, draws, methods=methods)
            for method in methods:
                expected = one_by_one(columns[:, j], truth, draws, method)
                for values in (got[method][j], single[method]):
                    assert (np.isnan(values) == np.isnan(expected)).all(), (n, j, method)
                    np.testing.assert_allclose(values[np.isfinite(values)], expected[np.isfinite(expected)],
                                               atol=1e-12)
    # beyond the matrix-product limit, the resamples are rebuilt: the same values
    truth, scores = rng.normal(size=25), rng.normal(size=25)
    draws = rng.integers(0, 25, (10, 25))
    fast = resampled_rank_correlation(scores, truth, draws, methods=["weighted_kendall", "kendall"])
    monkeypatch.setattr(ranking, "_GEMM_LIMIT", 10)
    slow = resampled_rank_correlation(scores, truth, draws, methods=["weighted_kendall", "kendall"])
    for method in fast:
        np.testing.assert_allclose(fast[method], slow[method], atol=1e-12)
    # a resample of one candidate, or of equal scores, is undefined, not a number
    assert np.isnan(resampled_rank_correlation(scores, truth, np.zeros((1, 25), dtype=int))["weighted_kendall"]).all()
    for bad, message in (((scores, truth[:3], draws), "one length|n >= 2"), ((scores, truth, draws + 30), "indices"),
                         ((scores, truth, draws.astype(float)), "indices"),
                         ((np.where(scores > 0, np.inf, scores), truth, draws), "finite")):
        with pytest.raises(InputError, match=message):
            resampled_rank_correlation(*bad)


@pytest.mark.parametrize("method", ["weighted_kendall", "kendall", "top1", "regret@1", "spearman"])
def test_batch_rank_correlation_equals_one_at_a_time_on_tied_resamples(method):
    from transferscope.metrics.ranking import batch_rank_correlation, rank_correlation

    rng = np.random.default_rng(0)
    for n in (2, 3, 7, 30, 150):  # 150: beyond the pairwise limit, row by row through SciPy
        scores = rng.integers(0, 5, n).astype(float)  # many ties, as in a bootstrap resample
        truth = rng.normal(size=n).round(1)
        draws = rng.integers(0, n, (40, n))
        got = batch_rank_correlation(scores[draws], truth[draws], method=method)
        expected = np.array([rank_correlation(scores[d], truth[d], method=method) for d in draws])
        assert (np.isnan(got) == np.isnan(expected)).all()
        np.testing.assert_allclose(got[~np.isnan(got)], expected[~np.isnan(expected)], atol=1e-12)
    with pytest.raises(InputError, match="one shape"):
        batch_rank_correlation(np.ones((2, 3)), np.ones((2, 4)))
