"""PARC: golden values from the reference implementation, a dense recomputation, edge cases.

Golden values were computed by running the reference code in /tmp (never copied here):
dbolya/parc @ ddfca43a84d35328897d107d6f86e860b11801ce, ``methods.py::PARC(n_dims)``
called as ``PARC(n_dims)(features, None, labels, ...)`` (its ``constants`` module stubbed
with the number of classes), with numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1.
The reference reduces with ``PCA(svd_solver="randomized", random_state=1919,
iterated_power=1)``, so ``parc`` is called with ``seed=1919`` and ``max_samples=None``;
it returns 100 x the Spearman correlation, ``parc`` the correlation itself.

One change was needed to compare to 1e-6: the reference's label distances
``1 - np.corrcoef(one_hot)`` carry rounding noise (same-class pairs come out as 0,
1.1e-16 or 2.2e-16), so Spearman's ranks split the ties between them arbitrarily. The
golden values come from a /tmp copy with ``rdm2 = np.round(1 - np.corrcoef(labels2), 12)``
(nothing else changed); the unmodified values are in ``REFERENCE_UNROUNDED`` and differ
by up to 5%. For case a (``D = 16 < n_dims = 32``) the reference raises
(``n_components=32 must be between 1 and min(n_samples, n_features)=16``).

Inputs are built by the ``case_*`` functions below (numpy default_rng seeds 10-14).

``variant="dbolya"`` (the reference's own convention: 100 x Spearman, its PCA and
``StandardScaler``): golden values ``REFERENCE_DBOLYA`` from the same reference commit,
called the same way, with the same library versions. For case ``few`` (N = 20 <= n_dims)
they come from the *unmodified* code: its label distances come out two-valued there
(1.1e-16 within a class, 2 across) under every OpenBLAS kernel tried. For the other
cases they come from the copy with the label distances rounded to 12 decimals (above);
that copy gives bit-identical values under ``OPENBLAS_CORETYPE=Haswell``, ``SkylakeX``
and ``Prescott``, while the unmodified code does not: for case f (n_dims = 32) it gives
3.036468033050742 (Haswell, SkylakeX) or 3.4982523111692627 (Prescott), and for case b
4.718958155279729 (Haswell), 4.801183650158442 (SkylakeX; ``REFERENCE_UNROUNDED``) or
4.67105006512743 (Prescott, where its within-class label distances are all 2.2e-16).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import transferscope as ts
from tests.transfer_cases import case_a, case_b, case_d, case_e, case_f, case_few
from transferscope.errors import InputError
from transferscope.metrics.transferability.parc import _spearman_with_indicator, parc

CASES = {"a": case_a, "b": case_b, "d": case_d, "e": case_e, "f": case_f, "few": case_few}
# 100 x Spearman, reference with the label distances rounded to 12 decimals.
REFERENCE = {
    ("a", 8): 20.982830355325362,
    ("b", 32): 4.67105006512743, ("b", 8): 3.899601500746488,
    ("d", 32): 4.466710194442531, ("d", 8): 2.098531694896092,
    ("e", 32): 1.6358364928354523, ("e", 8): 0.5086735480075556,
}
REFERENCE_UNROUNDED = {
    ("b", 32): 4.801183650158442, ("b", 8): 4.053107281934521,
    ("d", 32): 4.56289859959221, ("d", 8): 2.134021236107386,
    ("e", 32): 1.632942111596497, ("e", 8): 0.48677082885931966,
}


@pytest.mark.parametrize(("key", "n_dims"), sorted(REFERENCE))
def test_parc_matches_reference(key, n_dims):
    f, y = CASES[key]()
    value = parc(f, y, n_dims=n_dims, seed=1919, max_samples=None)
    assert 100 * value == pytest.approx(REFERENCE[(key, n_dims)], rel=1e-6)


@pytest.mark.parametrize("key", ["b", "d"])
def test_parc_unrounded_reference_breaks_label_ties_by_rounding_noise(key):
    f, y = CASES[key]()
    value = 100 * parc(f, y, seed=1919, max_samples=None)
    assert value != pytest.approx(REFERENCE_UNROUNDED[(key, 32)], rel=1e-3)


def test_parc_equals_dense_spearman_of_distance_matrices():
    # Independent route: full N x N matrices from scipy's pdist and scipy.stats.spearmanr,
    # on the same PCA reduction (exact PCA: the features have 5 dimensions, kept whole).
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 80)
    f = rng.normal(size=(80, 5)) + np.eye(3, 5)[y]
    z = PCA(n_components=5, svd_solver="full").fit_transform(f)
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    feature_dist = pdist(z, "correlation")
    label_dist = np.round(pdist(np.eye(3)[y], "correlation"), 12)
    expected = spearmanr(feature_dist, label_dist).statistic
    assert parc(f, y) == pytest.approx(expected, rel=1e-9)


def test_parc_fewer_dimensions_than_n_dims_uses_them_all():
    f, y = case_a()  # D = 16: the reference raises for n_dims = 32
    assert parc(f, y) == pytest.approx(parc(f, y, n_dims=16), rel=1e-12)


def test_parc_drops_the_empty_component_when_n_is_at_most_n_dims():
    # 20 samples: the centred data has rank 19. The reference (rounded labels) keeps a zero
    # 20th component, which shifts every row's mean: 5.092929407707469 for n_dims=32, while
    # with n_dims=19 it gives 5.112148009245988, the score without that column.
    rng = np.random.default_rng(0)
    y = np.arange(20) % 2
    f = rng.normal(size=(20, 100)) + 1.0 * np.eye(2, 100)[y]
    value = 100 * parc(f, y, seed=1919)
    assert value == pytest.approx(5.112148009245988, rel=1e-6)
    assert value != pytest.approx(5.092929407707469, rel=1e-4)


def test_parc_invariances():
    f, y = case_d()
    base = parc(f, y)
    assert parc(3.0 * f - 2.0, y) == pytest.approx(base, rel=1e-9)  # PCA + standardisation
    names = np.array(list("vwxyz"))[y]
    assert parc(f, names) == pytest.approx(base, rel=1e-12)
    perm = np.random.default_rng(0).permutation(len(y))
    assert parc(f[perm], y[perm]) == pytest.approx(base, rel=1e-9)


def test_parc_subsampling_is_seeded():
    f, y = case_e()
    assert parc(f, y, max_samples=400) == parc(f, y, max_samples=None)
    sub = parc(f, y, max_samples=150, seed=4)
    assert sub == parc(f, y, max_samples=150, seed=4)
    assert sub != parc(f, y, max_samples=150, seed=5)
    keep = np.sort(np.random.default_rng(4).choice(400, size=150, replace=False))
    assert sub == pytest.approx(parc(f[keep], y[keep], seed=4, max_samples=None), rel=1e-12)


def test_parc_separates_and_is_a_correlation():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 40)
    noise = rng.normal(size=(120, 10))
    scores = [parc(noise + s * np.eye(3, 10)[y], y) for s in (0.0, 1.0, 4.0)]
    assert -1.0 <= scores[0] < scores[1] < scores[2] <= 1.0


@pytest.mark.parametrize(
    ("features", "labels"),
    [(np.ones((20, 3)), np.arange(20) % 2), (np.random.default_rng(0).normal(size=(6, 4)), np.arange(6))],
    ids=["constant-features", "all-classes-distinct"],
)
def test_parc_undefined_rank_correlation_gives_zero_with_warning(features, labels):
    with pytest.warns(RuntimeWarning, match="undefined"):
        assert parc(features, labels) == 0.0


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: (rng.normal(size=(12, 40)), np.arange(12) % 2),  # N < D and N < n_dims
        lambda rng: (rng.normal(size=(8, 3)), np.array([0, 1, 2, 3, 4, 5, 6, 6])),
        lambda rng: (np.repeat(rng.normal(size=(10, 3)), 3, axis=0), np.repeat(np.arange(10) % 2, 3)),
    ],
    ids=["n<d", "one-per-class", "duplicated-rows"],
)
def test_parc_edge_cases_are_finite_without_warning(make):
    f, y = make(np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = parc(f, y)
    assert -1.0 <= value <= 1.0


@pytest.mark.parametrize(
    ("options", "match"),
    [({"n_dims": 0}, "n_dims must be >= 1"), ({"max_samples": 2}, "max_samples must be >= 3"),
     ({"seed": 1.5}, "seed must be an integer"), ({"max_samples": 10.0}, "max_samples must be an integer")],
)
def test_parc_rejects_bad_options(options, match):
    f, y = case_a()
    with pytest.raises(InputError, match=match):
        parc(f, y, **options)


def test_parc_needs_three_samples():
    with pytest.raises(InputError, match="at least 3 samples"):
        ts.score("parc", np.eye(2), [0, 1])


# variant="dbolya": the reference's 100 x Spearman (see the module docstring for how each
# value was obtained); case a with n_dims = 32 raises in the reference (D = 16 < 32).
REFERENCE_DBOLYA = {
    ("b", 32): 4.67105006512743, ("b", 8): 3.899601500746488,
    ("d", 32): 4.466710194442531, ("d", 8): 2.098531694896092,
    ("e", 32): 1.6358364928354523, ("e", 8): 0.5086735480075556,
    ("f", 32): 4.0112307096853, ("f", 8): 4.015488360134112,
    ("few", 32): 5.092929407707469, ("few", 8): 18.18079705543874,
}


@pytest.mark.parametrize(("key", "n_dims"), sorted(REFERENCE_DBOLYA))
def test_parc_dbolya_variant_reproduces_the_reference(key, n_dims):
    f, y = CASES[key]()
    value = parc(f, y, n_dims=n_dims, variant="dbolya", max_samples=None)
    assert value == pytest.approx(REFERENCE_DBOLYA[(key, n_dims)], rel=1e-12)


def test_parc_dbolya_keeps_the_empty_component_the_default_drops():
    f, y = case_few()
    ours = 100 * parc(f, y, max_samples=None, seed=1919)
    assert ours != pytest.approx(REFERENCE_DBOLYA[("few", 32)], rel=1e-4)
    assert parc(f, y, variant="dbolya") == pytest.approx(REFERENCE_DBOLYA[("few", 32)], rel=1e-12)


def test_parc_dbolya_seed_defaults_to_the_reference_seed():
    f, y = case_d()
    assert parc(f, y, variant="dbolya", max_samples=None) == parc(
        f, y, variant="dbolya", max_samples=None, seed=1919
    )
    assert parc(f, y, variant="dbolya", max_samples=None, seed=0) == pytest.approx(
        100 * parc(f, y, max_samples=None, n_dims=32, seed=0), rel=1e-9
    )


def test_parc_dbolya_rejects_what_the_reference_cannot_reduce():
    f, y = case_a()  # D = 16 < n_dims = 32: the reference's PCA raises
    with pytest.raises(InputError, match="variant='dbolya' reduces to min\\(n_dims, n_samples\\) = 32"):
        parc(f, y, variant="dbolya")
    with pytest.raises(InputError, match="variant must be one of"):
        parc(f, y, variant="reference")


@pytest.mark.parametrize("seed", range(6))
def test_rank_statistic_equals_scipy_spearman_with_many_ties(seed):
    # Integer-valued distances tie heavily; the sort-based statistic must equal
    # scipy's Spearman (average ranks) with the 0/1 indicator.
    from scipy.stats import spearmanr

    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 3000))
    dist = rng.integers(0, int(rng.integers(2, 40)), n).astype(np.float64)
    different = rng.random(n) < rng.uniform(0.05, 0.95)
    expected = spearmanr(dist, different).statistic
    assert _spearman_with_indicator(dist.copy(), different) == pytest.approx(expected, rel=1e-12, abs=1e-15)
