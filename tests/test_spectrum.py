"""Spectrum measures: effective_rank, rankme, rankme_eigen, alpha_req, matrix_entropy.

Golden values, computed once by running the reference code in /tmp on ``_decaying()`` below
(which the tests regenerate), with numpy 2.4, scikit-learn 1.9.1, torch 2.13 (CPU):

- reptrix 0.1.0 (pip ``reptrix``, github.com/arnab39/reptrix, by the alpha-ReQ authors), run
  with stub ``torch`` / ``matplotlib`` imports: ``eig = utils.get_eigenspectrum(X)`` (PCA
  explained-variance ratios of the centred X), ``rankme.get_rank(eig)`` (RankMe on
  covariance eigenvalues + 1e-7) -> ``rankme_eigen``; ``alpha.get_powerlaw(eig, trange)[0]``
  (least squares with weights 1/rank on log-log) for 0-based ``trange`` = arange(5, 39),
  arange(0, 20), arange(2, 30) -> ``alpha_req(first=trange[0] + 1, last=trange[-1] + 1)``.
  reptrix stores the weights in float32, hence the 1e-8 tolerance.
- representation-itl (repitl), github.com/uk-cliplab/representation-itl at commit
  fd0da54ac25b0f8c3d7d85d1aea104f6e3ab340a, the code Skean et al. use:
  ``matrix_itl.matrixAlphaEntropy(K, alpha)`` with ``K = Xc^T Xc`` (D x D, full rank,
  ``Xc`` = column-centred X) for alpha = 1, 0.5, 3 -> ``matrix_entropy(X, alpha=...)``; and
  with ``K = Z Z^T`` for ``Z`` the centred, row-L2-normalised X (Skean et al.'s
  ``normalize``) for alpha = 1, 2 -> ``matrix_entropy(Z, alpha=..., center=False)``.
  On the rank-deficient N x N Gram ``Xc Xc^T`` repitl's alpha = 0.5 is off by 5e-8
  relative, because it keeps the tiny positive rounding eigenvalues (``ek > 0``) and
  ``p^0.5`` amplifies them; the SVD here does not have that problem.

RankMe (singular values) and effective rank have no packaged reference implementation;
they are tested against their closed forms.
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.geometry.spectrum import (
    alpha_req,
    effective_rank,
    matrix_entropy,
    rankme,
    rankme_eigen,
)


def _decaying() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 40)) @ np.diag(np.arange(1, 41) ** -0.8) @ rng.normal(size=(40, 40)) + 0.5


def _with_spectrum(singular_values, n: int = 500, seed: int = 0) -> np.ndarray:
    """Centred data whose singular values are exactly ``singular_values`` (columns of Q are
    orthonormal and orthogonal to the ones vector)."""
    s = np.asarray(singular_values, dtype=float)
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(n, s.size))
    Q, _ = np.linalg.qr(G - G.mean(axis=0))
    V, _ = np.linalg.qr(rng.normal(size=(s.size, s.size)))
    return (Q * s) @ V


def test_golden_reptrix():
    X = _decaying()
    assert rankme_eigen(X) == pytest.approx(6.399827472997221, rel=1e-10)
    assert alpha_req(X, first=6, last=39) == pytest.approx(2.9440634160202914, rel=1e-8)
    assert alpha_req(X, first=1, last=20) == pytest.approx(1.6342824962346056, rel=1e-8)
    assert alpha_req(X, first=3, last=30) == pytest.approx(1.9395004219366336, rel=1e-8)


def test_golden_repitl_matrix_entropy():
    X = _decaying()
    assert matrix_entropy(X) == pytest.approx(1.856250021163627, rel=1e-10)
    assert matrix_entropy(X, alpha=0.5) == pytest.approx(2.6112856116127623, rel=1e-10)
    assert matrix_entropy(X, alpha=3.0) == pytest.approx(0.9392643115317215, rel=1e-10)
    Xc = X - X.mean(axis=0)
    Z = Xc / np.linalg.norm(Xc, axis=1, keepdims=True)
    assert matrix_entropy(Z, center=False) == pytest.approx(2.2581371080467276, rel=1e-10)
    assert matrix_entropy(Z, alpha=2.0, center=False) == pytest.approx(1.6572376683337031, rel=1e-10)


def test_rankme_of_isotropic_gaussian_is_near_full():
    X = np.random.default_rng(0).normal(size=(4000, 64))
    assert 0.9 * 64 < rankme(X) <= 64
    assert 0.9 * 64 < rankme_eigen(X) <= 64
    assert 0.9 * 64 < effective_rank(X) <= 64


def test_rankme_is_bounded_by_the_number_of_rows():
    X = np.random.default_rng(1).normal(size=(30, 200))
    assert 0.9 * 30 < rankme(X) <= 30 + 1e-3


@pytest.mark.parametrize("r", [1, 3, 7])
def test_equal_singular_values_give_exact_rank(r):
    X = _with_spectrum(np.r_[np.full(r, 2.5), np.zeros(10 - r)])
    assert effective_rank(X) == pytest.approx(r, rel=1e-9)
    assert rankme_eigen(X, eps=0.0) == pytest.approx(r, rel=1e-9)
    assert rankme(X, eps=0.0) == pytest.approx(r, rel=1e-9)
    for alpha in (0.5, 1.0, 2.0, 3.0):
        assert matrix_entropy(X, alpha=alpha) == pytest.approx(np.log(r), abs=1e-9)


@pytest.mark.parametrize("r", [2, 5])
def test_effective_rank_of_random_rank_r_data_is_between_1_and_r(r):
    rng = np.random.default_rng(r)
    X = rng.normal(size=(300, r)) @ rng.normal(size=(r, 30))
    assert 1.0 < effective_rank(X) <= r + 1e-6
    assert 1.0 < rankme_eigen(X) <= r + 1e-3


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
@pytest.mark.parametrize(("first", "last"), [(1, None), (1, 20), (4, 25)])
def test_alpha_req_recovers_an_exact_power_law(alpha, first, last):
    # covariance eigenvalues ~ i^-alpha  <=>  singular values ~ i^(-alpha / 2)
    X = _with_spectrum(np.arange(1, 31) ** (-alpha / 2))
    assert alpha_req(X, first=first, last=last) == pytest.approx(alpha, rel=1e-9)


def test_rankme_eigen_is_exp_von_neumann_entropy_and_below_effective_rank():
    X = _decaying()
    assert rankme_eigen(X, eps=0.0) == pytest.approx(np.exp(matrix_entropy(X, alpha=1.0)), rel=1e-12)
    # squaring the spectrum concentrates it: entropy of s^2 / sum(s^2) <= entropy of s / sum(s)
    assert rankme_eigen(X, eps=0.0) < effective_rank(X)


def test_matrix_entropy_is_continuous_at_one_and_decreasing_in_alpha():
    X = _decaying()
    values = [matrix_entropy(X, alpha=a) for a in (0.25, 0.5, 1 - 1e-7, 1.0, 1 + 1e-7, 2.0, 4.0)]
    assert values[2] == pytest.approx(values[3], abs=1e-5)
    assert values[4] == pytest.approx(values[3], abs=1e-5)
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_centring_options():
    X = _decaying()
    assert effective_rank(X, center=False) != pytest.approx(effective_rank(X))
    assert effective_rank(X + 100.0) == pytest.approx(effective_rank(X), rel=1e-8)
    assert rankme(X + 100.0) < rankme(X)  # an offset is one dominant direction for RankMe


def test_float32_and_no_mutation_and_registry():
    X = _decaying().astype(np.float32)
    before = X.copy()
    for name in ("effective_rank", "rankme", "rankme_eigen", "alpha_req", "matrix_entropy"):
        value = ts.geometry(name, X)
        assert np.isfinite(value)
    np.testing.assert_array_equal(X, before)


def test_errors():
    with pytest.raises(InputError, match="no spread"):
        effective_rank(np.ones((5, 3)))
    with pytest.raises(InputError, match="no spread"):
        rankme(np.zeros((5, 3)))
    with pytest.raises(InputError, match="last=12"):
        alpha_req(np.random.default_rng(0).normal(size=(50, 10)), last=12)
    with pytest.raises(InputError, match="at least 2 eigenvalues"):
        alpha_req(np.random.default_rng(0).normal(size=(50, 10)), first=5, last=5)
    with pytest.raises(InputError, match="alpha"):
        matrix_entropy(np.eye(3), alpha=0.0)
    with pytest.raises(InputError, match="eps"):
        rankme(np.eye(3), eps=-1.0)
