"""Neighbour-based similarity: do two representations agree on who is near whom?

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
- :func:`cknna`: CKA restricted to pairs that are neighbours in both (Huh et al. 2024).
- :func:`information_imbalance`: the rank in ``Y`` of each sample's nearest
  neighbour in ``X`` (Glielmo et al. 2022), an asymmetric distance.

Only ``O(N k)`` neighbour lists are held (``cknna`` too: its masked kernels are
sparse); ``information_imbalance`` counts ranks by blocks of rows in
``O(N^2 D)`` time and ``O(N)`` memory per row.

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
import scipy.sparse as sp

from transferscope.errors import InputError
from transferscope.metrics._neighbors import nearest_neighbors
from transferscope.metrics._validation import check_choice, check_paired_features, check_positive_int
from transferscope.metrics.registry import TRANSFORMS, MetricInfo

__all__ = [
    "mutual_knn",
    "jaccard",
    "rank_similarity",
    "second_order_cosine",
    "cknna",
    "information_imbalance",
]

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
    >>> from transferscope.metrics.similarity.neighbors import mutual_knn
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
    >>> from transferscope.metrics.similarity.neighbors import jaccard
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
    >>> from transferscope.metrics.similarity.neighbors import rank_similarity
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


def _unit_rows(points: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(points, axis=1, keepdims=True)
    return points / np.where(norms == 0, 1.0, norms)


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
    >>> from transferscope.metrics.similarity.neighbors import second_order_cosine
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
    ux, uy = _unit_rows(x), _unit_rows(y)
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


def _masked_kernel(indices: np.ndarray, values: np.ndarray, n: int) -> sp.csr_matrix:
    """Sparse ``N x N`` kernel holding ``values[i, t]`` at ``(i, indices[i, t])``."""
    rows = np.repeat(np.arange(n), indices.shape[1])
    return sp.csr_matrix((values.ravel(), (rows, indices.ravel())), shape=(n, n))


def _hsic_sparse(k_mat: sp.csr_matrix, l_mat: sp.csr_matrix, unbiased: bool) -> float:
    """HSIC of two (not necessarily symmetric) masked kernels, as platonic-rep writes it.

    Unbiased (Song et al. 2012, zero diagonal):
    ``[sum(K ∘ L^T) + sum(K) sum(L) / ((n-1)(n-2)) - 2 (K^T 1)·(L 1) / (n-2)] / (n (n-3))``.
    Biased: ``trace(K H L H)`` with ``H = I - 11^T / n``.
    """
    n = k_mat.shape[0]
    cross = float(k_mat.multiply(l_mat.T).sum())
    k_cols, k_rows = np.asarray(k_mat.sum(axis=0)).ravel(), np.asarray(k_mat.sum(axis=1)).ravel()
    l_cols, l_rows = np.asarray(l_mat.sum(axis=0)).ravel(), np.asarray(l_mat.sum(axis=1)).ravel()
    k_sum, l_sum = k_rows.sum(), l_rows.sum()
    if unbiased:
        return (cross + k_sum * l_sum / ((n - 1) * (n - 2)) - 2.0 * (k_cols @ l_rows) / (n - 2)) / (n * (n - 3))
    return cross - (l_cols @ k_rows + k_cols @ l_rows) / n + k_sum * l_sum / n**2


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
    >>> from transferscope.metrics.similarity.neighbors import cknna
    >>> X = np.random.default_rng(0).normal(size=(200, 8))
    >>> round(cknna(X, X, k=10), 12)
    1.0
    >>> cknna(X, X, k=10, variant="platonic") < 1.0
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    kernel = check_choice(kernel, ("cosine", "linear"), name="kernel")
    k = check_positive_int(k, name="k", minimum=2)
    search = check_choice(search, _SEARCHES, name="search")
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
        kernels.append(_masked_kernel(idx, values, n))
        patterns.append(_masked_kernel(idx, np.ones_like(values), n))
    k_mat, l_mat = kernels
    both = patterns[0].multiply(patterns[1])  # M: neighbours in both
    cross = _hsic_sparse(both.multiply(k_mat).tocsr(), both.multiply(l_mat).tocsr(), bool(unbiased))
    self_k = _hsic_sparse(k_mat, k_mat, bool(unbiased))
    self_l = _hsic_sparse(l_mat, l_mat, bool(unbiased))
    denominator = self_k * self_l
    if platonic:  # the reference's 1e-6, added to the square root
        return float(cross / (np.sqrt(denominator) + 1e-6)) if denominator >= 0 else float("nan")
    return float(cross / np.sqrt(denominator)) if denominator > 0 else float("nan")


def _ranks_in(points: np.ndarray, targets: np.ndarray, metric: str, *, block_elements: int = 1 << 23) -> np.ndarray:
    """1-based rank of ``targets[i, t]`` among the other rows by distance from row ``i``.

    ``rank = 1 + #{m != i : d(i, m) < d(i, j) or (d(i, m) == d(i, j) and m < j)}``
    for ``j = targets[i, t]``: ties go to the lower index, as in
    :func:`nearest_neighbors`. Counted by blocks of rows, never ``N x N``.
    """
    n = points.shape[0]
    if metric == "cosine":
        points = _unit_rows(points)
    sq = np.einsum("ij,ij->i", points, points)
    ranks = np.empty(targets.shape, dtype=np.float64)
    block = max(1, block_elements // n)
    columns = np.arange(n)
    for start in range(0, n, block):
        stop = min(start + block, n)
        rows = np.arange(start, stop)
        # Smaller = nearer: squared Euclidean distance, or minus the cosine.
        dist = points[start:stop] @ points.T
        dist = sq[start:stop, None] + sq[None, :] - 2.0 * dist if metric == "euclidean" else -dist
        dist[rows - start, rows] = np.inf
        for t in range(targets.shape[1]):
            j = targets[start:stop, t]
            d_j = dist[rows - start, j][:, None]
            closer = (dist < d_j) | ((dist == d_j) & (columns[None, :] < j[:, None]))
            ranks[start:stop, t] = 1 + closer.sum(axis=1)
    return ranks


def information_imbalance(
    X: Any,
    Y: Any,
    *,
    k: int = 1,
    metric: Literal["euclidean", "cosine"] = "euclidean",
) -> float:
    """Information imbalance Delta(X -> Y) (Glielmo et al. 2022).

    ``Delta(X -> Y) = 2/N <r^Y_ij | r^X_ij = 1>``: the mean rank, by distance
    in ``Y``, of each sample's nearest neighbour in ``X`` (rank 1 = nearest),
    times ``2 / N``. Near 0 when ``X``'s neighbourhoods predict ``Y``'s (``X``
    holds the information in ``Y``), near 1 when they tell nothing (the mean
    random rank is ``N / 2``). Asymmetric: ``X`` may contain ``Y`` and more.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
        The representation whose neighbours are taken.
    Y : array-like of shape (n_samples, d_y)
        The representation in which their ranks are read.
    k : int, default=1
        Average the ranks of the first ``k`` neighbours in ``X`` (DADApy's ``k``).
    metric : {"euclidean", "cosine"}, default="euclidean"

    Returns
    -------
    float
        In ``[2/N, 2(N-1)/N]``; ``Delta(X -> X) = (k + 1) / N``.

    Notes
    -----
    Ties in ``Y`` go to the lower index. DADApy estimates ranks beyond its
    ``maxk`` nearest neighbours by random draws; this computes every rank
    exactly, in ``O(N^2 D)`` time by blocks of rows.

    References
    ----------
    Glielmo, Zeni, Cheng, Csányi & Laio, Ranking the information content of
    distance measures, PNAS Nexus 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.neighbors import information_imbalance
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3))
    >>> first = X[:, :1]  # X holds its first coordinate, not the other way round
    >>> information_imbalance(X, first) < 0.5 < information_imbalance(first, X)
    True
    >>> information_imbalance(X, X)  # (k + 1) / N
    0.004
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    metric = check_choice(metric, ("euclidean", "cosine"), name="metric")
    k = check_positive_int(k, name="k")
    _, neighbours = nearest_neighbors(x, k, metric=metric)
    ranks = _ranks_in(y, neighbours, metric)
    return float(2.0 * ranks.mean() / x.shape[0])


def _invariant(**changes: bool) -> dict[str, bool]:
    """Invariance declarations: invariant to every transform except ``changes``."""
    declared = dict.fromkeys(TRANSFORMS, True)
    declared.update(changes)
    return declared


_HUH = "Huh, Cheung, Wang & Isola, The Platonic Representation Hypothesis, ICML 2024"
_COSINE_KNN = _invariant(translation=False, invertible_linear=False)
_LIST_PROPERTIES = {
    "kind": "similarity",
    "symmetric": True,
    "is_metric": False,
    "range": (0.0, 1.0),
    "identity": 1.0,
    "invariant": _COSINE_KNN,
}

METRICS = [
    MetricInfo(
        name="mutual_knn",
        family="similarity",
        func=mutual_knn,
        summary="Mean fraction of shared k nearest neighbours (cosine) between X and Y.",
        citation=_HUH,
        complexity="O(N^2 D) exact FAISS search (approximate: ~O(N sqrt(N) D)), O(N k) memory",
        unreliable_when="k is tiny (coarse values) or large relative to N; "
        "translation of one representation changes cosine neighbours",
        properties=dict(_LIST_PROPERTIES),
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
        properties=dict(_LIST_PROPERTIES),
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
        properties=dict(_LIST_PROPERTIES),
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
        properties={**_LIST_PROPERTIES, "range": (-1.0, 1.0)},
    ),
    MetricInfo(
        name="cknna",
        family="similarity",
        func=cknna,
        summary="CKA of cosine kernels restricted to pairs that are k nearest neighbours in both.",
        citation=_HUH,
        complexity="O(N^2 D) exact FAISS search + O(N k) sparse HSIC",
        unreliable_when="few shared neighbours (tiny k): the masked kernels are nearly empty; "
        "not exactly symmetric (as in the reference)",
        properties={
            "kind": "similarity",
            "symmetric": False,
            "is_metric": False,
            "range": (None, None),
            "identity": 1.0,
            "invariant": _COSINE_KNN,
        },
    ),
    MetricInfo(
        name="information_imbalance",
        family="similarity",
        func=information_imbalance,
        summary="Delta(X -> Y): 2/N x mean rank in Y of each sample's nearest neighbour in X "
        "(0: X predicts Y's neighbourhoods, ~1: no information).",
        citation="Glielmo, Zeni, Cheng, Csanyi & Laio, Ranking the information content of distance "
        "measures, PNAS Nexus 2022",
        higher_is_better=False,
        complexity="O(N^2 (d_x + d_y)) time by blocks of rows, O(N) memory per row",
        unreliable_when="many duplicated rows (ties); N small (values are multiples of 2/(N k))",
        properties={
            "kind": "distance",
            "symmetric": False,
            "is_metric": False,
            "range": (0.0, 2.0),
            "identity": None,  # (k + 1) / N, not a fixed number
            "invariant": _invariant(invertible_linear=False),
        },
    ),
]
