"""Shrinkage H-score: reference values, the dense formula, and the N < D behaviour.

No code by the paper's authors could be found; the reference is
thuml/Transfer-Learning-Library @ c4aa59eb565650a552b809411601d0589efbbfe4,
``tllib/ranking/hscore.py::regularized_h_score`` (the implementation the literature
uses), run unchanged in /tmp (numpy 2.4.6, scikit-learn 1.9.1) on ``case_a``, ``case_c``
and ``case_d`` of tests/test_logme.py. It shrinks the covariance of the centred features
with ``sklearn.covariance.LedoitWolf`` (normalised by ``1/N``) and multiplies the class-mean
covariance by ``1 - alpha``, as in the paper, but forms the class-mean covariance with
``np.cov`` (``1/(N-1)``). We use ``1/N`` for both, so that the score is bounded by the plain
H-score and equals it when ``alpha = 0``: ours = tllib * (N - 1) / N exactly.
Label gaps: tllib loops over ``range(max + 1)`` but empty classes only add NaN rows that
are never written, so its {0, 5} value equals its {0, 1} value (0.553361385604033).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.covariance import LedoitWolf

import transferscope as ts
from tests.test_logme import case_a, case_c, case_d
from tests.test_sfda import case_f32, case_many, case_wide
from transferscope.errors import InputError
from transferscope.metrics.transferability.shrinkage_hscore import shrinkage_hscore

TLLIB = {"a": 0.43044169172743874, "c": 0.3742847656786113, "d": 0.553361385604033}
CASES = {"a": case_a, "c": case_c, "d": case_d}


@pytest.mark.parametrize("key", sorted(CASES))
def test_shrinkage_hscore_matches_tllib_up_to_its_n_minus_one(key):
    f, y = CASES[key]()
    n = len(y)
    assert ts.score("shrinkage_hscore", f, y) == pytest.approx(TLLIB[key] * (n - 1) / n, rel=1e-9)


@pytest.mark.parametrize("key", sorted(CASES))
def test_shrinkage_hscore_equals_dense_formula(key):
    f, y = CASES[key]()
    _, dense = _dense_shrinkage_hscore(f, y)
    assert ts.score("shrinkage_hscore", f, y) == pytest.approx(dense, rel=1e-9)


def test_shrinkage_hscore_separates_when_n_below_d_but_hscore_saturates():
    f, y = case_c()  # N = 40 < D = 100, C = 3
    noise = np.random.default_rng(0).normal(size=f.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h_good, h_noise = ts.score("hscore", f, y), ts.score("hscore", noise, y)
    assert h_good == pytest.approx(2.0, rel=1e-9) and h_noise == pytest.approx(2.0, rel=1e-9)
    good, bad = ts.score("shrinkage_hscore", f, y), ts.score("shrinkage_hscore", noise, y)
    assert 0.0 < bad < good < 2.0
    assert good > 1.5 * bad


def test_shrinkage_hscore_bounded_by_hscore():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 500)
    f = rng.normal(size=(500, 8)) * rng.uniform(0.2, 3.0, 8) + 2.0 * np.eye(5, 8)[y]
    value = ts.score("shrinkage_hscore", f, y)
    assert 0.0 < value <= ts.score("hscore", f, y) <= 4 + 1e-9


def test_shrinkage_hscore_one_dimension_is_hscore():
    f, y = case_a()
    f1 = f[:, :1]  # Ledoit-Wolf shrinkage is 0 for one feature
    assert ts.score("shrinkage_hscore", f1, y) == pytest.approx(ts.score("hscore", f1, y), rel=1e-10)


def test_shrinkage_hscore_invariant_to_rotation_shift_and_scale():
    for case in (case_a, case_c):
        f, y = case()
        q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(f.shape[1], f.shape[1])))
        base = ts.score("shrinkage_hscore", f, y)
        assert ts.score("shrinkage_hscore", 5.0 * f @ q - 3.0, y) == pytest.approx(base, rel=1e-8)


def test_shrinkage_hscore_edge_cases():
    y = np.repeat([0, 1], 10)
    assert ts.score("shrinkage_hscore", np.ones((20, 4)), y) == 0.0
    rng = np.random.default_rng(3)
    dup = np.repeat(rng.normal(size=(10, 30)), 2, axis=0)  # duplicated rows, N < D
    assert 0.0 <= ts.score("shrinkage_hscore", dup, np.arange(20) % 2) < 1.0
    singles = rng.normal(size=(8, 3))  # one sample per class but one
    value = ts.score("shrinkage_hscore", singles, [0, 1, 2, 3, 4, 5, 6, 6])
    assert np.isfinite(value) and 0.0 <= value <= 6.0


# --- variant="tllib": tllib's 1/(N-1) between-class covariance -------------------------------
#
# Golden values for the new cases: thuml/Transfer-Learning-Library @
# c4aa59eb565650a552b809411601d0589efbbfe4, ``tllib/ranking/hscore.py::regularized_h_score``,
# the module file loaded by path from a clone in /tmp (importlib; numpy 2.4.6, scikit-learn
# 1.9.1) and called as ``regularized_h_score(f.copy(), y.copy())`` on the ``case_*`` inputs of
# tests/test_sfda.py (float32 kept as float32; tllib casts to float64 itself).
TLLIB_NEW = {"f32": 4.044662711487828, "many": 3.246277943906042, "wide": 1.8328342566737514}
NEW_CASES = {"f32": case_f32, "many": case_many, "wide": case_wide}


@pytest.mark.parametrize("key", sorted(CASES))
def test_shrinkage_hscore_tllib_variant_matches_tllib(key):
    f, y = CASES[key]()
    assert ts.score("shrinkage_hscore", f, y, variant="tllib") == pytest.approx(TLLIB[key], rel=1e-12)


@pytest.mark.parametrize("key", sorted(NEW_CASES))
def test_shrinkage_hscore_tllib_variant_matches_tllib_new_cases(key):
    f, y = NEW_CASES[key]()  # float32, 10 imbalanced classes, N < D
    assert shrinkage_hscore(f, y, variant="tllib") == pytest.approx(TLLIB_NEW[key], rel=1e-12)


def test_shrinkage_hscore_variants_differ_by_n_over_n_minus_one_and_rank_alike():
    f, y = case_many()
    n = len(y)
    noise = np.random.default_rng(4).normal(size=f.shape)
    for feats in (f, noise):
        assert shrinkage_hscore(feats, y, variant="tllib") == pytest.approx(
            shrinkage_hscore(feats, y) * n / (n - 1), rel=1e-14)
    assert (shrinkage_hscore(f, y) > shrinkage_hscore(noise, y)) == (
        shrinkage_hscore(f, y, variant="tllib") > shrinkage_hscore(noise, y, variant="tllib"))


def test_shrinkage_hscore_tllib_variant_can_exceed_c_minus_one_and_default_cannot():
    # One feature: alpha = 0, so the default is the plain H-score, at most C - 1 = 1; with
    # perfectly separated classes it is 1 and tllib's value is N / (N - 1).
    f = np.repeat([[0.0], [1.0]], 10, axis=0)
    y = np.repeat([0, 1], 10)
    assert shrinkage_hscore(f, y) == pytest.approx(1.0, rel=1e-12)
    assert shrinkage_hscore(f, y, variant="tllib") == pytest.approx(20 / 19, rel=1e-12)


def test_shrinkage_hscore_bad_variant():
    f, y = case_a()
    with pytest.raises(InputError, match="variant must be one of 'default', 'tllib'"):
        shrinkage_hscore(f, y, variant="sklearn")


def _dense_shrinkage_hscore(f, y):
    """The definition with scikit-learn's Ledoit-Wolf covariance and a dense solve."""
    n = len(y)
    lw = LedoitWolf().fit(f)
    centred = f - f.mean(axis=0)
    g = np.zeros_like(centred)
    for c in np.unique(y):
        g[y == c] = centred[y == c].mean(axis=0)
    return lw.shrinkage_, (1 - lw.shrinkage_) * np.trace(np.linalg.solve(lw.covariance_, g.T @ g / n))


@pytest.mark.parametrize("anisotropy", [1.0, 30.0, 3000.0])
def test_shrinkage_hscore_equals_dense_formula_at_any_shrinkage(anisotropy):
    # Strong shrinkage (the trace is a Cholesky solve) down to shrinkage ~1e-4 (the
    # condition bound 1 + (1 - alpha) D / alpha exceeds 1e4: the eigenbasis route).
    rng = np.random.default_rng(5)
    n, d, c = 4000, 20, 6
    y = rng.integers(0, c, n)
    f = (rng.normal(size=(n, d)) + 0.8 * np.eye(c, d)[y]) * np.geomspace(anisotropy, 1.0, d)
    alpha, dense = _dense_shrinkage_hscore(f, y)
    assert 1e-6 < alpha < 1.0
    assert shrinkage_hscore(f, y) == pytest.approx(dense, rel=1e-9)


def test_shrinkage_hscore_both_regimes_are_covered():
    rng = np.random.default_rng(5)
    n, d, c = 4000, 20, 6
    y = rng.integers(0, c, n)
    base = rng.normal(size=(n, d)) + 0.8 * np.eye(c, d)[y]
    bounds = [1 + (1 - a) * d / a for a in
              (_dense_shrinkage_hscore(base * np.geomspace(s, 1.0, d), y)[0] for s in (1.0, 3000.0))]
    assert bounds[0] < 1e4 < bounds[1]
