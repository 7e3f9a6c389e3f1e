"""How long the built-in vision zoo takes to pretrain, model by model.

Trains every spec of ``transferscope.extraction.zoo.ZOO_SPECS`` into a fresh temporary
cache (one CPU thread per model, deterministic), prints each model's training time,
parameter count and held-out source accuracy, the total, and the time of a second,
cached load of the whole zoo.

    python benchmarks/zoo_build_time.py [--keep DIR] [--finetune]

``--finetune`` then fine-tunes a few zoo models on each held-out target (small budget) and
prints the test accuracies next to linear probes on the fixed baselines (pixels, HOG,
wavelet scattering).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import numpy as np

from transferscope.datasets.digits import TARGET_TASKS, load_task
from transferscope.extraction.zoo import ZOO_SPECS, load_zoo_model, zoo_spec

FINETUNE_MODELS = ("m-random", "m-mnist10", "m-parity", "m-rot90", "l-mnist10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="train into this cache root and keep it")
    parser.add_argument("--finetune", action="store_true", help="also fine-tune on the targets")
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix="ts-zoo-")
    try:
        start_all = time.perf_counter()
        load_task("mnist10")  # load the raw data once, outside the per-model times
        data_s = time.perf_counter() - start_all
        print(f"loading MNIST + UCI digits: {data_s:.2f} s")
        print(f"{'model':<18} {'widths':<18} {'d':>2} {'source task':<15} {'ep':>3} {'params':>8} "
              f"{'train s':>8} {'src val acc':>11}")
        total_train = 0.0
        for spec in ZOO_SPECS:
            t0 = time.perf_counter()
            model = load_zoo_model(spec, cache_dir=root)
            wall = time.perf_counter() - t0
            total_train += wall
            n_params = sum(p.numel() for p in model.parameters())
            meta = model.zoo_meta
            print(f"{spec.name:<18} {str(spec.widths):<18} {spec.depth:>2} {spec.source_task:<15} "
                  f"{spec.epochs:>3} {n_params:>8} {wall:>8.2f} {meta['source_val_accuracy']:>11.3f}")
        total = time.perf_counter() - start_all
        print(f"total: {total:.1f} s for {len(ZOO_SPECS)} models (training + saving {total_train:.1f} s)")
        t0 = time.perf_counter()
        for spec in ZOO_SPECS:
            load_zoo_model(spec, cache_dir=root)
        print(f"second load of the whole zoo (cached): {time.perf_counter() - t0:.2f} s")
        if args.finetune:
            _finetune_table(root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def _finetune_table(root: str) -> None:
    from transferscope.datasets.digits import TASKS
    from transferscope.extraction.vision_baselines import HOGEncoder, RawPixelsEncoder, ScatteringEncoder
    from transferscope.probes.finetune import finetune_probe
    from transferscope.probes.linear import linear_probe

    baselines = {"pixels": RawPixelsEncoder(), "hog": HOGEncoder(), "scatter": ScatteringEncoder()}
    print("\ntest accuracy: linear probe on fixed baselines | fine-tuned zoo models "
          "(mode=full, epochs=5, lr grid 1e-3/3e-3); targets capped at 1000 images, split 60/20/20")
    print(f"{'target':<24} " + " ".join(f"{b:>8}" for b in baselines) + " | "
          + " ".join(f"{m:>12}" for m in FINETUNE_MODELS) + "   s")
    for target in TARGET_TASKS:
        ds = load_task(target)
        if TASKS[target].n_samples > 1000:
            ds = ds.subsample(1000, seed=0)
        splits = ds.split(seed=0)
        x = np.asarray(ds.inputs)
        base_scores = []
        for enc in baselines.values():
            feats = enc.encode(x, layers=enc.layer_names(), poolings=["none"])[(enc.layer, "none")]
            base_scores.append(linear_probe(feats, ds.labels, splits=(splits.train, splits.val, splits.test)).score)
        row = []
        t0 = time.perf_counter()
        for name in FINETUNE_MODELS:
            res = finetune_probe(lambda name=name: load_zoo_model(zoo_spec(name), cache_dir=root), x, ds.labels,
                                 splits=(splits.train, splits.val, splits.test), mode="full", epochs=5,
                                 lr=(1e-3, 3e-3), seed=0)
            row.append(res.score)
        print(f"{target:<24} " + " ".join(f"{b:>8.3f}" for b in base_scores) + " | "
              + " ".join(f"{s:>12.3f}" for s in row)
              + f"   {time.perf_counter() - t0:.1f}")


if __name__ == "__main__":
    main()
