"""``compat_features`` against its floor and against the full-ranking searches it used to make.

On synthetic paired embeddings (``--n`` items x ``--dim`` dimensions, 20 items a label; the new
space a rotated, rescaled and noisy copy of the old one), with the default aligners and pair
sizes, it times in one run:

* ``ours``: :func:`~transferscope.workflows.compat.compat_features`, wall and CPU seconds;
* ``floor``: what no exact method can skip: per evaluation (old/old, new/new, new/old and one per
  aligner and pair size) the (queries x gallery) score product and one sort of each score row
  (mAP needs every relevant item's rank), plus one fit of each aligner per pair size, the ridge
  fit once for ``ridge`` and ``low_rank`` (scikit-learn's ``RidgeCV``, ``MLPRegressor``, SciPy's
  ``orthogonal_procrustes``);
* ``naive``: the same evaluations as an exact FAISS search of the whole gallery per query
  (``k`` = gallery size, the previous form), for reference.

and prints ``ours / floor`` (goal <= 1.5x) and, at 10,000 x 384, CPU seconds against the goal of
3 minutes.

    python benchmarks/bench_compat.py [--n 10000] [--dim 384]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

GOAL_FLOOR = 1.5
GOAL_CPU = 180.0


def data(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, max(2, n // 20), n)
    old = rng.normal(size=(labels.max() + 1, dim))[labels] + 1.5 * rng.normal(size=(n, dim))
    rotation, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    new = 2.0 * old @ rotation + 1.0 * rng.normal(size=(n, dim))
    return old, new, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    from scipy.linalg import orthogonal_procrustes

    from transferscope.metrics.retrieval import ranking_metrics, search_gallery
    from transferscope.probes.aligners import ALIGNERS, fit_aligners
    from transferscope.workflows.compat import DEFAULT_PAIR_SIZES, compat_features, query_gallery_split

    old, new, labels = data(args.n, args.dim)
    query, gallery = query_gallery_split(labels, seed=0)
    sizes = [gallery.size if s == "all" else min(int(s), gallery.size) for s in DEFAULT_PAIR_SIZES]
    evaluations = 3 + len(ALIGNERS) * len(sizes)

    start, cpu = time.perf_counter(), time.process_time()
    result = compat_features(old, new, labels)
    ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu

    q, g = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in (new[query], old[gallery]))
    start = time.perf_counter()
    for _ in range(evaluations):
        np.sort((q @ g.T).astype(np.float32), axis=1)
    for size in sizes:
        pairs = gallery[:size]
        orthogonal_procrustes(new[pairs] - new[pairs].mean(0), old[pairs] - old[pairs].mean(0))
        fit_aligners(["ridge", "mlp"], new[pairs], old[pairs])
    floor = time.perf_counter() - start

    start = time.perf_counter()
    for _ in range(evaluations):
        for block in range(0, q.shape[0], 512):
            ranked = search_gallery(q[block:block + 512], g, g.shape[0])
            ranking_metrics(ranked, labels[query][block:block + 512], labels[gallery])
    naive_searches = time.perf_counter() - start

    print(f"compat_features, {args.n} items x {args.dim} dims, {len(ALIGNERS)} aligners x {len(sizes)} pair sizes "
          f"({evaluations} evaluations; verdict: {result.verdict}):")
    print(f"  ours {ours:.1f} s wall, {ours_cpu:.1f} s CPU; floor {floor:.1f} s; ours/floor {ours / floor:.2f}x "
          f"(goal <= {GOAL_FLOOR}x: {'met' if ours / floor <= GOAL_FLOOR else 'MISSED'})")
    print(f"  the evaluations as full-gallery FAISS searches (the previous form) alone: {naive_searches:.1f} s")
    if args.n >= 10_000 and args.dim >= 384:
        print(f"  CPU {ours_cpu:.0f} s against the goal of under {GOAL_CPU:.0f} s "
              f"({'met' if ours_cpu < GOAL_CPU else 'MISSED'})")


if __name__ == "__main__":
    main()
