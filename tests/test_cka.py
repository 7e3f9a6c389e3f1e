"""CKA and minibatch CKA: golden values, closed forms and option handling.

Golden values (computed once by running the reference code in /tmp on the inputs
that ``_data`` regenerates; float64 throughout):

- Kornblith et al.'s notebook, google-research/google-research
  ``representation_similarity/Demo.ipynb`` at commit 10bf941a5a0625bf27bb8443aa849e9b48fdd5f9:
  ``cka(gram_linear(X), gram_linear(Y), debiased=...)`` (identical to its
  ``feature_space_linear_cka``) and ``cka(gram_rbf(X, threshold), gram_rbf(Y, threshold),
  debiased=...)`` (the transcription reproduced the notebook's printed 0.55761 / 0.65483 /
  0.51346 on its own seed-1337 data first).
- platonic-rep, github.com/minyoungg/platonic-rep ``metrics.py`` at commit
  dcd76ba3c950c1b197a2ae8b1c6713535c94ecf9 (torch 2.13 CPU, float64): the ratio
  ``f(K, L) / sqrt(f(K, K) f(L, L))`` with ``f = hsic_biased`` or ``hsic_unbiased`` on
  ``K = exp(-cdist(X, X)**2 / (2 * 3.0**2))`` (what ``AlignmentMetrics.cka(kernel_metric="rbf",
  rbf_sigma=3.0)`` computes). Their ``cka()`` adds 1e-6 to the denominator, which moves
  small-N values visibly (0.27227 instead of 0.27280 for case 1, RBF, unbiased); the golden
  values below are the ratio without it.
- Minibatch CKA (no public reference implementation): platonic-rep's ``hsic_unbiased`` on
  linear kernels of the four consecutive 64-row slices of
  ``np.random.default_rng(0).permutation(300)``, then mean / sqrt(mean * mean).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.similarity.cka import cka, minibatch_cka


def _data(seed: int, n: int, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx)) + 2.0
    y = np.tanh(x @ rng.normal(size=(dx, dy))) + 0.3 * rng.normal(size=(n, dy))
    return x, y


def _orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return q


CASES = {0: (0, 50, 12, 8), 1: (1, 20, 50, 30)}  # case 1 has N < D

# (case, options, value)
GOLDEN = [
    # Kornblith notebook, linear kernel
    (0, {}, 0.30439013180569346),
    (0, {"estimator": "debiased"}, 0.17247094559564163),
    (1, {}, 0.6937973048409701),
    (1, {"estimator": "debiased"}, 0.29877825706057665),
    # Kornblith notebook, RBF with the median heuristic
    (0, {"kernel": "rbf", "threshold": 0.5}, 0.5902150061927293),
    (0, {"kernel": "rbf"}, 0.37510260048567473),
    (0, {"kernel": "rbf", "threshold": 0.5, "estimator": "debiased"}, 0.1258363468650707),
    (0, {"kernel": "rbf", "estimator": "debiased"}, 0.15388388613045098),
    (1, {"kernel": "rbf", "threshold": 0.5}, 0.9308148684264452),
    (1, {"kernel": "rbf"}, 0.78038579519431),
    (1, {"kernel": "rbf", "threshold": 0.5, "estimator": "debiased"}, 0.258303463231653),
    (1, {"kernel": "rbf", "estimator": "debiased"}, 0.3021569084890014),
    # platonic-rep, RBF with a fixed sigma
    (0, {"kernel": "rbf", "sigma": 3.0}, 0.3737561120871138),
    (0, {"kernel": "rbf", "sigma": 3.0, "estimator": "debiased"}, 0.15586718981843317),
    (1, {"kernel": "rbf", "sigma": 3.0}, 0.9085414857603088),
    (1, {"kernel": "rbf", "sigma": 3.0, "estimator": "debiased"}, 0.2727987470484222),
    # platonic-rep, linear kernel (agrees with the notebook)
    (0, {"estimator": "debiased"}, 0.1724709455956441),
    (1, {"estimator": "debiased"}, 0.29877825706063044),
]


@pytest.mark.parametrize(("case", "options", "expected"), GOLDEN)
def test_golden_values(case, options, expected):
    x, y = _data(*CASES[case])
    assert cka(x, y, **options) == pytest.approx(expected, rel=1e-9)


def test_golden_minibatch():
    x, y = _data(2, 300, 10, 6)
    assert minibatch_cka(x, y, batch_size=64) == pytest.approx(0.40804535559101746, rel=1e-9)


def test_registered_and_reachable_through_similarity():
    x, y = _data(*CASES[0])
    assert ts.similarity("cka", x, y) == cka(x, y)
    assert ts.similarity("minibatch_cka", x, y, batch_size=16) == minibatch_cka(x, y, batch_size=16)


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("estimator", ["biased", "debiased"])
@pytest.mark.parametrize("space", ["feature", "gram"])
@pytest.mark.parametrize("shape", [(80, 10), (15, 40)])
def test_orthogonal_and_scaled_copies_give_one(estimator, space, shape):
    rng = np.random.default_rng(3)
    x = rng.normal(size=shape)
    q = _orthogonal(rng, shape[1])
    assert cka(x, x @ q, estimator=estimator, space=space) == pytest.approx(1.0, abs=1e-12)
    assert cka(x, -2.5 * x + 7.0, estimator=estimator, space=space) == pytest.approx(1.0, abs=1e-12)


@given(seed=st.integers(0, 2**16), n=st.integers(5, 60), dx=st.integers(1, 70), dy=st.integers(1, 70))
@settings(max_examples=40, deadline=None)
def test_feature_space_equals_gram_space(seed, n, dx, dy):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx)) + rng.normal(size=dx)
    y = x @ rng.normal(size=(dx, dy)) + rng.normal(size=(n, dy))
    for estimator in ("biased", "debiased"):
        feature = cka(x, y, estimator=estimator, space="feature")
        gram = cka(x, y, estimator=estimator, space="gram")
        assert feature == pytest.approx(gram, rel=1e-10, abs=1e-12)
        assert cka(x, y, estimator=estimator) in (feature, gram)


def test_auto_picks_the_cheaper_space(monkeypatch):
    import importlib

    module = importlib.import_module("transferscope.metrics.similarity.cka")
    calls = []
    monkeypatch.setattr(module, "gram_space_hsic", lambda *a, **k: calls.append("gram") or (1.0, 1.0, 1.0))
    monkeypatch.setattr(module, "feature_space_hsic", lambda *a, **k: calls.append("feature") or (1.0, 1.0, 1.0))
    rng = np.random.default_rng(0)
    cka(rng.normal(size=(100, 5)), rng.normal(size=(100, 5)))
    cka(rng.normal(size=(10, 50)), rng.normal(size=(10, 50)))
    assert calls == ["feature", "gram"]


def test_debiased_removes_the_dimension_bias_on_independent_data():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2000, 500)), rng.normal(size=(2000, 500))
    assert cka(x, y) > 0.15  # about D / (N + D) = 0.2 for the biased estimator
    assert abs(cka(x, y, estimator="debiased")) < 0.05


def test_rbf_with_large_sigma_approaches_linear():
    x, y = _data(*CASES[0])
    for estimator in ("biased", "debiased"):
        linear = cka(x, y, estimator=estimator)
        gaps = [abs(cka(x, y, kernel="rbf", sigma=s, estimator=estimator) - linear) for s in (10.0, 100.0, 1000.0)]
        assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-5


def test_median_heuristic_is_threshold_times_root_median_squared_distance():
    from scipy.spatial.distance import pdist, squareform

    x, y = _data(*CASES[1])
    h = np.eye(20) - 1.0 / 20

    def centred_kernel(a, threshold):
        sq = squareform(pdist(a, "sqeuclidean"))  # N x N, zero diagonal included in the median
        sigma = threshold * np.sqrt(np.median(sq))
        return h @ np.exp(-sq / (2 * sigma**2)) @ h

    k, l = centred_kernel(x, 0.7), centred_kernel(y, 0.7)
    expected = np.sum(k * l) / np.sqrt(np.sum(k * k) * np.sum(l * l))
    assert cka(x, y, kernel="rbf", threshold=0.7) == pytest.approx(expected, rel=1e-12)


def test_rbf_median_heuristic_is_scale_invariant():
    x, y = _data(*CASES[0])
    assert cka(x, 5.0 * y, kernel="rbf") == pytest.approx(cka(x, y, kernel="rbf"), rel=1e-12)


def test_biased_in_unit_interval_debiased_can_be_negative():
    rng = np.random.default_rng(5)
    values = [cka(rng.normal(size=(30, 3)), rng.normal(size=(30, 3)), estimator="debiased") for _ in range(20)]
    assert min(values) < 0.0 and max(values) <= 1.0
    assert 0.0 <= cka(rng.normal(size=(30, 3)), rng.normal(size=(30, 3))) <= 1.0


def test_float32_and_no_mutation():
    x, y = _data(*CASES[0])
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    copy = x32.copy()
    assert cka(x32, y32, estimator="debiased") == pytest.approx(cka(x, y, estimator="debiased"), rel=1e-5)
    np.testing.assert_array_equal(x32, copy)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"kernel": "cosine"}, "kernel must be one of"),
        ({"estimator": "unbiased"}, "estimator must be one of"),
        ({"space": "kernel"}, "space must be one of"),
        ({"kernel": "rbf", "space": "feature"}, "space='feature' needs kernel='linear'"),
        ({"kernel": "rbf", "sigma": 0.0}, "sigma must be"),
        ({"kernel": "rbf", "threshold": -1.0}, "threshold must be"),
        ({"sigma": 2.0}, "need kernel='rbf'"),
        ({"threshold": 0.5}, "need kernel='rbf'"),
        ({"kernel": "rbf", "sigma": 2.0, "threshold": 0.5}, "not both"),
    ],
)
def test_bad_options(options, match):
    x, y = _data(*CASES[0])
    with pytest.raises(InputError, match=match):
        cka(x, y, **options)


def test_constant_and_too_small_inputs():
    x, y = _data(*CASES[0])
    with pytest.raises(InputError, match="Y is constant"):
        cka(x, np.full_like(y, 3.3))
    with pytest.raises(InputError, match="X is constant"):
        cka(np.ones((10, 2)), y[:10], kernel="rbf")
    with pytest.raises(InputError, match="at least 4 rows"):
        cka(x[:3], y[:3], estimator="debiased")
    assert cka(x[:2], y[:2]) == pytest.approx(1.0)  # two points: one direction each
    dup = np.repeat(x[:2], [30, 1], axis=0)
    with pytest.raises(InputError, match="median squared distance"):
        cka(dup, y[:31], kernel="rbf")


# ----------------------------------------------------------------------------- minibatch


def test_minibatch_with_one_batch_equals_debiased_cka():
    x, y = _data(*CASES[0])
    expected = cka(x, y, estimator="debiased")
    assert minibatch_cka(x, y) == pytest.approx(expected, rel=1e-12)  # batch_size 256 > N = 50
    assert minibatch_cka(x, y, batch_size=50) == pytest.approx(expected, rel=1e-12)


def test_minibatch_converges_to_full_debiased_cka():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8192, 32))
    y = np.tanh(x @ rng.normal(size=(32, 16)) / 4) + 0.5 * rng.normal(size=(8192, 16))
    full = cka(x, y, estimator="debiased")
    assert minibatch_cka(x, y, batch_size=256) == pytest.approx(full, abs=0.02)
    # Biased CKA of the same minibatches would be inflated; unbiased HSIC averages correctly.
    assert abs(minibatch_cka(x, rng.normal(size=(8192, 16)), batch_size=256)) < 0.01


def test_minibatch_seed_and_batch_count():
    x, y = _data(2, 300, 10, 6)
    base = minibatch_cka(x, y, batch_size=64)
    assert minibatch_cka(x, y, batch_size=64, seed=0) == base
    assert minibatch_cka(x, y, batch_size=64, seed=1) != base
    # One pass is 300 // 64 = 4 batches; n_batches=4 is the same, more continues with new permutations.
    assert minibatch_cka(x, y, batch_size=64, n_batches=4) == base
    assert minibatch_cka(x, y, batch_size=64, n_batches=9) != base
    assert minibatch_cka(x, y, batch_size=64, n_batches=1) != base


@pytest.mark.parametrize(
    ("options", "match"),
    [({"batch_size": 3}, "batch_size must be >= 4"), ({"n_batches": 0}, "n_batches must be >= 1"),
     ({"seed": -1}, "seed must be >= 0"), ({"batch_size": 8.0}, "batch_size must be an integer")],
)
def test_minibatch_bad_options(options, match):
    x, y = _data(*CASES[0])
    with pytest.raises(InputError, match=match):
        minibatch_cka(x, y, **options)


def test_minibatch_closed_forms():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1000, 12))
    assert minibatch_cka(x, 3.0 * x @ _orthogonal(rng, 12) - 1.0, batch_size=100) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(InputError, match="at least 4 rows"):
        minibatch_cka(x[:3], x[:3])
