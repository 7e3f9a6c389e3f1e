"""Linear-algebra helpers shared by the CCA, Procrustes and regression measures.

Every measure here sees a representation through the thin SVD of its centred
data, ``X - mean = U diag(s) V^T``, with directions whose singular value is
negligible dropped. The cut-off is NumPy's ``matrix_rank`` rule,
``s_i <= s_max * max(N, D) * eps``: constant or duplicated columns and the
missing direction left by centring (rank at most ``N - 1``) are removed, so
rank-deficient inputs and ``N < D`` give the exact answer for the subspace the
data actually span instead of amplified rounding noise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from transferscope.errors import InputError

__all__ = ["Spectrum", "centred_spectrum", "canonical_correlations", "singular_values"]


class Spectrum(NamedTuple):
    """Thin SVD of a centred representation, negligible directions removed.

    ``u`` is ``(N, r)`` with orthonormal columns spanning the centred data,
    ``s`` the ``r`` singular values (descending) and ``vt`` the ``(r, D)``
    right singular vectors, so that ``X - mean == u @ diag(s) @ vt``.
    """

    u: np.ndarray
    s: np.ndarray
    vt: np.ndarray


def centred_spectrum(X: np.ndarray, *, name: str) -> Spectrum:
    """Thin SVD of ``X`` with its column means removed; raise if nothing varies."""
    centred = X - X.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    tol = (s[0] if s.size else 0.0) * max(centred.shape) * np.finfo(np.float64).eps
    rank = int(np.count_nonzero(s > tol))
    if rank == 0:
        raise InputError(f"{name} has no variance: every column is constant across the rows")
    return Spectrum(u[:, :rank], s[:rank], vt[:rank])


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
