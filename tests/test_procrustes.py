"""Procrustes, angular shape metric and permutation Procrustes
(transferscope.metrics.similarity.procrustes).

Golden values, computed once by running the reference code on the inputs that
``_pair`` regenerates, with ``xn, yn`` the inputs centred and scaled to unit
Frobenius norm (script kept out of the repo; references run from fetched
snapshots, never copied):

- ahwillia/netrep at commit 0186b8a77ec1ebaf541cc8f7173cb2556df8a8f0:
  ``LinearMetric(alpha=a, score_method="angular").fit_score(xn, yn)`` for
  ``a`` in (0, 0.3, 1) -> ``SHAPE_GOLDEN``; on the raw inputs netrep gives the
  same numbers for ``a`` in (0, 1) but 0.3778422195334236 and 0.30256955493177023
  for ``a = 0.3``, because it whitens without normalising the scale first
  (documented difference). ``LinearMetric(alpha=1, score_method="euclidean")``
  -> ``PROCRUSTES_GOLDEN``; ``PermutationMetric(score_method="euclidean")`` ->
  ``PERMUTATION_GOLDEN``.
- sgstepaniants/GULP at commit d572663911cf8724ed112ee566ca956089bfe678:
  ``distance_functions.procrustes(A, B)`` with ``A``, ``B`` the transposed inputs
  centred and scaled by ``sqrt(N) / ||A||_F`` as its scripts do; it returns the
  square of the distance -> ``GULP_REPO_SQUARED``.
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.similarity.cca import cca
from transferscope.metrics.similarity.procrustes import permutation_procrustes, procrustes, shape_metric


def _pair(seed: int, n: int, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx)) @ rng.normal(size=(dx, dx)) + rng.normal(size=dx)
    y = x @ rng.normal(size=(dx, dy)) + rng.normal(size=(n, dy))
    return x, y


CASES = [(6, 60, 6, 5), (7, 30, 40, 50)]  # the second has N < D
SHAPE_GOLDEN = {
    CASES[0]: {0.0: 0.7234542841256311, 0.3: 0.6584617953754001, 1.0: 0.365032707380763},
    CASES[1]: {0.0: 0.0, 0.3: 0.02315491112579701, 1.0: 0.30118317360128066},
}
PROCRUSTES_GOLDEN = {CASES[0]: 0.363009405419371, CASES[1]: 0.3000461004164832}
PERMUTATION_GOLDEN = {CASES[0]: 0.9019455146257841, CASES[1]: 0.9919205621450952}
GULP_REPO_SQUARED = {CASES[0]: 0.13177582842292535, CASES[1]: 0.09002766237513815}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_shape_metric_matches_netrep(case, alpha):
    x, y = _pair(*case)
    assert shape_metric(x, y, alpha=alpha) == pytest.approx(SHAPE_GOLDEN[case][alpha], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_procrustes_matches_netrep_and_gulp_repository(case):
    x, y = _pair(*case)
    d = procrustes(x, y)
    assert d == pytest.approx(PROCRUSTES_GOLDEN[case], rel=1e-9)
    assert d**2 == pytest.approx(GULP_REPO_SQUARED[case], rel=1e-9)
    assert ts.similarity("procrustes", x, y) == d


@pytest.mark.parametrize("case", CASES)
def test_permutation_procrustes_matches_netrep(case):
    x, y = _pair(*case)
    assert permutation_procrustes(x, y) == pytest.approx(PERMUTATION_GOLDEN[case], rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_forms(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(80, 6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    a = rng.normal(size=(6, 6))
    assert procrustes(x, 2.5 * x @ q - 1.0) == pytest.approx(0.0, abs=1e-12)
    for alpha in (0.0, 0.4, 1.0):
        assert shape_metric(x, x @ q + 3.0, alpha=alpha) == pytest.approx(0.0, abs=1e-12)
    assert shape_metric(x, x @ a, alpha=0.0) == pytest.approx(0.0, abs=1e-12)
    assert shape_metric(x, x @ a, alpha=1.0) > 1e-3
    perm = rng.permutation(6)
    assert permutation_procrustes(x, 0.1 * x[:, perm] + 7.0) == pytest.approx(0.0, abs=1e-12)
    assert permutation_procrustes(x, x @ q) > 1e-3


def test_relations_between_the_three():
    x, y = _pair(6, 60, 6, 5)
    # Unit-norm matrices at angle theta are 2 sin(theta / 2) apart.
    assert procrustes(x, y) == pytest.approx(2 * np.sin(shape_metric(x, y) / 2), rel=1e-12)
    # Permutations are orthogonal maps: the restricted alignment is never better.
    assert permutation_procrustes(x, y) >= procrustes(x, y)
    # Full whitening: cos(theta) = sum of canonical correlations / sqrt(r_x r_y).
    assert np.cos(shape_metric(x, y, alpha=0.0)) == pytest.approx(cca(x, y) * 5 / np.sqrt(30), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_triangle_inequality_on_triples(seed):
    # Mixed dimensions (zero padding) and several whitening strengths.
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(70, 5))
    reps = [base @ rng.normal(size=(5, d)) + s * rng.normal(size=(70, d)) for d, s in ((5, 0.2), (3, 1.0), (7, 2.0))]
    funcs = [procrustes, permutation_procrustes] + [
        (lambda a, b, al=al: shape_metric(a, b, alpha=al)) for al in (0.0, 0.5, 1.0)
    ]
    for f in funcs:
        for i, j, k in ((0, 1, 2), (1, 0, 2), (0, 2, 1)):
            assert f(reps[i], reps[k]) <= f(reps[i], reps[j]) + f(reps[j], reps[k]) + 1e-12


def test_identity_is_exactly_zero_without_cancellation():
    # sqrt(2 - 2 cos) would leave ~1e-8 here; the aligned difference leaves rounding only.
    x = np.random.default_rng(0).normal(size=(200, 30))
    assert procrustes(x, x) < 1e-13
    assert shape_metric(x, x, alpha=0.5) < 1e-13
    assert permutation_procrustes(x, x) == 0.0


def test_ranges_and_extremes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 1))
    assert permutation_procrustes(x, -x) == pytest.approx(2.0)
    assert procrustes(x, -x) == pytest.approx(0.0, abs=1e-12)  # a reflection is orthogonal
    y = rng.normal(size=(500, 1))
    y -= y.mean(0)
    y -= (x - x.mean(0)) * ((x - x.mean(0)).T @ y) / np.sum((x - x.mean(0)) ** 2)  # orthogonal to x
    assert shape_metric(x, y) == pytest.approx(np.pi / 2, rel=1e-9)
    assert procrustes(x, y) == pytest.approx(np.sqrt(2.0), rel=1e-9)


def test_bad_input():
    x, y = _pair(6, 60, 6, 5)
    with pytest.raises(InputError, match="alpha"):
        shape_metric(x, y, alpha=1.5)
    with pytest.raises(InputError, match="Y has no variance"):
        procrustes(x, np.full((60, 3), 2.0))
    with pytest.raises(InputError, match="X has no variance"):
        permutation_procrustes(np.zeros((60, 2)), y)
    with pytest.raises(InputError, match="X has no variance"):
        shape_metric(np.zeros((60, 2)), y)
