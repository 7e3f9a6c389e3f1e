"""HSIC building blocks shared by the CKA family (full batch, minibatch and streaming).

Every function returns HSIC *up to the factor that cancels in CKA*: the biased
estimator ``tr(K H L H) / (N - 1)^2`` is returned without ``1 / (N - 1)^2``, the
unbiased estimator of Song et al. (2012) without ``1 / (N (N - 3))``. A CKA value
is ``hsic_xy / sqrt(hsic_xx * hsic_yy)`` of three numbers from the same function.

The unbiased estimator is computed in the form of Szekely & Rizzo (2014): the
"U-centred" Gram matrix

    K~_ij = K_ij - r_i / (N - 2) - r_j / (N - 2) + t / ((N - 1) (N - 2)),  K~_ii = 0,

(``r`` the row sums and ``t`` the total of ``K`` with its diagonal zeroed) gives
``N (N - 3) HSIC_1 = <K~, L~>_F``, equal to Song et al.'s

    tr(K0 L0) + (1'K0 1)(1'L0 1) / ((N - 1)(N - 2)) - 2 / (N - 2) 1'K0 L0 1

with ``K0, L0`` the Gram matrices with zeroed diagonals. For the linear kernel on
centred features ``x_i`` (so ``K 1 = 0``) this reduces to

    ||X'Y||_F^2 - N / (N - 2) sum_i ||x_i||^2 ||y_i||^2
        + ||X||_F^2 ||Y||_F^2 / ((N - 1)(N - 2)),

the feature-space form (cost ``N D^2`` instead of ``N^2 D``). Both forms are
exactly invariant to adding ``g_i + g_j + c`` to the off-diagonal kernel entries,
hence to translating the features: centring first changes nothing but rounding.
"""

from __future__ import annotations

import numpy as np

from transferscope.errors import InputError

__all__ = [
    "center_columns",
    "debiased_numerator",
    "feature_space_hsic",
    "gram_space_hsic",
    "cka_from_hsic",
    "feature_space_is_cheaper",
]


def center_columns(x: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """``x`` minus its column means: a new array, or ``x`` itself centred with ``in_place`` (for
    a caller's own float copy)."""
    if in_place:
        x -= x.mean(axis=0, keepdims=True)
        return x
    return x - x.mean(axis=0, keepdims=True)


def debiased_numerator(cross_sq: float, diag_dot: float, trace_x: float, trace_y: float, n: int) -> float:
    """``N (N - 3)`` times the unbiased linear HSIC, from centred-feature statistics.

    ``cross_sq = ||X'Y||_F^2``, ``diag_dot = sum_i ||x_i||^2 ||y_i||^2``,
    ``trace_x = ||X||_F^2``, ``trace_y = ||Y||_F^2``, all for column-centred data.
    """
    return cross_sq - n / (n - 2.0) * diag_dot + trace_x * trace_y / ((n - 1.0) * (n - 2.0))


def feature_space_hsic(xc: np.ndarray, yc: np.ndarray, *, debiased: bool) -> tuple[float, float, float]:
    """``(hsic_xy, hsic_xx, hsic_yy)`` for the linear kernel from centred features."""
    cross_sq = float(np.sum((xc.T @ yc) ** 2))
    xx_sq = float(np.sum((xc.T @ xc) ** 2))
    yy_sq = float(np.sum((yc.T @ yc) ** 2))
    if not debiased:
        return cross_sq, xx_sq, yy_sq
    n = xc.shape[0]
    dx = np.einsum("ij,ij->i", xc, xc)
    dy = np.einsum("ij,ij->i", yc, yc)
    tx, ty = float(dx.sum()), float(dy.sum())
    return (
        debiased_numerator(cross_sq, float(dx @ dy), tx, ty, n),
        debiased_numerator(xx_sq, float(dx @ dx), tx, tx, n),
        debiased_numerator(yy_sq, float(dy @ dy), ty, ty, n),
    )


def _double_center(gram: np.ndarray) -> np.ndarray:
    """``H K H`` with ``H = I - 11'/N``, in place."""
    col = gram.mean(axis=0)
    gram -= col[None, :]
    gram -= (col - col.mean())[:, None]
    return gram


def _u_center(gram: np.ndarray) -> np.ndarray:
    """The U-centred Gram matrix of Szekely & Rizzo (2014), in place."""
    n = gram.shape[0]
    np.fill_diagonal(gram, 0.0)
    row = gram.sum(axis=0) / (n - 2.0)
    shift = row - row.sum() / (2.0 * (n - 1.0))
    gram -= shift[None, :]
    gram -= shift[:, None]
    np.fill_diagonal(gram, 0.0)
    return gram


def gram_space_hsic(gram_x: np.ndarray, gram_y: np.ndarray, *, debiased: bool) -> tuple[float, float, float]:
    """``(hsic_xy, hsic_xx, hsic_yy)`` from two symmetric ``N x N`` kernels (overwritten)."""
    center = _u_center if debiased else _double_center
    kx, ky = center(gram_x), center(gram_y)
    return float(np.vdot(kx, ky)), float(np.vdot(kx, kx)), float(np.vdot(ky, ky))


def cka_from_hsic(hsic_xy: float, hsic_xx: float, hsic_yy: float, *, names: tuple[str, str] = ("X", "Y")) -> float:
    """``hsic_xy / sqrt(hsic_xx * hsic_yy)``, or :class:`InputError` when a self-term is not positive."""
    for name, value in zip(names, (hsic_xx, hsic_yy)):
        if not value > 0.0:
            raise InputError(
                f"{name} has no usable variance: its HSIC with itself is {value:.3g}, so CKA is undefined "
                "(constant or near-constant features)"
            )
    return float(hsic_xy / np.sqrt(hsic_xx * hsic_yy))


def feature_space_is_cheaper(n: int, dx: int, dy: int) -> bool:
    """Whether ``X'Y, X'X, Y'Y`` (``N (dx^2 + dy^2 + dx dy)``) beat the Gram matrices (``N^2 (dx + dy)``)."""
    return dx * dx + dy * dy + dx * dy <= n * (dx + dy)
