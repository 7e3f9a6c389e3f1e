"""``compare(features=...)``'s memory and time against the floor, for the measures that need only
D x D statistics.

On two ``--n`` x ``--dim`` float32 representations of the same inputs, for ``cka`` (biased and
debiased, linear kernel, feature space) it prints the peak memory traced while comparing them
(``tracemalloc``, which sees NumPy's buffers) in bytes per input value (goal <= 16: twice the
float64 input; a float64 copy of each input is 8), and the time against the floor: the float64
products ``X'X``, ``Y'Y`` and ``X'Y`` that any exact method needs.

    python benchmarks/bench_compare_memory.py [--n 50000] [--dim 768]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this script

GOAL_BYTES = 16.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=768)
    args = parser.parse_args()
    from transferscope.workflows.compare import compare

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, args.dim), dtype=np.float32)
    y = x @ (rng.standard_normal((args.dim, args.dim), dtype=np.float32) / np.sqrt(args.dim)) \
        + rng.standard_normal((args.n, args.dim), dtype=np.float32)
    values = x.size + y.size

    def floor() -> None:
        a, b = x.astype(np.float64), y.astype(np.float64)
        a.T @ a, b.T @ b, a.T @ b

    low = best_of(floor, 3)
    for estimator in ("biased", "debiased"):
        tracemalloc.start()
        start = time.perf_counter()
        result = compare(features={"x": x, "y": y}, measure="cka", measure_options={"estimator": estimator})
        took = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        per_value = peak / values
        print(f"cka ({estimator}), {args.n} x {args.dim} twice: value {result.matrix.iloc[0, 1]:.6f}; peak "
              f"{peak / 2**20:.0f} MiB = {per_value:.1f} bytes per input value (goal <= {GOAL_BYTES:g}: "
              f"{'met' if per_value <= GOAL_BYTES else 'not met'}); {took:.2f} s, floor {low:.2f} s, "
              f"ours/floor {took / low:.2f}x")


if __name__ == "__main__":
    main()
