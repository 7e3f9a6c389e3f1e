"""How much a second identical `rank` run saves through the caches.

Runs `transferscope rank` (through the Python API) twice on a built-in dataset
with every layer of the shipped MiniLM encoder, in a fresh temporary cache, and
prints both times and their ratio; then a third run with only the feature cache
kept (score cache removed), to show what each cache contributes.

    python benchmarks/bench_rank_cache.py [--dataset word-language] [--probe]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from transferscope.datasets import load_builtin  # noqa: E402
from transferscope.workflows.demo import demo_model_path  # noqa: E402
from transferscope.workflows.rank import rank  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="word-language")
    parser.add_argument("--probe", action="store_true", help="also run the linear probe")
    args = parser.parse_args()
    data = load_builtin(args.dataset)
    metrics = "logme,knn" if data.task == "regression" else "logme,hscore,knn"
    cache = tempfile.mkdtemp(prefix="ts-bench-")
    try:
        def run() -> float:
            start = time.perf_counter()
            rank(dataset=data, models=[f"st:{demo_model_path()}"], layers="all", poolings="mean",
                 metrics=metrics, probe=args.probe, cache_dir=cache)
            return time.perf_counter() - start

        cold = run()
        warm = run()
        shutil.rmtree(os.path.join(cache, "scores"))
        features_only = run()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"dataset {args.dataset}: {len(data)} inputs, 8 candidates, metrics {metrics}, probe {args.probe}")
    print(f"first run (extract + score):          {cold:8.2f} s")
    print(f"second run (features + scores cached): {warm:8.2f} s   speed-up {cold / warm:6.1f}x")
    print(f"features cached, scores recomputed:    {features_only:8.2f} s   speed-up {cold / features_only:6.1f}x")


if __name__ == "__main__":
    main()
