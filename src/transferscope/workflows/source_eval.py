"""Does a source ranking predict measured transfer? (``transferscope sources --evaluate digits``)

The offline test bed is the digit zoo (:mod:`transferscope.extraction.zoo`): the models
``m-mnist10``, ``m-0to4``, ``m-5to9``, ``m-parity``, ``m-ge5``, ``m-rot90``, ``m-inverted`` and
``m-small`` share one architecture and one seeded initialisation and differ only in the source
task they were trained on (:data:`DIGIT_SOURCES`). Fine-tuning each of them on a held-out target
(:func:`~transferscope.workflows.finetuning.finetune_transfer`, the vision suite's recipe: full
fine-tuning, 5 epochs, learning rates 1e-3 and 3e-3, the best validation epoch; each target
subsampled to the suite's 1,000 images and split 60/20/20 per seed) is the measured transfer
after intermediate training on that source (base -> source -> target). Those results come
from the score cache when the vision suite has run.

Each target's sources are ranked by their distance to it in one fixed representation space
(:func:`~transferscope.workflows.sources.rank_sources`, nearest = best), and the ranking is
compared with the measured transfer by weighted Kendall tau with a 95% bootstrap interval over
sources and truth seeds (:func:`~transferscope.metrics.ranking.rank_correlation_ci`). Two
baselines stand beside every measure: ``largest_source`` (more source samples first) and
``random``, whose row is the mean and the central 95% of the weighted tau of 1,000 seeded
random orders. ``mean`` over the targets carries an interval from the same bootstrap, targets
resampled too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.errors import InputError

__all__ = ["DIGIT_SOURCES", "DIGIT_TARGETS", "SourceEvaluation", "evaluate_digit_sources", "source_ranking_quality"]

#: Source task -> the zoo model trained on it (same architecture, initialisation and seed).
DIGIT_SOURCES: dict[str, str] = {"mnist10": "m-mnist10", "mnist-0to4": "m-0to4", "mnist-5to9": "m-5to9",
                                 "mnist-parity": "m-parity", "mnist-ge5": "m-ge5", "mnist-rot90": "m-rot90",
                                 "mnist-inverted": "m-inverted", "mnist10-small": "m-small"}
#: Held-out targets of the evaluation (never a zoo source).
DIGIT_TARGETS: tuple[str, ...] = ("digits10", "digits-mod3", "digits-loops", "mnist-heldout-rot180",
                                  "mnist-heldout-mirror", "mnist-heldout-fewshot")
_FINETUNE = {"epochs": 5, "lr": [1e-3, 3e-3]}  # the vision suite's recipe, so the score cache is shared
_TARGET_SAMPLES = 1000


@dataclass
class SourceEvaluation:
    """Result of :func:`evaluate_digit_sources`.

    Attributes
    ----------
    quality : pandas.DataFrame
        One row per space x ranking (each measure, ``largest_source``, ``random``) x target and
        ``mean``: ``tau``, ``low``, ``high`` (weighted Kendall tau and its 95% interval) and
        ``top1_hit`` (1 when the ranking's first source is the measured best, else 0; for
        ``random`` the expected 1 / sources; for ``mean`` the share of targets).
    distances : pandas.DataFrame
        One row per space x target x source: every distance and ``samples``.
    transfer : pandas.DataFrame
        One row per target x source x seed: ``zoo`` (the model trained on the source) and
        ``value``, its fine-tuned test accuracy on the target.
    """

    quality: pd.DataFrame
    distances: pd.DataFrame
    transfer: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """``tau [low, high]`` per space x ranking (rows) and target (columns), ``mean`` last."""
        text = self.quality.assign(cell=[f"{t:.3f} [{lo:.2f}, {hi:.2f}]" for t, lo, hi in
                                         zip(self.quality["tau"], self.quality["low"], self.quality["high"])])
        table = text.pivot_table(index=["space", "ranking"], columns="target", values="cell", aggfunc="first")
        order = [c for c in table.columns if c != "mean"] + ["mean"]
        return table[order].reset_index()

    def _repr_html_(self) -> str:
        from transferscope.workflows.results import html_view

        return html_view("Source rankings against measured transfer (weighted tau [95% interval])", [],
                         self.summary())


def source_ranking_quality(distances: pd.DataFrame, transfer: pd.DataFrame, *, measures: Sequence[str],
                           n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Weighted tau of each distance ranking, ``largest_source`` and ``random`` against the transfer.

    Parameters
    ----------
    distances : DataFrame
        Columns ``target``, ``source``, ``samples`` and one per measure (lower = nearer).
    transfer : DataFrame
        Columns ``target``, ``source``, ``seed``, ``value`` (higher = better); every target x
        source with the same seeds.
    measures : sequence of str
    n_boot : int, default=1000
    seed : int, default=0

    Returns
    -------
    DataFrame
        ``ranking``, ``target`` (and ``mean``), ``tau``, ``low``, ``high``, ``top1_hit`` (as in
        :class:`SourceEvaluation`).

    Examples
    --------
    >>> d = pd.DataFrame({"target": "t", "source": list("abcd"), "samples": [4, 3, 2, 1],
    ...                   "otdd": [1.0, 2.0, 3.0, 4.0]})
    >>> truth = pd.DataFrame({"target": "t", "source": list("abcd"), "seed": 0, "value": [0.9, 0.8, 0.7, 0.6]})
    >>> q = source_ranking_quality(d, truth, measures=["otdd"], n_boot=50)
    >>> round(float(q.set_index(["ranking", "target"]).loc[("otdd", "t"), "tau"]), 6)
    1.0
    """
    from transferscope.metrics.ranking import rank_correlation, rank_correlation_ci

    rankings = [*measures, "largest_source"]
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    replicates: dict[str, list[np.ndarray]] = {name: [] for name in (*rankings, "random")}
    for target, part in distances.groupby("target", sort=False):
        truth = transfer[transfer["target"] == target].pivot_table(index="source", columns="seed", values="value")
        part = part.set_index("source").loc[truth.index]
        if truth.isna().to_numpy().any():
            raise InputError(f"target {target!r}: every source needs a transfer value for every seed")
        splits = truth.to_numpy(dtype=float)
        mean_truth = splits.mean(axis=1)
        best = truth.index[int(np.argmax(mean_truth))]
        scores = {name: part["samples"].to_numpy(float) if name == "largest_source" else -part[name].to_numpy(float)
                  for name in rankings}
        for name, score in scores.items():
            tau, low, high = rank_correlation_ci(score, mean_truth, truth_splits=splits, n_boot=n_boot, seed=seed)
            rows.append({"ranking": name, "target": target, "tau": tau, "low": low, "high": high,
                         "top1_hit": float(truth.index[int(np.argmax(score))] == best and np.ptp(score) > 0)})
        randoms = np.array([rank_correlation(rng.permutation(len(mean_truth)).astype(float), mean_truth)
                            for _ in range(n_boot)])
        rows.append({"ranking": "random", "target": target, "tau": float(np.nanmean(randoms)),
                     "low": float(np.nanquantile(randoms, 0.025)), "high": float(np.nanquantile(randoms, 0.975)),
                     "top1_hit": 1.0 / len(mean_truth)})  # expected
        for name, score in scores.items():
            boot = np.empty(n_boot)
            for b in range(n_boot):
                idx = rng.integers(0, len(score), len(score))
                cols = rng.integers(0, splits.shape[1], splits.shape[1])
                boot[b] = rank_correlation(score[idx], splits[np.ix_(idx, cols)].mean(axis=1))
            replicates[name].append(boot)
        replicates["random"].append(randoms)
    table = pd.DataFrame(rows)
    n_targets = len(replicates["random"])
    for name in (*rankings, "random"):
        per_target = table[table["ranking"] == name]
        stacked = np.vstack(replicates[name])  # (targets, n_boot)
        picks = rng.integers(0, n_targets, (n_boot, n_targets))
        drawn = stacked[picks, np.arange(n_boot)[:, None]]
        finite = np.isfinite(drawn)  # a resample of constant sources has no tau
        means = np.where(finite, drawn, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)
        means = means[finite.any(axis=1)]
        low, high = np.quantile(means, [0.025, 0.975]) if means.size else (np.nan, np.nan)
        rows.append({"ranking": name, "target": "mean", "tau": float(per_target["tau"].mean()),
                     "low": float(low), "high": float(high),
                     "top1_hit": float(per_target["top1_hit"].mean())})
    return pd.DataFrame(rows)


def evaluate_digit_sources(*, spaces: Sequence[str] = ("pixels", "zoo:m-random"),
                           sources: Mapping[str, Any] = DIGIT_SOURCES,
                           targets: Sequence[str] = DIGIT_TARGETS, seeds: Sequence[int] = (0, 1, 2),
                           max_samples: int = 1000, n_boot: int = 1000, extraction: Any = None,
                           progress: Callable[[str], None] | None = None) -> SourceEvaluation:
    """Rank :data:`DIGIT_SOURCES` for each target in each space and score the rankings against
    measured source -> target transfer (module notes).

    Parameters
    ----------
    spaces : sequence of str
        Model specs whose space the distances are measured in (the zoo's layer ``penultimate``
        for ``zoo:`` models, the extractor's output otherwise).
    sources : mapping, default=DIGIT_SOURCES
        Source task (of :mod:`transferscope.datasets.digits`) -> the zoo model trained on it (a
        built-in name or a :class:`~transferscope.extraction.zoo.ZooSpec` whose ``source_task``
        is that task); give models of one architecture and initialisation.
    targets : sequence of str
        Digit targets (:data:`DIGIT_TARGETS` or any target task of :mod:`transferscope.datasets.digits`).
    seeds : sequence of int
        Truth seeds: target subsample, split and fine-tuning seed; their spread enters the intervals.
    max_samples : int, default=1000
        Seeded subsample of each dataset for the distances.
    n_boot : int, default=1000
    extraction : ExtractionOptions, optional
    progress : callable, optional
        Called with one line per finished step. With ``extraction.progress`` a bar with ETA runs
        over the fine-tuning runs and one over the distances.

    Examples
    --------
    >>> result = evaluate_digit_sources(targets=["digits-loops"], seeds=[0])  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """
    from transferscope.datasets.digits import TARGET_TASKS, load_task
    from transferscope.extraction.progress import progress_bar
    from transferscope.extraction.zoo import zoo_encoder, zoo_spec
    from transferscope.workflows.candidates import ExtractionOptions
    from transferscope.workflows.finetuning import finetune_transfer
    from transferscope.workflows.score_cache import ScoreCache
    from transferscope.workflows.sources import SOURCE_MEASURES, rank_sources

    unknown = [t for t in targets if t not in TARGET_TASKS]
    if unknown or not targets:
        raise InputError(f"targets must be digit target tasks ({', '.join(TARGET_TASKS)}), got {list(targets)}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise InputError(f"seeds must be distinct integers, got {list(seeds)}")
    extraction = extraction or ExtractionOptions()
    say = progress or (lambda line: None)
    cache = ScoreCache(extraction.cache_dir) if extraction.use_cache else None
    specs = {task: zoo_spec(model) if isinstance(model, str) else model for task, model in sources.items()}
    wrong = [task for task, spec in specs.items() if spec.source_task != task]
    if len(specs) < 3 or wrong:
        raise InputError(f"sources must map at least 3 source tasks to zoo models trained on them; {wrong} are not")
    datasets = {task: load_task(task) for task in specs}
    transfer_rows, distance_rows = [], []
    total = len(targets) * len(specs) * len(seeds)
    wholes = {target: load_task(target) for target in targets}
    with progress_bar("source -> target fine-tuning", total=total, enabled=extraction.progress) as advance:
        for target, whole in wholes.items():
            for seed in seeds:
                data = whole.subsample(_TARGET_SAMPLES, seed=seed) if len(whole) > _TARGET_SAMPLES else whole
                split = data.split(seed=seed)
                for source, spec in specs.items():
                    encoder = zoo_encoder(spec, cache_dir=extraction.cache_dir)
                    result = finetune_transfer(encoder, data, (split.train, split.val, split.test), seed=seed,
                                               options=_FINETUNE, cache=cache)
                    transfer_rows.append({"target": target, "source": source, "zoo": spec.name, "seed": seed,
                                          "value": result["value"]})
                    advance(1)
                    say(f"transfer {len(transfer_rows)}/{total}: {source} -> {target} (seed {seed}) "
                        f"{result['value']:.3f}")
    with progress_bar("source distances", total=len(targets) * len(spaces), enabled=extraction.progress) as advance:
        for target, whole in wholes.items():
            for space in spaces:
                layer = "penultimate" if space.startswith("zoo:") else "last"
                ranking = rank_sources(target=whole, sources=list(datasets.values()), model=space, layer=layer,
                                       max_samples=max_samples, seed=0, extraction=extraction)
                distance_rows += [{"space": space, "target": target, **row}
                                  for row in ranking.table.to_dict("records")]
                advance(1)
                say(f"distances in {space} to {target}: nearest {ranking.best} by otdd")
    distances = pd.DataFrame(distance_rows)
    transfer = pd.DataFrame(transfer_rows)
    quality = pd.concat([source_ranking_quality(part.drop(columns="space"), transfer, measures=SOURCE_MEASURES,
                                                n_boot=n_boot).assign(space=space)
                         for space, part in distances.groupby("space", sort=False)], ignore_index=True)
    return SourceEvaluation(quality=quality[["space", "ranking", "target", "tau", "low", "high", "top1_hit"]],
                            distances=distances, transfer=transfer,
                            settings={"spaces": list(spaces), "targets": list(targets), "seeds": list(seeds),
                                      "sources": {task: spec.name for task, spec in specs.items()},
                                      "finetune": _FINETUNE, "max_samples": max_samples,
                                      "target_samples": _TARGET_SAMPLES, "n_boot": n_boot})
