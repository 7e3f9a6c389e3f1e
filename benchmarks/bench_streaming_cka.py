"""Exact streaming linear CKA at scale: time, throughput and peak memory.

Part 1 streams ``--n`` rows (default 1,000,000) of two ``--dim``-wide (default 768)
float32 representations, generated batch by batch (``--batch`` rows, default 10,000)
from a seeded generator so that the data are never all in memory, through
:class:`StreamingLinearCKA`; prints the wall time, the time inside ``update``, the
throughput, the biased and debiased values, and the peak resident memory of the
process (``ru_maxrss``), which must stay within ``--max-mb`` (default 2048 MB)
because the accumulator is ``O(D^2)``. It also times the bare matrix products
``X'X, Y'Y, X'Y`` of one batch in float64, the floor of any exact method, and
prints ``update / floor``.

Part 2 (after the peak is read, so it does not count): at ``--check-n`` rows (default
20,000) the streaming value against full-batch ``cka`` for both estimators, and at
``--gram-n`` rows (default 4,000; Gram matrices are N x N) the time of full-batch
linear CKA in Gram space over feature space.

    nice python benchmarks/bench_streaming_cka.py [--n 1000000] [--dim 768] [--batch 10000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this script

from transferscope.metrics.similarity.cka import cka
from transferscope.metrics.similarity.streaming import StreamingLinearCKA


def batches(n: int, dim: int, batch: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs of float32 blocks: X is Gaussian with an offset, Y a noisy nonlinear map of X."""
    rng = np.random.default_rng(seed)
    mix = (rng.standard_normal((dim, dim)) / np.sqrt(dim)).astype(np.float32)
    for start in range(0, n, batch):
        rows = min(batch, n - start)
        x = rng.standard_normal((rows, dim), dtype=np.float32) + np.float32(3.0)
        y = np.tanh(x @ mix) + np.float32(0.5) * rng.standard_normal((rows, dim), dtype=np.float32)
        yield x, y


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def stream(n: int, dim: int, batch: int, seed: int) -> tuple[StreamingLinearCKA, float, float]:
    acc = StreamingLinearCKA()
    in_update = 0.0
    start = time.perf_counter()
    for x, y in batches(n, dim, batch, seed):
        t = time.perf_counter()
        acc.update(x, y)
        in_update += time.perf_counter() - t
    return acc, time.perf_counter() - start, in_update


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--check-n", type=int, default=20_000)
    parser.add_argument("--gram-n", type=int, default=4_000)
    parser.add_argument("--max-mb", type=float, default=2048.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"Part 1: stream N={args.n:,} rows, D={args.dim} for X and Y, batches of {args.batch:,} (float32 in)")
    acc, total, in_update = stream(args.n, args.dim, args.batch, args.seed)
    biased, debiased = acc.value(), acc.value(debiased=True)
    peak = peak_mb()
    x, y = next(batches(args.batch, args.dim, args.batch, args.seed + 1))
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    floor = best_of(lambda: (x64.T @ x64, y64.T @ y64, x64.T @ y64)) * (args.n / args.batch)
    print(f"  rows accumulated     {acc.n_samples:,}")
    print(f"  wall time            {total:8.1f} s (incl. generating the data)")
    print(f"  time in update()     {in_update:8.1f} s  -> {args.n / in_update:,.0f} rows/s")
    print(f"  matmul floor         {floor:8.1f} s  (X'X, Y'Y, X'Y in float64, all batches)  update/floor = {in_update / floor:.2f}")
    print(f"  linear CKA           biased {biased:.10f}   debiased {debiased:.10f}")
    ok = peak <= args.max_mb
    print(f"  peak memory (maxrss) {peak:8.1f} MB  limit {args.max_mb:.0f} MB: {'OK' if ok else 'EXCEEDED'}")

    print(f"\nPart 2a: streaming vs full batch at N={args.check_n:,} (batches of {args.batch:,})")
    pairs = list(batches(args.check_n, args.dim, args.batch, args.seed + 2))
    acc = StreamingLinearCKA()
    for xb, yb in pairs:
        acc.update(xb, yb)
    x_all, y_all = np.vstack([p[0] for p in pairs]), np.vstack([p[1] for p in pairs])
    for estimator in ("biased", "debiased"):
        full = cka(x_all, y_all, estimator=estimator)
        streamed = acc.value(debiased=estimator == "debiased")
        print(f"  {estimator:9s} full {full:.15f}  streaming {streamed:.15f}  |diff| {abs(full - streamed):.2e}"
              f"  rel {abs(full - streamed) / abs(full):.2e}")

    n = args.gram_n
    print(f"\nPart 2b: full-batch linear CKA, Gram space vs feature space at N={n:,}, D={args.dim}")
    xg, yg = x_all[:n], y_all[:n]
    for estimator in ("biased", "debiased"):
        t_feature = best_of(lambda: cka(xg, yg, estimator=estimator, space="feature"))
        t_gram = best_of(lambda: cka(xg, yg, estimator=estimator, space="gram"))
        print(f"  {estimator:9s} feature {t_feature:7.3f} s   gram {t_gram:7.3f} s   gram/feature = {t_gram / t_feature:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
