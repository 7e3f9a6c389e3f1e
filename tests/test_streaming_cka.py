"""Exact streaming linear CKA: equal to full-batch ``cka`` for any split of the rows.

The full-batch values it is compared with are themselves checked against the
reference implementations in ``tests/test_cka.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transferscope.errors import InputError
from transferscope.metrics.similarity.cka import cka
from transferscope.metrics.similarity.streaming import StreamingLinearCKA, streaming_linear_cka


def _data(seed: int, n: int, dx: int, dy: int, offset: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx)) * rng.uniform(0.2, 3.0, size=dx) + offset
    y = x @ rng.normal(size=(dx, dy)) / np.sqrt(dx) + rng.normal(size=(n, dy)) + offset
    return x, y


def _split(n: int, cuts: list[int]) -> list[tuple[int, int]]:
    edges = [0, *sorted(set(c for c in cuts if 0 < c < n)), n]
    return list(zip(edges[:-1], edges[1:]))


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(6, 300),
    dx=st.integers(1, 40),
    dy=st.integers(1, 40),
    offset=st.sampled_from([0.0, -3.0, 1e3]),
    cuts=st.lists(st.integers(1, 299), max_size=12),
)
@settings(max_examples=60, deadline=None)
def test_streaming_equals_full_batch(seed, n, dx, dy, offset, cuts):
    x, y = _data(seed, n, dx, dy, offset)
    acc = StreamingLinearCKA()
    for start, stop in _split(n, cuts):
        acc.update(x[start:stop], y[start:stop])
    assert acc.n_samples == n
    for estimator in ("biased", "debiased"):
        expected = cka(x, y, estimator=estimator)
        got = acc.value(debiased=estimator == "debiased")
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e5])
@pytest.mark.parametrize("debiased", [False, True])
def test_large_offset_single_row_first_batch(offset, debiased):
    x, y = _data(7, 2000, 30, 20, offset)
    batches = [(x[:1], y[:1])] + [(x[s : s + 333], y[s : s + 333]) for s in range(1, 2000, 333)]
    expected = cka(x, y, estimator="debiased" if debiased else "biased")
    assert streaming_linear_cka(batches, debiased=debiased) == pytest.approx(expected, rel=1e-10)


def test_n_smaller_than_d_and_one_row_batches():
    x, y = _data(3, 12, 50, 40, 2.0)
    pairs = [(x[i : i + 1], y[i : i + 1]) for i in range(12)]
    assert streaming_linear_cka(pairs) == pytest.approx(cka(x, y), rel=1e-10)
    assert streaming_linear_cka(pairs, debiased=True) == pytest.approx(cka(x, y, estimator="debiased"), rel=1e-10)


def test_value_can_be_read_between_updates_and_float32_batches():
    x, y = _data(4, 400, 8, 5, 10.0)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    acc = StreamingLinearCKA()
    acc.update(x32[:200], y32[:200])
    assert acc.value() == pytest.approx(cka(x32[:200], y32[:200]), rel=1e-10)
    acc.update(x32[200:], y32[200:])
    assert acc.value(debiased=True) == pytest.approx(cka(x32, y32, estimator="debiased"), rel=1e-10)


def test_memory_does_not_grow_with_rows():
    def state_bytes(acc):
        return sum(v.nbytes for v in vars(acc).values() if isinstance(v, np.ndarray))

    x, y = _data(5, 5000, 16, 8, 0.0)
    acc = StreamingLinearCKA()
    acc.update(x[:100], y[:100])
    small = state_bytes(acc)
    for s in range(100, 5000, 100):
        acc.update(x[s : s + 100], y[s : s + 100])
    assert state_bytes(acc) == small


def test_orthogonal_copy_streams_to_one():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))

    def batches():
        for _ in range(20):
            z = rng.normal(size=(50, 6)) + 500.0
            yield z, 2.0 * z @ q - 4.0

    assert streaming_linear_cka(batches(), debiased=True) == pytest.approx(1.0, abs=1e-10)


def test_bad_batches():
    x, y = _data(6, 40, 4, 3, 0.0)
    acc = StreamingLinearCKA()
    with pytest.raises(InputError, match="x_batch has 5 rows but y_batch has 4"):
        acc.update(x[:5], y[:4])
    acc.update(x[:5], y[:5])
    with pytest.raises(InputError, match="x_batch has 3 columns but earlier batches had 4"):
        acc.update(x[:5, :3], y[:5])
    with pytest.raises(InputError, match="y_batch has 2 columns but earlier batches had 3"):
        acc.update(x[:5], y[:5, :2])
    with pytest.raises(InputError, match="y_batch contains NaN"):
        acc.update(x[:5], np.where(y[:5] > 0, np.nan, y[:5]))
    assert acc.n_samples == 5  # rejected batches leave the state untouched
    with pytest.raises(InputError, match="x_batch must be a 2-D"):
        acc.update(x[0], y[0])


def test_too_few_rows_constant_and_empty():
    x, y = _data(8, 40, 4, 3, 0.0)
    acc = StreamingLinearCKA()
    with pytest.raises(InputError, match="at least 2 rows, 0 accumulated"):
        acc.value()
    acc.update(x[:3], y[:3])
    with pytest.raises(InputError, match="debiased CKA needs at least 4 rows, 3 accumulated"):
        acc.value(debiased=True)
    with pytest.raises(InputError, match="debiased must be True or False"):
        acc.value(debiased="yes")
    const = StreamingLinearCKA()
    const.update(np.full((1, 3), 0.1), y[:1])
    const.update(np.full((10, 3), 0.1), y[1:11])
    with pytest.raises(InputError, match="X is constant"):
        const.value()
    with pytest.raises(InputError, match="batches is empty"):
        streaming_linear_cka([])
    with pytest.raises(InputError, match=r"\(x_batch, y_batch\) pairs"):
        streaming_linear_cka([x])


def test_cka_streams_arrays_too_large_to_copy(monkeypatch, tmp_path):
    import importlib

    module = importlib.import_module("transferscope.metrics.similarity.cka")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40_000, 6)).astype(np.float32) + 100.0
    y = (x[:, :4] @ rng.normal(size=(4, 5)) + rng.normal(size=(40_000, 5))).astype(np.float32)
    in_memory = {e: module.cka(x, y, estimator=e) for e in ("biased", "debiased")}
    path = tmp_path / "x.npy"
    np.save(path, x)
    mapped = np.load(path, mmap_mode="r")  # as the feature cache hands them out
    monkeypatch.setattr(module, "BLOCKWISE_BYTES", 0)
    calls = []
    real = module._blockwise_linear_cka
    monkeypatch.setattr(module, "_blockwise_linear_cka", lambda *a, **k: calls.append(1) or real(*a, **k))
    for estimator, expected in in_memory.items():
        assert module.cka(mapped, y, estimator=estimator) == pytest.approx(expected, rel=1e-10)
    assert len(calls) == 2
    assert module.cka(x[:500], y[:500], kernel="rbf", sigma=50.0) > 0  # RBF never streams
    assert len(calls) == 2
    bad = y.copy()
    bad[30_000, 2] = np.nan
    with pytest.raises(InputError, match=r"Y contains NaN or inf.*\(in rows 16384\.\.32767\)"):
        module.cka(mapped, bad)
    with pytest.raises(InputError, match="X is constant"):
        module.cka(np.ones_like(x), y)
