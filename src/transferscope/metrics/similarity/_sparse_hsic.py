"""HSIC of sparse, non-symmetric masked kernels, as CKNNA (platonic-rep's ``cknna``) writes it.

Not the computation of :mod:`~transferscope.metrics.similarity._hsic`: that module
centres dense *symmetric* Gram matrices (U-centring, Szekely & Rizzo 2014) and drops
the factor that cancels in CKA. A CKNNA kernel keeps each row's ``k`` neighbours only,
so it is sparse and not symmetric (``j`` among ``i``'s neighbours does not make ``i``
one of ``j``'s); :func:`sparse_hsic` evaluates Song et al.'s sums on it directly, in
``O(N k)``, with the factor ``1 / (N (N - 3))`` included (the reference's ``+ 1e-6``
in the denominator makes the absolute value matter).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["masked_kernel", "sparse_hsic"]


def masked_kernel(indices: np.ndarray, values: np.ndarray, n: int) -> sp.csr_matrix:
    """Sparse ``N x N`` kernel holding ``values[i, t]`` at ``(i, indices[i, t])``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity._sparse_hsic import masked_kernel
    >>> masked_kernel(np.array([[1], [0], [1]]), np.array([[0.5], [0.25], [2.0]]), 3).toarray().tolist()
    [[0.0, 0.5, 0.0], [0.25, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """
    rows = np.repeat(np.arange(n), indices.shape[1])
    return sp.csr_matrix((values.ravel(), (rows, indices.ravel())), shape=(n, n))


def sparse_hsic(k_mat: sp.csr_matrix, l_mat: sp.csr_matrix, *, unbiased: bool) -> float:
    """HSIC of two (not necessarily symmetric) masked kernels, as platonic-rep writes it.

    Unbiased (Song et al. 2012, zero diagonal):
    ``[sum(K ∘ L^T) + sum(K) sum(L) / ((n-1)(n-2)) - 2 (K^T 1)·(L 1) / (n-2)] / (n (n-3))``.
    Biased: ``trace(K H L H)`` with ``H = I - 11^T / n``.

    Examples
    --------
    On a dense symmetric kernel the biased form is ``trace(K H K H)``:

    >>> import numpy as np, scipy.sparse as sp
    >>> from transferscope.metrics.similarity._sparse_hsic import sparse_hsic
    >>> x = np.random.default_rng(0).normal(size=(6, 2))
    >>> gram, h = x @ x.T, np.eye(6) - 1.0 / 6
    >>> k = sp.csr_matrix(gram)
    >>> bool(np.isclose(sparse_hsic(k, k, unbiased=False), np.trace(gram @ h @ gram @ h)))
    True
    """
    n = k_mat.shape[0]
    cross = float(k_mat.multiply(l_mat.T).sum())
    k_cols, k_rows = np.asarray(k_mat.sum(axis=0)).ravel(), np.asarray(k_mat.sum(axis=1)).ravel()
    l_cols, l_rows = np.asarray(l_mat.sum(axis=0)).ravel(), np.asarray(l_mat.sum(axis=1)).ravel()
    k_sum, l_sum = k_rows.sum(), l_rows.sum()
    if unbiased:
        return (cross + k_sum * l_sum / ((n - 1) * (n - 2)) - 2.0 * (k_cols @ l_rows) / (n - 2)) / (n * (n - 3))
    return cross - (l_cols @ k_rows + k_cols @ l_rows) / n + k_sum * l_sum / n**2
