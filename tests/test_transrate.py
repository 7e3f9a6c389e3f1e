"""TransRate: golden values from tllib, the dense formula, and invariances.

Golden values: thuml/Transfer-Learning-Library @ c4aa59eb565650a552b809411601d0589efbbfe4,
``tllib/ranking/transrate.py::transrate`` (the authors' released code, ``eps = 1e-4``),
run unchanged in /tmp (numpy 2.4.6) on ``case_a``, ``case_c`` and ``case_d`` of
tests/test_logme.py. It computes every log-determinant on the D x D matrix; we agree with
it to ~1e-13 in both regimes (N > D and N < D).
Where it is wrong: with labels {0, 5} it loops over ``range(6)`` and the empty classes
raise ZeroDivisionError (and would in any case be counted in the 1/C average); we remap
labels, so case_d gives tllib's value for the same partition labelled {0, 1}.
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from tests.test_logme import case_a, case_c, case_d
from transferscope.errors import InputError

TLLIB = {"a": 5.856158576481278, "c": 118.62051733839571, "d01": 0.5978401975836078,
         "a_eps1e-2": 5.580614718443343, "c_eps1": 8.698064536300699}


@pytest.mark.parametrize(("case", "key"), [(case_a, "a"), (case_c, "c")])
def test_transrate_matches_tllib(case, key):
    f, y = case()
    assert ts.score("transrate", f, y) == pytest.approx(TLLIB[key], rel=1e-9)


@pytest.mark.parametrize(("case", "eps", "key"), [(case_a, 1e-2, "a_eps1e-2"), (case_c, 1.0, "c_eps1")])
def test_transrate_eps_option_matches_tllib(case, eps, key):
    f, y = case()
    assert ts.score("transrate", f, y, eps=eps) == pytest.approx(TLLIB[key], rel=1e-9)


def test_transrate_label_gaps_are_remapped():
    f, y05 = case_d()
    value = ts.score("transrate", f, y05)
    assert value == pytest.approx(TLLIB["d01"], rel=1e-9)
    assert value == ts.score("transrate", f, (y05 == 5).astype(int))


def _dense_transrate(f, y, eps=1e-4):
    def rate(z):
        n, d = z.shape
        return 0.5 * np.linalg.slogdet(np.eye(d) + z.T @ z / (n * eps))[1]

    z = f - f.mean(axis=0)
    return rate(z) - np.mean([rate(z[y == c]) for c in np.unique(y)])


@pytest.mark.parametrize("case", [case_a, case_c, case_d])
def test_transrate_equals_dense_d_by_d_formula(case):
    f, y = case()
    assert ts.score("transrate", f, y) == pytest.approx(_dense_transrate(f, y), rel=1e-9)


def test_transrate_invariant_to_shift_and_rotation_not_scale():
    f, y = case_a()
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(32, 32)))
    base = ts.score("transrate", f, y)
    assert ts.score("transrate", f @ q + 4.0, y) == pytest.approx(base, rel=1e-9)
    # Nearly scale-free while the variances dwarf eps, not once they approach it.
    assert ts.score("transrate", 10.0 * f, y) == pytest.approx(base, rel=1e-3)
    assert ts.score("transrate", 0.01 * f, y) < 0.2 * base


def test_transrate_class_collapsed_on_its_mean():
    # Every sample sits on its class mean: each class coding rate is that of one repeated
    # row z_c (centred globally, not per class), 1/2 log(1 + |z_c|^2 / eps).
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 20)
    f = rng.normal(size=(3, 5))[y]
    z = f - f.mean(axis=0)
    whole = 0.5 * np.linalg.slogdet(np.eye(5) + z.T @ z / (60 * 1e-4))[1]
    within = np.mean([0.5 * np.log1p(z[20 * c] @ z[20 * c] / 1e-4) for c in range(3)])
    assert ts.score("transrate", f, y) == pytest.approx(whole - within, rel=1e-9)


def test_transrate_separates_and_handles_edge_cases():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 40)
    f = rng.normal(size=(40, 100)) + 3.0 * np.eye(3, 100)[y]  # N < D
    noise = rng.normal(size=f.shape)
    assert ts.score("transrate", f, y) > ts.score("transrate", noise, y)
    assert ts.score("transrate", np.ones((20, 3)), np.arange(20) % 2) == 0.0
    singles = np.random.default_rng(3).normal(size=(8, 3))
    assert np.isfinite(ts.score("transrate", singles, [0, 1, 2, 3, 4, 5, 6, 6]))


@pytest.mark.parametrize(("eps", "match"), [(0.0, "finite number > 0"), (-1.0, "finite number > 0"),
                                            (float("inf"), "finite number > 0"), ("tiny", "positive number"),
                                            (True, "positive number")])
def test_transrate_rejects_bad_eps(eps, match):
    f, y = case_a()
    with pytest.raises(InputError, match=f"eps must be a {match}"):
        ts.score("transrate", f, y, eps=eps)
