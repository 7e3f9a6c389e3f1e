"""Declared properties of every similarity and geometry measure, checked in both directions.

Each measure's ``MetricInfo.measure`` (a ``MeasureProperties``) promises which transformations leave it
unchanged (``invariant``), its range, its value on identical inputs, symmetry and
the triangle inequality. These tests iterate over the registry: an invariance
declared True must hold on random data (hypothesis draws the data and the
transformation); one declared False must visibly change the value on generic
data. Default options throughout, so the promise is about what users get.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics import Invariances, MeasureProperties, MetricInfo, list_metrics
from transferscope.metrics.registry import TRANSFORMS

SIMILARITY = list_metrics("similarity")
GEOMETRY = list_metrics("geometry")
ALL = SIMILARITY + GEOMETRY


def ids(infos):
    return [i.name for i in infos]


# ----------------------------------------------------------------------------- data


def _orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _invertible(rng: np.random.Generator, d: int) -> np.ndarray:
    """A well-conditioned map that is far from any scaled orthogonal map."""
    return _orthogonal(rng, d) @ np.diag(np.geomspace(0.25, 4.0, d)) @ _orthogonal(rng, d)


def paired_data(info, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X (N x 6) and a related Y: a noisy linear map of X (5 columns), or a noisy copy
    of X where the measure needs equal dimensions."""
    rng = np.random.default_rng(seed)
    n = max(60, info.measure.min_samples)
    x = rng.normal(size=(n, 6)) @ _invertible(rng, 6) + rng.normal(size=6)
    if info.measure.requires_equal_dims:
        return x, x + 0.5 * rng.normal(size=x.shape)
    return x, x @ rng.normal(size=(6, 5)) + 0.5 * rng.normal(size=(n, 5))


def single_data(info, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = max(200, info.measure.min_samples)
    return rng.normal(size=(n, 6)) @ _invertible(rng, 6) + rng.normal(size=6)


def transform(name: str, a: np.ndarray, seed: int) -> np.ndarray:
    """Apply transformation ``name`` to the columns of ``a`` (not "sample_order")."""
    rng = np.random.default_rng(seed + 7919)
    d = a.shape[1]
    if name == "orthogonal":
        return a @ _orthogonal(rng, d)
    if name == "isotropic_scaling":
        return 3.7 * a
    if name == "translation":
        return a + 3.0 * rng.normal(size=d)
    if name == "invertible_linear":
        return a @ _invertible(rng, d)
    if name == "permutation":
        perm = rng.permutation(d)
        while d > 1 and np.array_equal(perm, np.arange(d)):
            perm = rng.permutation(d)
        return a[:, perm]
    raise AssertionError(name)


def value(info, *arrays, **options) -> float:
    for key, val in info.required_options.items():
        options.setdefault(key, val)
    if info.family == "similarity":
        return ts.similarity(info.name, *arrays, **options)
    return ts.geometry(info.name, *arrays, **options)


def transformed_value(info, name: str, seed: int) -> tuple[float, float]:
    """(value on the data, value after transformation ``name``)."""
    if info.family == "similarity":
        x, y = paired_data(info, seed)
        if name == "sample_order":
            p = np.random.default_rng(seed + 1).permutation(x.shape[0])
            return value(info, x, y), value(info, x[p], y[p])
        return value(info, x, y), value(info, x, transform(name, y, seed))
    x = single_data(info, seed)
    if name == "sample_order":
        p = np.random.default_rng(seed + 1).permutation(x.shape[0])
        return value(info, x), value(info, x[p])
    return value(info, x), value(info, transform(name, x, seed))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b)) + 1e-9


CASES = [(info, t) for info in ALL for t in TRANSFORMS]
CASE_IDS = [f"{info.name}-{t}" for info, t in CASES]


# ----------------------------------------------------------------------------- declarations


def test_families_are_populated():
    assert {"cka", "mutual_knn", "shape_metric"} <= set(ids(SIMILARITY))
    assert {"twonn", "rankme", "uniformity"} <= set(ids(GEOMETRY))


@pytest.mark.parametrize("info", ALL, ids=ids(ALL))
def test_declarations_are_complete(info):
    props = info.measure
    assert isinstance(props, MeasureProperties) and isinstance(props.invariant, Invariances)
    assert info.summary and info.citation and info.complexity
    assert list(props.invariant.as_dict()) == list(TRANSFORMS), "declare every transform"
    assert all(isinstance(v, bool) for v in props.invariant.as_dict().values())
    low, high = props.range
    assert low is None or high is None or low < high
    assert info.func.__doc__ and "Examples" in info.func.__doc__
    if info.family == "similarity":
        assert props.kind in ("similarity", "distance")
        assert info.higher_is_better == (props.kind == "similarity")
        assert isinstance(props.symmetric, bool) and isinstance(props.is_metric, bool)
        assert props.identity is None or isinstance(props.identity, float)
    else:
        assert props.kind == "geometry" and props.identity is None


def test_transferability_estimators_declare_no_measure():
    assert all(i.measure is None for i in list_metrics("transferability"))


def test_invariances_helpers_check_the_names():
    assert Invariances.all_except().names() == TRANSFORMS
    assert Invariances.only().names() == ()
    inv = Invariances.all_except("translation", "invertible_linear")
    assert inv.as_dict() == {t: t not in ("translation", "invertible_linear") for t in TRANSFORMS}
    assert inv["orthogonal"] and not inv["translation"] and inv == Invariances.only(
        "orthogonal", "isotropic_scaling", "permutation", "sample_order")
    with pytest.raises(ValueError, match="'rotation'"):
        Invariances.all_except("rotation")
    with pytest.raises(ValueError, match="'shear'"):
        Invariances.only("orthogonal", "shear")
    with pytest.raises(KeyError):
        inv["rotation"]
    with pytest.raises(TypeError, match="orthogonal"):
        Invariances(1, True, True, True, True, True)


def test_metric_info_checks_the_declarations_of_its_family():
    measure = MeasureProperties(kind="similarity", symmetric=True, is_metric=False, range=(0.0, 1.0),
                                identity=1.0, invariant=Invariances.all_except())
    common = {"func": abs, "summary": "s", "citation": "c"}
    MetricInfo(name="m", family="similarity", measure=measure, **common)
    with pytest.raises(ValueError, match="must declare measure"):
        MetricInfo(name="m", family="similarity", **common)
    with pytest.raises(ValueError, match="must declare measure"):
        MetricInfo(name="m", family="geometry", **common)
    with pytest.raises(ValueError, match="no measure properties"):
        MetricInfo(name="m", family="transferability", measure=measure, **common)
    with pytest.raises(ValueError, match="kind 'similarity'"):
        MetricInfo(name="m", family="geometry", measure=measure, **common)
    with pytest.raises(ValueError, match="higher_is_better"):
        MetricInfo(name="m", family="similarity", measure=measure, higher_is_better=False, **common)
    with pytest.raises(ValueError, match="kind must be one of"):
        MeasureProperties(kind="closeness", symmetric=True, is_metric=False, range=(None, None),
                          identity=None, invariant=Invariances.only())
    with pytest.raises(ValueError, match="low < high"):
        MeasureProperties.geometry(range=(1.0, 0.0), invariant=Invariances.only())


def test_rows_of_measures_list_their_declarations():
    rows = {r["name"]: r for r in ts.list_metrics()}
    assert rows["procrustes"]["kind"] == "distance" and rows["procrustes"]["is_metric"] is True
    assert rows["cka"]["invariant_to"] == "orthogonal,isotropic_scaling,translation,permutation,sample_order"
    assert rows["uniformity"]["range"] == "[-inf, 0.0]"
    assert (rows["twonn"]["kind"], rows["twonn"]["symmetric"], rows["twonn"]["is_metric"]) == ("", "", "")
    assert "kind" not in rows["logme"]


# ----------------------------------------------------------------------------- invariances


@pytest.mark.parametrize(("info", "name"), [c for c in CASES if c[0].measure.invariant[c[1]]],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if c[0].measure.invariant[c[1]]])
@given(seed=st.integers(0, 2**16))
@settings(max_examples=5, deadline=None)
def test_declared_invariance_holds(info, name, seed):
    before, after = transformed_value(info, name, seed)
    assert _close(before, after), f"{info.name} changed under {name}: {before} -> {after}"


@pytest.mark.parametrize(("info", "name"), [c for c in CASES if not c[0].measure.invariant[c[1]]],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if not c[0].measure.invariant[c[1]]])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_declared_non_invariance_shows(info, name, seed):
    before, after = transformed_value(info, name, seed)
    assert not _close(before, after), f"{info.name} is declared not invariant to {name} but did not change"


# ----------------------------------------------------------------------------- similarity axioms


@pytest.mark.parametrize("info", SIMILARITY, ids=ids(SIMILARITY))
@given(seed=st.integers(0, 2**16))
@settings(max_examples=5, deadline=None)
def test_range_identity_and_symmetry(info, seed):
    props = info.measure
    x, y = paired_data(info, seed)
    v = value(info, x, y)
    low, high = props.range
    assert low is None or v >= low - 1e-9
    assert high is None or v <= high + 1e-9
    if props.identity is not None:
        assert value(info, x, x) == pytest.approx(props.identity, abs=1e-8)
    if props.symmetric:
        assert _close(value(info, y, x), v)


@pytest.mark.parametrize("info", [i for i in SIMILARITY if not i.measure.symmetric],
                         ids=ids([i for i in SIMILARITY if not i.measure.symmetric]))
def test_declared_asymmetry_shows(info):
    x, y = paired_data(info, 0)
    assert not _close(value(info, y, x), value(info, x, y))


@pytest.mark.parametrize("info", [i for i in SIMILARITY if i.measure.is_metric],
                         ids=ids([i for i in SIMILARITY if i.measure.is_metric]))
@given(seed=st.integers(0, 2**16))
@settings(max_examples=10, deadline=None)
def test_triangle_inequality(info, seed):
    rng = np.random.default_rng(seed)
    n = max(60, info.measure.min_samples)
    base = rng.normal(size=(n, 4))
    a, b, c = (base @ rng.normal(size=(4, 4)) + rng.normal(size=(n, 4)) * s for s in (0.1, 1.0, 3.0))
    assert value(info, a, c) <= value(info, a, b) + value(info, b, c) + 1e-9
    assert value(info, a, a) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("info", SIMILARITY, ids=ids(SIMILARITY))
def test_related_beats_independent(info):
    x, y = paired_data(info, 11)
    independent = np.random.default_rng(12).normal(size=y.shape)
    related, unrelated = value(info, x, y), value(info, x, independent)
    if info.higher_is_better:
        assert related > unrelated
    else:
        assert related < unrelated


# ----------------------------------------------------------------------------- common behaviour


def _inputs(info, seed: int = 3) -> tuple[np.ndarray, ...]:
    return paired_data(info, seed) if info.family == "similarity" else (single_data(info, seed),)


@pytest.mark.parametrize("info", ALL, ids=ids(ALL))
def test_deterministic_float_no_mutation_float32(info):
    arrays = _inputs(info)
    copies = [a.copy() for a in arrays]
    first = value(info, *arrays)
    assert isinstance(first, float) and np.isfinite(first)
    assert value(info, *arrays) == first
    for a, c in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(a, c)
    as32 = value(info, *(a.astype(np.float32) for a in arrays))
    assert as32 == pytest.approx(first, rel=1e-3, abs=1e-3)


@pytest.mark.parametrize("info", ALL, ids=ids(ALL))
def test_bad_input_names_the_argument(info):
    arrays = list(_inputs(info))
    bad = arrays[0].copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match="X contains NaN or inf"):
        value(info, bad, *arrays[1:])
    with pytest.raises(InputError, match="2-D"):
        value(info, arrays[0][:, 0], *arrays[1:])
    if info.family == "similarity":
        with pytest.raises(InputError, match="rows"):
            value(info, arrays[0], arrays[1][:-1])
    with pytest.raises(InputError, match="does not take option"):
        value(info, *arrays, not_an_option=1)


# ----------------------------------------------------------------------------- extreme magnitudes

EXTREME_FACTORS = [(1e-170, 1e200), (1e300, 1e-300), (2.0**-1000, 1.0)]


@pytest.mark.parametrize("info", ALL, ids=ids(ALL))
@pytest.mark.parametrize("factors", EXTREME_FACTORS, ids=["tiny-huge", "huge-tiny", "subnormal-ish"])
def test_extreme_magnitudes_are_rescaled_where_invariant_refused_elsewhere(info, factors):
    """Features times 1e-170 or 1e300 (each argument on its own): a measure declared invariant
    to isotropic scaling gives the value of the unscaled data (issue 10: kNN 0.5 and H-score 0 at
    1e-170, NaN or LinAlgError at 1e300); any other measure refuses them with a clear message."""
    arrays = _inputs(info)
    scaled = [a * f for a, f in zip(arrays, factors)]
    if info.measure.invariant.isotropic_scaling:
        assert _close(value(info, *scaled), value(info, *arrays))
    else:
        with pytest.raises(InputError, match="largest magnitude"):
            value(info, *scaled)
