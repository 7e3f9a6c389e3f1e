"""LEEP and NLEEP: golden values from the reference implementations, closed forms, properties.

Golden values were computed by running the reference code in /tmp (never copied here), with
numpy 2.4.6, scipy 1.17.1 and scikit-learn 1.9.1 (the versions of this project's environment),
on the inputs built by the ``case_*`` functions below:

* LEEP: thuml/Transfer-Learning-Library @ c4aa59eb565650a552b809411601d0589efbbfe4,
  ``tllib/ranking/leep.py::log_expected_empirical_prediction(source_probs, labels)``, unchanged.
  It is correct for label gaps (the empty classes it creates get no weight), but gives NaN when a
  source class has zero probability on every input (``0 / 0`` in ``P(y | z)``, case_zero_column).
* NLEEP: TencentARC/SFDA @ 3b7edf76bd682acb1eba4f4c5eb7ea7f3f7f6c59, ``metrics.py::NLEEP``
  (PCA(n_components=0.8) -> GaussianMixture(5 C) -> predict_proba -> LEEP), the function
  extracted from the module (which imports torch) and run with two changes:
  (1) ``GaussianMixture`` called with ``random_state=0`` (the reference leaves it unseeded) and the
  ``covariance_type`` under test (its default is "full"); (2) the last line takes the mean of the
  *log* of the expected empirical prediction: the reference returns the mean probability, i.e. it
  forgets the log. Values of the reference with only change (1), so still without the log, are in
  ``SFDA_NO_LOG``. The reference also fails on label gaps: labels {0, 1, 5} raise IndexError
  (``py_x[:, y]`` with 3 columns).
* NLEEP, fixed posteriors: sklearn ``PCA(0.8)`` + ``GaussianMixture(15, "diag", random_state=0)``
  posteriors passed to tllib's LEEP above: -0.5885206873307821, equal to the SFDA value.

Our NLEEP sorts the rows lexicographically and divides the PCA output by its root mean variance
before the mixture is fitted; ``case_gmm`` is built already sorted and scaled so that both steps
are the identity (to rounding) and the reference sees the same input as the mixture here.
Agreement is ~1e-14; the tests ask for 1e-6.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

import transferscope as ts
from tests.transfer_cases import case_gaps, case_soft, case_zero_column, softmax
from transferscope.errors import InputError
from transferscope.metrics.transferability.leep import leep, nleep


def case_gmm():  # features for NLEEP: rows sorted, PCA-80% output of unit mean variance
    rng = np.random.default_rng(12)
    n, d, c = 240, 20, 3
    y = np.arange(n) % c
    x = rng.normal(size=(n, d)) + 2.0 * np.eye(c, d)[y]
    order = np.lexsort(x.T[::-1])
    x, y = x[order], y[order]
    reduced = PCA(n_components=0.8).fit_transform(x)
    return x / np.sqrt(np.mean(np.var(reduced, axis=0))), y


TLLIB_LEEP = {"soft": -0.5370862268466334, "gaps": -0.4250421812861045}  # zero_column: nan
SFDA_WITH_LOG = {  # changes (1) and (2), seed 0
    "diag": -0.5885206873307821,
    "full": -0.42212189501757147,
    "spherical": -0.38381689947190806,
    "tied": -0.4535284860190775,
}
SFDA_FULL_SEED7_WITH_LOG = -0.5664825447549201
SFDA_NO_LOG = {  # change (1) only: the reference's mean probability, seed 0
    "diag": 0.6365941843136202,
    "full": 0.7528564319615385,
    "spherical": 0.7448429029055231,
    "tied": 0.7169000643917097,
}


def leep_by_definition(y, probs):
    """LEEP written out loop by loop from the paper's three equations."""
    n, cs = probs.shape
    classes = sorted(set(y.tolist()))
    joint = {(c, z): sum(probs[i, z] for i in range(n) if y[i] == c) / n for c in classes for z in range(cs)}
    marg = {z: sum(joint[c, z] for c in classes) for z in range(cs)}
    total = 0.0
    for i in range(n):
        total += np.log(sum(joint[y[i], z] / marg[z] * probs[i, z] for z in range(cs) if marg[z] > 0))
    return total / n


# ---------------------------------------------------------------- LEEP


@pytest.mark.parametrize("key", ["soft", "gaps"])
def test_leep_matches_tllib(key):
    f, y, p = {"soft": case_soft, "gaps": case_gaps}[key]()
    assert ts.score("leep", f, y, source_probs=p) == pytest.approx(TLLIB_LEEP[key], rel=1e-6)


def test_leep_hand_computed():
    # joint*N: y=0 -> [1.7, 0.3], y=1 -> [0.3, 1.7]; P(y|z) = [[.85, .15], [.15, .85]];
    # expected empirical predictions .78, .71, .71, .78.
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9]])
    value = leep(np.zeros((4, 2)), [0, 0, 1, 1], source_probs=probs)
    assert value == pytest.approx((np.log(0.78) + np.log(0.71)) / 2, rel=1e-12)
    # Three source classes, three samples: joint*N = [[.5, .2, 1.3], [.1, .5, .4]], P(z)*N = [.6, .7, 1.7].
    probs = np.array([[0.5, 0.2, 0.3], [0.1, 0.5, 0.4], [0.0, 0.0, 1.0]])
    y = ["a", "b", "a"]
    cond = np.array([[0.5 / 0.6, 0.2 / 0.7, 1.3 / 1.7], [0.1 / 0.6, 0.5 / 0.7, 0.4 / 1.7]])
    eep = [probs[0] @ cond[0], probs[1] @ cond[1], probs[2] @ cond[0]]
    assert leep(np.zeros((3, 1)), y, source_probs=probs) == pytest.approx(np.mean(np.log(eep)), rel=1e-12)


@pytest.mark.parametrize("case", [case_soft, case_gaps, case_zero_column])
def test_leep_equals_definition(case):
    f, y, p = case()
    assert leep(f, y, source_probs=p) == pytest.approx(leep_by_definition(y, p), rel=1e-10)


def test_leep_zero_source_column_is_skipped_where_tllib_gives_nan():
    f, y, p = case_zero_column()
    value = leep(f, y, source_probs=p)
    assert np.isfinite(value)  # tllib: nan
    assert value == pytest.approx(leep(f, y, source_probs=np.delete(p, 3, axis=1)), rel=1e-12)


def test_leep_label_gaps_equal_contiguous_labels():
    f, y05, p = case_gaps()
    y01 = (y05 == 5).astype(int)
    assert leep(f, y05, source_probs=p) == pytest.approx(leep(f, y01, source_probs=p), rel=1e-12)
    assert leep(f, np.where(y01 == 1, "dog", "cat"), source_probs=p) == pytest.approx(
        leep(f, y01, source_probs=p), rel=1e-12
    )


@given(seed=st.integers(0, 2**16), n_source=st.integers(2, 12), n_classes=st.integers(2, 5))
@settings(max_examples=30, deadline=None)
def test_leep_is_at_most_zero(seed, n_source, n_classes):
    rng = np.random.default_rng(seed)
    n = 40
    y = np.r_[np.arange(n_classes), rng.integers(0, n_classes, n - n_classes)]
    p = softmax(3.0 * rng.normal(size=(n, n_source)))
    value = leep(np.zeros((n, 1)), y, source_probs=p)
    assert np.isfinite(value) and value <= 0.0
    # A constant head carries no information: the score is minus the label entropy.
    freq = np.bincount(y) / n
    constant = leep(np.zeros((n, 1)), y, source_probs=np.tile(p[0], (n, 1)))
    assert constant == pytest.approx(np.sum(freq * np.log(freq)), rel=1e-10)


def test_leep_perfect_head_is_zero_and_source_relabelling_does_not_matter():
    y = np.array([0, 0, 1, 1, 2, 2])
    onehot = np.eye(4)[[3, 3, 0, 0, 1, 2]]  # y is a function of z
    assert leep(np.zeros((6, 1)), y, source_probs=onehot) == 0.0
    f, y, p = case_soft()
    perm = np.random.default_rng(0).permutation(p.shape[1])
    assert leep(f, y, source_probs=p[:, perm]) == pytest.approx(leep(f, y, source_probs=p), rel=1e-12)


def test_leep_rows_off_by_rounding_are_renormalised():
    f, y, p = case_soft()
    off = p * (1.0 + 5e-7)  # rows sum to 1 + 5e-7, accepted by the validator
    assert leep(f, y, source_probs=off) == pytest.approx(leep(f, y, source_probs=p), rel=1e-12)
    assert leep(np.zeros((2, 1)), [0, 1], source_probs=np.eye(2) * (1 + 5e-7)) == 0.0


def test_leep_ignores_features_but_validates_them():
    f, y, p = case_soft()
    assert leep(np.zeros((300, 1)), y, source_probs=p) == leep(f, y, source_probs=p)
    bad = f.copy()
    bad[4, 2] = np.nan
    with pytest.raises(InputError, match="features contains NaN"):
        leep(bad, y, source_probs=p)


@pytest.mark.parametrize("func", [leep])
def test_source_probs_errors(func):
    f, y, p = case_soft()
    with pytest.raises(InputError, match="source_probs is required"):
        func(f, y, source_probs=None)
    with pytest.raises(InputError, match="labels has 299 entries but features has 300 rows"):
        func(f, y[:-1], source_probs=p[:-1])  # the label mismatch is reported first
    with pytest.raises(InputError, match="source_probs has 299 rows but features has 300 rows"):
        func(f, y, source_probs=p[:-1])
    with pytest.raises(InputError, match="apply a softmax"):
        func(f, y, source_probs=np.log(p))
    with pytest.raises(InputError, match="at least 2 source classes"):
        func(f, y, source_probs=np.ones((300, 1)))
    bad = p.copy()
    bad[7, 1] = np.nan
    with pytest.raises(InputError, match="source_probs contains NaN"):
        func(f, y, source_probs=bad)
    with pytest.raises(TypeError):
        func(f, y, p)  # keyword-only


# ---------------------------------------------------------------- NLEEP


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical", "tied"])
def test_nleep_matches_sfda_with_log_and_seed(covariance_type):
    x, y = case_gmm()
    value = ts.score("nleep", x, y, covariance_type=covariance_type)
    assert value == pytest.approx(SFDA_WITH_LOG[covariance_type], rel=1e-6)
    # The reference without the log averages probabilities, a different number: by Jensen,
    # mean log p < log mean p (strictly unless all p are equal).
    assert value < np.log(SFDA_NO_LOG[covariance_type])
    assert value != pytest.approx(SFDA_NO_LOG[covariance_type], rel=0.1)


def test_nleep_seed_is_the_mixture_random_state():
    x, y = case_gmm()
    assert nleep(x, y, covariance_type="full", seed=7) == pytest.approx(SFDA_FULL_SEED7_WITH_LOG, rel=1e-6)
    assert nleep(x, y, seed=3) == nleep(x, y, seed=3)


def test_nleep_equals_leep_of_the_mixture_posteriors():
    # Fixed posteriors: the pipeline written out with scikit-learn, then LEEP.
    x, y = case_gmm()
    reduced = PCA(n_components=0.8).fit_transform(x)
    gmm = GaussianMixture(n_components=15, covariance_type="diag", random_state=0).fit(reduced)
    post = gmm.predict_proba(reduced)
    assert nleep(x, y, covariance_type="diag") == pytest.approx(leep(x, y, source_probs=post), rel=1e-6)
    assert nleep(x, y, covariance_type="diag") == pytest.approx(-0.5885206873307821, rel=1e-6)  # tllib LEEP on `post`


def test_nleep_invariant_to_order_scale_shift_and_label_gaps():
    x, y = case_gmm()
    base = nleep(x, y)
    perm = np.random.default_rng(1).permutation(len(y))
    assert nleep(x[perm], y[perm]) == pytest.approx(base, rel=1e-12)
    for scale in (1e-6, 1e6):
        assert nleep(scale * x, y) == pytest.approx(base, rel=1e-9)
    assert nleep(x + 100.0, y) == pytest.approx(base, rel=1e-9)
    y_gaps = np.array([0, 1, 5])[y]  # the SFDA reference raises IndexError here
    assert nleep(x, y_gaps) == pytest.approx(base, rel=1e-12)


def test_nleep_is_at_most_zero_and_separates():
    x, y = case_gmm()
    noise = np.random.default_rng(0).normal(size=x.shape)
    assert nleep(noise, y) < nleep(x, y) <= 0.0


def test_nleep_options():
    x, y = case_gmm()
    no_pca = nleep(x, y, variance_kept=1.0, covariance_type="diag")
    scaled = x / np.sqrt(np.mean(np.var(x, axis=0)))
    post = GaussianMixture(15, covariance_type="diag", random_state=0).fit(scaled - scaled.mean(axis=0))
    expected = leep(x, y, source_probs=post.predict_proba(scaled - scaled.mean(axis=0)))
    assert no_pca == pytest.approx(expected, rel=1e-6)
    assert np.isfinite(nleep(x, y, n_components_per_class=1, variance_kept=0.5))


def test_nleep_edge_cases():
    rng = np.random.default_rng(0)
    y = np.arange(20) % 2
    # Identical rows: one posterior for all, so the score is sum_c p_c log p_c.
    assert nleep(np.ones((20, 3)), y) == pytest.approx(np.log(0.5), rel=1e-12)
    with pytest.warns(RuntimeWarning, match="capped at 8"):
        value = nleep(rng.normal(size=(8, 3)), [0, 1, 2, 3, 4, 5, 6, 6])
    assert np.isfinite(value) and value <= 0.0
    with pytest.warns(RuntimeWarning, match="fewer than 2 samples"):
        assert np.isfinite(nleep(rng.normal(size=(12, 40)), np.arange(12) % 2))  # N < D
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(nleep(rng.normal(size=(30, 3)), np.arange(30) % 2))  # two classes
        dup = np.repeat(rng.normal(size=(10, 3)), 3, axis=0)
        assert np.isfinite(nleep(dup, np.repeat(np.arange(10) % 2, 3)))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"variance_kept": 0.0}, "variance_kept must be in"),
        ({"variance_kept": 1.5}, "variance_kept must be in"),
        ({"variance_kept": "all"}, "variance_kept must be a number"),
        ({"covariance_type": "banded"}, "covariance_type must be one of"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"n_components_per_class": 0}, "n_components_per_class must be >= 1"),
        ({"source_probs": np.eye(3)}, "does not take option"),
    ],
)
def test_nleep_bad_options(options, match):
    x, y = case_gmm()
    with pytest.raises(InputError, match=match):
        ts.score("nleep", x, y, **options)


def test_registry_declarations():
    info = ts.get_metric("leep")
    assert info.needs_source_probs and not info.uses_seed and info.higher_is_better
    info = ts.get_metric("nleep")
    assert not info.needs_source_probs and info.uses_seed and info.deterministic_given_seed
