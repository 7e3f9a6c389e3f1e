"""H-score: golden values from tllib and the N <= D saturation.

Golden values: thuml/Transfer-Learning-Library @ c4aa59eb565650a552b809411601d0589efbbfe4,
``tllib/ranking/hscore.py::h_score`` run in /tmp on the inputs of ``test_logme.case_*``.
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from tests.test_logme import case_a, case_c, case_d


def test_hscore_matches_tllib():
    f, y = case_a()
    assert ts.score("hscore", f, y) == pytest.approx(1.366806762015439, rel=1e-9)


def test_hscore_label_gap_matches_tllib():
    f, y = case_d()
    assert ts.score("hscore", f, y) == pytest.approx(0.695636411146319, rel=1e-9)


def test_hscore_saturates_and_warns_when_n_not_above_d():
    f, y = case_c()  # N = 40, D = 100, C = 3: tllib also returns exactly C - 1 = 2
    with pytest.warns(RuntimeWarning, match="saturates"):
        value = ts.score("hscore", f, y)
    assert value == pytest.approx(2.0, rel=1e-9)
    rng = np.random.default_rng(0)
    with pytest.warns(RuntimeWarning):
        random_value = ts.score("hscore", rng.normal(size=(40, 100)), y)
    assert random_value == pytest.approx(2.0, rel=1e-9)  # random features: same score


def test_hscore_bounded_by_c_minus_one():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 500)
    f = rng.normal(size=(500, 8)) + 10 * np.eye(5, 8)[y]
    assert 0 <= ts.score("hscore", f, y) <= 4 + 1e-9
