"""The triangular product through SciPy's Cython BLAS: equal to NumPy's, in any shape, and run
side by side in threads (it must not hold the GIL, or meta's targets run one at a time)."""

from __future__ import annotations

import numpy as np
import pytest

from transferscope.metrics import triangular
from transferscope.metrics.triangular import upper_triangular_product


@pytest.mark.parametrize("rows, n", [(1, 1), (3, 5), (7, 2), (300, 257), (0, 4)])
def test_upper_triangular_product_equals_numpy(rows, n):
    rng = np.random.default_rng(rows + n)
    left = rng.integers(-3, 4, (rows, n)).astype(np.float32)
    square = rng.integers(-2, 3, (n, n)).astype(np.float64)  # any dtype: used as float32
    expected = left @ np.triu(square).astype(np.float32)
    got = upper_triangular_product(left, square)
    assert got.dtype == np.float32 and got.shape == (rows, n)
    np.testing.assert_array_equal(got, expected)  # integers: exact
    before = left.copy()
    upper_triangular_product(left, square)
    np.testing.assert_array_equal(left, before)  # the input is kept unless overwrite
    np.testing.assert_array_equal(upper_triangular_product(left, square, overwrite=True), expected)


def test_upper_triangular_product_refuses_bad_shapes_and_has_a_fallback(monkeypatch):
    with pytest.raises(ValueError, match="square"):
        upper_triangular_product(np.ones((2, 3)), np.ones((2, 2)))
    left, square = np.arange(6.0).reshape(2, 3), np.arange(9.0).reshape(3, 3)
    blas = upper_triangular_product(left, square)
    monkeypatch.setattr(triangular, "_strmm", lambda: None)  # a SciPy without the Cython BLAS table
    np.testing.assert_array_equal(upper_triangular_product(left, square), blas)


def test_upper_triangular_product_releases_the_gil():
    """While one thread is inside the product, another runs Python: only possible when the call
    releases the GIL (``scipy.linalg.blas.strmm`` does not, and meta's targets then run one at a
    time). Counted as ticks of the other thread inside the call's interval, not as a speed."""
    import threading
    import time

    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    left, square = rng.normal(size=(2000, 1500)).astype(np.float32), rng.normal(size=(1500, 1500))
    upper_triangular_product(left[:2], square)  # loads the BLAS before the limit
    span: list[float] = []
    ticks: list[float] = []
    done = threading.Event()

    def work() -> None:
        time.sleep(0.02)  # the watcher is ticking by now
        span.append(time.perf_counter())
        upper_triangular_product(left, square)
        span.append(time.perf_counter())
        done.set()

    def watcher() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())

    with threadpool_limits(limits=1, user_api="blas"):
        threads = [threading.Thread(target=watcher), threading.Thread(target=work)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    start, stop = span
    inside = sum(start < t < stop for t in ticks)
    assert inside > 1000, (inside, stop - start)  # Python ran all through the product


def test_upper_triangular_product_scale():
    left, square = np.arange(6.0).reshape(2, 3), np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(upper_triangular_product(left, square, scale=2.0),
                                  2 * upper_triangular_product(left, square))
