"""``transferscope meta`` at its floor and beside the one-resample-at-a-time baseline.

On a synthetic table (``--candidates`` x ``--targets``, 3 estimators and the truth; the history
prior and the combination are added by meta: 6 methods), times in one run, best of ``--repeat``:

* ``ours``: :func:`~transferscope.workflows.meta.meta_evaluate` with ``--boot`` resamples;
* ``floor``: the one operation no bootstrap of a rank correlation over ``n`` candidates can skip
  in this form: per method and target, the (resamples x n) draw counts times the strict upper
  triangle of the (n x n) truth-sign matrix in the method's order, one triangular matrix product
  (BLAS ``strmm``, half the multiplications of a full one; the truth's own product is prefix sums,
  and the sums that remain are O(resamples x n)), the targets side by side in threads on the
  machine's cores as meta runs them; ``full`` is the full (n x n) product per method and target
  that the first form needed, for reference;
* ``naive``: the same resamples one at a time through SciPy (``scipy.stats.weightedtau`` and
  ``kendalltau``), as ``rank_correlation_ci`` did (only where it takes under a minute);

and prints ``ours / floor`` (goal <= 3x at 1,000 candidates, where the products dominate: meta
also fits the combination, builds the priors and the tables; at 10 or 100 candidates the products
take milliseconds and the ratio only measures that fixed work) and ``naive / ours``. With ``--full`` it also times the issue's 1,000 x 100 table,
against its goal of under 10 s with 1,000 resamples.

    python benchmarks/bench_meta.py [--candidates 10] [--targets 8] [--boot 1000] [--repeat 3] [--full]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from timing import best_of  # benchmarks/timing.py, beside this script

GOAL_FLOOR = 3.0
METHODS = 6  # 3 estimators, prior:history, prior:history_rank, combined


def table(candidates: int, targets: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=candidates)
    frames = []
    for t in range(targets):
        truth = quality + rng.normal(size=candidates)
        for metric, values in (("truth", truth), ("logme", truth + rng.normal(size=candidates)),
                               ("knn", truth + 2 * rng.normal(size=candidates)), ("hscore", rng.normal(size=candidates))):
            frames.append(pd.DataFrame({"target": f"t{t}", "candidate": [f"c{i}" for i in range(candidates)],
                                        "metric": metric, "value": values}))
    return pd.concat(frames, ignore_index=True)


def measure(candidates: int, targets: int, boot: int, repeat: int) -> dict[str, float]:
    from scipy.stats import kendalltau, weightedtau

    from transferscope.workflows.meta import meta_evaluate

    frame = table(candidates, targets)
    rng = np.random.default_rng(0)
    draws = rng.integers(0, candidates, (boot, candidates))
    counts = np.zeros((boot, candidates), dtype=np.float32)
    np.add.at(counts, (np.arange(boot)[:, None], draws), 1)
    scores, truth = rng.normal(size=candidates), rng.normal(size=candidates)
    concordance = (np.sign(scores[:, None] - scores) * np.sign(truth[:, None] - truth)).astype(np.float32)
    upper = np.triu(concordance, 1)

    def floor() -> None:
        import os
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        from transferscope.metrics.triangular import upper_triangular_product

        def one_target(_: int) -> None:
            for _ in range(METHODS):
                upper_triangular_product(counts, upper)

        upper_triangular_product(counts[:1], upper)  # loads the BLAS before the limit
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(one_target, range(targets)))

    def full() -> None:
        for _ in range(targets * METHODS):
            counts @ concordance

    def naive() -> None:
        for _ in range(targets * METHODS):
            for d in draws:
                weightedtau(scores[d], truth[d])
                kendalltau(scores[d], truth[d])

    ours = best_of(lambda: meta_evaluate(frame, n_boot=boot), repeat)
    cli = float("nan")
    if candidates >= 1000:  # the goal is the command's: start, read the file, evaluate, print, write
        import subprocess
        import sys
        import tempfile
        import time
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "table.csv"
            frame.to_csv(path, index=False)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "transferscope", "meta", str(path), "--n-boot", str(boot),
                            "--output", str(Path(folder) / "meta.csv")], check=True, capture_output=True)
            cli = time.perf_counter() - start
    low = best_of(floor, repeat)
    products = best_of(full, repeat)
    slow = best_of(naive, 1) if candidates * targets * boot <= 2_000_000 else float("nan")
    return {"ours": ours, "floor": low, "full": products, "naive": slow, "cli": cli}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--targets", type=int, default=8)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also time the issue's 1,000 x 100 table")
    args = parser.parse_args()
    sizes = [(args.candidates, args.targets), (100, 20)]
    if args.full:
        sizes.append((1000, 100))
    for candidates, targets in sizes:
        t = measure(candidates, targets, args.boot, args.repeat if candidates < 1000 else 1)
        print(f"{candidates} candidates x {targets} targets, {args.boot} resamples: ours {t['ours']:.2f} s, "
              f"floor {t['floor']:.2f} s (full products {t['full']:.2f} s), ours/floor {t['ours'] / t['floor']:.2f}x"
              + (f" (goal <= {GOAL_FLOOR}x), " if candidates >= 1000 else " (no goal at this size), ")
              + f"naive/ours {t['naive'] / t['ours']:.1f}x"
              + (f" ({t['naive']:.1f} s)" if t['naive'] == t['naive'] else " (naive not run: over a minute)")
              + (f"; the command end to end (start, read, evaluate, print, write) {t['cli']:.2f} s, goal for "
                 f"1,000 x 100: under 10 s ({'met' if t['cli'] < 10 else 'not met'})" if candidates == 1000 else ""))


if __name__ == "__main__":
    main()
