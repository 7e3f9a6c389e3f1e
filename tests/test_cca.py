"""CCA, SVCCA and PWCCA (transferscope.metrics.similarity.cca).

Golden values, computed once by running the reference code on the inputs that
``_pair`` regenerates (script kept out of the repo; the references were run
from fetched snapshots, never copied):

- google/svcca at commit 1f3fbf19bd31bd9b76e728ef75842aa1d9a4cd2b:
  ``cca_core.get_cca_similarity(X.T, Y.T, epsilon=0.)``, mean of ``cca_coef1``
  and of its square -> ``CCA_GOLDEN``. SVCCA: the recipe of
  ``tutorials/001_Introduction.ipynb`` (centre, ``np.linalg.svd``, keep the top
  ``k`` directions as ``s[:k] * V[:k]``, ``get_cca_similarity(..., epsilon=1e-10)``,
  mean of ``cca_coef1``) -> ``SVCCA_GOLDEN``.
- PWCCA: ``1 - pwcca_dist(A, s, transformed_a)`` after ``cca_decomp(A, B)`` of
  sgstepaniants/GULP at commit d572663911cf8724ed112ee566ca956089bfe678
  (``distance_functions.py``; ``A``, ``B`` the centred inputs, transposed) ->
  ``PWCCA_GOLDEN``. google/svcca ``pwcca.compute_pwcca`` gives 0.9211254072867665
  and 0.7855492504776701 on the same two cases: it orthonormalises the
  unwhitened rotations ``coef_x @ (acts - mean)`` (no ``invsqrt_xx``), so its
  weights are not those of the canonical variates of Morcos et al. 2018;
  inserting ``invsqrt_xx`` there reproduces the values below. It also raises an
  IndexError when the first input has more neurons, which is tested here against
  the definition instead.
- ``variant="resi"``: mklabunde/resi (ReSi) at commit
  24ab9e5055c71527445b0b196f5872f3cbe9a020, ``repsim.measures.cca.pwcca(X - X.mean(0),
  Y, shape="nd")`` (its verbatim copy of google/svcca ``compute_pwcca``, ``epsilon=0``;
  numpy 2.4.6) on ``_pair``'s inputs with ``X`` column-centred -> ``PWCCA_RESI_GOLDEN``
  (value on float64 input, value on the same centred arrays cast to float32). Uncentred,
  the same call gave ``PWCCA_RESI_UNCENTRED`` (case (4, 200, 6, 8): raw ``X`` and ``X + 5``),
  values that depend on the signs of LAPACK's singular vectors, see
  ``test_pwcca_resi_reference_depends_on_singular_vector_signs``. On case (8, 50, 10, 80)
  (``d_y >= N``) ReSi raised ``LinAlgError('SVD did not converge')`` (NaN from the square
  root of its pseudo-inverted singular covariance).
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.similarity.cca import cca, pwcca, svcca


def _pair(seed: int, n: int, dx: int, dy: int, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx)) @ rng.normal(size=(dx, dx)) + rng.normal(size=dx)
    y = x @ rng.normal(size=(dx, dy)) + noise * rng.normal(size=(n, dy))
    return x, y


CCA_GOLDEN = [
    ((0, 200, 6, 8), 0.8361269480592416, 0.7773131618379258),
    ((1, 200, 8, 5), 0.9193403867178626, 0.862740616413092),
]
SVCCA_GOLDEN = [((2, 300, 12, 10), 4, 0.7688176338885475), ((3, 300, 10, 12), 6, 0.9720257184621538)]
PWCCA_GOLDEN = [((4, 200, 6, 8), 0.942213831771675), ((5, 300, 5, 5), 0.9289856614547626)]


@pytest.mark.parametrize(("case", "mean_rho", "mean_rho2"), CCA_GOLDEN)
def test_cca_matches_google_svcca(case, mean_rho, mean_rho2):
    x, y = _pair(*case)
    assert cca(x, y) == pytest.approx(mean_rho, rel=1e-9)
    assert cca(x, y, statistic="mean_rho2") == pytest.approx(mean_rho2, rel=1e-9)
    assert ts.similarity("cca", x, y) == cca(x, y)


@pytest.mark.parametrize(("case", "k", "expected"), SVCCA_GOLDEN)
def test_svcca_matches_google_tutorial_recipe(case, k, expected):
    x, y = _pair(*case)
    assert svcca(x, y, n_components=k) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("case", "expected"), PWCCA_GOLDEN)
def test_pwcca_matches_gulp_repository(case, expected):
    x, y = _pair(*case)
    assert pwcca(x, y) == pytest.approx(expected, rel=1e-9)


# (case, ReSi pwcca on centred X (float64), the same on float32 arrays)
PWCCA_RESI_GOLDEN = [
    ((4, 200, 6, 8), 0.9497946347566534, 0.9497946347311441),
    ((5, 300, 5, 5), 0.941174510173253, 0.9411745102841633),
    ((6, 100, 10, 30), 0.9951447556062871, 0.9951447555539001),
    ((7, 60, 20, 20), 0.9878875415561742, 0.9878875437609297),
]
PWCCA_RESI_UNCENTRED = {"raw": 0.921125407286698, "shifted by 5": 0.9579298284251486}


@pytest.mark.parametrize(("case", "expected", "expected32"), PWCCA_RESI_GOLDEN)
def test_pwcca_resi_variant_matches_resi(case, expected, expected32):
    x, y = _pair(*case)
    xc = x - x.mean(axis=0)
    assert pwcca(xc, y, variant="resi") == pytest.approx(expected, rel=1e-9)
    # The variant centres X itself: the value of the reference on centred X, for any X.
    assert pwcca(x, y, variant="resi") == pytest.approx(expected, rel=1e-9)
    assert pwcca(x + 5.0, y, variant="resi") == pytest.approx(expected, rel=1e-9)
    # The reference upcasts float32 to float64 in np.cov: only input rounding remains.
    xc32, y32 = xc.astype(np.float32), y.astype(np.float32)
    assert pwcca(xc32, y32, variant="resi") == pytest.approx(expected32, rel=1e-8)
    assert ts.similarity("pwcca", x, y, variant="resi") == pwcca(x, y, variant="resi")
    assert pwcca(x, y, variant="resi") != pytest.approx(pwcca(x, y), rel=1e-4)


def _svcca_recipe(x, y, signs):
    """The reference's PWCCA from its maths: directions X_c u + 1 m^T (u = V L up to the sign
    of each column, m the neuron means), orthonormalised by QR, projected on uncentred X."""
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    ux, sx, vt = np.linalg.svd(xc, full_matrices=False)
    uy = np.linalg.svd(yc, full_matrices=False)[0]
    left, rho, _ = np.linalg.svd(ux.T @ uy, full_matrices=False)
    basis = np.linalg.qr(xc @ (vt.T @ left * signs) + x.mean(axis=0))[0]
    alpha = np.abs(basis.T @ x).sum(axis=1)
    return float(alpha @ rho / alpha.sum())


def test_pwcca_resi_reference_depends_on_singular_vector_signs():
    # Each singular vector is defined only up to sign, but the reference adds the neuron
    # means to the rotated directions, so on uncentred X each of the 2^6 sign choices
    # gives another value; LAPACK's choice gave PWCCA_RESI_UNCENTRED["raw"], one of them.
    x, y = _pair(4, 200, 6, 8)
    patterns = [np.array(s) for s in np.ndindex(*(2,) * 6)]
    values = [_svcca_recipe(x, y, 1 - 2 * s) for s in patterns]
    assert max(values) - min(values) > 0.04
    assert min(abs(v - PWCCA_RESI_UNCENTRED["raw"]) for v in values) < 1e-10
    # ... and translating X, to which ReSi declares PWCCA invariant, changes it.
    assert abs(PWCCA_RESI_UNCENTRED["shifted by 5"] - PWCCA_RESI_UNCENTRED["raw"]) > 0.03
    # On centred X every sign choice gives the same value: the one variant="resi" returns.
    xc = x - x.mean(axis=0)
    expected = pwcca(x, y, variant="resi")
    for s in patterns[::7]:
        assert _svcca_recipe(xc, y, 1 - 2 * s) == pytest.approx(expected, rel=1e-10)


def test_pwcca_resi_variant_domain():
    # d_y >= N: the reference fails (NaN covariance square roots); the recipe is defined.
    x, y = _pair(8, 50, 10, 80)
    xc = x - x.mean(axis=0)
    assert pwcca(x, y, variant="resi") == pytest.approx(_svcca_recipe(xc, y, np.ones(10)), rel=1e-9)
    with pytest.raises(InputError, match="at most as many columns as Y"):
        pwcca(y, x, variant="resi")  # the reference raises IndexError
    x, y = _pair(4, 200, 6, 8)
    with pytest.raises(InputError, match="centred X to have rank >= 7"):
        pwcca(np.c_[x, x[:, :1]], y, variant="resi")
    with pytest.raises(InputError, match="centred Y to have rank >= 6"):
        pwcca(x, np.c_[y[:, :3], y[:, :3] + 1.0, y[:, :2]], variant="resi")
    with pytest.raises(InputError, match="variant must be one of"):
        pwcca(x, y, variant="svcca")


def test_pwcca_wider_first_input_follows_the_definition():
    # d_x > d_y: X has 8 canonical variates, 5 of them correlated; the weights are those
    # of the correlated ones, alpha_i = sum_j |<h_i, x_j>| with unit-norm variates h_i.
    x, y = _pair(1, 200, 8, 5)
    xc, yc = x - x.mean(0), y - y.mean(0)
    wx = np.linalg.inv(np.linalg.cholesky(xc.T @ xc)).T  # xc @ wx has orthonormal columns
    wy = np.linalg.inv(np.linalg.cholesky(yc.T @ yc)).T
    u, rho, _ = np.linalg.svd((xc @ wx).T @ (yc @ wy), full_matrices=False)
    variates = xc @ wx @ u  # N x 5 unit-norm canonical variates of X
    alpha = np.abs(variates.T @ xc).sum(axis=1)
    assert pwcca(x, y) == pytest.approx(np.dot(alpha, rho) / alpha.sum(), rel=1e-9)


def test_pwcca_is_asymmetric_and_weights_x():
    x, y = _pair(4, 200, 6, 8)
    assert pwcca(x, y) != pytest.approx(pwcca(y, x), rel=1e-3)
    # Only Y's column space enters: any invertible map of Y leaves it unchanged,
    # an orthogonal map of X's columns changes the weights.
    a = np.random.default_rng(0).normal(size=(8, 8))
    assert pwcca(x, y @ a) == pytest.approx(pwcca(x, y), rel=1e-9)
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(6, 6)))
    assert pwcca(x @ q, y) != pytest.approx(pwcca(x, y), rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_invertible_map_gives_one(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 7))
    w = rng.normal(size=(7, 7))
    y = x @ w + rng.normal(size=7)
    assert cca(x, y) == pytest.approx(1.0, abs=1e-12)
    assert cca(x, y, statistic="mean_rho2") == pytest.approx(1.0, abs=1e-12)
    assert svcca(x, y, keep_variance=1.0) == pytest.approx(1.0, abs=1e-12)
    assert pwcca(x, y) == pytest.approx(1.0, abs=1e-12)


def test_svcca_full_variance_equals_cca():
    x, y = _pair(0, 200, 6, 8)
    assert svcca(x, y, keep_variance=1.0) == pytest.approx(cca(x, y), rel=1e-12)


def test_svcca_drops_low_variance_noise():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(300, 3))
    x = np.c_[signal * 10.0, 0.01 * rng.normal(size=(300, 5))]
    y = np.c_[signal @ rng.normal(size=(3, 3)) * 10.0, 0.01 * rng.normal(size=(300, 4))]
    assert svcca(x, y) == pytest.approx(1.0, abs=1e-6)  # 99% of variance is the shared signal
    assert cca(x, y) < 0.6  # plain CCA averages in the independent noise directions


def test_svcca_n_components_capped_at_rank():
    x, y = _pair(2, 300, 12, 10)
    assert svcca(x, y, n_components=50) == pytest.approx(svcca(x, y, keep_variance=1.0), rel=1e-12)


def test_rank_deficient_columns_are_ignored():
    x, y = _pair(0, 200, 6, 8)
    padded = np.c_[x, x[:, :2] @ np.ones((2, 3)), np.full((200, 2), 4.0)]  # collinear + constant columns
    assert cca(padded, y) == pytest.approx(cca(x, y), rel=1e-9)
    assert svcca(padded, y, keep_variance=1.0) == pytest.approx(cca(x, y), rel=1e-9)
    # PWCCA sums over neurons, so extra collinear neurons reweight; constant ones add nothing.
    assert pwcca(np.c_[x, np.full((200, 2), 4.0)], y) == pytest.approx(pwcca(x, y), rel=1e-9)
    assert cca(x, x) == pytest.approx(1.0, abs=1e-12)


def test_fewer_samples_than_dimensions():
    # Centred, 30 samples span a 29-dim space; 40 generic columns fill it, so every
    # canonical correlation is 1 -- the known degeneracy, computed without blowing up.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 40)), rng.normal(size=(30, 50))
    assert cca(x, y) == pytest.approx(1.0, abs=1e-9)
    # With a few directions kept, SVCCA is informative again.
    assert 0.0 < svcca(x, y, n_components=3) < 0.9
    value = pwcca(x, y)
    assert 0.0 <= value <= 1.0 + 1e-12


def test_independent_representations_score_low():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2000, 5)), rng.normal(size=(2000, 5))
    assert cca(x, y) < 0.05
    assert svcca(x, y) < 0.05
    assert pwcca(x, y) < 0.05


def test_bad_options_and_constant_input():
    x, y = _pair(0, 50, 3, 3)
    with pytest.raises(InputError, match="statistic"):
        cca(x, y, statistic="median")
    with pytest.raises(InputError, match="keep_variance"):
        svcca(x, y, keep_variance=0.0)
    with pytest.raises(InputError, match="n_components"):
        svcca(x, y, n_components=0)
    with pytest.raises(InputError, match="Y has no variance"):
        cca(x, np.ones((50, 2)))
    with pytest.raises(InputError, match="X has no variance"):
        pwcca(np.ones((50, 2)), y)
