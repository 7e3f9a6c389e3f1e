"""Curvature of a trajectory (Hénaff, Goris & Simoncelli 2019).

No packaged reference implementation computes Hénaff et al.'s curvature (the "curvature" of
Skean et al.'s information_flow repository is the angle between consecutive *states*, not
steps), so the tests use closed forms: a straight line has curvature 0, a regular n-gon
traversed in order turns by the exterior angle 360/n at every vertex, a back-and-forth path
by 180 degrees, and the steps between independent Gaussian points in high dimension meet at
120 degrees (consecutive steps x2 - x1 and x3 - x2 share x2, so their cosine tends to -1/2).
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.geometry.curvature import curvature


def _polygon(n: int, laps: int = 1, dim: int = 5, seed: int = 0) -> np.ndarray:
    """Vertices of a regular n-gon in a random plane of R^dim, traversed ``laps`` times."""
    angles = 2 * np.pi * np.arange(n * laps + 1) / n
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, 2)))
    return np.c_[np.cos(angles), np.sin(angles)] @ Q.T * 3.0 + 1.0


def test_straight_line_has_zero_curvature():
    rng = np.random.default_rng(0)
    direction = rng.normal(size=20)
    positions = np.cumsum(rng.uniform(0.1, 2.0, size=50))  # uneven spacing
    X = positions[:, None] * direction + rng.normal(size=20)
    assert curvature(X) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("n", [3, 4, 6, 12])
def test_regular_polygon_turns_by_the_exterior_angle(n):
    assert curvature(_polygon(n, laps=2)) == pytest.approx(360.0 / n, rel=1e-10)
    assert curvature(_polygon(n), degrees=False) == pytest.approx(2 * np.pi / n, rel=1e-10)


def test_back_and_forth_is_180_degrees():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0]])
    assert curvature(X) == pytest.approx(180.0)


def test_independent_points_in_high_dimension_turn_by_120_degrees():
    X = np.random.default_rng(0).normal(size=(400, 2000))
    assert curvature(X) == pytest.approx(120.0, abs=1.0)


def test_repeated_rows_are_dropped_steps():
    X = _polygon(6)
    repeated = np.repeat(X, [1, 3, 1, 2, 1, 1, 1], axis=0)
    assert curvature(repeated) == pytest.approx(curvature(X), rel=1e-12)


def test_order_matters_and_orthogonal_maps_do_not():
    X = np.random.default_rng(1).normal(size=(50, 6))
    perm = np.random.default_rng(2).permutation(50)
    assert curvature(X[perm]) != pytest.approx(curvature(X), rel=1e-6)
    Q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(6, 6)))
    assert curvature(X @ Q * 4.0 + 2.0) == pytest.approx(curvature(X), rel=1e-10)


def test_registry_float32_and_no_mutation():
    X = _polygon(8).astype(np.float32)
    before = X.copy()
    assert ts.geometry("curvature", X) == pytest.approx(45.0, rel=1e-5)
    np.testing.assert_array_equal(X, before)


def test_too_few_steps():
    with pytest.raises(InputError, match="at least 2 non-zero steps"):
        curvature(np.array([[0.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(InputError, match="at least 2 non-zero steps"):
        curvature(np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]))
