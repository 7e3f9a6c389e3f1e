"""Exact one-pass linear CKA over batches: memory ``O(D^2)`` whatever the number of rows.

Linear CKA needs only second- and fourth-order sums over rows, so it can be
accumulated batch by batch and evaluated in closed form at the end, giving the
same number as :func:`~transferscope.metrics.similarity.cka.cka` on all rows at
once (up to rounding), for both the biased and the debiased (unbiased HSIC)
estimator. This is not an approximation, unlike
:func:`~transferscope.metrics.similarity.cka.minibatch_cka`.

Running float64 sums, for rows ``x_i``, ``y_i`` shifted by the first batch's
column means (CKA is translation invariant, the debiased estimator exactly so;
the shift only keeps the sums well conditioned for data far from the origin):

- biased: ``X'X``, ``Y'Y``, ``X'Y``, ``sum_i x_i``, ``sum_i y_i``;
- debiased, in addition: ``sum_i ||x_i||^4``, ``sum_i ||y_i||^4``,
  ``sum_i ||x_i||^2 ||y_i||^2``, ``sum_i x_i ||x_i||^2``, ``sum_i x_i ||y_i||^2``,
  ``sum_i y_i ||y_i||^2``, ``sum_i y_i ||x_i||^2``.

From them, with means ``m_x, m_y`` and centred rows ``c_i = x_i - m_x``,
``d_i = y_i - m_y``: ``Xc'Yc = X'Y - N m_x m_y'`` and
``sum_i ||c_i||^2 ||d_i||^2`` by expanding
``(||x_i||^2 - 2 x_i.m_x + ||m_x||^2)(||y_i||^2 - 2 y_i.m_y + ||m_y||^2)``, which is
all the feature-space formula of the unbiased HSIC needs (see ``_hsic.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import check_features
from transferscope.metrics.similarity._hsic import cka_from_hsic, debiased_numerator

__all__ = ["StreamingLinearCKA", "streaming_linear_cka"]

METRICS: list = []  # an accumulator, not a registered measure


def _centered_norm_product(
    n: int,
    sum_sq_prod: float,
    a_by_b: np.ndarray,
    b_by_a: np.ndarray,
    a_t_b: np.ndarray,
    mean_a: np.ndarray,
    mean_b: np.ndarray,
    sq_a: float,
    sq_b: float,
) -> float:
    """``sum_i ||a_i - m_a||^2 ||b_i - m_b||^2`` from raw sums over the rows.

    ``sum_sq_prod = sum ||a_i||^2 ||b_i||^2``, ``a_by_b = sum a_i ||b_i||^2``,
    ``b_by_a = sum b_i ||a_i||^2``, ``a_t_b = A'B``, ``sq_a = sum ||a_i||^2``.
    """
    ga, gb = float(mean_a @ mean_a), float(mean_b @ mean_b)
    return (
        sum_sq_prod
        - 2.0 * float(mean_b @ b_by_a)
        - 2.0 * float(mean_a @ a_by_b)
        + 4.0 * float(mean_a @ a_t_b @ mean_b)
        + gb * sq_a
        + ga * sq_b
        - 3.0 * n * ga * gb
    )


class StreamingLinearCKA:
    """Accumulate two representations batch by batch; :meth:`value` is their exact linear CKA.

    Memory is ``O((d_x + d_y)^2)``; each :meth:`update` costs ``O(B (d_x + d_y)^2)``
    for a batch of ``B`` rows. Batches may have any number of rows (at least 1), but
    every batch must have the same widths ``d_x``, ``d_y`` as the first.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.cka import cka
    >>> from transferscope.metrics.similarity.streaming import StreamingLinearCKA
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 8)) + 100.0
    >>> Y = X @ rng.normal(size=(8, 4)) + rng.normal(size=(1000, 4))
    >>> acc = StreamingLinearCKA()
    >>> for start in range(0, 1000, 300):
    ...     acc.update(X[start:start + 300], Y[start:start + 300])
    >>> acc.n_samples
    1000
    >>> bool(np.isclose(acc.value(), cka(X, Y), rtol=1e-12))
    True
    >>> bool(np.isclose(acc.value(debiased=True), cka(X, Y, estimator="debiased"), rtol=1e-12))
    True
    """

    def __init__(self) -> None:
        self._n = 0
        self._shift_x: np.ndarray | None = None
        self._shift_y: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        """Number of rows accumulated so far."""
        return self._n

    def update(self, x_batch: Any, y_batch: Any) -> None:
        """Add a batch: rows of ``x_batch`` and ``y_batch`` represent the same inputs."""
        x = check_features(x_batch, name="x_batch")
        y = check_features(y_batch, name="y_batch")
        if x.shape[0] != y.shape[0]:
            raise InputError(
                f"x_batch has {x.shape[0]} rows but y_batch has {y.shape[0]}; "
                "both must represent the same inputs, row for row"
            )
        if self._shift_x is None:
            self._start(x, y)
        for name, arr, shift in (("x_batch", x, self._shift_x), ("y_batch", y, self._shift_y)):
            if arr.shape[1] != shift.shape[0]:
                raise InputError(
                    f"{name} has {arr.shape[1]} columns but earlier batches had {shift.shape[0]}"
                )
        x -= self._shift_x  # x, y are private float64 copies
        y -= self._shift_y
        if self._constant_x:
            self._constant_x = bool(np.all(x == 0.0))
        if self._constant_y:
            self._constant_y = bool(np.all(y == 0.0))
        sq_x = np.einsum("ij,ij->i", x, x)
        sq_y = np.einsum("ij,ij->i", y, y)
        self._n += x.shape[0]
        self._sum_x += x.sum(axis=0)
        self._sum_y += y.sum(axis=0)
        self._xtx += x.T @ x
        self._yty += y.T @ y
        self._xty += x.T @ y
        self._sq_x += sq_x.sum()
        self._sq_y += sq_y.sum()
        self._x4 += sq_x @ sq_x
        self._y4 += sq_y @ sq_y
        self._x2y2 += sq_x @ sq_y
        self._x_by_x += sq_x @ x
        self._x_by_y += sq_y @ x
        self._y_by_y += sq_y @ y
        self._y_by_x += sq_x @ y

    def _start(self, x: np.ndarray, y: np.ndarray) -> None:
        dx, dy = x.shape[1], y.shape[1]
        self._shift_x = x.mean(axis=0)
        self._shift_y = y.mean(axis=0)
        # Whether every row equals the first row (exactly): then CKA is undefined.
        self._constant_x = bool(np.all(x == x[0]))
        self._constant_y = bool(np.all(y == y[0]))
        if self._constant_x:
            self._shift_x = x[0].copy()
        if self._constant_y:
            self._shift_y = y[0].copy()
        self._sum_x, self._sum_y = np.zeros(dx), np.zeros(dy)
        self._xtx, self._yty, self._xty = np.zeros((dx, dx)), np.zeros((dy, dy)), np.zeros((dx, dy))
        self._sq_x = self._sq_y = self._x4 = self._y4 = self._x2y2 = 0.0
        self._x_by_x, self._x_by_y = np.zeros(dx), np.zeros(dx)
        self._y_by_y, self._y_by_x = np.zeros(dy), np.zeros(dy)

    def value(self, *, debiased: bool = False) -> float:
        """Linear CKA of all rows so far: biased (default) or debiased (unbiased HSIC)."""
        if not isinstance(debiased, (bool, np.bool_)):
            raise InputError(f"debiased must be True or False, got {debiased!r}")
        n = self._n
        minimum = 4 if debiased else 2
        if n < minimum:
            estimator = "debiased" if debiased else "biased"
            raise InputError(f"{estimator} CKA needs at least {minimum} rows, {n} accumulated so far")
        for name, constant in (("X", self._constant_x), ("Y", self._constant_y)):
            if constant:
                raise InputError(f"{name} is constant (all rows are identical), so CKA is undefined")
        mx, my = self._sum_x / n, self._sum_y / n
        cxy = self._xty - n * np.outer(mx, my)
        cxx = self._xtx - n * np.outer(mx, mx)
        cyy = self._yty - n * np.outer(my, my)
        hsic = [float(np.sum(cxy**2)), float(np.sum(cxx**2)), float(np.sum(cyy**2))]
        if debiased:
            # Centred ||c_i||^2 sums: traces of the centred cross-products.
            tx, ty = float(np.trace(cxx)), float(np.trace(cyy))
            dxy = _centered_norm_product(
                n, self._x2y2, self._x_by_y, self._y_by_x, self._xty, mx, my, self._sq_x, self._sq_y
            )
            dxx = _centered_norm_product(
                n, self._x4, self._x_by_x, self._x_by_x, self._xtx, mx, mx, self._sq_x, self._sq_x
            )
            dyy = _centered_norm_product(
                n, self._y4, self._y_by_y, self._y_by_y, self._yty, my, my, self._sq_y, self._sq_y
            )
            hsic = [
                debiased_numerator(hsic[0], dxy, tx, ty, n),
                debiased_numerator(hsic[1], dxx, tx, tx, n),
                debiased_numerator(hsic[2], dyy, ty, ty, n),
            ]
        return cka_from_hsic(*hsic)


def streaming_linear_cka(batches: Iterable[tuple[Any, Any]], *, debiased: bool = False) -> float:
    """Exact linear CKA of ``(x_batch, y_batch)`` pairs streamed once, in ``O(D^2)`` memory.

    Equal to ``cka(np.vstack(xs), np.vstack(ys), estimator=...)`` up to rounding.

    Parameters
    ----------
    batches : iterable of (array-like, array-like)
        Pairs of row blocks of ``X`` and ``Y``; row ``i`` of both blocks is the same input.
    debiased : bool, default=False
        Use the unbiased HSIC estimator of Song et al. (2012).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.streaming import streaming_linear_cka
    >>> rng = np.random.default_rng(0)
    >>> def batches():
    ...     for _ in range(10):
    ...         z = rng.normal(size=(500, 4))
    ...         yield z, 2.0 * z + 1.0
    >>> round(streaming_linear_cka(batches()), 10)
    1.0
    """
    acc = StreamingLinearCKA()
    for item in batches:
        try:
            x_batch, y_batch = item
        except (TypeError, ValueError):
            raise InputError("batches must yield (x_batch, y_batch) pairs") from None
        acc.update(x_batch, y_batch)
    if acc.n_samples == 0:
        raise InputError("batches is empty")
    return acc.value(debiased=debiased)
