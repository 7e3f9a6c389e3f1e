"""TMI: golden values from the reference implementation, closed forms, invariances.

Golden values were computed by running the reference code in /tmp (never copied here):
snudatalab/TMI @ 72e57479b82c05f8bfa75f501a015239077fb890,
``src/trf_measurement.py::TMI(x, y, k, norm="max", min_dist)`` with scipy 1.17.1, unmodified.

The reference returns ``mean_c((N_c / N) H(F_c))`` over ``max(label) + 1`` classes;
``tmi`` returns the paper's ``H(F | Y) = sum_c (N_c / N) H(F_c)``, so with contiguous
labels and every class larger than ``k`` the two differ by the factor ``C``. For labels
{0, 5} (case c) the reference divides by 6 instead of 2.

Inputs are built by the ``case_*`` functions below (numpy default_rng seeds 10-14).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import digamma

import transferscope as ts
from tests.transfer_cases import case_a, case_b, case_c, case_d, case_e
from transferscope.errors import InputError
from transferscope.metrics.transferability.tmi import tmi

CASES = {"a": case_a, "b": case_b, "c": case_c, "d": case_d, "e": case_e}
# Reference TMI(x, y, k=k, min_dist=min_dist), keyed by (case, k, min_dist).
REFERENCE = {
    ("a", 3, 1.0): 6.3350779229918865, ("a", 1, 0.1): 6.108674748189931, ("a", 5, 0.5): 6.4521718033554265,
    ("b", 3, 1.0): 50.18037099875792, ("b", 1, 0.1): 48.18688339884812, ("b", 5, 0.5): 51.268795276169044,
    ("d", 3, 1.0): 21.74766432833102, ("d", 1, 0.1): 20.560279803641407, ("d", 5, 0.5): 22.4299550382605,
    ("e", 3, 1.0): 11.556266089017665, ("e", 1, 0.1): 11.175203123092459, ("e", 5, 0.5): 11.771040995578588,
    ("c", 3, 1.0): 2.5390989467521954, ("c", 1, 0.1): 2.476950068507415, ("c", 5, 0.5): 2.5800078267597564,
}


@pytest.mark.parametrize(("key", "k", "min_dist"), sorted(REFERENCE))
def test_tmi_matches_reference_times_its_class_divisor(key, k, min_dist):
    f, y = CASES[key]()
    divisor = int(y.max()) + 1  # the reference averages over max(label) + 1 classes
    assert tmi(f, y, k=k, min_dist=min_dist) == pytest.approx(divisor * REFERENCE[(key, k, min_dist)], rel=1e-9)


def test_tmi_label_gaps_are_remapped():
    f, y05 = case_c()
    assert tmi(f, y05) == pytest.approx(tmi(f, (y05 == 5).astype(int)), rel=1e-12)


def _dense_entropy(x, k, min_dist):
    # Kozachenko-Leonenko with max-norm distances from a dense matrix (no k-d tree).
    dist = np.max(np.abs(x[:, None, :] - x[None, :, :]), axis=2)
    np.fill_diagonal(dist, np.inf)
    rho = np.maximum(np.sort(dist, axis=1)[:, k - 1], min_dist)
    return digamma(len(x)) - digamma(k) + x.shape[1] * np.mean(np.log(2 * rho))


@pytest.mark.parametrize(("k", "min_dist"), [(3, 1.0), (1, 1e-3), (4, 0.2)])
def test_tmi_equals_dense_computation(k, min_dist):
    f, y = case_a()
    expected = sum(np.mean(y == c) * _dense_entropy(f[y == c], k, min_dist) for c in np.unique(y))
    assert tmi(f, y, k=k, min_dist=min_dist) == pytest.approx(expected, rel=1e-12)


def test_tmi_floored_distances_closed_form():
    # Every neighbour distance below min_dist: H(F_c) = psi(N_c) - psi(k) + D log(2 min_dist).
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [10, 20, 30])
    f = 1e-3 * rng.normal(size=(60, 5))
    counts = np.array([10, 20, 30])
    expected = np.sum(counts / 60 * (digamma(counts) - digamma(3) + 5 * np.log(2 * 0.5)))
    assert tmi(f, y, min_dist=0.5) == pytest.approx(expected, rel=1e-12)


def test_tmi_scale_adds_d_log_s_when_no_distance_is_floored():
    f, y = case_d()
    f = 100.0 * f  # all neighbour distances far above min_dist
    assert tmi(3.0 * f, y) == pytest.approx(tmi(f, y) + f.shape[1] * np.log(3.0), rel=1e-12)


def test_tmi_ignores_where_the_classes_sit():
    # Only intra-class spread counts: translating each class leaves TMI unchanged, so TMI
    # does not reward class separation (see the registry test notes).
    f, y = case_a()
    moved = f + 10.0 * np.random.default_rng(1).normal(size=(4, f.shape[1]))[y]
    assert tmi(moved, y) == pytest.approx(tmi(f, y), rel=1e-9)


def test_tmi_grows_with_intra_class_spread():
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 100)
    noise = rng.normal(size=(200, 4))
    assert tmi(1.5 * noise, y) < tmi(3.0 * noise, y) < tmi(6.0 * noise, y)


def test_tmi_invariances():
    f, y = case_e()
    base = tmi(f, y)
    perm = np.random.default_rng(0).permutation(len(y))
    assert tmi(f[perm], y[perm]) == pytest.approx(base, rel=1e-12)
    assert tmi(f + 7.0, y) == pytest.approx(base, rel=1e-12)
    assert tmi(f, np.array(list("abcdefghij"))[y]) == pytest.approx(base, rel=1e-12)


def test_tmi_leaves_out_small_classes_with_warning():
    f, y = case_a()
    y = y.copy()
    y[:2] = 9  # a class of two samples, at most k = 3
    keep = y != 9
    with pytest.warns(RuntimeWarning, match="leaves out 1 class"):
        value = tmi(f, y)
    # The remaining classes keep their weights N_c / N with the full N.
    assert value == pytest.approx(tmi(f[keep], y[keep]) * keep.mean(), rel=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: (rng.normal(size=(12, 40)), np.arange(12) % 2),
        lambda rng: (np.ones((20, 3)), np.arange(20) % 2),
        lambda rng: (np.repeat(rng.normal(size=(10, 3)), 3, axis=0), np.repeat(np.arange(10) % 2, 3)),
    ],
    ids=["n<d", "constant-features", "duplicated-rows"],
)
def test_tmi_edge_cases_are_finite_without_warning(make):
    f, y = make(np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(tmi(f, y))


def test_tmi_all_classes_too_small_gives_zero():
    with pytest.warns(RuntimeWarning, match="leaves out"):
        assert ts.score("tmi", np.random.default_rng(0).normal(size=(8, 3)), [0, 1, 2, 3, 4, 5, 6, 6]) == 0.0


@pytest.mark.parametrize(
    ("options", "match"),
    [({"k": 0}, "k must be >= 1"), ({"min_dist": 0.0}, "min_dist must be a positive"),
     ({"min_dist": np.nan}, "min_dist must be a positive"), ({"min_dist": "1"}, "min_dist")],
)
def test_tmi_rejects_bad_options(options, match):
    f, y = case_a()
    with pytest.raises(InputError, match=match):
        tmi(f, y, **options)


@pytest.mark.parametrize(
    ("n", "d", "block_bytes"),
    [(3000, 2, None), (2500, 6, None), (300, 40, None), (300, 40, 8 * 300 * 7), (50, 512, 1)],
    ids=["tree", "tree-d6", "pdist", "cdist-blocks", "cdist-one-row-blocks"],
)
def test_tmi_neighbour_search_paths_agree_to_the_bit(monkeypatch, n, d, block_bytes):
    # The k-d tree (low dimension), pdist (small classes) and blocked cdist (large
    # classes) give the same k-th max-norm distances as a dense sort, exactly; ties and
    # duplicated rows included.
    from scipy.spatial.distance import cdist

    from transferscope.metrics.transferability import tmi as tmi_module

    if block_bytes is not None:
        monkeypatch.setattr(tmi_module, "_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(n + d)
    x = np.round(rng.normal(size=(n, d)) * np.exp(rng.normal(size=d)), 1)
    x[: n // 10] = x[n // 10 : 2 * (n // 10)]
    for k in (1, 3, 7):
        expected = np.sort(cdist(x, x, "chebyshev"), axis=1)[:, k]
        np.testing.assert_array_equal(tmi_module._kth_max_norm_distance(x, k), expected)
