"""NCE: golden values from the reference implementation, closed forms, properties.

Golden values were computed by running the reference code in /tmp (never copied here), numpy 2.4.6:
thuml/Transfer-Learning-Library @ c4aa59eb565650a552b809411601d0589efbbfe4,
``tllib/ranking/nce.py::negative_conditional_entropy(source_labels, target_labels)``, unchanged,
with ``source_labels = source_probs.argmax(axis=1)`` (the reference takes hard source labels; the
estimator here takes the source probabilities and takes the argmax itself). The reference adds
1e-20 inside the log and sizes its tables with ``labels.max() + 1``; both change nothing beyond
~1e-18 (empty classes get zero weight), so it is correct, label gaps included. Inputs are built by
the ``case_*`` functions below (the same as in tests/test_leep.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transferscope as ts
from tests.transfer_cases import case_gaps, case_soft, case_zero_column, softmax
from transferscope.errors import InputError
from transferscope.metrics.transferability.nce import nce

TLLIB_NCE = {"soft": -0.29752605264171444, "gaps": -0.44184862409178705, "zero_column": -0.3374432141775414}


def entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log(p)))


@pytest.mark.parametrize("case", [case_soft, case_gaps, case_zero_column], ids=lambda c: c.__name__)
def test_nce_matches_tllib(case):
    f, y, p = case()
    key = case.__name__.removeprefix("case_")
    assert ts.score("nce", f, y, source_probs=p) == pytest.approx(TLLIB_NCE[key], rel=1e-6)


def test_nce_hand_computed():
    # z = argmax = [0, 0, 0, 1, 1, 2]; y = [a, a, b, b, b, a]:
    # H(Y|Z) = P(z=0) H(2/3, 1/3) + P(z=1) * 0 + P(z=2) * 0.
    probs = np.eye(3)[[0, 0, 0, 1, 1, 2]] * 0.7 + 0.1
    y = ["a", "a", "b", "b", "b", "a"]
    expected = -0.5 * -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))
    assert nce(np.zeros((6, 1)), y, source_probs=probs) == pytest.approx(expected, rel=1e-12)


@given(seed=st.integers(0, 2**16), n_source=st.integers(2, 12), n_classes=st.integers(2, 5))
@settings(max_examples=30, deadline=None)
def test_nce_bounds_and_chain_rule(seed, n_source, n_classes):
    rng = np.random.default_rng(seed)
    n = 50
    y = np.r_[np.arange(n_classes), rng.integers(0, n_classes, n - n_classes)]
    p = softmax(3.0 * rng.normal(size=(n, n_source)))
    value = nce(np.zeros((n, 1)), y, source_probs=p)
    # -H(Y) <= -H(Y|Z) <= 0, and H(Y|Z) = H(Y, Z) - H(Z).
    assert -entropy(np.bincount(y)) - 1e-12 <= value <= 0.0
    z = p.argmax(axis=1)
    joint = np.bincount(y * n_source + z)
    assert value == pytest.approx(entropy(np.bincount(z)) - entropy(joint), rel=1e-10, abs=1e-12)


def test_nce_is_zero_when_target_is_a_function_of_the_source_argmax():
    rng = np.random.default_rng(0)
    p = softmax(2.0 * rng.normal(size=(100, 7)))
    z = p.argmax(axis=1)
    y = np.array(["x", "y", "x", "z", "y", "x", "z"])[z]  # many-to-one map of z
    assert nce(np.zeros((100, 1)), y, source_probs=p) == 0.0


def test_nce_label_gaps_and_source_relabelling():
    f, y05, p = case_gaps()
    y01 = (y05 == 5).astype(int)
    assert nce(f, y05, source_probs=p) == pytest.approx(nce(f, y01, source_probs=p), rel=1e-12)
    perm = np.random.default_rng(1).permutation(p.shape[1])
    assert nce(f, y05, source_probs=p[:, perm]) == pytest.approx(nce(f, y05, source_probs=p), rel=1e-12)
    # Source classes never predicted change nothing.
    padded = np.c_[p, np.zeros((p.shape[0], 50))]
    assert nce(f, y05, source_probs=padded) == pytest.approx(nce(f, y05, source_probs=p), rel=1e-12)


def test_nce_ties_go_to_the_lowest_source_index():
    probs = np.array([[0.5, 0.5], [0.5, 0.5], [0.2, 0.8], [0.2, 0.8]])
    assert nce(np.zeros((4, 1)), [0, 0, 1, 1], source_probs=probs) == 0.0  # z = [0, 0, 1, 1]


def test_nce_ignores_features_but_validates_them():
    f, y, p = case_soft()
    assert nce(np.zeros((300, 1)), y, source_probs=p) == nce(f, y, source_probs=p)
    bad = f.copy()
    bad[4, 2] = np.inf
    with pytest.raises(InputError, match="features contains NaN or inf"):
        nce(bad, y, source_probs=p)


@pytest.mark.parametrize("name", ["nce"])
def test_source_probs_errors(name):
    f, y, p = case_soft()
    with pytest.raises(InputError, match="source_probs is required"):
        ts.score(name, f, y, source_probs=None)
    with pytest.raises(InputError, match="labels has 299 entries but features has 300 rows"):
        ts.score(name, f, y[:-1], source_probs=p[:-1])  # the label mismatch is reported first
    with pytest.raises(InputError, match="source_probs has 299 rows but features has 300 rows"):
        ts.score(name, f, y, source_probs=p[:-1])
    with pytest.raises(InputError, match="apply a softmax"):
        ts.score(name, f, y, source_probs=np.log(p))
    with pytest.raises(InputError, match="at least 2 source classes"):
        ts.score(name, f, y, source_probs=np.ones((300, 1)))
    with pytest.raises(InputError, match="does not take option"):
        ts.score(name, f, y, source_probs=p, seed=0)


def test_registry_declaration():
    info = ts.get_metric("nce")
    assert info.needs_source_probs and info.higher_is_better and not info.uses_seed
