"""GBC: golden values from the reference implementation, closed forms and invariances.

Golden values were computed by running the reference code in /tmp (never copied here):
google-research/google-research @ 4c4299485319ed72ef782020c81784be5468924e,
``stable_transfer/transferability/gbc.py::get_gbc_score`` under TensorFlow 2.21 (CPU), float64
inputs, on the ``gbc_case_*`` inputs below and ``case_a`` of tests/test_logme.py. The only
change to the file was dropping its experiment plumbing (the ``transfer_experiment`` import
and the decorated ``get_train_gbc``).

* Diagonal Gaussians: the reference is used as is; we agree to ~1e-15.
* Spherical Gaussians: the reference omits the factor ``D`` of the log-determinant term
  (``log det(s I_D) = D log s``) and so does not compute the Bhattacharyya distance of the
  spherical Gaussians it describes. ``REF_SPHERICAL_PATCHED`` comes from a /tmp copy where
  the spherical branch tiles the mean variance over the ``D`` dimensions instead of
  reducing it to a scalar (nothing else changed); ``REF_SPHERICAL_AS_IS`` holds the
  unpatched values, which we intentionally do not reproduce (they coincide for ``D = 1``).
* PCA: the reference pipeline (``features_targets_utils.pca_reduction``) runs
  ``sklearn.decomposition.PCA(n_components, svd_solver="full")`` and casts to float32;
  the golden value feeds the float64 PCA output to the reference instead (with the float32
  cast it is -4.5457385759348945, 7e-11 relative away).
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from tests.test_logme import case_a
from transferscope.errors import InputError


def gbc_case_overlap():  # 4 partly overlapping classes, unequal spreads
    rng = np.random.default_rng(10)
    n, d, c = 160, 6, 4
    y = np.arange(n) % c
    scale = 0.5 + 0.5 * rng.random((c, d))
    return rng.normal(size=(n, d)) * scale[y] + 0.8 * np.eye(c, d)[y], y


def gbc_case_floor():  # label gaps, a one-sample class and a constant dimension
    rng = np.random.default_rng(11)
    n, d = 61, 5
    y = np.r_[np.repeat([0, 3, 7], 20), 9]
    f = rng.normal(size=(n, d)) * 0.7 + 1.2 * np.eye(10, d)[y]
    f[:, 4] = 2.0
    return f, y


def gbc_case_wide():  # for the PCA option
    rng = np.random.default_rng(12)
    n, d, c = 120, 50, 3
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 0.7 * np.eye(c, d)[y], y


CASES = {"overlap": gbc_case_overlap, "floor": gbc_case_floor, "a": case_a}
REF_DIAGONAL = {"overlap": -7.703900124108506, "floor": -3.278207689455216, "a": -4.726667176832396}
REF_SPHERICAL_PATCHED = {"overlap": -8.97694506456673, "floor": -2.9338400509491462,
                         "a": -5.27564833195054}
REF_SPHERICAL_AS_IS = {"overlap": -9.158026004717074, "floor": -2.9854524584751703,
                       "a": -5.308803824064004}
REF_WIDE_PCA16 = {"diagonal": -4.54573857627121, "spherical_patched": -5.007029316278102}
REF_OVERLAP_D1 = -10.610470101815078  # first column only: both variants, reference as is


@pytest.mark.parametrize("key", sorted(CASES))
def test_gbc_diagonal_matches_reference(key):
    f, y = CASES[key]()
    assert ts.score("gbc", f, y) == pytest.approx(REF_DIAGONAL[key], rel=1e-6)


@pytest.mark.parametrize("key", sorted(CASES))
def test_gbc_spherical_matches_patched_reference_not_the_unpatched_one(key):
    f, y = CASES[key]()
    value = ts.score("gbc_spherical", f, y)
    assert value == pytest.approx(REF_SPHERICAL_PATCHED[key], rel=1e-6)
    assert value == ts.score("gbc", f, y, covariance="spherical")
    assert value != pytest.approx(REF_SPHERICAL_AS_IS[key], rel=1e-3)


def test_gbc_one_dimension_agrees_with_unpatched_reference():
    f, y = gbc_case_overlap()
    f1 = f[:, :1]
    assert ts.score("gbc", f1, y) == pytest.approx(REF_OVERLAP_D1, rel=1e-6)
    assert ts.score("gbc_spherical", f1, y) == pytest.approx(REF_OVERLAP_D1, rel=1e-6)


def test_gbc_pca_option_matches_reference_pipeline():
    f, y = gbc_case_wide()
    assert ts.score("gbc", f, y, pca_dim=16) == pytest.approx(REF_WIDE_PCA16["diagonal"], rel=1e-6)
    assert ts.score("gbc_spherical", f, y, pca_dim=16) == pytest.approx(
        REF_WIDE_PCA16["spherical_patched"], rel=1e-6)
    # pca_dim is capped at min(N, D)
    assert ts.score("gbc", f, y, pca_dim=1000) == pytest.approx(ts.score("gbc", f, y, pca_dim=50), rel=1e-12)


def _dense_gbc(f, y, covariance, floor=1e-4):
    """Bhattacharyya coefficients from explicit D x D covariance matrices."""
    classes = np.unique(y)
    d = f.shape[1]
    stats = []
    for c in classes:
        x = f[y == c]
        var = np.maximum(x.var(axis=0), floor)
        cov = np.diag(var) if covariance == "diagonal" else np.mean(var) * np.eye(d)
        stats.append((x.mean(axis=0), cov))
    total = 0.0
    for i, (m1, s1) in enumerate(stats):
        for j, (m2, s2) in enumerate(stats):
            if i == j:
                continue
            s = (s1 + s2) / 2
            dm = m1 - m2
            db = dm @ np.linalg.solve(s, dm) / 8 + 0.5 * (
                np.linalg.slogdet(s)[1] - 0.5 * np.linalg.slogdet(s1)[1] - 0.5 * np.linalg.slogdet(s2)[1])
            total += np.exp(-db)
    return -total


@pytest.mark.parametrize("covariance", ["diagonal", "spherical"])
@pytest.mark.parametrize("key", sorted(CASES))
def test_gbc_equals_dense_bhattacharyya(key, covariance):
    f, y = CASES[key]()
    assert ts.score("gbc", f, y, covariance=covariance) == pytest.approx(_dense_gbc(f, y, covariance), rel=1e-9)


def test_gbc_bounds_identical_and_separated_classes():
    rng = np.random.default_rng(0)
    block = rng.normal(size=(30, 4))
    f = np.vstack([block, block, block])  # three classes with identical samples
    y = np.repeat([0, 1, 2], 30)
    for name in ("gbc", "gbc_spherical"):
        assert ts.score(name, f, y) == pytest.approx(-6.0, rel=1e-12)  # -C (C - 1)
        assert ts.score(name, f + 50.0 * y[:, None], y) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ["gbc", "gbc_spherical"])
def test_gbc_invariances(name):
    f, y = gbc_case_overlap()  # all variances far above the 1e-4 floor
    base = ts.score(name, f, y)
    assert ts.score(name, f + 7.0, y) == pytest.approx(base, rel=1e-10)
    assert ts.score(name, 3.0 * f, y) == pytest.approx(base, rel=1e-10)
    assert ts.score(name, f[:, ::-1], y) == pytest.approx(base, rel=1e-10)


def test_gbc_diagonal_per_dimension_scale_and_spherical_rotation_invariance():
    f, y = gbc_case_overlap()
    scale = np.array([0.5, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert ts.score("gbc", f * scale, y) == pytest.approx(ts.score("gbc", f, y), rel=1e-10)
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(6, 6)))
    assert ts.score("gbc_spherical", f @ q, y) == pytest.approx(ts.score("gbc_spherical", f, y), rel=1e-10)
    # so a full-dimensional PCA (a rotation) leaves the spherical score unchanged
    assert ts.score("gbc_spherical", f, y, pca_dim=6) == pytest.approx(ts.score("gbc_spherical", f, y), rel=1e-10)


def test_gbc_variance_floor_handles_singletons_and_constant_columns():
    f, y = gbc_case_floor()  # class 9 has one sample; column 4 is constant
    value = ts.score("gbc", f, y)
    assert np.isfinite(value)
    assert ts.score("gbc", f, y, min_variance=1e-2) != pytest.approx(value, rel=1e-6)
    two = np.array([[0.0, 1.0], [2.0, 3.0]])  # one sample per class
    d2 = np.sum((two[0] - two[1]) ** 2)
    assert ts.score("gbc", two, [0, 1]) == pytest.approx(-2 * np.exp(-d2 / 8 / 1e-4), abs=1e-300)
    assert ts.score("gbc", two, [0, 1], min_variance=4.0) == pytest.approx(-2 * np.exp(-d2 / 32), rel=1e-12)


def test_gbc_string_labels_equal_integer_labels():
    f, y = gbc_case_overlap()
    names = np.array(["ant", "bee", "cat", "dog"])[y]
    assert ts.score("gbc", f, names) == pytest.approx(ts.score("gbc", f, y), rel=1e-12)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"covariance": "full"}, "covariance must be one of"),
        ({"pca_dim": 0}, "pca_dim must be >= 1"),
        ({"pca_dim": 2.5}, "pca_dim must be an integer"),
        ({"min_variance": 0.0}, "min_variance must be a finite number > 0"),
        ({"min_variance": float("nan")}, "min_variance must be a finite number > 0"),
        ({"min_variance": "small"}, "min_variance must be a positive number"),
    ],
)
def test_gbc_bad_options(options, match):
    f, y = gbc_case_overlap()
    with pytest.raises(InputError, match=match):
        ts.score("gbc", f, y, **options)


def test_gbc_spherical_takes_no_covariance_option():
    f, y = gbc_case_overlap()
    with pytest.raises(InputError, match="does not take option"):
        ts.score("gbc_spherical", f, y, covariance="diagonal")
