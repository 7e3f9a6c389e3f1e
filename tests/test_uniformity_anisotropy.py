"""Uniformity (Wang & Isola 2020), anisotropy (Ethayarajh 2019), contributions, outlier dimensions.

Golden values for ``uniformity``: the authors' ``uniform_loss`` from
github.com/SsnL/align_uniform at commit e256d476ddbe04873dc15a8f893d4443d1f81671
(``align_uniform/__init__.py``: ``torch.pdist(x, p=2).pow(2).mul(-t).exp().mean().log()``),
run once in /tmp with torch 2.13 (CPU, float64) on
``x = F.normalize(torch.from_numpy(X), dim=1)`` for ``X = _offset_gaussian()`` below and
t = 2, 0.5, 5.

Anisotropy has no packaged reference (Ethayarajh samples random pairs); it is tested against
the brute-force mean of the cosine over all pairs ``i != j``, and its per-dimension
contributions (Timkey & van Schijndel 2021) against their definition ``E[u_il u_jl]``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.spatial.distance import pdist
from scipy.special import logsumexp

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.geometry.anisotropy import anisotropy, anisotropy_contributions, outlier_dimensions
from transferscope.metrics.geometry.uniformity import _log_mean_pair_kernel, uniformity


def _offset_gaussian() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(150, 8)) + 0.3


def _sphere_closed_form(dim: int, t: float) -> float:
    """log E exp(-t ||u - v||^2) for u, v uniform on S^(dim-1): ||u - v||^2 = 2 (1 - s),
    with s = <u, v> of density proportional to (1 - s^2)^((dim - 3) / 2) on [-1, 1]."""
    weight = lambda s: (1.0 - s * s) ** ((dim - 3) / 2)  # noqa: E731
    num = quad(lambda s: np.exp(-2.0 * t * (1.0 - s)) * weight(s), -1.0, 1.0)[0]
    return float(np.log(num / quad(weight, -1.0, 1.0)[0]))


@pytest.mark.parametrize(
    ("t", "expected"), [(2.0, -2.861434015443139), (0.5, -0.8747339023414796), (5.0, -5.1780908730995945)]
)
def test_uniformity_golden_wang_isola(t, expected):
    assert uniformity(_offset_gaussian(), t=t) == pytest.approx(expected, rel=1e-12)


def test_sphere_closed_form_matches_elementary_formula_for_s2():
    # on S^2 the inner product is uniform on [-1, 1]: E = (1 - exp(-4t)) / (4t)
    assert _sphere_closed_form(3, 2.0) == pytest.approx(np.log((1 - np.exp(-8.0)) / 8.0), rel=1e-10)


@pytest.mark.parametrize(("dim", "t"), [(2, 2.0), (3, 2.0), (10, 2.0), (64, 2.0), (10, 0.5)])
def test_uniformity_of_uniform_points_on_sphere(dim, t):
    X = np.random.default_rng(dim).normal(size=(3000, dim))  # Gaussian directions are uniform
    assert uniformity(X, t=t) == pytest.approx(_sphere_closed_form(dim, t), abs=5e-3)


def test_uniformity_by_blocks_equals_all_pairs():
    X = _offset_gaussian()
    u = X / np.linalg.norm(X, axis=1, keepdims=True)
    reference = logsumexp(-2.0 * pdist(u, "sqeuclidean")) - np.log(150 * 149 / 2)
    for memory in (150, 1000, 10**6):  # 1 row, 6 rows, all rows per block
        assert _log_mean_pair_kernel(u, 2.0, memory=memory) == pytest.approx(reference, rel=1e-12)


def test_uniformity_does_not_underflow_at_large_t():
    X = _offset_gaussian()
    u = X / np.linalg.norm(X, axis=1, keepdims=True)
    reference = logsumexp(-500.0 * pdist(u, "sqeuclidean")) - np.log(150 * 149 / 2)
    value = uniformity(X, t=500.0)
    assert np.isfinite(value) and value == pytest.approx(reference, rel=1e-12)


def test_uniformity_extremes_and_subsample():
    assert uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]]), t=3.0) == pytest.approx(-12.0)
    assert uniformity(np.array([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]])) == pytest.approx(0.0, abs=1e-12)
    X = _offset_gaussian()
    assert uniformity(X, max_samples=500) == uniformity(X)  # more than N rows: exact
    sub = uniformity(X, max_samples=100, seed=3)
    assert sub == uniformity(X, max_samples=100, seed=3)
    assert sub != uniformity(X, max_samples=100, seed=4)
    assert sub == pytest.approx(uniformity(X), abs=0.1)


def test_anisotropy_is_the_mean_pairwise_cosine():
    X = _offset_gaussian()
    cosines = 1.0 - pdist(X, "cosine")  # each unordered pair once: same mean as i != j
    assert anisotropy(X) == pytest.approx(cosines.mean(), rel=1e-12)


def test_contributions_are_per_dimension_pair_means_and_sum_to_anisotropy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 5)) + np.array([0.0, 3.0, 0.0, 0.0, -1.0])
    u = X / np.linalg.norm(X, axis=1, keepdims=True)
    off_diagonal = ~np.eye(40, dtype=bool)
    expected = [np.mean(np.outer(u[:, col], u[:, col])[off_diagonal]) for col in range(5)]
    contributions = anisotropy_contributions(X)
    np.testing.assert_allclose(contributions, expected, rtol=1e-12)
    assert contributions.sum() == pytest.approx(anisotropy(X), rel=1e-12)
    assert np.argmax(contributions) == 1  # the offset dimension dominates


def test_anisotropy_extremes():
    assert anisotropy(np.array([[1.0, 0.0], [3.0, 0.0], [0.2, 0.0]])) == pytest.approx(1.0)
    assert anisotropy(np.array([[1.0, 0.0], [-2.0, 0.0]])) == pytest.approx(-1.0)
    isotropic = np.random.default_rng(0).normal(size=(4000, 32))
    assert abs(anisotropy(isotropic)) < 0.01
    assert anisotropy(isotropic + 5.0) > 0.9


def test_outlier_dimensions():
    X = np.random.default_rng(0).normal(size=(200, 60))
    assert outlier_dimensions(X).size == 0
    X[:, [4, 31]] += [15.0, -12.0]
    np.testing.assert_array_equal(outlier_dimensions(X), [4, 31])
    assert outlier_dimensions(X, n_std=100.0).size == 0
    assert outlier_dimensions(np.ones((5, 4))).size == 0  # all means equal


def test_registry_float32_and_no_mutation():
    X = _offset_gaussian().astype(np.float32)
    before = X.copy()
    assert ts.geometry("uniformity", X) == uniformity(X.astype(np.float64))
    assert ts.geometry("anisotropy", X) == anisotropy(X.astype(np.float64))
    np.testing.assert_array_equal(X, before)


def test_errors():
    X = _offset_gaussian()
    X[7] = 0.0
    for func in (uniformity, anisotropy, anisotropy_contributions):
        with pytest.raises(InputError, match="all-zero row"):
            func(X)
    with pytest.raises(InputError, match="at least 2 rows"):
        uniformity(np.ones((1, 3)))
    with pytest.raises(InputError, match="at least 2 rows"):
        anisotropy(np.ones((1, 3)))
    with pytest.raises(InputError, match="t must be"):
        uniformity(_offset_gaussian(), t=0.0)
    with pytest.raises(InputError, match="max_samples"):
        uniformity(_offset_gaussian(), max_samples=1)
    with pytest.raises(InputError, match="n_std"):
        outlier_dimensions(_offset_gaussian(), n_std=-1.0)
