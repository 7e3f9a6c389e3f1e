"""Properties checked over the whole transferability registry, in both directions."""

from __future__ import annotations

import inspect
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


def source_probs_for(features) -> np.ndarray:
    """Deterministic stand-in for a source head: softmax of a fixed projection of the
    features, so rows move with the features under permutation."""
    try:
        f = np.asarray(features, dtype=np.float64)
        with np.errstate(all="ignore"):  # NaN/inf rows are the point of some tests
            logits = f @ np.random.default_rng(123).normal(size=(f.shape[1], 5))
    except (TypeError, ValueError, IndexError):
        return np.full((max(len(features), 1), 2), 0.5)
    if not np.isfinite(logits).all():
        return np.full((f.shape[0], 2), 0.5)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def call(info, features, labels, **options):
    """ts.score with source probabilities supplied where the estimator needs them."""
    if info.needs_source_probs:
        options.setdefault("source_probs", source_probs_for(features))
    for key, value in info.required_options.items():
        options.setdefault(key, value)
    return ts.score(info.name, features, labels, **options)


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
    assert call(info, f[perm], y[perm]) == pytest.approx(call(info, f, y), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
@given(seed=st.integers(0, 2**16), mapping=st.permutations(["x", "y", "z"]))
@settings(max_examples=10, deadline=None)
def test_invariant_to_label_renaming(info, seed, mapping):
    f, y = _data(seed)
    renamed = np.array(mapping)[y]
    assert call(info, f, renamed) == pytest.approx(call(info, f, y), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
def test_deterministic_and_does_not_mutate(info):
    f, y = _data(3)
    f0, y0 = f.copy(), y.copy()
    assert call(info, f, y) == call(info, f, y)
    np.testing.assert_array_equal(f, f0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
def test_separates_informative_from_random_features(info):
    if not info.uses_features:
        pytest.skip(f"{info.name} ignores the features by design")
    if info.ignores_class_separation:
        pytest.skip(f"{info.name} measures within-class spread only; class separation does not move it")
    good, y = _data(5, n=150, shift=3.0)
    noise = np.random.default_rng(6).normal(size=good.shape)
    assert info.higher_is_better
    assert call(info, good, y) > call(info, noise, y)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
def test_float32_input_gives_float(info):
    f, y = _data(2)
    assert isinstance(call(info, f.astype(np.float32), y), float)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
@pytest.mark.parametrize("task", ["classification", "regression", "multilabel"])
def test_declared_task_types_hold_both_ways(info, task):
    f, y = _data(4)
    rng = np.random.default_rng(0)
    target = {
        "classification": y,
        "regression": f[:, 0] * 0.5 + rng.normal(size=len(y)),
        "multilabel": np.c_[y == 0, y == 1, rng.random(len(y)) < 0.5].astype(int),
    }[task]
    takes_task = info.takes_task
    assert takes_task == ("task" in inspect.signature(info.func).parameters)
    opts = {"task": task} if takes_task and task != "classification" else {}
    if task in info.task_types:
        assert np.isfinite(call(info, f, target, **opts))
    else:
        with pytest.raises(InputError):
            call(info, f, target, **({"task": task} if takes_task else {}))


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
        (np.ones((4, 2)) * (1 + 1j), [0, 1, 0, 1], "complex"),  # once its imaginary part was dropped silently
    ],
)
def test_bad_input_names_the_problem(info, features, labels, match):
    if match == "at least 2" and not info.uses_features:
        pytest.skip(f"{info.name} ignores the labels by design")
    with pytest.raises(InputError, match=match):
        call(info, features, labels)


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
            assert np.isfinite(call(info, f, y, **k_opt)), name


def test_unknown_metric_and_option():
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        ts.score("nope", np.ones((4, 2)), [0, 1, 0, 1])
    with pytest.raises(InputError, match="does not take option"):
        ts.score("logme", np.eye(4), [0, 1, 0, 1], k=3)


@pytest.mark.parametrize("info", ESTIMATORS, ids=NAMES)
def test_declared_scale_invariance_holds_both_ways(info):
    # Features times 1e-170 once gave kNN 0.5 and H-score 0, times 1e300 NaN or a LinAlgError: an
    # estimator declared scale-invariant rescales (exactly) and gives its value; every other one
    # refuses extreme magnitudes by name, and its value does change with the scale.
    f, y = _data(0, n=120, d=6)
    options = {"source_probs": source_probs_for(f)} if info.needs_source_probs else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = call(info, f, y, **options)
        moderate = [call(info, f * 2.0**k, y, **options) for k in (-20, 20)]
        if info.scale_invariant:
            for value in moderate:
                assert value == pytest.approx(base, rel=1e-9, abs=1e-12)
            for factor in (1e-170, 1e300):
                assert call(info, f * factor, y, **options) == pytest.approx(base, rel=1e-8, abs=1e-12)
        else:
            assert any(value != pytest.approx(base, rel=1e-6) for value in moderate)
            for factor in (1e-170, 1e300):
                with pytest.raises(InputError, match="rescale them first"):
                    call(info, f * factor, y, **options)


@pytest.mark.parametrize("info", list_metrics("transferability"), ids=lambda i: i.name)
def test_takes_task_declaration_matches_the_function(info):
    """The scorer passes ``task=`` by the declaration (several task types), never by guessing."""
    assert info.takes_task == ("task" in inspect.signature(info.func).parameters)
