"""Dataset distances for source selection (issue 14): the sanity checks published tools fail."""

from __future__ import annotations

import numpy as np
import pytest

from transferscope.errors import InputError
from transferscope.metrics.dataset_distance import bures_wasserstein2, frechet_distance, mmd, otdd

pytest.importorskip("ot", reason="OTDD needs POT (the sources extra)")


def _labelled(seed=0, n=240, dim=6, classes=3, spread=3.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    return spread * rng.normal(size=(classes, dim))[y] + rng.normal(size=(n, dim)), y


@pytest.mark.parametrize("method", ["gaussian", "exact"])
def test_otdd_sanity_self_symmetry_shuffled_far_subsample_near(method):
    rng = np.random.default_rng(0)
    centres = 3.0 * rng.normal(size=(3, 6))

    def draw(seed, n=240):
        r = np.random.default_rng(seed)
        y = r.integers(0, 3, n)
        return centres[y] + r.normal(size=(n, 6)), y

    x, y = draw(1)
    fresh_x, fresh_y = draw(2)  # another sample of the same labelled distribution: the scale of "near"
    assert otdd(x, y, x, y, labels=method) < 1e-6
    fresh = otdd(x, y, fresh_x, fresh_y, labels=method)
    assert fresh == pytest.approx(otdd(fresh_x, fresh_y, x, y, labels=method), rel=1e-6)
    sub = np.random.default_rng(6).choice(len(y), 120, replace=False)
    assert otdd(x, y, x[sub], y[sub], labels=method) < fresh  # half of the data is nearer than a new sample
    shuffled = np.random.default_rng(5).permutation(y)
    assert otdd(x, y, x, shuffled, labels=method) > 2 * fresh  # same inputs, scrambled labels: far
    assert otdd(x, y, x, (y + 1) % 3, labels=method) < 1e-6  # renaming the classes changes nothing


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_mmd_self_zero_symmetric_and_subsample_near(kernel):
    x, _ = _labelled()
    other, _ = _labelled(seed=3)
    assert mmd(x, x, kernel=kernel) == 0.0
    assert mmd(x, other, kernel=kernel) == pytest.approx(mmd(other, x, kernel=kernel), rel=1e-9)
    assert mmd(x, x[:120], kernel=kernel) < mmd(x, other, kernel=kernel)


def test_closed_forms():
    x, _ = _labelled()
    shift = np.arange(6.0)
    assert mmd(x, x + shift) == pytest.approx(np.linalg.norm(shift))
    assert frechet_distance(x, x + shift) == pytest.approx(float(shift @ shift), abs=1e-8)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)
    # two centred Gaussians with commuting covariances: sum of (sqrt(a) - sqrt(b))^2
    a, b = np.diag([1.0, 4.0]), np.diag([9.0, 1.0])
    assert bures_wasserstein2(np.zeros(2), a, np.zeros(2), b) == pytest.approx((1 - 3) ** 2 + (2 - 1) ** 2)


def test_bad_input_names_the_argument():
    x, y = _labelled()
    with pytest.raises(InputError, match="a has 6 dimensions but b has 3"):
        mmd(x, x[:, :3])
    with pytest.raises(InputError, match="labels_b must hold one label per row"):
        otdd(x, y, x, y[:5])
    with pytest.raises(InputError, match="kernel"):
        mmd(x, x, kernel="laplace")
    with pytest.raises(InputError, match="bandwidth"):
        mmd(x, x, kernel="rbf", bandwidth=-1.0)


def test_exact_emd2_refuses_a_transport_that_stopped_short(monkeypatch):
    import ot

    from transferscope.metrics.dataset_distance import exact_emd2

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    cost = ot.dist(x, x[::-1])
    assert exact_emd2(cost) == pytest.approx(0.0, abs=1e-12)  # the same points: the optimal plan costs nothing
    # POT stops at numItermax with a feasible, non-optimal plan and only a UserWarning; the limit is raised
    # with the problem's size, and a solver that still stops short is refused, never returned
    seen = {}

    def stopped_short(a, b, m, numItermax, log):
        seen["limit"] = numItermax
        return 1.0, {"warning": "numItermax reached before optimality. Try to increase numItermax."}

    monkeypatch.setattr(ot, "emd2", stopped_short)
    with pytest.raises(InputError, match="did not reach optimality"):
        exact_emd2(cost)
    assert seen["limit"] >= 100 * 60 * 60
