"""``select`` on the offline text targets: regret of the pick and its cost against exhaustive probing.

For each built-in text target, the candidates are the layers of the local all-MiniLM-L6-v2, the
same architecture with random weights and TF-IDF (15 or 16 candidates). The reference is
exhaustive probing, measured in the same run: the linear probe on every one of the ten 5 x 2-fold
splits for every candidate; its best mean is the best achievable. ``select`` then runs on a cold
score cache (features from the feature cache), without a budget and with budgets of fits; for each
run the script prints the pick, its regret (the exhaustive mean of the best candidate minus that of
the pick, in accuracy or R^2 points), the probe fits spent as a share of exhaustive probing, and
its probing time as a ratio to the exhaustive probing time.

Goals (issue 12): regret within the probe's own noise (about one corrected standard error of
the best candidate) at <= 40% of the exhaustive cost without a budget.

Run: ``.venv/bin/python benchmarks/bench_select.py [--targets sentence-polarity,...]``
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from transferscope.datasets import load_builtin
from transferscope.extraction.cache import default_cache_dir
from transferscope.probes.linear import linear_probe
from transferscope.probes.repeated import corrected_standard_error
from transferscope.workflows.demo import demo_model_path
from transferscope.workflows.engine.candidates import ExtractionOptions, extract_candidates
from transferscope.workflows.select import select

TARGETS = ("sentence-polarity", "word-language", "vader-polarity", "vader-valence")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--budgets", default="none,20,40", help="comma-separated: none or numbers of probe fits")
    args = parser.parse_args()
    path = demo_model_path()
    models = [f"st:{path}", f"random:{path}", "tfidf"]
    features_cache = default_cache_dir(None)
    print(f"{'target':18s} {'budget':>6s} {'pick':34s} {'regret':>7s} {'best_se':>7s} {'fits':>9s} "
          f"{'cost':>5s} {'time/exh':>8s}")
    for target in args.targets.split(","):
        data = load_builtin(target)
        options = ExtractionOptions(cache_dir=str(features_cache))
        cands = extract_candidates(data, models, layers="all", extraction=options)
        splits = data.repeated_splits(seed=0)
        start = time.perf_counter()
        exhaustive = {c.name: [linear_probe(c.features, data.labels, splits=(s.train, s.val, s.test),
                                            task=data.task).score for s in splits] for c in cands}
        exhaustive_seconds = time.perf_counter() - start
        means = {k: float(np.mean(v)) for k, v in exhaustive.items()}
        best = max(means, key=means.get)
        n_train = int(np.mean([len(s.train) + len(s.val) for s in splits]))
        n_test = int(np.mean([len(s.test) for s in splits]))
        best_se = corrected_standard_error(exhaustive[best], n_train=n_train, n_test=n_test)
        for budget in args.budgets.split(","):
            with tempfile.TemporaryDirectory() as tmp:  # a cold score cache, the features linked in
                (Path(tmp) / "features").symlink_to(features_cache / "features")
                if (features_cache / "hashes").exists():
                    shutil.copytree(features_cache / "hashes", Path(tmp) / "hashes")
                choice = select(dataset=data, models=models, budget=None if budget == "none" else int(budget),
                                extraction=ExtractionOptions(cache_dir=tmp), n_jobs=1)
            short = choice.pick.replace(f"st:{path}", "MiniLM").replace(f"random:{path}", "random-MiniLM")
            print(f"{target:18s} {budget:>6s} {short:34s} {means[best] - means[choice.pick]:7.4f} {best_se:7.4f} "
                  f"{choice.fits:4d}/{choice.exhaustive_fits:<4d} {choice.cost_share:5.0%} "
                  f"{choice.seconds / exhaustive_seconds:8.2f}")


if __name__ == "__main__":
    main()
