"""Intrinsic dimension: twonn, mle, gride, local_pca.

Golden values: computed once by running the reference packages in a throwaway venv
(Python 3.11, numpy 1.26.4, scikit-learn 1.9.1) on the inputs ``_linear()`` and ``_swiss()``
below, which the tests regenerate:

- scikit-dimension 0.5.0 (pip ``scikit-dimension``, github.com/j-bac/scikit-dimension):
  ``skdim.id.TwoNN(discard_fraction=f).fit(X).dimension_`` (f = 0.1, 0.2);
  ``skdim.id.MLE().fit(X, n_neighbors=20, comb="mle")`` and ``(n_neighbors=10, comb="mean")``
  (``comb="mle"`` is the inverse average of MacKay & Ghahramani);
  ``skdim.id.lPCA(ver="FO", alphaFO=a).fit_pw(X, n_neighbors=k).dimension_pw_.mean()``
  (k=20, a=0.05; k=100, a=0.05; k=20, a=0.1);
  ``skdim.id.GRIDE(n1=3, n2=7).fit(X).dimension_``.
- DADApy 0.3.4 (pip ``dadapy``): ``Data(coordinates=X).return_id_scaling_gride(range_max=16,
  eps=1e-10)[0]``, the Gride estimates at (n1, n2) = (1, 2), (2, 4), (4, 8), (8, 16).

Both references agree with each other where they overlap. With 40 duplicated rows added to
``_linear()``, scikit-dimension's TwoNN drops every point whose nearest neighbour is at
distance 0 and returns 4.4376; on the distinct rows it returns 3.90672 (the value below),
which is what collapsing duplicates gives here.
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.geometry.intrinsic_dimension import gride, local_pca, mle, twonn


def _linear(n: int = 300, d: int = 4, dim: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, dim))


def _swiss(n: int = 400, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=n))
    h = 21 * rng.uniform(size=n)
    return np.c_[t * np.cos(t), h, t * np.sin(t)]


DATA = {"linear": _linear, "swiss": _swiss}

GOLDEN = {
    # (function, options): {dataset: value}
    ("twonn", (("discard_fraction", 0.1),)): {"linear": 3.906724746045304, "swiss": 1.8810308178185522},
    ("twonn", (("discard_fraction", 0.2),)): {"linear": 3.8895263702349174, "swiss": 1.9261853009527945},
    ("mle", (("k", 20), ("average", "inverse"))): {"linear": 3.6873759600254705, "swiss": 1.9372111648059842},
    ("mle", (("k", 10), ("average", "mean"))): {"linear": 4.276860061336128, "swiss": 2.149762455419861},
    ("local_pca", (("k", 20), ("alpha", 0.05))): {"linear": 3.993333333333333, "swiss": 2.285},
    ("local_pca", (("k", 100), ("alpha", 0.05))): {"linear": 4.0, "swiss": 3.0},
    ("local_pca", (("k", 20), ("alpha", 0.1))): {"linear": 3.9166666666666665, "swiss": 2.2675},
    ("gride", (("n1", 1), ("n2", 2))): {"linear": 3.901084711768588, "swiss": 1.9292853773296992},
    ("gride", (("n1", 2), ("n2", 4))): {"linear": 3.729633445440501, "swiss": 2.0093799837874693},
    ("gride", (("n1", 4), ("n2", 8))): {"linear": 3.7704947550778947, "swiss": 1.88188856239832},
    ("gride", (("n1", 8), ("n2", 16))): {"linear": 3.656917915003076, "swiss": 1.868113528922947},
    ("gride", (("n1", 3), ("n2", 7))): {"linear": 3.790334413385286, "swiss": 1.8634171304467717},
}
FUNCS = {"twonn": twonn, "mle": mle, "gride": gride, "local_pca": local_pca}


@pytest.mark.parametrize("key", list(GOLDEN), ids=[f"{n}-{dict(o)}" for n, o in GOLDEN])
@pytest.mark.parametrize("dataset", list(DATA))
def test_golden_values(key, dataset):
    name, options = key
    # DADApy stops its bisection at |d0 - d1| < 1e-10 (Gride); the rest is float64 rounding.
    assert FUNCS[name](DATA[dataset](), **dict(options)) == pytest.approx(GOLDEN[key][dataset], rel=1e-8)


@pytest.mark.parametrize("d", [2, 4, 6])
def test_recovers_dimension_of_linearly_embedded_gaussian(d):
    rng = np.random.default_rng(d)
    X = rng.normal(size=(2000, d)) @ rng.normal(size=(d, 20))
    assert twonn(X) == pytest.approx(d, rel=0.1)
    assert mle(X) == pytest.approx(d, rel=0.1)
    assert gride(X, n1=2, n2=4) == pytest.approx(d, rel=0.1)
    assert local_pca(X, k=50) == d


@pytest.mark.parametrize("d", [2, 4])
def test_recovers_dimension_of_embedded_uniform_cube(d):
    rng = np.random.default_rng(10 + d)
    X = rng.uniform(size=(2000, d)) @ rng.normal(size=(d, 20))
    assert twonn(X) == pytest.approx(d, rel=0.1)
    assert mle(X) == pytest.approx(d, rel=0.1)


def test_swiss_roll_is_two_dimensional():
    X = _swiss(n=2000, seed=3)
    for func in (twonn, mle, gride):
        assert func(X) == pytest.approx(2.0, abs=0.15)
    assert local_pca(X, k=20) == pytest.approx(2.0, abs=0.1)


def test_gride_at_first_scale_is_the_unbiased_twonn_mle():
    # n1=1, n2=2: the score has the closed-form root (N - 1) / sum(log mu).
    X = _linear(n=200, seed=5)
    diff = X[:, None, :] - X[None, :, :]
    dist = np.sort(np.sqrt((diff**2).sum(-1)), axis=1)[:, 1:3]
    log_mu = np.log(dist[:, 1] / dist[:, 0])
    mu = np.exp(log_mu)
    q95, q50 = np.percentile(mu, [95, 50])
    assert mu.max() < 20 * (q95 - q50) + q50  # DADApy's outlier filter drops nothing here
    assert gride(X) == pytest.approx((len(mu) - 1) / log_mu.sum(), rel=1e-10)


def test_twonn_fit_through_origin_by_hand():
    X = _linear(n=120, seed=6)
    diff = X[:, None, :] - X[None, :, :]
    dist = np.sort(np.sqrt((diff**2).sum(-1)), axis=1)[:, 1:3]
    x = np.sort(np.log(dist[:, 1] / dist[:, 0]))[: int(120 * 0.9)]
    y = -np.log(1 - np.arange(1, x.size + 1) / 120)
    assert twonn(X) == pytest.approx(np.sum(x * y) / np.sum(x * x), rel=1e-10)


def test_mle_mean_average_is_at_least_the_inverse_average():
    X = _swiss()
    assert mle(X, average="mean") >= mle(X, average="inverse")


@pytest.mark.parametrize("name", ["twonn", "mle", "gride", "local_pca"])
def test_duplicate_rows_are_collapsed(name):
    X = _linear()
    with_duplicates = np.r_[X, X[:40], X[:5]]
    value = FUNCS[name](with_duplicates)
    assert np.isfinite(value)
    assert value == pytest.approx(FUNCS[name](X), rel=1e-12)


def test_float32_input_and_no_mutation():
    X = _linear().astype(np.float32)
    before = X.copy()
    for name, func in FUNCS.items():
        assert func(X) == pytest.approx(func(X.astype(np.float64)), rel=1e-12), name
    np.testing.assert_array_equal(X, before)


def test_registry_entry_point():
    X = _linear()
    assert ts.geometry("twonn", X) == twonn(X)
    assert ts.geometry("mle", X, k=10) == mle(X, k=10)


@pytest.mark.parametrize(
    ("func", "options", "match"),
    [
        (twonn, {"discard_fraction": 0.0}, "discard_fraction"),
        (twonn, {"discard_fraction": 1.0}, "discard_fraction"),
        (mle, {"k": 1}, "k must be"),
        (mle, {"average": "median"}, "average"),
        (gride, {"n1": 2, "n2": 2}, "n2 must be larger"),
        (local_pca, {"alpha": 1.0}, "alpha"),
        (local_pca, {"k": 300}, "distinct row"),
        (local_pca, {"k": 1}, "k must be"),
    ],
)
def test_bad_options(func, options, match):
    with pytest.raises(InputError, match=match):
        func(_linear(), **options)


def test_too_few_distinct_rows():
    X = np.repeat(np.eye(3, 5)[:2], 10, axis=0)  # 20 rows, 2 distinct
    for func in FUNCS.values():
        with pytest.raises(InputError, match="distinct row"):
            func(X)


def test_nan_is_rejected():
    X = _linear()
    X[3, 2] = np.nan
    with pytest.raises(InputError, match="X contains NaN"):
        twonn(X)


@pytest.mark.parametrize("name", ["twonn", "mle", "gride", "local_pca"])
def test_approximate_search_option_recovers_the_dimension(name):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(4000, 3)) @ rng.normal(size=(3, 20))
    exact = ts.geometry(name, x)
    approx = ts.geometry(name, x, search="approximate")
    assert approx == pytest.approx(exact, rel=0.02)
    assert abs(approx - 3) < 0.4
    with pytest.raises(InputError, match="search must be one of"):
        ts.geometry(name, x[:50], search="fast")
