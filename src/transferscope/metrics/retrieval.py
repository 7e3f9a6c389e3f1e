"""Retrieval quality of queries against a gallery: mAP, Recall@k and nDCG@k.

A gallery item is relevant to a query when their labels are equal (a class, or a pair id for
paired data). The gallery is ranked for each query as an exact vector index would rank it:

* ``cosine``: inner product of unit rows; ``inner_product``: raw inner product. Both are scored
  one BLAS product per block of queries (float64, rounded to the float32 scores an index such
  as ``faiss.IndexFlatIP`` holds, so that equal vectors tie whatever block computed them), and
  ranked by score with ties broken by the lower gallery index (a stable order; FAISS's own order
  of tied items is its heap's, which no caller can rely on). The metrics need only each relevant
  item's rank, so no ranking of the whole gallery is built (:func:`metrics_from_scores`): mAP
  over a gallery of ``n`` costs a sort of each score row, not a top-``n`` search.
* ``hamming``: 0/1 codes packed 8 to a byte (``IndexBinaryFlat``), the index of binary
  embeddings, searched with FAISS; with ``rescore`` (a multiplier ``m``), the ``m * k`` nearest
  codes are re-ranked by the float query's inner product with the codes read as +-1, as
  sentence-transformers' binary search with rescoring does. The gallery (and the queries,
  without ``rescore``) may be given packed, as :func:`~transferscope.extraction.compression.compress`
  ``(x, "binary")`` and the index store them (uint8, ``ceil(D / 8)`` bytes a row): they are
  searched as they are, and only the fetched rows are unpacked for the rescoring.

Metrics, averaged over the queries that have at least one relevant gallery item (the others
are counted in ``n_queries_without_relevant`` and left out):

* ``recall@k``: the share of queries with a relevant item among their first ``k`` (the "top-k
  accuracy" of the compatibility literature);
* ``ndcg@k``: binary gains, discount ``1 / log2(rank + 1)``, divided by the ideal DCG;
* ``map``: mean average precision over the whole ranked gallery (needs the full ranking: with
  ``rescore``, only the re-ranked ``m * max(ks)`` head is ranked, so ``map`` is then NaN).

Examples
--------
>>> import numpy as np
>>> from transferscope.metrics.retrieval import retrieval_scores
>>> gallery = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]])
>>> queries = np.array([[1.0, 0.05], [0.1, 1.0]])
>>> s = retrieval_scores(queries, gallery, [1, 1], [0, 1, 1], ks=(1, 2))
>>> s["recall@1"], round(s["map"], 4), round(s["ndcg@2"], 4)  # query 0 ranks the label-0 item first
(0.5, 0.7917, 0.6934)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._neighbors import faiss_module, flat_search_blocks
from transferscope.metrics._normalize import unit_rows
from transferscope.metrics._validation import check_choice, check_features

__all__ = ["retrieval_scores", "search_gallery", "ranking_metrics", "metrics_from_scores", "RETRIEVAL_KS",
           "RETRIEVAL_METRICS"]

RETRIEVAL_KS = (1, 5, 10)
RETRIEVAL_METRICS = ("cosine", "inner_product", "hamming")
_QUERY_BLOCK = 512  # queries per FAISS call: bounds the ranked block at 512 x gallery ids
_BLOCK_ELEMENTS = 1 << 23  # queries x gallery scores per block of the float metrics (about 24 bytes each)


def search_gallery(queries: np.ndarray, gallery: np.ndarray, k: int, *, metric: str = "cosine",
                   rescore: int | None = None) -> np.ndarray:
    """The ``k`` best gallery rows for each query, best first (see the module notes).

    ``queries`` and ``gallery`` are checked float arrays of one width; for ``hamming`` the gallery
    holds 0/1 codes, and the queries are binarised (``> 0``) for the code search and kept as
    floats for the rescoring.

    Examples
    --------
    >>> import numpy as np
    >>> search_gallery(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0], [0.2, 0.9]]), 2).tolist()
    [[1, 0]]
    """
    metric = check_choice(metric, RETRIEVAL_METRICS, name="metric")
    faiss = faiss_module()
    n_gallery, dim = gallery.shape
    k = min(int(k), n_gallery)
    if metric == "hamming":
        codes = gallery if _packed(gallery) else np.packbits(gallery > 0.5, axis=1)
        index = faiss.IndexBinaryFlat(8 * codes.shape[1])
        index.add(np.ascontiguousarray(codes))
        fetch = min(n_gallery, k * rescore) if rescore else k
        _, found = index.search(np.ascontiguousarray(queries if _packed(queries) else np.packbits(queries > 0, axis=1)),
                                fetch)
        if not rescore:
            return found.astype(np.intp)
        bits = np.unpackbits(codes[found], axis=-1, count=queries.shape[1])  # the fetched rows only
        scores = np.einsum("qd,qkd->qk", queries, 2.0 * bits - 1.0)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(found, order, axis=1).astype(np.intp)
    if metric == "cosine":
        queries, gallery = unit_rows(queries), unit_rows(gallery)
    index = faiss.IndexFlatIP(dim)
    with flat_search_blocks():
        index.add(np.ascontiguousarray(gallery, dtype=np.float32))
        _, found = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return found.astype(np.intp)


def ranking_metrics(ranked: np.ndarray, query_labels: np.ndarray, gallery_labels: np.ndarray, *,
                    ks: tuple[int, ...] = RETRIEVAL_KS, full: bool = True) -> dict[str, Any]:
    """Per-query sums of the metrics of ``ranked`` gallery indices (module notes), for averaging.

    Returns the sums over the queries with a relevant item (``n_queries`` of them) and the count
    of those without; :func:`retrieval_scores` divides.
    """
    relevant = gallery_labels[ranked] == query_labels[:, None]
    values, counts = np.unique(gallery_labels, return_counts=True)
    position = np.searchsorted(values, query_labels)
    present = (position < values.size) & (values[np.minimum(position, values.size - 1)] == query_labels)
    n_relevant = np.where(present, counts[np.minimum(position, values.size - 1)], 0)
    has = n_relevant > 0
    relevant, n_relevant = relevant[has], n_relevant[has]
    out: dict[str, Any] = {"n_queries": int(has.sum()), "n_queries_without_relevant": int((~has).sum())}
    discount = 1.0 / np.log2(np.arange(2, relevant.shape[1] + 2))
    for k in ks:
        head = relevant[:, :k]
        out[f"recall@{k}"] = float(head.any(axis=1).sum())
        ideal = np.cumsum(discount[:k])[np.minimum(n_relevant, k) - 1]
        out[f"ndcg@{k}"] = float((head @ discount[: head.shape[1]] / ideal).sum())
    if full:
        hits = np.cumsum(relevant, axis=1)
        precision = hits / np.arange(1, relevant.shape[1] + 1)
        out["map"] = float(((precision * relevant).sum(axis=1) / n_relevant).sum())
    else:
        out["map"] = float("nan")
    return out


def _sortable(scores: np.ndarray) -> np.ndarray:
    """float32 scores as uint32 keys in the same order (the sign bit flipped for positives, every
    bit for negatives); ``-0.0`` is read as ``0.0`` first, as a comparison does."""
    bits = (scores + np.float32(0.0)).view(np.uint32)
    return np.where(bits >> 31 == 1, ~bits, bits | np.uint32(0x80000000))


def metrics_from_scores(scores: np.ndarray, query_labels: np.ndarray, gallery_labels: np.ndarray, *,
                        ks: tuple[int, ...] = RETRIEVAL_KS) -> dict[str, Any]:
    """:func:`ranking_metrics` of the full ranking that (queries x gallery) float32 ``scores``
    give, without building it: every metric needs only the rank of each relevant item, which is 1
    + the items scored higher + the tied items of lower gallery index (the order of an exact
    FAISS flat search). Each row is sorted (a vectorised sort), and the relevant items' scores
    are looked up in it with one ``searchsorted`` over all rows (row-offset integer keys)."""
    n_rows, n = scores.shape
    relevant = gallery_labels[None, :] == query_labels[:, None]
    n_relevant = relevant.sum(axis=1)
    has = n_relevant > 0
    out: dict[str, Any] = {"n_queries": int(has.sum()), "n_queries_without_relevant": int((~has).sum())}
    row, col = np.nonzero(relevant)
    offsets = np.arange(n_rows, dtype=np.uint64) << np.uint64(32)
    keys = _sortable(scores)
    flat = (np.sort(keys, axis=1).astype(np.uint64) + offsets[:, None]).ravel()
    wanted = keys[row, col].astype(np.uint64) + offsets[row]
    right = np.searchsorted(flat, wanted, side="right") - row.astype(np.int64) * n
    left = np.searchsorted(flat, wanted, side="left") - row.astype(np.int64) * n
    rank = (n - right) + 1  # 1 + the items scored higher
    for i in np.flatnonzero(right - left > 1):  # tied scores: the lower gallery index first (rare)
        rank[i] += int(np.count_nonzero(keys[row[i], :col[i]] == keys[row[i], col[i]]))
    order = np.lexsort((rank, row))  # each query's relevant items by rank
    row, rank = row[order], rank[order]
    starts = np.searchsorted(row, np.flatnonzero(has))
    within = np.arange(row.size) - np.repeat(starts, n_relevant[has])  # 0-based position among the relevant
    per_query = np.repeat(np.flatnonzero(has), n_relevant[has])
    out["map"] = float(np.sum((within + 1) / rank / n_relevant[per_query]))
    discount = 1.0 / np.log2(rank + 1.0)
    first = rank[starts]  # each query's best-ranked relevant item
    for k in ks:
        out[f"recall@{k}"] = float(np.count_nonzero(first <= k))
        ideal = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[np.minimum(n_relevant[has], k) - 1]
        gains = np.bincount(np.searchsorted(np.flatnonzero(has), per_query), weights=np.where(rank <= k, discount, 0.0),
                            minlength=int(has.sum()))
        out[f"ndcg@{k}"] = float(np.sum(gains / ideal))
    return out


def retrieval_scores(queries: Any, gallery: Any, query_labels: Any, gallery_labels: Any, *,
                     ks: tuple[int, ...] = RETRIEVAL_KS, metric: str = "cosine",
                     rescore: int | None = None) -> dict[str, float]:
    """mAP, Recall@k and nDCG@k of ``queries`` searched in ``gallery`` (module notes).

    Parameters
    ----------
    queries : array-like of shape (n_queries, dim)
    gallery : array-like of shape (n_gallery, dim)
    query_labels, gallery_labels : array-like
        Relevance: equal labels.
    ks : tuple of int, default=(1, 5, 10)
    metric : {"cosine", "inner_product", "hamming"}, default="cosine"
    rescore : int, optional
        For ``hamming``: re-rank the ``rescore * max(ks)`` nearest codes by the float queries.

    Returns
    -------
    dict
        ``map``, ``recall@k``, ``ndcg@k`` for each k, ``n_queries`` (with a relevant item) and
        ``n_queries_without_relevant``.

    Raises
    ------
    InputError
        Mismatched widths or lengths, non-finite values, an empty gallery, a ``k`` < 1, no query
        with a relevant gallery item, or ``rescore`` without ``hamming``.
    """
    if metric == "hamming" and (_packed(gallery) or _packed(queries)):
        q, g = _checked_codes(queries, gallery, rescore=rescore)
    else:
        q = check_features(queries, name="queries")
        g = check_features(gallery, name="gallery")
        if q.shape[1] != g.shape[1]:
            raise InputError(f"queries have {q.shape[1]} dimensions but gallery has {g.shape[1]}; "
                             "they must be in one space")
    q_labels, g_labels = np.asarray(query_labels), np.asarray(gallery_labels)
    for name, labels, rows in (("query_labels", q_labels, q.shape[0]), ("gallery_labels", g_labels, g.shape[0])):
        if labels.ndim != 1 or labels.shape[0] != rows:
            raise InputError(f"{name} must hold one label per row ({rows}), got shape {labels.shape}")
    ks = tuple(int(k) for k in ks)
    if not ks or min(ks) < 1:
        raise InputError(f"ks must be positive integers, got {ks}")
    if rescore is not None and (metric != "hamming" or int(rescore) < 1):
        raise InputError("rescore (a multiplier >= 1) applies to metric='hamming' only")
    if q_labels.dtype != g_labels.dtype:
        q_labels, g_labels = q_labels.astype(str), g_labels.astype(str)
    full = rescore is None
    depth = g.shape[0] if full else max(ks)
    totals: dict[str, float] = {}
    if metric == "hamming":
        rows = _QUERY_BLOCK
    else:  # scores in BLAS, ranks by sorting: no full ranking of the gallery is built
        if metric == "cosine":
            q, g = unit_rows(q), unit_rows(g)
        rows = max(1, min(_QUERY_BLOCK, _BLOCK_ELEMENTS // g.shape[0]))
    for start in range(0, q.shape[0], rows):
        block = slice(start, start + rows)
        if metric == "hamming":
            sums = ranking_metrics(search_gallery(q[block], g, depth, metric=metric, rescore=rescore),
                                   q_labels[block], g_labels, ks=ks, full=full)
        else:
            # float64 products rounded to float32 (the index's scores): equal vectors tie whatever
            # block or BLAS kernel computed them, which float32 accumulation does not guarantee
            sums = metrics_from_scores((q[block] @ g.T).astype(np.float32), q_labels[block], g_labels, ks=ks)
        for key, value in sums.items():
            totals[key] = totals.get(key, 0.0) + value
    used = int(totals["n_queries"])
    if used == 0:
        raise InputError("no query has a relevant gallery item (no query label occurs in gallery_labels)")
    out = {key: value / used for key, value in totals.items() if key not in ("n_queries", "n_queries_without_relevant")}
    out["n_queries"] = used
    out["n_queries_without_relevant"] = int(totals["n_queries_without_relevant"])
    return out


def _packed(array: Any) -> bool:
    return isinstance(array, np.ndarray) and array.dtype == np.uint8


def _checked_codes(queries: Any, gallery: Any, *, rescore: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Queries and gallery of a binary index, either packed (uint8, kept as they are) or not
    (checked floats), of one width: ``ceil(D / 8)`` bytes for ``D`` float dimensions."""
    q = queries if _packed(queries) else check_features(queries, name="queries")
    g = gallery if _packed(gallery) else check_features(gallery, name="gallery")
    for name, array in (("queries", q), ("gallery", g)):
        if array.ndim != 2 or array.shape[0] == 0:
            raise InputError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    if rescore is not None and _packed(q):
        raise InputError("rescore re-ranks by the float queries: give the queries as floats, not packed codes")
    q_bytes = q.shape[1] if _packed(q) else (q.shape[1] + 7) // 8
    g_bytes = g.shape[1] if _packed(g) else (g.shape[1] + 7) // 8
    if q_bytes != g_bytes:
        raise InputError(f"queries take {q_bytes} bytes of packed bits a row but gallery {g_bytes}; "
                         "they must be in one space")
    return q, g
