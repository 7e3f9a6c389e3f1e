"""The shape metrics against SciPy and their D x D floor, and the Procrustes aligner against SciPy.

On two ``--n`` x ``--dim`` float64 representations of the same inputs (the second a rotated,
noisy copy of the first), best of ``--repeat``, in one run:

* ``procrustes``: ``ts.similarity("procrustes")`` against ``scipy.spatial.procrustes`` (goal <=
  1.5x) and against the floor of any exact method: centring both inputs, the (D x D) product
  ``X'Y`` and its singular values (goal <= 2x); and each shape metric's peak memory traced
  while it runs (``tracemalloc``, which sees NumPy's buffers) in bytes per input value (goal <=
  16: twice the float64 input);
* ``shape_metric`` (alpha 0.5, partial whitening) against its floor: the two (D x D) Gram
  matrices and their eigendecompositions, then the cross product and its singular values;
* ``permutation_procrustes`` against its floor: centring, the cross product and the optimal
  assignment on it (``scipy.optimize.linear_sum_assignment``);
* the ``procrustes`` aligner, fitted and applied to the inputs, against
  ``scipy.linalg.orthogonal_procrustes`` on the centred inputs plus the one product that applies it.

    python benchmarks/bench_procrustes.py [--n 20000] [--dim 384] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this script

GOAL_PEER = 1.5
GOAL_FLOOR = 2.0
GOAL_BYTES = 16.0


def peak_bytes_per_value(fn, values: int) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / values
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from scipy.linalg import eigh, orthogonal_procrustes, svdvals
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial import procrustes as scipy_procrustes

    import transferscope as ts
    from transferscope.probes.aligners import fit_aligner

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.n, args.dim))
    rotation, _ = np.linalg.qr(rng.normal(size=(args.dim, args.dim)))
    y = x @ rotation + 0.5 * rng.normal(size=(args.n, args.dim))

    def floor() -> None:
        xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
        svdvals(xc.T @ yc)

    def shape_floor() -> None:
        xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
        eigh(xc.T @ xc)
        eigh(yc.T @ yc)
        svdvals(xc.T @ yc)

    def assignment_floor() -> None:
        xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
        linear_sum_assignment(xc.T @ yc, maximize=True)

    def scipy_aligner() -> None:
        xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
        r, _ = orthogonal_procrustes(yc, xc)
        yc @ r

    for name in ("procrustes", "shape_metric", "permutation_procrustes"):  # imports and registry lookups are not what is timed
        ts.similarity(name, x[:50], y[:50])
    ours = best_of(lambda: ts.similarity("procrustes", x, y), args.repeat)
    peer = best_of(lambda: scipy_procrustes(x, y), args.repeat)
    low = best_of(floor, args.repeat)
    shape = best_of(lambda: ts.similarity("shape_metric", x, y, alpha=0.5), args.repeat)
    shape_low = best_of(shape_floor, args.repeat)
    permutation = best_of(lambda: ts.similarity("permutation_procrustes", x, y), args.repeat)
    permutation_low = best_of(assignment_floor, args.repeat)
    aligner = best_of(lambda: fit_aligner("procrustes", y, x)(y), args.repeat)
    aligner_peer = best_of(scipy_aligner, args.repeat)
    print(f"{args.n} x {args.dim}, best of {args.repeat}:")
    print(f"  procrustes {ours:.3f} s; scipy.spatial.procrustes {peer:.3f} s: {ours / peer:.2f}x "
          f"(goal <= {GOAL_PEER}x: {'met' if ours / peer <= GOAL_PEER else 'MISSED'}); floor {low:.3f} s: "
          f"{ours / low:.2f}x (goal <= {GOAL_FLOOR}x: {'met' if ours / low <= GOAL_FLOOR else 'MISSED'})")
    print(f"  shape_metric (alpha 0.5) {shape:.3f} s; its floor {shape_low:.3f} s: {shape / shape_low:.2f}x "
          f"(goal <= {GOAL_FLOOR}x: {'met' if shape / shape_low <= GOAL_FLOOR else 'MISSED'})")
    print(f"  permutation_procrustes {permutation:.3f} s; its floor {permutation_low:.3f} s: "
          f"{permutation / permutation_low:.2f}x (goal <= {GOAL_FLOOR}x: "
          f"{'met' if permutation / permutation_low <= GOAL_FLOOR else 'MISSED'})")
    for name, options in (("procrustes", {}), ("shape_metric", {"alpha": 0.5}), ("permutation_procrustes", {})):
        used = peak_bytes_per_value(lambda: ts.similarity(name, x, y, **options), x.size + y.size)
        print(f"  {name} peak memory {used:.1f} bytes per input value (goal <= {GOAL_BYTES:.0f}: "
              f"{'met' if used <= GOAL_BYTES else 'MISSED'})")
    print(f"  procrustes aligner, fit and apply {aligner:.3f} s; scipy orthogonal_procrustes {aligner_peer:.3f} s: "
          f"{aligner / aligner_peer:.2f}x")


if __name__ == "__main__":
    main()
