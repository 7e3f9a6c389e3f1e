"""Speed of the transferability estimators, as ratios measured in one run.

Part 1 (LogME): at N=5,000, D=1,024, C=100 and N=10,000, D=2,048, C=100
(float32 input), times

* ``floor``: the algorithmic floor, one ``F.T @ F`` plus one symmetric
  eigendecomposition of it (float64, as the estimator computes);
* ``transferscope``: ``ts.score("logme", F, y)``;
* ``per-class loop``: the per-class fixed-point loop of the original paper
  (one eigendecomposition, then for each class iterations that each multiply
  ``F @ m``), written here as the naive baseline;

and prints ``loop / ours`` (goal >= 5) and ``ours / floor`` (goal <= 1.5),
with the largest relative difference between the two LogME values.

Part 2: every registered estimator at N in {1k, 10k, 50k} (D=512, C=100 by
default), printed with its ratio to the ``F.T @ F`` time at that N. A size is
skipped (shown as ``>Bs``) when even linear growth from the previous size would
exceed the budget ``--budget`` seconds.

    python benchmarks/bench_estimators.py [--sizes 1000,10000,50000] [--dim 512]
        [--skip-logme] [--only logme,hscore] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np

import transferscope as ts
from transferscope.metrics import list_metrics


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_data(n: int, d: int, c: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    centres = rng.normal(size=(c, d))
    f = (rng.normal(size=(n, d)) + 0.5 * centres[y]).astype(np.float32)
    return f, y


def logme_per_class_loop(f32: np.ndarray, y: np.ndarray, tol: float = 1e-10, max_iter: int = 1000) -> float:
    """The naive baseline: the paper's algorithm, one class at a time, residual via F @ m."""
    f = f32.astype(np.float64)
    n, d = f.shape
    s, v = np.linalg.eigh(f.T @ f)
    s = np.maximum(s, 0.0)
    evidences = []
    for cls in np.unique(y):
        t = (y == cls).astype(np.float64)
        proj = v.T @ (f.T @ t)
        alpha, beta = 1.0, 1.0
        for _ in range(max_iter):
            gamma = float(np.sum(beta * s / (alpha + beta * s)))
            m = v @ (beta * proj / (alpha + beta * s))
            res2 = float(np.sum((f @ m - t) ** 2))
            new_alpha, new_beta = gamma / float(m @ m), (n - gamma) / res2
            done = abs(new_alpha / new_beta - alpha / beta) / (new_alpha / new_beta) < tol
            alpha, beta = new_alpha, new_beta
            if done:
                break
        m = v @ (beta * proj / (alpha + beta * s))
        res2 = float(np.sum((f @ m - t) ** 2))
        evidence = (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - alpha / 2 * float(m @ m)
                    - beta / 2 * res2 - 0.5 * np.sum(np.log(alpha + beta * s)) - n / 2 * np.log(2 * np.pi))
        evidences.append(evidence / n)
    return float(np.mean(evidences))


def floor(f32: np.ndarray) -> None:
    f = f32.astype(np.float64)
    np.linalg.eigh(f.T @ f)


def gram_time(f32: np.ndarray, repeat: int) -> float:
    f = f32.astype(np.float64)
    return best_of(lambda: f.T @ f, repeat)


def part_logme(repeat: int) -> None:
    print("LogME vs the per-class loop and the floor (float32 input, float64 arithmetic)")
    print(f"{'N':>7} {'D':>6} {'C':>4} {'floor s':>9} {'ours s':>9} {'loop s':>9} {'loop/ours':>10} "
          f"{'ours/floor':>11} {'max rel diff':>13}")
    for n, d, c in ((5000, 1024, 100), (10000, 2048, 100)):
        f, y = make_data(n, d, c)
        t_floor = best_of(lambda: floor(f), repeat)
        ours_value = ts.score("logme", f, y)
        t_ours = best_of(lambda: ts.score("logme", f, y), repeat)
        start = time.perf_counter()
        loop_value = logme_per_class_loop(f, y)
        t_loop = time.perf_counter() - start
        diff = abs(ours_value - loop_value) / abs(loop_value)
        print(f"{n:>7} {d:>6} {c:>4} {t_floor:>9.3f} {t_ours:>9.3f} {t_loop:>9.3f} {t_loop / t_ours:>10.1f} "
              f"{t_ours / t_floor:>11.2f} {diff:>13.2e}")


def source_probs(f: np.ndarray, classes: int = 100, seed: int = 1) -> np.ndarray:
    logits = f.astype(np.float64) @ np.random.default_rng(seed).normal(size=(f.shape[1], classes)) / np.sqrt(f.shape[1])
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def part_all(sizes: list[int], dim: int, classes: int, only: set[str] | None, repeat: int,
             budget: float) -> None:
    infos = [i for i in list_metrics("transferability") if only is None or i.name in only]
    print(f"\nEvery estimator (D={dim}, C={classes}); ratio = time / time of F.T @ F at that N")
    header = f"{'estimator':>18}" + "".join(f" {f'N={n} s':>12} {'ratio':>8}" for n in sizes)
    print(header)
    data = {n: make_data(n, dim, classes, seed=n) for n in sizes}
    grams = {n: gram_time(data[n][0], repeat) for n in sizes}
    print(f"{'F.T @ F':>18}" + "".join(f" {grams[n]:>12.4f} {1.0:>8.1f}" for n in sizes))
    for info in infos:
        cells = []
        previous: tuple[int, float] | None = None
        for n in sizes:
            f, y = data[n]
            if previous is not None and previous[1] * n / previous[0] > budget:
                # Even linear growth from the last size would exceed the budget.
                cells.append(f" {'>' + format(budget, '.0f') + 's':>12} {'-':>8}")
                continue
            options: dict[str, object] = dict(info.properties.get("required_options", {}))
            if info.needs_source_probs:
                options["source_probs"] = source_probs(f)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    t = best_of(lambda: ts.score(info.name, f, y, **options), 1 if n >= 10000 else repeat)
                    cells.append(f" {t:>12.4f} {t / grams[n]:>8.1f}")
                    previous = (n, t)
                except Exception as exc:  # noqa: BLE001 - report and continue
                    cells.append(f" {type(exc).__name__:>12} {'-':>8}")
        print(f"{info.name:>18}" + "".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--only", default=None, help="comma-separated estimator names")
    parser.add_argument("--skip-logme", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=120.0,
                        help="skip a size when linear growth from the previous one would exceed this many seconds")
    args = parser.parse_args()
    if not args.skip_logme:
        part_logme(args.repeat)
    only = set(args.only.split(",")) if args.only else None
    part_all([int(s) for s in args.sizes.split(",")], args.dim, args.classes, only, args.repeat, args.budget)


if __name__ == "__main__":
    main()
