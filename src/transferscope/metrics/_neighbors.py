"""Nearest neighbours for every kNN-based measure and estimator, through FAISS.

One function, :func:`nearest_neighbors`, used by all of them. FAISS finds
candidates in float32 (exact flat search by default, or an IVF index as an
approximate option); the candidates' distances are then recomputed in float64
and sorted by ``(distance, index)``, so the result is deterministic, ties are
broken toward the lower index, and distances are exact to float64 rounding.
:func:`dense_neighbors` is the plain NumPy reference (chunked N x N products +
argpartition) that tests and ``benchmarks/`` compare against.

FAISS settings are never changed for other code: the larger BLAS blocks of its
flat search hold only while :func:`nearest_neighbors` searches
(:func:`flat_search_blocks`), because FAISS has no per-call parameter for them.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError, MissingExtraError
from transferscope.metrics._normalize import unit_rows
from transferscope.metrics._validation import check_choice, check_positive_int

__all__ = ["nearest_neighbors", "dense_neighbors", "neighbor_recall", "flat_search_blocks", "faiss_module", "METRICS_KNN"]

#: Distances available: cosine distance ``1 - cos``, Euclidean distance, or
#: minus the inner product (so that smaller = nearer for all three).
METRICS_KNN = ("cosine", "euclidean", "inner_product")

# Extra candidates fetched from float32 FAISS before the float64 re-sort, so that
# float32 rounding cannot push a true k-th neighbour out of the list.
_MARGIN = 8
# Query rows per block of the float64 re-sort.
_RESORT_ROWS = 256
# FAISS's BLAS block sizes (query rows, database rows) of flat search: its defaults, and
# the larger blocks used while our searches run: 1.98 s -> 1.39 s for 20,000 x 20,000 x 384
# on 2 cores (the float32 GEMM alone takes 1.60 s).
_FAISS_DEFAULT_BLOCKS = (4096, 1024)
_SEARCH_BLOCKS = (8192, 8192)
_blocks_lock = threading.Lock()
_blocks_users = 0  # flat_search_blocks() now active
_blocks_ours = False  # whether they set the blocks (and so restore them)


def _openblas_core() -> str | None:
    """An OpenBLAS core type for this CPU's vector units (Linux x86-64), or None.

    The OpenBLAS bundled with the faiss-cpu wheels (0.3.15) does not know recent
    CPUs (e.g. Xeons with AMX) and falls back to its generic "Prescott" kernels,
    which makes FAISS's exact search 3-4x slower than the matrix-multiply floor.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        return None
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= set(flags):
        return "SkylakeX"
    if {"avx2", "fma"} <= set(flags):
        return "Haswell"
    return None


def faiss_module():
    if sys.modules.get("faiss") is not None:
        return sys.modules["faiss"]
    # OpenBLAS reads OPENBLAS_CORETYPE once, when FAISS loads it; a user's own
    # setting wins, and ours is removed again right after the import.
    core = None if "OPENBLAS_CORETYPE" in os.environ else _openblas_core()
    if core is not None:
        os.environ["OPENBLAS_CORETYPE"] = core
    try:
        import faiss
    except ImportError:  # faiss-cpu is a core dependency: a broken installation
        raise MissingExtraError("faiss", None, package="faiss-cpu") from None
    finally:
        if core is not None:
            os.environ.pop("OPENBLAS_CORETYPE", None)
    return faiss


def _blocks(faiss: Any) -> tuple[int, int]:
    return faiss.cvar.distance_compute_blas_query_bs, faiss.cvar.distance_compute_blas_database_bs


def _set_blocks(faiss: Any, blocks: tuple[int, int]) -> None:
    faiss.cvar.distance_compute_blas_query_bs, faiss.cvar.distance_compute_blas_database_bs = blocks


@contextmanager
def flat_search_blocks() -> Iterator[None]:
    """Larger BLAS blocks for FAISS's flat search inside the ``with`` block, restored after.

    FAISS reads its block sizes from process-wide variables
    (``faiss.cvar.distance_compute_blas_query_bs`` and ``..._database_bs``, defaults
    4096 and 1024) and takes no per-call parameter, so they are set on entry and put
    back on exit, also after an error. Blocks of 8192 x 8192 make exact search
    1.3-1.4x faster here. Values someone else set (anything but the FAISS defaults) are
    left alone; nested and concurrent uses share one setting, restored when the last
    one leaves. Other code searching with FAISS in another thread meanwhile also sees
    the larger blocks (only its speed changes, not its result).

    Examples
    --------
    >>> import faiss
    >>> from transferscope.metrics._neighbors import flat_search_blocks
    >>> with flat_search_blocks():
    ...     inside = faiss.cvar.distance_compute_blas_database_bs
    >>> inside, faiss.cvar.distance_compute_blas_database_bs
    (8192, 1024)
    """
    global _blocks_users, _blocks_ours
    faiss = faiss_module()
    with _blocks_lock:
        if _blocks_users == 0:
            _blocks_ours = _blocks(faiss) == _FAISS_DEFAULT_BLOCKS
            if _blocks_ours:
                _set_blocks(faiss, _SEARCH_BLOCKS)
        _blocks_users += 1
    try:
        yield
    finally:
        with _blocks_lock:
            _blocks_users -= 1
            if _blocks_users == 0 and _blocks_ours:
                if _blocks(faiss) == _SEARCH_BLOCKS:  # not changed by someone else meanwhile
                    _set_blocks(faiss, _FAISS_DEFAULT_BLOCKS)
                _blocks_ours = False


def _prepare(points: np.ndarray, metric: str) -> np.ndarray:
    return unit_rows(points, zero_rows="keep") if metric == "cosine" else points


def _exact_distances(points: np.ndarray, queries: np.ndarray, cand: np.ndarray, metric: str) -> np.ndarray:
    """float64 distances from each query row to its candidate rows ``cand`` (Q x M)."""
    neighbours = points[cand]  # Q x M x D
    if metric == "euclidean":
        diff = neighbours - queries[:, None, :]
        return np.sqrt(np.einsum("qmd,qmd->qm", diff, diff))
    dots = np.einsum("qmd,qd->qm", neighbours, queries)
    return 1.0 - dots if metric == "cosine" else -dots


def _sort_rows(dist: np.ndarray, idx: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((idx, dist), axis=1)[:, :k]
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)


def nearest_neighbors(
    X: np.ndarray,
    k: int,
    *,
    metric: Literal["cosine", "euclidean", "inner_product"] = "euclidean",
    exclude_self: bool = True,
    search: Literal["exact", "approximate"] = "exact",
    nprobe: int = 16,
    seed: int = 0,
    batch_size: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``X`` to each row of ``X``, nearest first.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Checked float64 points (the measures validate their inputs first).
    k : int
        Neighbours per row; at most ``n_samples - 1`` with ``exclude_self``.
    metric : {"cosine", "euclidean", "inner_product"}, default="euclidean"
        Distances returned are ``1 - cos``, the Euclidean distance, or minus the inner product.
    exclude_self : bool, default=True
        Leave each row's own index out (exact duplicates of it still count).
    search : {"exact", "approximate"}, default="exact"
        ``"exact"``: FAISS flat search. ``"approximate"``: an IVF index with
        ``~4 sqrt(N)`` lists trained by seeded k-means (10 iterations), ``nprobe`` lists visited
        per query; measure its recall with :func:`neighbor_recall`.
    nprobe : int, default=16
    seed : int, default=0
        Seed of the IVF k-means (approximate search only).
    batch_size : int, default=4096
        Query rows per FAISS call (memory ~ batch x (k + 8) ids; the float64
        re-sort goes by blocks of 256 rows, ~256 x (k + 8) x D floats).

    Returns
    -------
    distances : ndarray of shape (n_samples, k), float64
    indices : ndarray of shape (n_samples, k), intp

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics._neighbors import nearest_neighbors
    >>> X = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> d, i = nearest_neighbors(X, 2)
    >>> i.tolist()
    [[1, 2], [0, 2], [1, 0], [2, 1]]
    """
    metric = check_choice(metric, METRICS_KNN, name="metric")
    search = check_choice(search, ("exact", "approximate"), name="search")
    n = X.shape[0]
    k = check_positive_int(k, name="k")
    available = n - 1 if exclude_self else n
    if k > available:
        raise InputError(f"k must be at most {available} for {n} samples, got {k}")
    faiss = faiss_module()
    points = _prepare(np.ascontiguousarray(X, dtype=np.float64), metric)
    points32 = np.ascontiguousarray(points, dtype=np.float32)
    d = points.shape[1]
    use_ip = metric != "euclidean"
    fetch = min(n, k + int(exclude_self) + _MARGIN)
    dist_out = np.empty((n, k), dtype=np.float64)
    idx_out = np.empty((n, k), dtype=np.intp)
    with flat_search_blocks():  # FAISS's BLAS blocks, for these searches only
        if search == "exact":  # faiss.knn searches the points where they are: no index holds a copy
            kind = faiss.METRIC_INNER_PRODUCT if use_ip else faiss.METRIC_L2
            index = None
        else:
            nlist = int(max(1, min(n // 39, round(4 * np.sqrt(n)))))
            quantizer = faiss.IndexFlatIP(d) if use_ip else faiss.IndexFlatL2(d)
            kind = faiss.METRIC_INNER_PRODUCT if use_ip else faiss.METRIC_L2
            index = faiss.IndexIVFFlat(quantizer, d, nlist, kind)
            index.cp.seed = int(seed)
            index.cp.niter = 10  # coarse lists need no converged k-means; halves the training time
            index.train(points32)
            index.nprobe = int(min(check_positive_int(nprobe, name="nprobe"), nlist))
        if index is not None:
            index.add(points32)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            _, found = (faiss.knn(points32[start:stop], points32, fetch, metric=kind) if index is None else
                        index.search(points32[start:stop], fetch))
            # The float64 re-sort goes by small blocks: its gathered candidates then stay in
            # cache (4x faster than one gather of the whole batch).
            for lo in range(start, stop, _RESORT_ROWS):
                hi = min(lo + _RESORT_ROWS, stop)
                cand = found[lo - start : hi - start].astype(np.intp)
                missing = cand < 0  # approximate search may return fewer than asked
                cand[missing] = 0
                dist = _exact_distances(points, points[lo:hi], cand, metric)
                dist[missing] = np.inf
                if exclude_self:
                    dist[cand == np.arange(lo, hi)[:, None]] = np.inf
                dist_out[lo:hi], idx_out[lo:hi] = _sort_rows(dist, cand, k)
    if not np.isfinite(dist_out).all():
        raise InputError(
            "approximate search found fewer than k neighbours for some rows; "
            "raise nprobe or use search='exact'"
        )
    return dist_out, idx_out


def dense_neighbors(
    X: np.ndarray,
    k: int,
    *,
    metric: Literal["cosine", "euclidean", "inner_product"] = "euclidean",
    exclude_self: bool = True,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference implementation of :func:`nearest_neighbors` without FAISS.

    Chunked float64 ``N x N`` products and ``argpartition``: O(N^2 D) time,
    O(chunk x N) memory. The baseline of ``benchmarks/bench_neighbors.py``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics._neighbors import dense_neighbors
    >>> dense_neighbors(np.array([[0.0], [1.0], [3.0], [7.0]]), 2)[1].tolist()
    [[1, 2], [0, 2], [1, 0], [2, 1]]
    """
    metric = check_choice(metric, METRICS_KNN, name="metric")
    n = X.shape[0]
    points = _prepare(np.ascontiguousarray(X, dtype=np.float64), metric)
    sq = np.einsum("ij,ij->i", points, points)
    dist_out = np.empty((n, k), dtype=np.float64)
    idx_out = np.empty((n, k), dtype=np.intp)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        dots = points[start:stop] @ points.T
        if metric == "euclidean":
            dist = np.sqrt(np.maximum(sq[start:stop, None] + sq[None, :] - 2.0 * dots, 0.0))
        else:
            dist = 1.0 - dots if metric == "cosine" else -dots
        if exclude_self:
            rows = np.arange(start, stop)
            dist[rows - start, rows] = np.inf
        part = np.argpartition(dist, k - 1, axis=1)[:, :k]
        dist_out[start:stop], idx_out[start:stop] = _sort_rows(
            np.take_along_axis(dist, part, axis=1), part, k
        )
    return dist_out, idx_out


def neighbor_recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of each row's exact k neighbours that ``found`` contains.

    Examples
    --------
    >>> import numpy as np
    >>> neighbor_recall(np.array([[1, 2], [0, 3]]), np.array([[1, 2], [0, 2]]))
    0.75
    """
    k = exact.shape[1]
    hits = sum(len(set(a) & set(b)) for a, b in zip(found.tolist(), exact.tolist(), strict=True))
    return hits / (exact.shape[0] * k)
