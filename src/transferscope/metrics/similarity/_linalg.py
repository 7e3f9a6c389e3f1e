"""Linear-algebra helpers shared by the CCA, Procrustes and regression measures.

Every measure here sees a representation through the principal directions of
its centred data ``X_c = U diag(s) V^T``, computed from the eigendecomposition
of the smaller Gram matrix (``X_c^T X_c`` when ``N >= D``, else ``X_c X_c^T``):
one matrix product and a small ``eigh``, several times faster than an SVD or a
QR of the tall ``N x D`` matrix. For ``N >= D`` the left vectors
``X_c V / s`` are re-orthonormalised by one Cholesky-QR step, so that they are
orthonormal to rounding even when the spectrum spans many orders of magnitude.

Directions whose variance ``s_i^2`` is at most ``max(N, D) * eps`` times the
largest are treated as absent (``eps`` the float64 machine epsilon; singular
values below about ``1e-6`` of the largest, far below the precision of float32
embeddings). Constant or duplicated columns and the direction removed by
centring (rank at most ``N - 1``) are dropped this way, so rank-deficient
inputs and ``N < D`` give the exact answer for the subspace the data span
instead of amplified rounding noise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg import LinAlgError, cholesky, solve_triangular

from transferscope.errors import InputError

__all__ = ["Spectrum", "centred_spectrum", "canonical_correlations", "singular_values"]


class Spectrum(NamedTuple):
    """Principal directions of a centred representation, negligible ones removed.

    ``u`` is ``(N, r)`` with orthonormal columns spanning the centred data,
    leading directions first, and ``s`` the ``r`` singular values (descending):
    ``X - mean ~= u @ diag(s) @ V^T`` for some ``V`` with orthonormal columns.
    """

    u: np.ndarray
    s: np.ndarray


def _orthonormalise(u: np.ndarray) -> np.ndarray:
    """Cholesky-QR of a nearly orthonormal ``u``, written over ``u`` (the caller's temporary);
    keeps the span of every leading block."""
    try:
        lower = cholesky(u.T @ u, lower=True)
    except LinAlgError:  # only if u is far from orthonormal; Householder QR then
        return np.linalg.qr(u)[0]
    return solve_triangular(lower, u.T, lower=True, overwrite_b=True).T


def centred_spectrum(X: np.ndarray, *, name: str, overwrite: bool = False) -> Spectrum:
    """Principal directions and singular values of ``X`` with its column means removed
    (with ``overwrite``, removed in place: ``X`` is then the caller's own copy).

    Raises :class:`InputError` naming ``name`` if nothing varies.
    """
    centred = X - X.mean(axis=0) if not overwrite else np.subtract(X, X.mean(axis=0), out=X)
    n, d = centred.shape
    tall = d <= n
    lam, vecs = np.linalg.eigh(centred.T @ centred if tall else centred @ centred.T)
    lam = lam[::-1]
    rank = int(np.count_nonzero(lam > max(lam[0], 0.0) * max(n, d) * np.finfo(np.float64).eps))
    if rank == 0:
        raise InputError(f"{name} has no variance: every column is constant across the rows")
    s = np.sqrt(lam[:rank])
    leading = np.ascontiguousarray(vecs[:, ::-1][:, :rank])
    u = _orthonormalise(centred @ (leading / s)) if tall else leading
    return Spectrum(u, s)


def singular_values(matrix: np.ndarray) -> np.ndarray:
    """Singular values of ``matrix`` (descending), an empty array for an empty matrix."""
    if matrix.size == 0:
        return np.zeros(0)
    return np.linalg.svd(matrix, compute_uv=False)


def canonical_correlations(ux: np.ndarray, uy: np.ndarray) -> np.ndarray:
    """Canonical correlations between two subspaces given orthonormal bases.

    They are the cosines of the principal angles, the singular values of
    ``ux^T uy``: ``min(r_x, r_y)`` values in ``[0, 1]``, descending.
    """
    return np.clip(singular_values(ux.T @ uy), 0.0, 1.0)
