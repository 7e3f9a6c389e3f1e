"""Neighbour overlap: do two representations agree on who is near whom?

Each measure finds every sample's ``k`` nearest other samples in ``X`` and in
``Y`` (through :func:`~transferscope.metrics._neighbors.nearest_neighbors`:
FAISS, exact by default, ties broken toward the lower index) and compares the
two neighbour lists row by row:

- :func:`mutual_knn`: mean fraction of shared neighbours ``|A_i ∩ B_i| / k``
  (Huh et al. 2024's mutual nearest neighbours).
- :func:`jaccard`: mean Jaccard index ``|A_i ∩ B_i| / |A_i ∪ B_i|``.
- :func:`rank_similarity`: shared neighbours weighted by how closely their ranks agree.
- :func:`second_order_cosine`: cosine between each sample's similarities to the
  union of its neighbours in ``X`` and in ``Y``.

Only ``O(N k)`` neighbour lists are held. The other neighbour-based measures have
modules of their own: :mod:`~transferscope.metrics.similarity.cknna` (CKA on the pairs
that are neighbours in both) and :mod:`~transferscope.metrics.similarity.information_imbalance`.

Reference conventions (``variant=``)
------------------------------------
- ``second_order_cosine(variant="resi")``: ReSi's
  ``second_order_cosine_similarity`` builds the second-order vectors from cosine
  *distances* ``1 - cos``, Hamilton et al. (2016) from cosine similarities (the
  default). The offset 1 dominates a distance vector wherever neighbours are
  far from parallel, so unrelated high-dimensional representations score near
  1 with distances (0.99 on independent Gaussian data with N = 300, D = 512,
  where the default gives -0.04): as D grows, every cosine of independent
  points tends to 0, every distance to 1 and the ReSi value to 1. That is why
  the default keeps the paper's similarities.
  That convention is the only difference: the variant equals ReSi to ~1e-16.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import numpy as np

from transferscope.metrics._neighbors import nearest_neighbors
from transferscope.metrics._normalize import unit_rows
from transferscope.metrics._validation import check_choice, check_paired_features, check_positive_int
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo

__all__ = ["mutual_knn", "jaccard", "rank_similarity", "second_order_cosine"]

_SEARCHES = ("exact", "approximate")


def _neighbour_lists(
    x: np.ndarray, y: np.ndarray, k: int, metric: str, search: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest other rows in ``x`` and in ``y`` (``N x k`` indices)."""
    check_positive_int(k, name="k")
    search = check_choice(search, _SEARCHES, name="search")
    _, a = nearest_neighbors(x, k, metric=metric, search=search)
    _, b = nearest_neighbors(y, k, metric=metric, search=search)
    return a, b


def _merged(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both lists of each row, sorted by index: ``(indices, 1-based ranks, matched)``.

    Indices are distinct within a list, so an index shared by both lists shows
    up as two equal neighbours in the merged row: ``matched[:, j]`` says that
    positions ``j`` and ``j + 1`` hold the same sample (one from each list).
    """
    k = a.shape[1]
    both = np.concatenate([a, b], axis=1)
    order = np.argsort(both, axis=1, kind="stable")
    merged = np.take_along_axis(both, order, axis=1)
    return merged, order % k + 1, merged[:, 1:] == merged[:, :-1]


def mutual_knn(
    X: Any,
    Y: Any,
    *,
    k: int = 10,
    metric: Literal["cosine", "euclidean"] = "cosine",
    search: Literal["exact", "approximate"] = "exact",
) -> float:
    """Mutual k-nearest-neighbour overlap between two representations.

    ``m(X, Y) = 1/N sum_i |A_i ∩ B_i| / k``, where ``A_i`` and ``B_i`` are the
    ``k`` nearest other samples of sample ``i`` in ``X`` and in ``Y`` (Huh et
    al. 2024, "mutual_knn" of the platonic-rep code, which normalises the rows
    and ranks by inner product: ``metric="cosine"``).

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    k : int, default=10
        Neighbours per sample; at most ``n_samples - 1``.
    metric : {"cosine", "euclidean"}, default="cosine"
    search : {"exact", "approximate"}, default="exact"
        Exact FAISS flat search, or an IVF index (faster at large N; measure
        its recall with ``_neighbors.neighbor_recall``).

    Returns
    -------
    float
        In ``[0, 1]``; 1 when every sample has the same neighbours in both.

    References
    ----------
    Huh, Cheung, Wang & Isola, The Platonic Representation Hypothesis, ICML 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.neighbor_overlap import mutual_knn
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> mutual_knn(X, 3.0 * X, k=5)
    1.0
    >>> mutual_knn(X, np.random.default_rng(1).normal(size=(100, 8)), k=5) < 0.2
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    metric = check_choice(metric, ("cosine", "euclidean"), name="metric")
    a, b = _neighbour_lists(x, y, k, metric, search)
    _, _, matched = _merged(a, b)
    return float(matched.sum(axis=1).mean() / a.shape[1])


def jaccard(
    X: Any,
    Y: Any,
    *,
    k: int = 10,
    metric: Literal["cosine", "euclidean"] = "cosine",
    search: Literal["exact", "approximate"] = "exact",
) -> float:
    """Mean Jaccard index of the k-nearest-neighbour sets.

    ``J(X, Y) = 1/N sum_i |A_i ∩ B_i| / |A_i ∪ B_i|`` with ``A_i``, ``B_i`` the
    ``k`` nearest other samples of ``i`` in ``X`` and in ``Y``. A monotone
    function of each row's overlap ``m_i``: ``m_i / (2k - m_i)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    k : int, default=10
    metric : {"cosine", "euclidean"}, default="cosine"
    search : {"exact", "approximate"}, default="exact"

    Returns
    -------
    float
        In ``[0, 1]``.

    References
    ----------
    Klabunde, Schumacher, Strohmaier & Lemmerich, Similarity of Neural Network
    Models: A Survey of Functional and Representational Measures, ACM Computing
    Surveys 2025 (arXiv 2023); ReSi ``jaccard_similarity``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.neighbor_overlap import jaccard
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> jaccard(X, X[:, ::-1], k=5)
    1.0
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    metric = check_choice(metric, ("cosine", "euclidean"), name="metric")
    a, b = _neighbour_lists(x, y, k, metric, search)
    _, _, matched = _merged(a, b)
    shared = matched.sum(axis=1)
    return float(np.mean(shared / (2 * a.shape[1] - shared)))


def rank_similarity(
    X: Any,
    Y: Any,
    *,
    k: int = 10,
    metric: Literal["cosine", "euclidean"] = "cosine",
    search: Literal["exact", "approximate"] = "exact",
) -> float:
    """Rank similarity of the k-nearest-neighbour lists.

    For each sample ``i`` and each shared neighbour ``j`` with ranks ``r_j`` in
    ``X`` and ``r'_j`` in ``Y`` (1 = nearest),

        s_i = (sum_j 2 / ((1 + |r_j - r'_j|)(r_j + r'_j))) / (sum_{t=1}^{m_i} 1/t),

    over the ``m_i`` shared neighbours (``s_i = 0`` without any), and the score
    is the mean of ``s_i``. Shared neighbours near the top of both lists with
    equal ranks count most; ``s_i = 1`` when the first ``m_i`` ranks agree.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    k : int, default=10
    metric : {"cosine", "euclidean"}, default="cosine"
    search : {"exact", "approximate"}, default="exact"

    Returns
    -------
    float
        In ``[0, 1]``.

    References
    ----------
    Wang, Rao, Guo, Wang, Liu & Guan, Towards Understanding the Instability of
    Network Embedding, IEEE TKDE 2020; as implemented in ReSi ``rank_similarity``
    (Klabunde et al. 2023).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.neighbor_overlap import rank_similarity
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> rank_similarity(X, 2.0 * X, k=5)
    1.0
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    metric = check_choice(metric, ("cosine", "euclidean"), name="metric")
    a, b = _neighbour_lists(x, y, k, metric, search)
    _, ranks, matched = _merged(a, b)
    first, second = ranks[:, :-1], ranks[:, 1:]
    terms = np.where(matched, 2.0 / ((1.0 + np.abs(first - second)) * (first + second)), 0.0)
    shared = matched.sum(axis=1)
    harmonic = np.concatenate([[1.0], np.cumsum(1.0 / np.arange(1, a.shape[1] + 1))])  # H(0) unused
    return float(np.mean(np.where(shared > 0, terms.sum(axis=1) / harmonic[shared], 0.0)))


def second_order_cosine(
    X: Any,
    Y: Any,
    *,
    k: int = 10,
    search: Literal["exact", "approximate"] = "exact",
    batch_size: int = 1024,
    variant: Literal["default", "resi"] = "default",
) -> float:
    """Second-order cosine similarity (Hamilton et al. 2016's local neighbourhood measure).

    For each sample ``i`` let ``U_i = A_i ∪ B_i`` be the union of its ``k``
    nearest other samples (by cosine) in ``X`` and in ``Y``; the second-order
    vectors ``s_i = (cos(x_i, x_j))_{j in U_i}`` and ``s'_i = (cos(y_i, y_j))_{j in U_i}``
    are compared by cosine, and the score is ``1/N sum_i cos(s_i, s'_i)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    k : int, default=10
    search : {"exact", "approximate"}, default="exact"
    batch_size : int, default=1024
        Rows per block (memory ~ batch x 2k x (d_x + d_y) floats).
    variant : {"default", "resi"}, default="default"
        ``"default"``: second-order vectors of cosine similarities (the paper).
        ``"resi"``: of cosine distances ``1 - cos``, as ReSi's
        ``SecondOrderCosineSimilarity``, which computed the ReSi benchmark's
        values (Klabunde et al. 2025); then in ``[0, 1]``.

    Returns
    -------
    float
        In ``[-1, 1]``; 1 for identical neighbourhood similarity profiles.

    Notes
    -----
    The second-order vectors hold cosine *similarities*, as in the paper.
    ReSi's ``second_order_cosine_similarity`` uses cosine distances
    ``1 - cos`` instead (``variant="resi"``), which gives different values: the
    constant 1 in every distance pulls the cosine of two distance vectors
    toward 1, so unrelated high-dimensional representations score near 1
    (see the module notes). A sample whose second-order vectors are zero (all
    union neighbours orthogonal to it, or for ``"resi"`` all parallel to it)
    scores 0; ReSi returns NaN for the latter (0/0).

    References
    ----------
    Hamilton, Leskovec & Jurafsky, Cultural Shift or Linguistic Drift? Comparing
    Two Computational Measures of Semantic Change, EMNLP 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.neighbor_overlap import second_order_cosine
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> round(second_order_cosine(X, 5.0 * X), 12)
    1.0
    >>> Y = np.random.default_rng(1).normal(size=(100, 8))
    >>> second_order_cosine(X, Y) < second_order_cosine(X, Y, variant="resi")
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    batch_size = check_positive_int(batch_size, name="batch_size")
    distances = check_choice(variant, ("default", "resi"), name="variant") == "resi"
    a, b = _neighbour_lists(x, y, k, "cosine", search)
    merged, _, matched = _merged(a, b)
    keep = np.ones(merged.shape, dtype=bool)
    keep[:, 1:] = ~matched  # each shared neighbour once
    ux, uy = unit_rows(x, zero_rows="keep"), unit_rows(y, zero_rows="keep")
    scores = np.empty(x.shape[0])
    for start in range(0, x.shape[0], batch_size):
        rows = slice(start, min(start + batch_size, x.shape[0]))
        s = np.einsum("nmd,nd->nm", ux[merged[rows]], ux[rows])
        t = np.einsum("nmd,nd->nm", uy[merged[rows]], uy[rows])
        if distances:
            s, t = 1.0 - s, 1.0 - t
        s, t = s * keep[rows], t * keep[rows]
        norms = np.sqrt(np.einsum("nm,nm->n", s, s) * np.einsum("nm,nm->n", t, t))
        dots = np.einsum("nm,nm->n", s, t)
        scores[rows] = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    return float(scores.mean())



_OVERLAP_MEASURE = MeasureProperties(
    kind="similarity",
    symmetric=True,
    is_metric=False,
    range=(0.0, 1.0),
    identity=1.0,
    # Cosine neighbours: a translation or a general linear map of Y moves them.
    invariant=Invariances.all_except("translation", "invertible_linear"),
)

METRICS = [
    MetricInfo(
        name="mutual_knn",
        family="similarity",
        func=mutual_knn,
        summary="Mean fraction of shared k nearest neighbours (cosine) between X and Y.",
        citation="Huh, Cheung, Wang & Isola, The Platonic Representation Hypothesis, ICML 2024",
        complexity="O(N^2 D) exact FAISS search (approximate: ~O(N sqrt(N) D)), O(N k) memory",
        unreliable_when="k is tiny (coarse values) or large relative to N; "
        "translation of one representation changes cosine neighbours",
        measure=_OVERLAP_MEASURE,
    ),
    MetricInfo(
        name="jaccard",
        family="similarity",
        func=jaccard,
        summary="Mean Jaccard index of the k-nearest-neighbour sets (cosine) of X and Y.",
        citation="Klabunde, Schumacher, Strohmaier & Lemmerich, Similarity of Neural Network "
        "Models: A Survey of Functional and Representational Measures, ACM Computing Surveys 2025",
        complexity="O(N^2 D) exact FAISS search, O(N k) memory",
        unreliable_when="k is tiny (coarse values) or large relative to N",
        measure=_OVERLAP_MEASURE,
    ),
    MetricInfo(
        name="rank_similarity",
        family="similarity",
        func=rank_similarity,
        summary="Shared k nearest neighbours weighted by agreement and height of their ranks.",
        citation="Wang, Rao, Guo, Wang, Liu & Guan, Towards Understanding the Instability of "
        "Network Embedding, IEEE TKDE 2020",
        complexity="O(N^2 D) exact FAISS search, O(N k) memory",
        unreliable_when="k is tiny (coarse values) or large relative to N",
        measure=_OVERLAP_MEASURE,
    ),
    MetricInfo(
        name="second_order_cosine",
        family="similarity",
        func=second_order_cosine,
        summary="Mean cosine between each sample's cosine similarities to the union of its kNN in X and Y.",
        citation="Hamilton, Leskovec & Jurafsky, Cultural Shift or Linguistic Drift? Comparing Two "
        "Computational Measures of Semantic Change, EMNLP 2016",
        complexity="O(N^2 D) exact FAISS search + O(N k D)",
        unreliable_when="cosine similarities are all near 1 (anisotropic embeddings): values crowd near 1",
        measure=replace(_OVERLAP_MEASURE, range=(-1.0, 1.0)),
    ),
]
