"""Speed of the FAISS neighbour search behind the kNN measures, as ratios measured in one run.

Part 1, at N=20,000, D=384 (float32 input, k=10, cosine), times

* ``faiss``: ``ts.similarity("mutual_knn", X, Y)`` (exact FAISS search for X and
  for Y, float64 re-sort of the candidates, overlap);
* ``dense``: the plain NumPy approach, ``_neighbors.dense_neighbors`` (chunked
  float64 ``N x N`` similarities + argpartition) for X and for Y, then the same
  overlap;
* ``floor``: the float32 matrix multiplies ``X X^T`` and ``Y Y^T`` alone (chunked),
  which any exact search must do;

and prints ``dense / faiss`` (goal >= 5) and ``faiss / floor`` with the two values; then
the approximate (IVF) search at the same size: ``dense / approximate`` and its recall.

Part 2, at N=100,000: exact FAISS (dense only with ``--dense-100k``), the
approximate (IVF) search's time and its recall of the exact k neighbours,
measured on ``--recall-rows`` random query rows of X and of Y.

    nice python benchmarks/bench_neighbors.py [--n 20000] [--large 100000] [--dim 384]
        [--k 10] [--dense-100k] [--skip-large] [--recall-rows 2000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import transferscope as ts
from transferscope.metrics._neighbors import dense_neighbors, faiss_module, nearest_neighbors, neighbor_recall


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def make_pair(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two related float32 "embeddings" of the same inputs: clusters plus a low-rank spread,
    and a nonlinear noisy image of them."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, d))
    spread = rng.normal(size=(n, 32)) @ rng.normal(size=(32, d)) / np.sqrt(32)
    x = centres[rng.integers(0, 200, n)] + 0.8 * spread + 0.5 * rng.normal(size=(n, d))
    y = np.tanh(x @ rng.normal(size=(d, d)) / np.sqrt(d)) + 0.3 * rng.normal(size=(n, d))
    return x.astype(np.float32), y.astype(np.float32)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean fraction of shared neighbours, written independently of the library."""
    return float((a[:, :, None] == b[:, None, :]).sum(axis=(1, 2)).mean() / a.shape[1])


def dense_mutual_knn(x: np.ndarray, y: np.ndarray, k: int) -> float:
    a = dense_neighbors(x.astype(np.float64), k, metric="cosine")[1]
    b = dense_neighbors(y.astype(np.float64), k, metric="cosine")[1]
    return overlap(a, b)


def gemm_floor(x: np.ndarray, y: np.ndarray, chunk: int = 4096) -> None:
    for points in (x, y):
        for start in range(0, points.shape[0], chunk):
            points[start : start + chunk] @ points.T


def exact_rows(points: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Exact cosine k neighbours (self excluded) of the query ``rows``, by FAISS flat search."""
    faiss = faiss_module()
    unit = points / np.linalg.norm(points, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(unit.shape[1])
    index.add(np.ascontiguousarray(unit, dtype=np.float32))
    _, found = index.search(np.ascontiguousarray(unit[rows], dtype=np.float32), k + 1)
    return np.array([[j for j in row if j != i][:k] for i, row in zip(rows, found)])


def part1(n: int, d: int, k: int) -> None:
    print(f"Part 1: mutual_knn, N={n:,}, D={d}, k={k}, cosine, exact")
    x, y = make_pair(n, d)
    t_faiss, v_faiss = timed(lambda: ts.similarity("mutual_knn", x, y, k=k))
    t_dense, v_dense = timed(lambda: dense_mutual_knn(x, y, k))
    t_floor, _ = timed(lambda: gemm_floor(x, y))
    print(f"  faiss  {t_faiss:8.2f} s   value {v_faiss:.6f}")
    print(f"  dense  {t_dense:8.2f} s   value {v_dense:.6f}")
    print(f"  floor  {t_floor:8.2f} s   (float32 X X^T + Y Y^T)")
    print(f"  dense / faiss = {t_dense / t_faiss:.2f}x (goal >= 5)   faiss / floor = {t_faiss / t_floor:.2f}")
    print(f"  values agree: {v_faiss == v_dense} (|diff| = {abs(v_faiss - v_dense):.2e})")
    t_approx, v_approx = timed(lambda: ts.similarity("mutual_knn", x, y, k=k, search="approximate"))
    print(f"  faiss approximate {t_approx:8.2f} s   value {v_approx:.6f}   dense / approximate = "
          f"{t_dense / t_approx:.2f}x   |value diff| = {abs(v_faiss - v_approx):.4f}")
    exact = nearest_neighbors(x.astype(np.float64), k, metric="cosine")[1]
    approx = nearest_neighbors(x.astype(np.float64), k, metric="cosine", search="approximate")[1]
    print(f"  approximate recall@{k} on all {n:,} rows of X: {neighbor_recall(approx, exact):.4f}")


def part2(n: int, d: int, k: int, dense: bool, recall_rows: int) -> None:
    print(f"Part 2: mutual_knn, N={n:,}, D={d}, k={k}, cosine")
    x, y = make_pair(n, d, seed=1)
    t_exact, v_exact = timed(lambda: ts.similarity("mutual_knn", x, y, k=k))
    print(f"  faiss exact        {t_exact:8.2f} s   value {v_exact:.6f}")
    if dense:
        t_dense, v_dense = timed(lambda: dense_mutual_knn(x, y, k))
        print(f"  dense              {t_dense:8.2f} s   value {v_dense:.6f}   dense / faiss = {t_dense / t_exact:.2f}x")
    t_approx, v_approx = timed(lambda: ts.similarity("mutual_knn", x, y, k=k, search="approximate"))
    print(f"  faiss approximate  {t_approx:8.2f} s   value {v_approx:.6f}   exact / approximate = "
          f"{t_exact / t_approx:.2f}x   |value diff| = {abs(v_exact - v_approx):.4f}")
    rows = np.sort(np.random.default_rng(2).choice(n, size=min(recall_rows, n), replace=False))
    for name, points in (("X", x), ("Y", y)):
        approx = nearest_neighbors(points.astype(np.float64), k, metric="cosine", search="approximate")[1]
        recall = neighbor_recall(approx[rows], exact_rows(points, rows, k))
        print(f"  approximate recall@{k} on {rows.size:,} rows of {name}: {recall:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--dense-100k", action="store_true", help="also time the dense approach at --large")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--recall-rows", type=int, default=2000)
    args = parser.parse_args()
    faiss = faiss_module()
    ts.list_metrics()  # load the registry before timing
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads")
    part1(args.n, args.dim, args.k)
    if not args.skip_large:
        part2(args.large, args.dim, args.k, args.dense_100k, args.recall_rows)


if __name__ == "__main__":
    main()
