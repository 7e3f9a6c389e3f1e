"""Speed of the transferability estimators, as ratios to their floor measured in one run.

Part 1 (LogME): at N=5,000, D=1,024, C=100 and N=10,000, D=2,048, C=100 on random
features with class structure, at N=5,000, D=1,024 on pure noise (float32 input), and at N=5,000, C=100 on real MiniLM features (the
shipped all-MiniLM-L6-v2 on 5,000 VADER lexicon words: the last layer, D=384, and
layers 4-6 concatenated, D=1,152; labels are 100 valence-rank bins), times

* ``floor``: one ``F.T @ F`` plus one symmetric eigendecomposition of it
  (float64, as the estimator computes);
* ``transferscope``: ``ts.score("logme", F, y)``;
* ``per-class loop``: the per-class MacKay fixed-point loop of the original
  paper (one eigendecomposition, then for each class iterations that each
  multiply ``F @ m``), written here as the naive baseline;

and prints ``ours / floor`` (goal <= 1.3) and ``loop / ours``, with the
difference between the two LogME values (ours is the exact supremum of the
evidence; the loop can stop below it).

Part 2: every registered estimator at N in {1k, 10k, 50k} (D=512, C=100 by
default), timed together with its own floor from ``estimator_floors.FLOORS``
(the operation that bounds it, on the same data, in the same run), printed as
``estimator / floor`` beside the goal, and as a ratio to ``F.T @ F``. A size is
skipped (shown as ``>Bs``) when even linear growth from the previous size would
exceed the budget ``--budget`` seconds.

    python benchmarks/bench_estimators.py [--sizes 1000,10000,50000] [--dim 512]
        [--skip-logme] [--skip-minilm] [--only logme,hscore] [--exclude nleep] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from estimator_floors import FLOORS, gram_eigh  # noqa: E402
from timing import best_of  # benchmarks/timing.py, beside this script

import transferscope as ts  # noqa: E402
from transferscope.metrics import list_metrics  # noqa: E402


def paired(fn_a: Callable[[], object], fn_b: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best-of times of two functions, interleaved so that load on the machine hits both alike."""
    a, b = [], []
    for _ in range(repeat):
        a.append(best_of(fn_a, 1))
        b.append(best_of(fn_b, 1))
    return min(a), min(b)


def make_data(n: int, d: int, c: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    centres = rng.normal(size=(c, d))
    f = (rng.normal(size=(n, d)) + 0.5 * centres[y]).astype(np.float32)
    return f, y


def minilm_data(n: int = 5000, c: int = 100) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Real MiniLM features of ``n`` VADER words (feature cache of transferscope), 100 valence-rank bins."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transferscope.datasets import load_builtin
    from transferscope.extraction.cache import FeatureCache, default_cache_dir
    from transferscope.extraction.features import extract_features
    from transferscope.extraction.specs import build_encoder
    from transferscope.workflows.demo import demo_model_path

    data = load_builtin("vader-valence")
    pick = np.sort(np.random.default_rng(0).choice(len(data), size=n, replace=False))
    words = [data.inputs[i] for i in pick]
    valence = np.asarray(data.labels, dtype=float)[pick]
    labels = np.argsort(np.argsort(valence, kind="stable"), kind="stable") * c // n
    encoder = build_encoder(f"st:{demo_model_path()}")
    layers = ["layer_4", "layer_5", "layer_6"]
    feats = extract_features(encoder, words, layers=layers, poolings=["mean"],
                             cache=FeatureCache(default_cache_dir()), progress=True)
    last = np.asarray(feats[("layer_6", "mean")], dtype=np.float32)
    concat = np.hstack([np.asarray(feats[(layer, "mean")], dtype=np.float32) for layer in layers])
    return {"MiniLM layer_6": (last, labels), "MiniLM layers 4-6": (concat, labels)}


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


def part_logme(repeat: int, minilm: bool) -> None:
    goal = FLOORS["logme"].goal
    print("LogME vs its floor (F^T F + eigh, float64) and the per-class fixed-point loop")
    print(f"{'features':>20} {'N':>6} {'D':>5} {'C':>4} {'floor s':>8} {'ours s':>8} {'ours/floor':>10} "
          f"{'goal':>5} {'loop s':>8} {'loop/ours':>9} {'ours - loop':>12}")
    datasets = {f"random {n}x{d}": make_data(n, d, c) for n, d, c in ((5000, 1024, 100), (10000, 2048, 100))}
    # Pure noise, no class signal: where MacKay's fixed point ran to max_iter (3.3x the floor).
    datasets["noise 5000x1024"] = (np.random.default_rng(0).normal(size=(5000, 1024)).astype(np.float32),
                                   np.arange(5000) % 100)
    if minilm:
        datasets.update(minilm_data())
    for label, (f, y) in datasets.items():
        t_floor, t_ours = paired(lambda: gram_eigh(f, y, {}), lambda: ts.score("logme", f, y), repeat)
        ours_value = ts.score("logme", f, y)
        start = time.perf_counter()
        loop_value = logme_per_class_loop(f, y)
        t_loop = time.perf_counter() - start
        ratio = t_ours / t_floor
        print(f"{label:>20} {f.shape[0]:>6} {f.shape[1]:>5} {len(np.unique(y)):>4} {t_floor:>8.3f} {t_ours:>8.3f} "
              f"{ratio:>10.2f} {'<=' + format(goal, 'g'):>5} {t_loop:>8.2f} {t_loop / t_ours:>9.1f} "
              f"{ours_value - loop_value:>12.2e}" + ("" if ratio <= goal else "  MISSED"), flush=True)


def source_probs(f: np.ndarray, classes: int = 100, seed: int = 1) -> np.ndarray:
    logits = f.astype(np.float64) @ np.random.default_rng(seed).normal(size=(f.shape[1], classes)) / np.sqrt(f.shape[1])
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def part_all(sizes: list[int], dim: int, classes: int, only: set[str] | None, repeat: int,
             budget: float) -> None:
    infos = [i for i in list_metrics("transferability") if only is None or i.name in only]
    print(f"\nEvery estimator (D={dim}, C={classes}): time, time / its floor (goal beside it), time / F.T @ F")
    header = f"{'estimator':>18} {'floor':>44}" + "".join(
        f" {f'N={n} s':>10} {'/floor':>7} {'/FtF':>7}" for n in sizes) + f" {'goal':>6}"
    print(header)
    data = {n: make_data(n, dim, classes, seed=n) for n in sizes}
    grams = {}
    for n in sizes:
        f64 = data[n][0].astype(np.float64)
        grams[n] = best_of(lambda: f64.T @ f64, repeat)
    print(f"{'F.T @ F':>18} {'':>44}" + "".join(f" {grams[n]:>10.4f} {'':>7} {1.0:>7.1f}" for n in sizes))
    for info in infos:
        floor = FLOORS.get(info.name)
        cells, missed = [], False
        previous: tuple[int, float] | None = None
        for n in sizes:
            f, y = data[n]
            if previous is not None and previous[1] * n / previous[0] > budget:
                # Even linear growth from the last size would exceed the budget.
                cells.append(f" {'>' + format(budget, '.0f') + 's':>10} {'-':>7} {'-':>7}")
                continue
            options: dict[str, object] = dict(info.required_options)
            if info.needs_source_probs:
                options["source_probs"] = source_probs(f)
            reps = repeat if n <= 10000 else 1  # pairs at N > 10,000 once: minutes per estimator
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    def run_estimator() -> object:
                        return ts.score(info.name, f, y, **options)

                    if floor is None:
                        t, t_floor = best_of(run_estimator, reps), float("nan")
                    else:
                        t_floor, t = paired(lambda: floor.run(f, y, options), run_estimator, reps)
                    ratio = t / t_floor
                    missed |= floor is not None and ratio > floor.goal
                    cells.append(f" {t:>10.4f} {ratio:>7.2f} {t / grams[n]:>7.1f}")
                    previous = (n, t)
                except Exception as exc:  # noqa: BLE001 - report and continue
                    cells.append(f" {type(exc).__name__:>10} {'-':>7} {'-':>7}")
        description = floor.description if floor else "(no floor declared)"
        goal = f"<={floor.goal:g}" if floor else "-"
        print(f"{info.name:>18} {description[:44]:>44}" + "".join(cells) + f" {goal:>6}"
              + ("  MISSED" if missed else ""), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--only", default=None, help="comma-separated estimator names")
    parser.add_argument("--exclude", default=None, help="comma-separated estimator names to leave out")
    parser.add_argument("--skip-logme", action="store_true")
    parser.add_argument("--skip-minilm", action="store_true", help="LogME on random features only")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=120.0,
                        help="skip a size when linear growth from the previous one would exceed this many seconds")
    args = parser.parse_args()
    if not args.skip_logme:
        part_logme(args.repeat, minilm=not args.skip_minilm)
    only = set(args.only.split(",")) if args.only else None
    if args.exclude:
        excluded = set(args.exclude.split(","))
        only = {i.name for i in list_metrics("transferability") if (only is None or i.name in only)} - excluded
    part_all([int(s) for s in args.sizes.split(",")], args.dim, args.classes, only, args.repeat, args.budget)


if __name__ == "__main__":
    main()
