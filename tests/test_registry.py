"""Properties checked over the whole transferability registry, in both directions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics import list_metrics

ESTIMATORS = list_metrics("transferability")
NAMES = [m.name for m in ESTIMATORS]


def _data(seed: int, n: int = 90, d: int = 6, c: int = 3, shift: float = 2.0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    return rng.normal(size=(n, d)) + shift * np.eye(c, d)[y], y


def test_registry_lists_first_estimators():
    assert {"logme", "hscore", "knn"} <= set(NAMES)
    for row in ts.list_metrics("transferability"):
        assert row["citation"] and row["summary"] and row["task_types"]


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
@given(seed=st.integers(0, 2**16))
@settings(max_examples=10, deadline=None)
def test_invariant_to_sample_order(info, seed):
    f, y = _data(seed)
    perm = np.random.default_rng(seed + 1).permutation(len(y))
    assert ts.score(info.name, f[perm], y[perm]) == pytest.approx(ts.score(info.name, f, y), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
@given(seed=st.integers(0, 2**16), mapping=st.permutations(["x", "y", "z"]))
@settings(max_examples=10, deadline=None)
def test_invariant_to_label_renaming(info, seed, mapping):
    f, y = _data(seed)
    renamed = np.array(mapping)[y]
    assert ts.score(info.name, f, renamed) == pytest.approx(ts.score(info.name, f, y), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
def test_deterministic_and_does_not_mutate(info):
    f, y = _data(3)
    f0, y0 = f.copy(), y.copy()
    assert ts.score(info.name, f, y) == ts.score(info.name, f, y)
    np.testing.assert_array_equal(f, f0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
def test_separates_informative_from_random_features(info):
    good, y = _data(5, n=150, shift=3.0)
    noise = np.random.default_rng(6).normal(size=good.shape)
    assert info.higher_is_better
    assert ts.score(info.name, good, y) > ts.score(info.name, noise, y)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
def test_float32_input_gives_float(info):
    f, y = _data(2)
    assert isinstance(ts.score(info.name, f.astype(np.float32), y), float)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_declared_task_types_hold_both_ways(info, task):
    f, y = _data(4)
    target = y if task == "classification" else f[:, 0] * 0.5 + np.random.default_rng(0).normal(size=len(y))
    if task in info.task_types:
        opts = {"task": task} if task == "regression" else {}
        assert np.isfinite(ts.score(info.name, f, target, **opts))
    else:
        with pytest.raises((InputError, TypeError)):
            ts.score(info.name, f, target, task=task)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
@pytest.mark.parametrize(
    ("features", "labels", "match"),
    [
        (np.ones((5, 2)), [0, 1, 0], "3 entries but features has 5 rows"),
        (np.array([[0.0, np.nan], [1, 1], [2, 2], [3, 3]]), [0, 1, 0, 1], "NaN or inf"),
        (np.array([[0.0, np.inf], [1, 1], [2, 2], [3, 3]]), [0, 1, 0, 1], "NaN or inf"),
        (np.ones((4, 2)), [1, 1, 1, 1], "at least 2"),
        (np.ones(4), [0, 1, 0, 1], "2-D"),
        ([["a", "b"], ["c", "d"]], [0, 1], "numeric"),
        (np.ones((0, 3)), [], "empty"),
    ],
)
def test_bad_input_names_the_problem(info, features, labels, match):
    with pytest.raises(InputError, match=match):
        ts.score(info.name, features, labels)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
def test_edge_cases_give_finite_numbers(info):
    rng = np.random.default_rng(0)
    cases = {
        "n<d": (rng.normal(size=(12, 40)), np.arange(12) % 2),
        "one sample per class (+1)": (rng.normal(size=(8, 3)), np.array([0, 1, 2, 3, 4, 5, 6, 6])),
        "two classes": (rng.normal(size=(30, 3)), np.arange(30) % 2),
        "constant features": (np.ones((20, 3)), np.arange(20) % 2),
        "duplicated rows": (np.repeat(rng.normal(size=(10, 3)), 3, axis=0), np.repeat(np.arange(10) % 2, 3)),
    }
    for name, (f, y) in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            k_opt = {"k": 1} if info.name == "knn" else {}
            assert np.isfinite(ts.score(info.name, f, y, **k_opt)), name


def test_unknown_metric_and_option():
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        ts.score("nope", np.ones((4, 2)), [0, 1, 0, 1])
    with pytest.raises(InputError, match="does not take option"):
        ts.score("logme", np.eye(4), [0, 1, 0, 1], k=3)


def test_rank_correlation_methods():
    s, t = [0.1, 0.4, 0.3, 0.9], [1.0, 2.0, 3.0, 4.0]
    assert ts.rank_correlation(s, t, method="kendall") == pytest.approx(2 / 3)
    assert ts.rank_correlation(s, t, method="regret@1") == 0.0
    assert ts.rank_correlation(s, t, method="regret@1") <= ts.rank_correlation([1, 0, 0, 0], t, method="regret@1")
    from scipy.stats import weightedtau

    assert ts.rank_correlation(s, t) == pytest.approx(weightedtau(s, t).statistic)
    with pytest.raises(InputError):
        ts.rank_correlation([1, 2], [1, 2, 3])
