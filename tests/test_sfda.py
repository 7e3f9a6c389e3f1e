"""SFDA: golden values from the reference code, closed forms, invariances, edge cases.

Golden values were computed by running the reference code in /tmp (never copied here):
TencentARC/SFDA @ 3b7edf76bd682acb1eba4f4c5eb7ea7f3f7f6c59, ``metrics.py::SFDA_Score``
(numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1), on copies of the ``case_*`` inputs below.

* ``REF_PROB_POWER3``: ``SFDA_Score`` unmodified. It averages p(y|x) (no log) and
  estimates sigma_max(S_w) with ``utils.iterative_A`` (3 power-iteration double steps):
  ours with ``power_iterations=3, log=False``.
* ``REF_LOG_POWER3``: the same function with only its last line changed to
  ``np.mean(np.log(prob[np.arange(n), y]))`` (the paper's log): ours with
  ``power_iterations=3``.
* ``REF_PROB_EXACT`` / ``REF_LOG_EXACT``: as above with ``iterative_A`` replaced by
  ``np.linalg.eigvalsh(A).max()`` (the exact eigenvalue): ours with the defaults
  (``REF_LOG_EXACT``) and ``log=False`` (``REF_PROB_EXACT``).

Where the reference is wrong, the correct behaviour is tested instead:

* Labels ``{0, 5}``: the reference loops over ``range(C)`` and indexes columns by the raw
  label, so class 5 is never mixed and the fit fails ("array must not contain infs or
  NaNs"); ours depends only on the partition.
* ``case_negated`` (feature 2 = -feature 1, so the rows of S_w sum to exactly 0): the
  power iteration starts from the zero vector, the shrinkage is NaN and the reference
  raises; ours falls back to the exact eigenvalue and equals the reference run with the
  exact eigenvalue, 0.403547110585326.
* The reference overwrites its input with the mixed features; ours never mutates input.
* N - C < D: the reference returns 1.0 for random features too (saturation); ours warns.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.transferability.sfda import sfda


def case_a():  # 4 classes, N > D, unit-scale features: lambda ~ 6e-4
    rng = np.random.default_rng(0)
    n, d, c = 200, 16, 4
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 1.5 * np.eye(c, d)[y], y


def case_b():  # small-scale features: large adaptive shrinkage (~0.76)
    rng = np.random.default_rng(1)
    n, d, c = 150, 10, 3
    y = rng.integers(0, c, n)
    return 0.2 * (rng.normal(size=(n, d)) + 2.0 * np.eye(c, d)[y]), y


def case_c():  # two classes
    rng = np.random.default_rng(2)
    n, d = 120, 12
    y = rng.integers(0, 2, n)
    return rng.normal(size=(n, d)) + 1.0 * np.eye(2, d)[y], y


def case_d():  # large-scale features: shrinkage at its floor 1e-10
    rng = np.random.default_rng(3)
    n, d, c = 300, 20, 5
    y = rng.integers(0, c, n)
    return 4.0 * rng.normal(size=(n, d)) + 6.0 * np.eye(c, d)[y], y


def case_negated():  # x2 = -x1 exactly: the rows of S_w sum to exactly 0
    rng = np.random.default_rng(4)
    n = 90
    y = np.arange(n) % 3
    a = rng.normal(size=n) + 1.5 * y
    return np.c_[a, -a], y


def case_n_below_d():  # N - C < D
    rng = np.random.default_rng(5)
    n, d, c = 30, 50, 3
    y = np.arange(n) % c
    return rng.normal(size=(n, d)) + 1.0 * np.eye(c, d)[y], y


CASES = {"a": case_a, "b": case_b, "c": case_c, "d": case_d}
REF_PROB_POWER3 = {"a": 0.38996387692379714, "b": 0.5821380847890837, "c": 0.5773238905171189,
                   "d": 0.3118253046288631}
REF_LOG_POWER3 = {"a": -1.148240443296831, "b": -0.757848387821264, "c": -0.6114805405443985,
                  "d": -1.4029908765138326}
REF_PROB_EXACT = {"a": 0.3899666766142838, "b": 0.5821615804997924, "c": 0.5773259725614646,
                  "d": 0.3118253046288631}
REF_LOG_EXACT = {"a": -1.1482369036432483, "b": -0.7565058231901044, "c": -0.6114775059020888,
                 "d": -1.4029908765138326}


@pytest.mark.parametrize("key", sorted(CASES))
def test_sfda_matches_unmodified_reference(key):
    f, y = CASES[key]()
    assert sfda(f, y, power_iterations=3, log=False) == pytest.approx(REF_PROB_POWER3[key], rel=1e-6)


@pytest.mark.parametrize("key", sorted(CASES))
def test_sfda_matches_reference_with_log(key):
    f, y = CASES[key]()
    assert sfda(f, y, power_iterations=3) == pytest.approx(REF_LOG_POWER3[key], rel=1e-6)


@pytest.mark.parametrize("key", sorted(CASES))
def test_sfda_default_matches_reference_with_log_and_exact_eigenvalue(key):
    f, y = CASES[key]()
    assert ts.score("sfda", f, y) == pytest.approx(REF_LOG_EXACT[key], rel=1e-6)
    assert sfda(f, y, log=False) == pytest.approx(REF_PROB_EXACT[key], rel=1e-6)


def test_sfda_power_iteration_breakdown_falls_back_to_exact_eigenvalue():
    f, y = case_negated()
    assert sfda(f, y, power_iterations=3, log=False) == pytest.approx(0.403547110585326, rel=1e-6)
    assert sfda(f, y, log=False) == pytest.approx(0.403547110585326, rel=1e-6)


def test_sfda_label_gaps_and_strings_are_remapped():
    f, y01 = case_c()
    base = sfda(f, y01)
    assert sfda(f, np.where(y01 == 1, 5, 0)) == pytest.approx(base, rel=1e-12)
    assert sfda(f, np.array(["cat", "dog"])[y01]) == pytest.approx(base, rel=1e-12)
    f4, y4 = case_a()
    gapped = np.array([3, 10, 11, 40])[y4]
    assert sfda(f4, gapped) == pytest.approx(sfda(f4, y4), rel=1e-12)


def _sfda_with_sklearn(f, y, shrinkage):
    """Independent closed form: scikit-learn's shrinkage LDA (eigen solver) for both
    fits, the double softmax and ConfMix written out."""
    n = len(y)
    classes = np.unique(y)
    p = LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrinkage).fit(f, y).predict_proba(f)
    q = np.exp(p) / np.exp(p).sum(axis=1, keepdims=True)
    means = np.array([f[y == c].mean(axis=0) for c in classes])
    others = (means.sum(axis=0) - means) / (len(classes) - 1)
    idx = np.searchsorted(classes, y)
    conf = q[np.arange(n), idx][:, None]
    mixed = conf * f + (1 - conf) * others[idx]
    p2 = LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrinkage).fit(mixed, y).predict_proba(mixed)
    return np.mean(np.log(p2[np.arange(n), idx]))


@pytest.mark.parametrize("shrinkage", [0.0, 0.05, 0.5, 1.0])
@pytest.mark.parametrize("case", [case_a, case_b, case_c])
def test_sfda_equals_sklearn_shrinkage_lda_closed_form(case, shrinkage):
    f, y = case()
    assert sfda(f, y, shrinkage=shrinkage) == pytest.approx(_sfda_with_sklearn(f, y, shrinkage), rel=1e-9)


def test_sfda_unshrunk_singular_scatter_uses_the_pseudo_inverse():
    # x2 = -x1: with lambda = 0 the null direction of S_w carries no evidence, so the
    # score equals that of the single informative column.
    f, y = case_negated()
    assert sfda(f, y, shrinkage=0.0) == pytest.approx(sfda(f[:, :1], y, shrinkage=0.0), rel=1e-9)


def test_sfda_constant_features_give_the_prior_only_score():
    y = np.array([0] * 5 + [1] * 15)
    prior = np.array([0.25, 0.75])
    expected = float(prior @ np.log(prior))  # mean over samples of log pi_{y_i}
    assert sfda(np.ones((20, 3)), y) == pytest.approx(expected, rel=1e-12)
    assert sfda(np.ones((20, 3)), y, log=False) == pytest.approx(float(prior @ prior), rel=1e-12)


def test_sfda_rejects_classes_collapsed_to_single_points():
    f = np.repeat(np.eye(3), 4, axis=0)
    with pytest.raises(InputError, match="single point"):
        sfda(f, np.repeat([0, 1, 2], 4))


def test_sfda_invariant_to_rotation_and_translation():
    f, y = case_a()
    q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(16, 16)))
    assert sfda(f @ q + 5.0, y) == pytest.approx(sfda(f, y), rel=1e-9)


def test_sfda_without_shrinkage_is_affine_invariant():
    f, y = case_a()
    a = np.random.default_rng(8).normal(size=(16, 16)) + 4 * np.eye(16)
    assert sfda(f @ a - 3.0, y, shrinkage=0.0) == pytest.approx(sfda(f, y, shrinkage=0.0), rel=1e-7)


def test_sfda_adaptive_shrinkage_depends_on_scale_but_fixed_shrinkage_does_not():
    f, y = case_b()
    assert sfda(10 * f, y) != pytest.approx(sfda(f, y), rel=1e-3)  # as in the paper
    assert sfda(10 * f, y, shrinkage=0.3) == pytest.approx(sfda(f, y, shrinkage=0.3), rel=1e-9)


def test_sfda_bounds_and_log_relation():
    f, y = case_c()
    value, prob = sfda(f, y), sfda(f, y, log=False)
    assert value <= 0.0 and 0.0 <= prob <= 1.0
    assert value <= np.log(prob)  # Jensen: mean log p <= log mean p


def test_sfda_saturates_and_warns_when_n_minus_c_below_d():
    f, y = case_n_below_d()
    with pytest.warns(RuntimeWarning, match="saturates"):
        informative = sfda(f, y)
    with pytest.warns(RuntimeWarning):
        random = sfda(np.random.default_rng(9).normal(size=f.shape), y)
    assert informative == pytest.approx(0.0, abs=1e-6)
    assert random == pytest.approx(0.0, abs=1e-6)  # the reference also gives 1.0 (no log)


def test_sfda_no_warning_when_n_large():
    f, y = case_a()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sfda(f, y)


@pytest.mark.parametrize(
    ("features", "labels"),
    [
        (np.random.default_rng(0).normal(size=(8, 3)), [0, 1, 2, 3, 4, 5, 6, 6]),  # one per class (+1)
        (np.repeat(np.random.default_rng(1).normal(size=(10, 3)), 3, axis=0), np.repeat(np.arange(10) % 2, 3)),
        (np.random.default_rng(2).normal(size=(30, 1)), np.arange(30) % 2),  # D = 1
    ],
)
def test_sfda_edge_cases_are_finite(features, labels):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isfinite(sfda(features, labels))


def test_sfda_does_not_mutate_input():
    f, y = case_a()
    f0 = f.copy()
    sfda(f, y)
    np.testing.assert_array_equal(f, f0)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"shrinkage": 1.5}, "shrinkage must be in"),
        ({"shrinkage": "auto"}, "shrinkage must be a number"),
        ({"min_shrinkage": -0.1}, "min_shrinkage must be in"),
        ({"shrinkage_scale": 0.0}, "shrinkage_scale must be a finite number > 0"),
        ({"power_iterations": 0}, "power_iterations must be >= 1"),
    ],
)
def test_sfda_bad_options(options, match):
    f, y = case_c()
    with pytest.raises(InputError, match=match):
        sfda(f, y, **options)


# --- variant="tencentarc": the reference exactly ---------------------------------------------
#
# Golden values: TencentARC/SFDA @ 3b7edf76bd682acb1eba4f4c5eb7ea7f3f7f6c59, ``metrics.py::SFDA_Score``
# unmodified, imported from a clone in /tmp (numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1, torch
# 2.13.0+cpu for its imports) and called as ``SFDA_Score(f.copy(), y.copy())`` on the inputs below,
# float32 kept as float32 (the paper's features are float32 .npy files), its "Shrinkage" print
# silenced. ``REF_PROB_POWER3`` above is the same function on cases a-d.


def case_f32():  # float32 input: the reference writes the mixed features back as float32
    rng = np.random.default_rng(11)
    n, d, c = 240, 24, 6
    y = np.arange(n) % c
    f = rng.normal(size=(n, d)) + 1.2 * rng.normal(size=(c, d))[y]
    return f.astype(np.float32), y


def case_many():  # 10 classes, imbalanced (geometric class sizes), offset features
    rng = np.random.default_rng(12)
    n, d, c = 500, 40, 10
    y = np.minimum(rng.geometric(0.25, n) - 1, c - 1)
    y[:c] = np.arange(c)
    f = 0.5 * (rng.normal(size=(n, d)) + 0.5 * rng.normal(size=(c, d))[y]) + 3.0
    return f, y


def case_wide():  # N < D, anisotropic: the reference saturates at exactly 1
    rng = np.random.default_rng(13)
    n, d, c = 60, 80, 4
    y = np.arange(n) % c
    f = (rng.normal(size=(n, d)) + 1.5 * np.eye(c, d)[y]) * np.geomspace(3.0, 0.1, d)
    return f, y


REF_TENCENTARC = {"f32": 0.9742082464666796, "many": 0.6489591752475724, "wide": 1.0}
VARIANT_CASES = {"f32": case_f32, "many": case_many, "wide": case_wide}


@pytest.mark.parametrize("key", sorted(CASES))
def test_sfda_tencentarc_variant_matches_reference(key):
    f, y = CASES[key]()
    assert sfda(f, y, variant="tencentarc") == pytest.approx(REF_PROB_POWER3[key], rel=1e-12)


@pytest.mark.parametrize("key", sorted(VARIANT_CASES))
def test_sfda_tencentarc_variant_matches_reference_new_cases(key):
    f, y = VARIANT_CASES[key]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # case_wide: N - C < D
        assert ts.score("sfda", f, y, variant="tencentarc") == pytest.approx(REF_TENCENTARC[key], rel=1e-12)


def test_sfda_tencentarc_rounds_mixed_features_to_float32_like_the_reference():
    f, y = case_f32()
    exact = sfda(f, y, variant="tencentarc")
    unrounded = sfda(f, y, power_iterations=3, log=False)  # same arithmetic kept in float64
    assert exact == pytest.approx(REF_TENCENTARC["f32"], rel=1e-14)
    assert abs(unrounded - REF_TENCENTARC["f32"]) > 1e-10  # the rounding is what makes it exact
    assert unrounded == pytest.approx(exact, rel=1e-8)
    # float64 input of the same values: nothing to round, the two agree.
    f64 = f.astype(np.float64)
    assert sfda(f64, y, variant="tencentarc") == sfda(f64, y, power_iterations=3, log=False)


def test_sfda_tencentarc_remaps_labels_the_reference_cannot_take():
    f, y = case_many()
    base = sfda(f, y, variant="tencentarc")
    names = np.array([f"class {i}" for i in range(10)])
    assert sfda(f, names[y], variant="tencentarc") == pytest.approx(base, rel=1e-12)
    assert sfda(f, 3 * y + 7, variant="tencentarc") == pytest.approx(base, rel=1e-12)


def test_sfda_default_differs_from_tencentarc_by_the_log_and_the_eigenvalue():
    f, y = case_many()
    reference = sfda(f, y, variant="tencentarc")
    # The default is the paper's mean log-probability: below the log of the mean (Jensen).
    assert sfda(f, y, power_iterations=3) < np.log(reference)
    # With the log dropped and the reference's eigenvalue estimate it is the reference.
    assert sfda(f, y, power_iterations=3, log=False) == pytest.approx(reference, rel=1e-12)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"variant": "tencentarc", "log": True}, "leave log and power_iterations unset"),
        ({"variant": "tencentarc", "log": False}, "leave log and power_iterations unset"),
        ({"variant": "tencentarc", "power_iterations": 3}, "leave log and power_iterations unset"),
        ({"variant": "sfda"}, "variant must be one of 'default', 'tencentarc'"),
    ],
)
def test_sfda_variant_bad_options(options, match):
    f, y = case_c()
    with pytest.raises(InputError, match=match):
        sfda(f, y, **options)
