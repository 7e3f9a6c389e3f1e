"""CKNNA: centred kernel alignment on the pairs that are nearest neighbours in both representations.

:func:`cknna` (Huh et al. 2024) masks the kernels of ``X`` and ``Y`` to each sample's
``k`` nearest neighbours (through :func:`~transferscope.metrics._neighbors.nearest_neighbors`:
FAISS, exact by default, ties broken toward the lower index); the masked kernels are
sparse (``O(N k)`` entries), and their HSIC comes from
:mod:`~transferscope.metrics.similarity._sparse_hsic`.

Reference conventions (``variant=``)
------------------------------------
- ``cknna(variant="platonic")``: platonic-rep's ``cknna`` divides by
  ``sqrt(HSIC_KK HSIC_LL) + 1e-6``. On unit-norm rows the HSIC terms are of
  order ``k/N`` times the squared cosines of neighbours, so the ``1e-6`` lowers
  values by 3e-5 to 8e-3 relative (more for larger N and D), keeps
  ``cknna(X, X)`` below 1 and, with ``kernel="linear"``, makes the value depend
  on the scale of the data. It is the only difference in float64 (agreement to
  ~1e-15); the reference's float32 arithmetic (as ``measure_alignment`` runs it)
  moves values by a further ~1e-7 relative, and its ``torch.topk`` breaks ties
  (duplicated rows) in an unspecified order where this module takes the lower index.
  Its figures also depend on ``measure_alignment``'s preprocessing, outside the
  measure: each feature tensor clamped to the 0.95 quantile of its absolute
  values (``prepare_features``), then rows normalised, the best layer pair kept.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._neighbors import nearest_neighbors
from transferscope.metrics._validation import check_choice, check_paired_features, check_positive_int
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo
from transferscope.metrics.similarity._sparse_hsic import masked_kernel, sparse_hsic

__all__ = ["cknna"]


def cknna(
    X: Any,
    Y: Any,
    *,
    k: int = 10,
    kernel: Literal["cosine", "linear"] = "cosine",
    unbiased: bool = True,
    search: Literal["exact", "approximate"] = "exact",
    variant: Literal["default", "platonic"] = "default",
) -> float:
    """Centred kernel nearest-neighbour alignment (CKNNA, Huh et al. 2024).

    CKA computed only on pairs ``(i, j)`` that are among each other's ``k``
    nearest neighbours in both representations: with the linear kernels
    ``K = X X^T``, ``L = Y Y^T`` and the mask ``M_ij = 1[j in A_i and j in B_i]``
    (``A_i``, ``B_i``: the ``k`` nearest other samples of ``i`` by kernel value),

        CKNNA = HSIC(M ∘ K, M ∘ L) / sqrt(HSIC(M_K ∘ K, M_K ∘ K) HSIC(M_L ∘ L, M_L ∘ L)),

    where ``M_K``, ``M_L`` are the masks of ``X`` and ``Y`` alone and HSIC is
    the unbiased estimator of Song et al. (2012) as platonic-rep's ``cknna``
    applies it to these non-symmetric masked kernels. The masks have ``N k``
    entries, so this runs in ``O(N k)`` after the neighbour search.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    k : int, default=10
        Neighbours per sample (platonic-rep's ``topk``); at least 2.
    kernel : {"cosine", "linear"}, default="cosine"
        ``"cosine"``: rows normalised to unit length first, as platonic-rep's
        ``measure_alignment`` does; ``"linear"``: raw inner products.
    unbiased : bool, default=True
        Unbiased HSIC with neighbours other than the sample itself (the
        reference default); ``False``: biased HSIC ``trace(K H L H)`` with each
        sample allowed among its own ``k`` neighbours.
    search : {"exact", "approximate"}, default="exact"
    variant : {"default", "platonic"}, default="default"
        ``"default"``: the ratio above. ``"platonic"``: platonic-rep's
        ``cknna``, which divides by ``sqrt(HSIC_KK HSIC_LL) + 1e-6``; the figures
        of Huh et al. 2024 were computed with it (on unit-norm rows, in float32).

    Returns
    -------
    float
        1 for ``X`` compared with itself, near 0 for unrelated representations.
        NaN if a self-alignment term is not positive (degenerate data).

    Notes
    -----
    Differences from platonic-rep ``cknna``: no ``1e-6`` is added to the
    denominator (``variant="platonic"`` adds it). On unit-norm rows it lowers
    values by 3e-5 to 8e-3 relative, growing with N and D as the HSIC terms
    shrink; it makes ``cknna(X, X) = h / (h + 1e-6) < 1`` and, for
    ``kernel="linear"``, a value that changes with the scale of the data,
    so the default leaves it out (see the module notes for float32). Like the
    reference, the value is not exactly symmetric in ``X`` and ``Y``: its HSIC
    term ``1^T K L 1`` is not symmetric for the non-symmetric masked kernels.

    References
    ----------
    Huh, Cheung, Wang & Isola, The Platonic Representation Hypothesis, ICML 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.cknna import cknna
    >>> X = np.random.default_rng(0).normal(size=(200, 8))
    >>> round(cknna(X, X, k=10), 12)
    1.0
    >>> cknna(X, X, k=10, variant="platonic") < 1.0
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    kernel = check_choice(kernel, ("cosine", "linear"), name="kernel")
    k = check_positive_int(k, name="k", minimum=2)
    search = check_choice(search, ("exact", "approximate"), name="search")
    platonic = check_choice(variant, ("default", "platonic"), name="variant") == "platonic"
    if not isinstance(unbiased, (bool, np.bool_)):
        raise InputError(f"unbiased must be True or False, got {unbiased!r}")
    n = x.shape[0]
    if unbiased and n < 4:
        raise InputError(f"cknna with unbiased=True needs at least 4 samples, got {n}")
    metric = "cosine" if kernel == "cosine" else "inner_product"
    kernels, patterns = [], []
    for points in (x, y):
        dist, idx = nearest_neighbors(points, k, metric=metric, exclude_self=bool(unbiased), search=search)
        values = 1.0 - dist if metric == "cosine" else -dist  # kernel value of each neighbour
        kernels.append(masked_kernel(idx, values, n))
        patterns.append(masked_kernel(idx, np.ones_like(values), n))
    k_mat, l_mat = kernels
    both = patterns[0].multiply(patterns[1])  # M: neighbours in both
    cross = sparse_hsic(both.multiply(k_mat).tocsr(), both.multiply(l_mat).tocsr(), unbiased=bool(unbiased))
    self_k = sparse_hsic(k_mat, k_mat, unbiased=bool(unbiased))
    self_l = sparse_hsic(l_mat, l_mat, unbiased=bool(unbiased))
    denominator = self_k * self_l
    if platonic:  # the reference's 1e-6, added to the square root
        return float(cross / (np.sqrt(denominator) + 1e-6)) if denominator >= 0 else float("nan")
    return float(cross / np.sqrt(denominator)) if denominator > 0 else float("nan")


METRICS = [
    MetricInfo(
        name="cknna",
        family="similarity",
        func=cknna,
        summary="CKA of cosine kernels restricted to pairs that are k nearest neighbours in both.",
        citation="Huh, Cheung, Wang & Isola, The Platonic Representation Hypothesis, ICML 2024",
        complexity="O(N^2 D) exact FAISS search + O(N k) sparse HSIC",
        unreliable_when="few shared neighbours (tiny k): the masked kernels are nearly empty; "
        "not exactly symmetric (as in the reference)",
        measure=MeasureProperties(
            kind="similarity",
            symmetric=False,
            is_metric=False,
            range=(None, None),
            identity=1.0,
            # Cosine neighbours and kernels: a translation or a general linear map of Y moves them.
            invariant=Invariances.all_except("translation", "invertible_linear"),
        ),
    ),
]
