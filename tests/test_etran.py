"""ETran: golden values from the reference code, the reference's bugs, closed forms.

Golden values were computed by running the reference code in /tmp (never copied here):
mgholamikn/ETran @ d4551ed8f41f4ed6eba08b9cc1a78bae178acd19, ``metrics.py``
(numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1, torch 2.13.0+cpu), on copies of the
``case_*`` inputs below.

* ``REF_ENERGY``: ``Energy_Score(X, 0.5, "bot")`` (the setting of ``evaluate_metric.py``),
  ``REF_ENERGY_2PCT``: ``Energy_Score(X, 2, "bot")``; ours with ``fraction=0.005`` / ``0.02``.
* ``REF_LDA_PUBLISHED``: ``LDA_Score(X, y)`` unmodified. Its ``np.linalg.eigh`` of the
  non-symmetric ``inv(S_w) @ S_b`` returns an orthonormal basis, so the covariance cancels
  and the score is the Euclidean nearest-mean softmax: ours with ``covariance="identity"``.
* ``REF_LDA_FIXED_POWER3`` / ``REF_LDA_FIXED_EXACT``: ``LDA_Score`` with that line replaced
  by ``linalg.eigh(Sb, shrunk_Sw)`` (as in SFDA), the only change; the second also with
  ``LDA.iterative_A`` replaced by ``np.linalg.eigvalsh(A).max()``: ours with
  ``power_iterations=3`` and with the defaults.
* ``REF_COMBINED``: ``tw.py``'s ``etran`` arithmetic (``scale()`` = min-max over models,
  then ``0.15 * energy + 0.85 * lda``) on ``Energy_Score`` and unmodified ``LDA_Score`` of
  the three ``candidates()``.

Where the reference is wrong, the correct behaviour is tested instead: ``Energy_Score``
is NaN for N < 200 (it averages ``floor(5 N / 1000)`` samples; ours keeps at least one);
``LDA_Score`` needs labels ``0..C-1`` without gaps; its regression score
(``_solve_eigen2``) is unreachable, so ours is checked against ``np.linalg.lstsq``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.transferability.etran import (
    etran,
    etran_combine,
    etran_energy,
    etran_lda,
    etran_svd,
)


def case_a():  # 5 classes, N = 1000: the energy score averages the lowest 5 samples
    rng = np.random.default_rng(10)
    n, d, c = 1000, 32, 5
    y = rng.integers(0, c, n)
    return np.abs(rng.normal(size=(n, d))) + 1.0 * np.eye(c, d)[y], y


def case_b():  # small-scale features: large adaptive shrinkage
    rng = np.random.default_rng(11)
    n, d, c = 400, 10, 3
    y = rng.integers(0, c, n)
    return 0.2 * (rng.normal(size=(n, d)) + 2.0 * np.eye(c, d)[y]), y


def case_c():  # two classes, correlated features (the covariance matters)
    rng = np.random.default_rng(12)
    n, d = 250, 6
    y = rng.integers(0, 2, n)
    mix = rng.normal(size=(d, d))
    return rng.normal(size=(n, d)) @ mix + 0.2 * np.eye(2, d)[y], y


def candidates():  # three "models" for one labelled target set
    f, y = case_a()
    rng = np.random.default_rng(13)
    return [f, 0.5 * f + np.abs(rng.normal(size=f.shape)), np.abs(rng.normal(size=f.shape))], y


CASES = {"a": case_a, "b": case_b, "c": case_c}
REF_ENERGY = {"a": 4.135517978975107, "b": 2.1916257025295045, "c": -0.041481749717633076}
REF_ENERGY_2PCT = {"a": 4.188626454726219, "b": 2.208284854406263, "c": 0.4925747119274246}
REF_LDA_PUBLISHED = {"a": 0.39094580140755397, "b": 0.36909101520395426, "c": 0.5222072362355107}
REF_LDA_FIXED_POWER3 = {"a": 0.5921907260209616, "b": 0.8123914924452381, "c": 0.6513221124813888}
REF_LDA_FIXED_EXACT = {"a": 0.5925073289335062, "b": 0.8126893400906684, "c": 0.6513221124813888}
REF_CANDIDATE_ENERGY = [4.135517978975107, 4.517552978195722, 4.07906900765025]
REF_CANDIDATE_LDA_PUBLISHED = [0.39094580140755397, 0.25141423518448386, 0.2115250530496566]
REF_COMBINED = [0.86931050224754, 0.3389737119308519, 0.0]


@pytest.mark.parametrize("key", sorted(CASES))
def test_energy_matches_reference(key):
    f, y = CASES[key]()
    assert ts.score("etran_energy", f, y) == pytest.approx(REF_ENERGY[key], rel=1e-6)
    assert etran_energy(f, y, fraction=0.02) == pytest.approx(REF_ENERGY_2PCT[key], rel=1e-6)


@pytest.mark.parametrize("key", sorted(CASES))
def test_lda_identity_matches_published_reference(key):
    f, y = CASES[key]()
    assert etran_lda(f, y, covariance="identity") == pytest.approx(REF_LDA_PUBLISHED[key], rel=1e-6)


@pytest.mark.parametrize("key", sorted(CASES))
def test_lda_matches_fixed_reference(key):
    f, y = CASES[key]()
    assert etran_lda(f, y, power_iterations=3) == pytest.approx(REF_LDA_FIXED_POWER3[key], rel=1e-6)
    assert ts.score("etran_lda", f, y) == pytest.approx(REF_LDA_FIXED_EXACT[key], rel=1e-6)


def test_published_lda_is_the_euclidean_nearest_mean_softmax():
    f, y = case_c()
    means = np.array([f[y == c].mean(axis=0) for c in (0, 1)])
    logits = -0.5 * ((f[:, None, :] - means[None]) ** 2).sum(-1) + np.log(np.bincount(y) / len(y))
    post = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    assert etran_lda(f, y, covariance="identity") == pytest.approx(post[np.arange(len(y)), y].mean(), rel=1e-12)


@pytest.mark.parametrize("shrinkage", [0.0, 0.2, 1.0])
def test_lda_equals_sklearn_shrinkage_lda(shrinkage):
    f, y = case_c()
    p = LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrinkage).fit(f, y).predict_proba(f)
    assert etran_lda(f, y, shrinkage=shrinkage) == pytest.approx(p[np.arange(len(y)), y].mean(), rel=1e-9)


def test_energy_closed_form_fraction_and_tail():
    f, y = case_b()
    e = np.sort(logsumexp(f, axis=1))  # N = 400
    assert etran_energy(f, y, fraction=1.0) == pytest.approx(e.mean(), rel=1e-12)
    assert etran_energy(f, y, fraction=0.1) == pytest.approx(e[:40].mean(), rel=1e-12)
    assert etran_energy(f, y, fraction=0.1, tail="top") == pytest.approx(e[-40:].mean(), rel=1e-12)


def test_energy_keeps_one_sample_below_200_rows():
    f, y = case_c()
    f, y = f[:150], y[:150]  # the reference: floor(5 * 150 / 1000) = 0 samples -> NaN
    assert etran_energy(f, y) == pytest.approx(logsumexp(f, axis=1).min(), rel=1e-12)


def test_energy_ignores_labels_and_shifts_with_features():
    f, y = case_a()
    assert etran_energy(f, np.arange(len(y)) % 2) == etran_energy(f, y)
    assert etran_energy(f + 2.5, y) == pytest.approx(etran_energy(f, y) + 2.5, rel=1e-12)
    target = f[:, 0] + np.random.default_rng(0).normal(size=len(y))
    assert etran_energy(f, target, task="regression") == etran_energy(f, y)


def test_etran_is_the_sum_of_its_terms():
    f, y = case_a()
    assert ts.score("etran", f, y) == pytest.approx(etran_energy(f, y) + etran_lda(f, y), rel=1e-12)
    opts = {"fraction": 0.1, "covariance": "identity"}
    assert etran(f, y, **opts) == pytest.approx(
        etran_energy(f, y, fraction=0.1) + etran_lda(f, y, covariance="identity"), rel=1e-12)
    target = f @ np.random.default_rng(1).normal(size=32)
    assert etran(f, target, task="regression") == pytest.approx(
        etran_energy(f, target, task="regression") + etran_svd(f, target), rel=1e-12)


def test_svd_score_is_minus_least_squares_mse():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(80, 5))
    t = f @ rng.normal(size=(5, 2)) + 0.3 * rng.normal(size=(80, 2)) + 1.0
    coef = np.linalg.lstsq(f, t, rcond=None)[0]
    assert etran_svd(f, t) == pytest.approx(-np.mean((f @ coef - t) ** 2), rel=1e-12)
    assert etran_svd(f, f @ np.ones(5)) == pytest.approx(0.0, abs=1e-20)


def test_svd_score_warns_when_n_not_above_d():
    rng = np.random.default_rng(4)
    with pytest.warns(RuntimeWarning, match="exact"):
        assert etran_svd(rng.normal(size=(10, 20)), rng.normal(size=10)) == pytest.approx(0.0, abs=1e-20)


def test_combine_reproduces_the_reference_ranking_arithmetic():
    models, y = candidates()
    energy = [etran_energy(f, y) for f in models]
    lda = [etran_lda(f, y, covariance="identity") for f in models]
    np.testing.assert_allclose(energy, REF_CANDIDATE_ENERGY, rtol=1e-6)
    np.testing.assert_allclose(lda, REF_CANDIDATE_LDA_PUBLISHED, rtol=1e-6)
    np.testing.assert_allclose(etran_combine(energy, lda), REF_COMBINED, rtol=1e-6, atol=1e-12)


def test_combine_weights_constant_terms_and_regression():
    energy, lda = np.array([1.0, 3.0, 2.0]), np.array([0.2, 0.2, 0.2])
    np.testing.assert_allclose(etran_combine(energy, lda), 0.15 * np.array([0.0, 1.0, 0.5]))
    np.testing.assert_allclose(etran_combine(energy, lda, energy_weight=1.0), [0.0, 1.0, 0.5])
    reg = np.array([-3.0, -1.0, -2.0])
    np.testing.assert_allclose(etran_combine(energy, regression_scores=reg, regression_weight=0.5),
                               [0.0, 0.65, 0.325])
    assert etran_combine([5.0], [0.3]).tolist() == [0.0]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([1.0, 2.0], [0.1]), {}, "lda_scores has 1 entries but the first term has 2"),
        (([1.0, np.nan], [0.1, 0.2]), {}, "energy_scores contains NaN"),
        (([1.0, 2.0],), {}, "lda_scores"),
        (([[1.0, 2.0]], [0.1, 0.2]), {}, "1-D"),
        (([1.0, 2.0], [0.1, 0.2]), {"lda_weight": float("inf")}, "lda_weight must be a finite number"),
    ],
)
def test_combine_bad_input(args, kwargs, match):
    with pytest.raises(InputError, match=match):
        etran_combine(*args, **kwargs)


def test_label_gaps_and_strings_are_remapped():
    f, y = case_c()
    base = etran_lda(f, y)
    assert etran_lda(f, np.where(y == 1, 5, 0)) == pytest.approx(base, rel=1e-12)
    assert etran(f, np.array(["no", "yes"])[y]) == pytest.approx(etran(f, y), rel=1e-12)


def test_lda_warns_and_saturates_when_n_minus_c_below_d():
    rng = np.random.default_rng(5)
    y = np.arange(30) % 3
    with pytest.warns(RuntimeWarning, match="saturates"):
        assert etran_lda(rng.normal(size=(30, 50)), y) == pytest.approx(1.0, abs=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the identity covariance does not saturate
        assert etran_lda(rng.normal(size=(30, 50)), y, covariance="identity") < 1.0


def test_constant_features_and_collapsed_classes():
    y = np.array([0] * 5 + [1] * 15)
    assert etran_lda(np.ones((20, 3)), y) == pytest.approx(0.25**2 + 0.75**2, rel=1e-12)
    with pytest.raises(InputError, match="single point"):
        etran_lda(np.repeat(np.eye(3), 4, axis=0), np.repeat([0, 1, 2], 4))


@pytest.mark.parametrize(
    ("func", "options", "match"),
    [
        (etran_energy, {"fraction": 0.0}, "fraction must be in \\(0, 1\\]"),
        (etran_energy, {"fraction": 2.0}, "fraction must be in"),
        (etran_energy, {"tail": "middle"}, "tail must be one of"),
        (etran_lda, {"covariance": "full"}, "covariance must be one of"),
        (etran_lda, {"shrinkage": -1.0}, "shrinkage must be in"),
        (etran, {"task": "detection"}, "task must be one of"),
    ],
)
def test_bad_options(func, options, match):
    f, y = case_c()
    with pytest.raises(InputError, match=match):
        func(f, y, **options)


def test_does_not_mutate_input():
    f, y = case_a()
    f0 = f.copy()
    etran(f, y)
    etran_svd(f, f[:, 0] * 2.0)
    np.testing.assert_array_equal(f, f0)


def test_energy_equals_scipy_logsumexp_with_tied_maxima():
    # The row-wise log-sum-exp is computed as scipy's (maxima taken out, log1p of the rest),
    # including rows whose maximum occurs several times and constant rows.
    rng = np.random.default_rng(8)
    f = rng.normal(size=(400, 9)) * np.geomspace(0.01, 100.0, 400)[:, None]
    f[:50, :4] = f[:50].max(axis=1, keepdims=True)  # ties at the maximum
    f[50:60] = 3.0  # constant rows
    energy = np.sort(logsumexp(f, axis=1))
    for fraction in (0.005, 0.1, 1.0):
        keep = max(1, int(np.floor(fraction * 400 * (1 + 1e-12))))
        assert etran_energy(f, np.arange(400) % 2, fraction=fraction) == pytest.approx(
            float(np.mean(energy[:keep])), rel=1e-15)
        assert etran_energy(f, np.arange(400) % 2, fraction=fraction, tail="top") == pytest.approx(
            float(np.mean(energy[-keep:])), rel=1e-15)
