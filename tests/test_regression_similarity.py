"""Linear-regression R^2 and the GULP distance (transferscope.metrics.similarity.regression).

Golden values, computed once by running the reference code on the inputs that
``_pair`` regenerates (script kept out of the repo; reference run from a
fetched snapshot, never copied):

- sgstepaniants/GULP at commit d572663911cf8724ed112ee566ca956089bfe678:
  ``distance_functions.predictor_dist(A, B, lmbda=lam)`` with ``A``, ``B`` the
  transposed inputs centred per neuron and scaled by ``sqrt(N) / ||A||_F``
  (as in its ``mnist_experiments/compute_dists.py``); it returns ``d^2``, so
  ``GULP_SQUARED`` holds squares of our distance.

- mklabunde/resi (ReSi) at commit 24ab9e5055c71527445b0b196f5872f3cbe9a020:
  ``repsim.measures.LinearRegression()(X, Y, "nd")`` (numpy 2.4.6, scipy 1.17.1),
  run on ``_pair``'s inputs both ways round and on the same inputs cast to
  float32 -> ``RESI_LINEAR_REGRESSION``; on the N < D inputs of
  ``test_linear_regression_resi_variant_is_exact_where_resi_is_not`` its
  ``linear_reg`` gave ``RESI_SPANNING`` (float64, float32) and, with a constant
  column added to its predictor, ``LinAlgError('A singular matrix detected')``.

``linear_regression`` is checked live against scikit-learn (a dependency):
``LinearRegression`` / ``Ridge(alpha=ridge)`` with intercept, scored by
``r2_score(..., multioutput="variance_weighted")``. GULP is also checked against
brute-force ridge predictions of the identity target (the hat matrices).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import r2_score

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.similarity.cca import cca
from transferscope.metrics.similarity.regression import gulp, linear_regression


def _pair(seed: int, n: int, dx: int, dy: int, noise: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx)) @ rng.normal(size=(dx, dx)) + rng.normal(size=dx)
    y = x @ rng.normal(size=(dx, dy)) + noise * rng.normal(size=(n, dy))
    return x, y


GULP_SQUARED = [
    ((8, 100, 6, 5), 0.0, 3.679102081900374),
    ((8, 100, 6, 5), 1e-2, 2.0195252785292173),
    ((8, 100, 6, 5), 1.0, 0.04489878514081441),
    ((9, 150, 10, 12), 0.0, 7.871753249595528),
    ((9, 150, 10, 12), 1e-2, 1.7482790837911057),
    ((9, 150, 10, 12), 1.0, 0.02444214817535273),
]


@pytest.mark.parametrize(("case", "lam", "squared"), GULP_SQUARED)
def test_gulp_matches_reference_repository(case, lam, squared):
    x, y = _pair(*case)
    assert gulp(x, y, lam=lam) ** 2 == pytest.approx(squared, rel=1e-9)


@pytest.mark.parametrize("lam", [1e-3, 1e-2, 0.5])
def test_gulp_equals_distance_between_brute_force_ridge_predictors(lam):
    x, y = _pair(3, 40, 6, 9)
    n = x.shape[0]

    def hat(a):
        a = a - a.mean(0)
        a = a / np.linalg.norm(a)
        return Ridge(alpha=lam, fit_intercept=False).fit(a, np.eye(n)).predict(a)  # H @ I

    assert gulp(x, y, lam=lam) == pytest.approx(np.linalg.norm(hat(x) - hat(y)), rel=1e-8)


def test_gulp_ols_limit_is_cca_based_and_linear_invariant():
    x, y = _pair(8, 100, 6, 5)
    # lam = 0: d^2 = r_x + r_y - 2 sum rho^2 = r_x + r_y - 2 k mean(rho^2).
    expected = 6 + 5 - 2 * 5 * cca(x, y, statistic="mean_rho2")
    assert gulp(x, y, lam=0.0) ** 2 == pytest.approx(expected, rel=1e-10)
    a = np.random.default_rng(0).normal(size=(5, 5))
    assert gulp(x, y @ a, lam=0.0) == pytest.approx(gulp(x, y, lam=0.0), rel=1e-9)
    assert gulp(x, y @ a) != pytest.approx(gulp(x, y), rel=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_gulp_triangle_inequality_and_identity(seed):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(60, 4))
    reps = [base @ rng.normal(size=(4, d)) + s * rng.normal(size=(60, d)) for d, s in ((4, 0.3), (6, 1.0), (3, 2.0))]
    for lam in (0.0, 1e-2, 1.0):
        for i, j, k in ((0, 1, 2), (1, 0, 2), (0, 2, 1)):
            assert gulp(reps[i], reps[k], lam=lam) <= (
                gulp(reps[i], reps[j], lam=lam) + gulp(reps[j], reps[k], lam=lam) + 1e-12
            )
        assert gulp(reps[0], reps[0], lam=lam) < 1e-13


@pytest.mark.parametrize(("case", "ridge"), [((0, 80, 6, 5), 0.0), ((1, 80, 6, 5), 7.5), ((2, 50, 4, 9), 0.3)])
def test_linear_regression_matches_scikit_learn(case, ridge):
    x, y = _pair(*case)
    model = (Ridge(alpha=ridge) if ridge else LinearRegression()).fit(x, y)
    expected = r2_score(y, model.predict(x), multioutput="variance_weighted")
    assert linear_regression(x, y, ridge=ridge) == pytest.approx(expected, rel=1e-10)
    assert ts.similarity("linear_regression", x, y, ridge=ridge) == linear_regression(x, y, ridge=ridge)


def test_linear_regression_closed_forms_and_asymmetry():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 5))
    assert linear_regression(x, x @ rng.normal(size=(5, 3)) - 4.0) == pytest.approx(1.0, abs=1e-12)
    assert linear_regression(x, x) == pytest.approx(1.0, abs=1e-12)
    part = x[:, :2]
    assert linear_regression(x, part) == pytest.approx(1.0, abs=1e-12)
    assert linear_regression(part, x) < 0.6
    # Any invertible map of the predictor X leaves the least-squares fit unchanged.
    y = x[:, :3] + rng.normal(size=(100, 3))
    assert linear_regression(x @ rng.normal(size=(5, 5)), y) == pytest.approx(linear_regression(x, y), rel=1e-10)
    # Ridge can only lose fit.
    assert linear_regression(x, y, ridge=50.0) < linear_regression(x, y)


def test_fewer_samples_than_dimensions():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 40)), rng.normal(size=(20, 3))
    # OLS interpolates any target once the centred X spans the sample space.
    assert linear_regression(x, y) == pytest.approx(1.0, abs=1e-10)
    assert linear_regression(x, y, ridge=10.0) < 1.0
    model = Ridge(alpha=10.0).fit(x, y)
    assert linear_regression(x, y, ridge=10.0) == pytest.approx(
        r2_score(y, model.predict(x), multioutput="variance_weighted"), rel=1e-10
    )
    assert np.isfinite(gulp(x, y))


# (case, ReSi LinearRegression()(x, y), ReSi LinearRegression()(y, x), ReSi on float32 x, y)
RESI_LINEAR_REGRESSION = [
    ((0, 80, 6, 5), 0.7955038982117034, 0.9065677007924744, 0.7955042123794556),
    ((2, 50, 4, 9), 0.9418969339002187, 0.8519986149367569, 0.9418968558311462),
    ((3, 200, 12, 10), 0.886734161843691, 0.9748302154540055, 0.8867337107658386),
]
RESI_SPANNING = (1.0000000004725118, 1.000527262687683)  # float64, float32 input


@pytest.mark.parametrize(("case", "xy", "yx", "xy32"), RESI_LINEAR_REGRESSION)
def test_linear_regression_resi_variant_matches_resi(case, xy, yx, xy32):
    # ReSi regresses its first argument on its second: the same fit, read the other way round.
    x, y = _pair(*case)
    assert linear_regression(x, y, variant="resi") == pytest.approx(xy, rel=1e-12)
    assert linear_regression(y, x, variant="resi") == pytest.approx(yx, rel=1e-12)
    assert linear_regression(x, y, variant="resi") == linear_regression(y, x)
    assert linear_regression(x, y) == pytest.approx(yx, rel=1e-12)
    # ReSi keeps float32 input in float32 (its sqrtm and inverse too): agreement to its rounding.
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    assert linear_regression(x32, y32, variant="resi") == pytest.approx(xy32, rel=2e-6)
    assert ts.similarity("linear_regression", x, y, variant="resi") == linear_regression(y, x)


def test_linear_regression_resi_variant_is_exact_where_resi_is_not():
    # A predictor that spans the centred sample space (N - 1 <= d) fits any target:
    # R^2 = 1 exactly. ReSi's inv(sqrtm(Y^T Y)) of the singular Y^T Y gave values
    # above its own bound 1 (RESI_SPANNING), by 5e-4 on float32 input.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=(30, 40))
    assert all(value > 1.0 for value in RESI_SPANNING)
    assert linear_regression(x, y, variant="resi") == pytest.approx(1.0, abs=1e-12)
    assert linear_regression(x.astype(np.float32), y.astype(np.float32), variant="resi") == pytest.approx(
        1.0, abs=1e-12
    )
    # A constant column adds nothing to the predictor (ReSi raised LinAlgError here).
    x = rng.normal(size=(100, 4))
    y = x @ rng.normal(size=(4, 3)) + rng.normal(size=(100, 3))
    padded = np.c_[y, np.full(100, 2.0)]
    assert linear_regression(x, padded, variant="resi") == pytest.approx(
        linear_regression(x, y, variant="resi"), rel=1e-12
    )


def test_bad_input():
    x, y = _pair(0, 50, 3, 3)
    with pytest.raises(InputError, match="ridge"):
        linear_regression(x, y, ridge=-1.0)
    with pytest.raises(InputError, match="lam"):
        gulp(x, y, lam=-0.1)
    with pytest.raises(InputError, match="Y has no variance"):
        linear_regression(x, np.ones((50, 2)))
    with pytest.raises(InputError, match="X has no variance"):
        gulp(np.ones((50, 2)), y)
    with pytest.raises(InputError, match="variant must be one of"):
        linear_regression(x, y, variant="kornblith")
    # variant="resi": X is the target, Y the predictor; the messages name them so.
    with pytest.raises(InputError, match="X has no variance"):
        linear_regression(np.ones((50, 2)), y, variant="resi")
    with pytest.raises(InputError, match="Y has no variance"):
        linear_regression(x, np.ones((50, 2)), variant="resi")
