"""Does a source ranking predict measured transfer? (``transferscope sources --evaluate digits``)

The offline test bed is the digit zoo (:mod:`transferscope.extraction.zoo`): the models
``m-mnist10``, ``m-0to4``, ``m-5to9``, ``m-parity``, ``m-ge5``, ``m-rot90``, ``m-inverted`` and
``m-small`` share one architecture and one seeded initialisation and differ only in the source
task they were trained on (:data:`DIGIT_SOURCES`). Fine-tuning each of them on a held-out target
(:func:`~transferscope.workflows.engine.finetuning.finetune_transfer`, the vision suite's recipe: full
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

**Text** (``transferscope sources --evaluate text``, :func:`evaluate_text_sources`): the zoo
transformers MiniLM and MPNet (:data:`TEXT_BASES`) are each fine-tuned on every labelled text task
(:data:`TEXT_TASKS`, seven built-in datasets, so six sources per target; the ``finetuned:TASK:BASE``
recipe of :mod:`transferscope.extraction.finetuned`: full fine-tuning, 2 epochs). The measured
transfer of source ``S`` to target ``T`` is the linear probe's test accuracy on ``T`` of the model
fine-tuned on ``S`` (its last layer, mean-pooled; frozen: full fine-tuning on every pair is beyond a
CPU budget), on one seeded subsample of at most 1,000 items (with the defaults, the one the
distances use, so each model embeds each target once) and a seeded 60/20/20 split per truth
seed; the base model's own accuracy under the same protocol (no intermediate training) is
reported beside it. Sources are ranked by their distance to ``T`` in the base model's own space (last
layer, mean-pooled), so the ranking never sees a fine-tuned model. The fine-tunes' delta-activation
fingerprints (:mod:`transferscope.workflows.drift`) are compared within each architecture and
across them (:func:`~transferscope.workflows.drift.fingerprint_agreement`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.errors import InputError
from transferscope.workflows.engine.options import ExtractionOptions
from transferscope.workflows.storage.results import Result

__all__ = ["DIGIT_SOURCES", "DIGIT_TARGETS", "TEXT_TASKS", "TEXT_BASES", "SourceEvaluation", "evaluate_digit_sources",
           "evaluate_text_sources", "source_ranking_quality"]

#: Source task -> the zoo model trained on it (same architecture, initialisation and seed).
DIGIT_SOURCES: dict[str, str] = {"mnist10": "m-mnist10", "mnist-0to4": "m-0to4", "mnist-5to9": "m-5to9",
                                 "mnist-parity": "m-parity", "mnist-ge5": "m-ge5", "mnist-rot90": "m-rot90",
                                 "mnist-inverted": "m-inverted", "mnist10-small": "m-small"}
#: Held-out targets of the evaluation (never a zoo source).
DIGIT_TARGETS: tuple[str, ...] = ("digits10", "digits-mod3", "digits-loops", "mnist-heldout-rot180",
                                  "mnist-heldout-mirror", "mnist-heldout-fewshot")
#: The labelled text tasks of the text test bed: each is a target, and a source for every other.
TEXT_TASKS: tuple[str, ...] = ("sentence-polarity", "newsgroups-topic", "vader-polarity", "vader-intensity",
                               "word-language", "word-category", "word-form")
#: The zoo transformers fine-tuned on each text task (:mod:`transferscope.extraction.model_zoo`).
TEXT_BASES: tuple[str, ...] = ("minilm", "mpnet")
_FINETUNE = {"epochs": 5, "lr": [1e-3, 3e-3]}  # the vision suite's recipe, so the score cache is shared
_TARGET_SAMPLES = 1000


@dataclass
class SourceEvaluation(Result):
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
        ``value``, its fine-tuned test accuracy on the target (text: ``base`` and ``model``, and the
        probe's accuracy).
    baseline : pandas.DataFrame or None
        Text: one row per base x target x seed, the base model's own ``value`` (no intermediate
        training), under the protocol of ``transfer``.
    fingerprints : pandas.DataFrame or None
        Text: one row per base x task's fine-tune: its fingerprint ``group`` within the base, the
        ``nearest`` other task by fingerprint and that ``nearest_distance``, and its per-layer drift
        from the base (``onset_layer``, ``peak_layer``, ``peak_drift``).
    fingerprint_distances : pandas.DataFrame or None
        Text: one row per base x pair of tasks, the cosine ``distance`` between the fingerprints.
    agreement : pandas.DataFrame or None
        Text: :func:`~transferscope.workflows.drift.fingerprint_agreement` of the bases.
    """

    kind = "sources-eval"
    title = "Source rankings evaluated"

    quality: pd.DataFrame
    distances: pd.DataFrame
    transfer: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    baseline: pd.DataFrame | None = None
    fingerprints: pd.DataFrame | None = None
    fingerprint_distances: pd.DataFrame | None = None
    agreement: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.quality.copy()

    def summary(self) -> pd.DataFrame:
        """``tau [low, high]`` per space x ranking (rows) and target (columns), ``mean`` last."""
        text = self.quality.assign(cell=[f"{t:.3f} [{lo:.2f}, {hi:.2f}]" for t, lo, hi in
                                         zip(self.quality["tau"], self.quality["low"], self.quality["high"])])
        table = text.pivot_table(index=["space", "ranking"], columns="target", values="cell", aggfunc="first")
        order = [c for c in table.columns if c != "mean"] + ["mean"]
        return table[order].reset_index()

    def answer(self) -> list[str]:
        """The best ranking (measure and space) by mean weighted tau over the targets, random left out."""
        means = self.quality[(self.quality["target"] == "mean") & ~self.quality["ranking"].isin(["random"])]
        if means.empty:
            return []
        best = means.sort_values("tau", ascending=False).iloc[0]
        return [f"Best ranking: {best['ranking']} in {best['space']} (mean weighted tau {best['tau']:.3f}, "
                f"[{best['low']:.2f}, {best['high']:.2f}])"]

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The terminal's table: weighted tau per ranking and target."""
        return [("Source rankings against measured source -> target transfer: weighted tau [95% interval]",
                 self.summary())]

    def _repr_html_(self) -> str:
        from transferscope.workflows.storage.results import html_view

        return html_view("Source rankings against measured transfer (weighted tau [95% interval])", self.answer(),
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
                           max_samples: int = 1000, n_boot: int = 1000, extraction: ExtractionOptions | None = None,
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
    from transferscope.workflows.engine.finetuning import finetune_transfer
    from transferscope.workflows.engine.score_cache import ScoreCache
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
                    result = finetune_transfer(encoder, data, split, seed=seed,
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


def evaluate_text_sources(*, bases: Sequence[str] = TEXT_BASES, tasks: Sequence[str] = TEXT_TASKS,
                          targets: Sequence[str] | None = None, seeds: Sequence[int] = (0, 1, 2),
                          max_samples: int = 1000, target_samples: int = 1000, n_boot: int = 1000,
                          fingerprint_data: str = "sentence-polarity", extraction: ExtractionOptions | None = None,
                          progress: Callable[[str], None] | None = None) -> SourceEvaluation:
    """Rank the text tasks as sources for each other and score the rankings against measured
    transfer through each base's fine-tunes; compare the fine-tunes' fingerprints (module notes).

    Parameters
    ----------
    bases : sequence of str, default=TEXT_BASES
        Text transformers (zoo names, ``st:``/``hf:`` specs or folders) fine-tuned on every task.
    tasks : sequence of str, default=TEXT_TASKS
        Built-in text classification datasets; at least 4 (3 sources per target).
    targets : sequence of str, optional
        The tasks evaluated as targets (default: all of ``tasks``); the others of ``tasks`` are
        their sources.
    seeds : sequence of int
        Truth seeds: the target's split; their spread enters the intervals.
    max_samples : int, default=1000
        Seeded subsample of each dataset for the distances.
    target_samples : int, default=1000
        Seeded subsample of a target for the measured transfer (seed 0, the same for every truth seed).
    n_boot : int, default=1000
    fingerprint_data : str, default="sentence-polarity"
        The built-in dataset on whose inputs the per-layer drift of each fine-tune is measured.
    extraction : ExtractionOptions, optional
    progress : callable, optional
        Called with one line per finished step; with ``extraction.progress`` bars with ETA too.

    Examples
    --------
    >>> result = evaluate_text_sources(bases=["minilm"], targets=["word-form"], seeds=[0])  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """
    from transferscope.extraction.progress import progress_bar
    from transferscope.workflows.drift import fingerprint_agreement
    from transferscope.workflows.engine.finetuned_sources import ensure_finetuned
    from transferscope.workflows.sources import SOURCE_MEASURES

    tasks = list(tasks)
    targets = list(tasks if targets is None else targets)
    datasets = _text_bed(tasks, targets, bases, seeds)
    extraction = extraction or ExtractionOptions()
    say = progress or (lambda line: None)
    tuned = {(base, task): f"finetuned:{task}:{base}" for base in bases for task in tasks}
    with progress_bar("fine-tuning the sources", total=len(tuned), enabled=extraction.progress) as advance:
        for spec in tuned.values():
            ensure_finetuned(spec, cache_dir=extraction.cache_dir)
            advance(1)
            say(f"source model {spec} ready")
    transfer, baseline = _measured_text_transfer(datasets, targets, bases, tuned, seeds=seeds,
                                                 target_samples=target_samples, extraction=extraction, say=say)
    distances = _text_source_distances(datasets, targets, bases, max_samples=max_samples, extraction=extraction,
                                       say=say)
    quality = pd.concat([source_ranking_quality(distances[distances["space"] == base].drop(columns="space"),
                                                transfer[transfer["base"] == base], measures=SOURCE_MEASURES,
                                                n_boot=n_boot).assign(space=base) for base in bases],
                        ignore_index=True)
    prints, pairs, matrices = _finetune_fingerprints(tasks, bases, tuned, fingerprint_data=fingerprint_data,
                                                     extraction=extraction, say=say)
    agreement = fingerprint_agreement(matrices) if len(bases) > 1 else None
    return SourceEvaluation(
        quality=quality[["space", "ranking", "target", "tau", "low", "high", "top1_hit"]], distances=distances,
        transfer=transfer, baseline=baseline, fingerprints=prints,
        fingerprint_distances=pairs, agreement=agreement,
        settings={"bed": "text", "bases": list(bases), "tasks": tasks, "targets": targets, "seeds": list(seeds),
                  "truth": "linear probe on the source-fine-tuned model's last layer (mean pooling)",
                  "finetune": "finetuned:TASK:BASE (transferscope.extraction.finetuned.FINETUNE_SETTINGS)",
                  "max_samples": max_samples, "target_samples": target_samples, "n_boot": n_boot,
                  "fingerprint_data": fingerprint_data})


def _text_bed(tasks: list[str], targets: list[str], bases: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    """The text test bed's datasets by task, its arguments checked first."""
    from transferscope.datasets import load_builtin

    if len(tasks) < 4 or len(set(tasks)) != len(tasks):
        raise InputError(f"tasks must be at least 4 distinct text classification datasets, got {tasks}")
    if not targets or any(t not in tasks for t in targets):
        raise InputError(f"targets must be among tasks ({', '.join(tasks)}), got {targets}")
    if not bases or len(set(bases)) != len(bases):
        raise InputError(f"bases must be distinct text models, got {list(bases)}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise InputError(f"seeds must be distinct integers, got {list(seeds)}")
    datasets = {task: load_builtin(task) for task in tasks}
    wrong = [t for t, d in datasets.items() if d.modality != "text" or d.task != "classification"]
    if wrong:
        raise InputError(f"tasks must be text classification datasets; {wrong} are not")
    return datasets


def _measured_text_transfer(datasets: dict[str, Any], targets: list[str], bases: Sequence[str],
                            tuned: dict[tuple[str, str], str], *, seeds: Sequence[int], target_samples: int,
                            extraction: ExtractionOptions, say: Callable[[str], None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The measured transfer: a linear probe on each target through each source's fine-tune of
    each base (rows with ``source``), and through the base itself (the baseline rows)."""
    from transferscope.extraction.progress import progress_bar
    from transferscope.probes.linear import linear_probe
    from transferscope.workflows.engine.candidates import extract_candidates

    transfer_rows, baseline_rows = [], []
    tasks = list(datasets)
    with progress_bar("source -> target transfer", total=len(bases) * len(targets) * len(tasks),
                      enabled=extraction.progress) as advance:
        for target in targets:
            whole = datasets[target]
            data = whole.subsample(target_samples, seed=0) if len(whole) > target_samples else whole
            splits = {seed: data.split(seed=seed) for seed in seeds}
            for base in bases:
                for source in [None, *(t for t in tasks if t != target)]:
                    model = base if source is None else tuned[(base, source)]
                    (cand,) = extract_candidates(data, [model], layers="last", poolings=["mean"], extraction=extraction)
                    x = np.asarray(cand.features, dtype=np.float64)
                    for seed, split in splits.items():
                        value = linear_probe(x, data.labels, splits=split).score
                        row = {"base": base, "target": target, "seed": seed, "value": value}
                        if source is None:
                            baseline_rows.append(row)
                        else:
                            transfer_rows.append({**row, "source": source, "model": model})
                    advance(1)
            say(f"transfer to {target} measured")
    return pd.DataFrame(transfer_rows), pd.DataFrame(baseline_rows)


def _text_source_distances(datasets: dict[str, Any], targets: list[str], bases: Sequence[str], *, max_samples: int,
                           extraction: ExtractionOptions, say: Callable[[str], None]) -> pd.DataFrame:
    """Every source measure between each target and the other tasks, in each base's space."""
    from transferscope.extraction.progress import progress_bar
    from transferscope.workflows.sources import rank_sources

    rows = []
    with progress_bar("source distances", total=len(targets) * len(bases), enabled=extraction.progress) as advance:
        for target in targets:
            for base in bases:
                ranking = rank_sources(target=datasets[target], sources=[d for t, d in datasets.items() if t != target],
                                       model=base, layer="last", max_samples=max_samples, seed=0,
                                       extraction=extraction)
                rows += [{"space": base, "target": target, **row} for row in ranking.table.to_dict("records")]
                advance(1)
                say(f"distances in {base} to {target}: nearest {ranking.best} by otdd")
    return pd.DataFrame(rows)


def _finetune_fingerprints(tasks: list[str], bases: Sequence[str], tuned: dict[tuple[str, str], str], *,
                           fingerprint_data: str, extraction: ExtractionOptions,
                           say: Callable[[str], None]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Each fine-tune's drift fingerprint on ``fingerprint_data``: per task its group, nearest task,
    onset and peak; the distance of every task pair; each base's task x task distance matrix."""
    from transferscope.datasets import load_builtin
    from transferscope.workflows.drift import drift

    prints, pairs, matrices = [], [], {}
    drift_data = load_builtin(fingerprint_data)
    for base in bases:
        result = drift(base=base, tuned=[tuned[(base, t)] for t in tasks], dataset=drift_data,
                       extraction=extraction)
        names = {tuned[(base, t)]: t for t in tasks}
        matrix = result.distances.rename(index=names, columns=names).loc[tasks, tasks]
        matrices[base] = matrix
        for row in result.summary.to_dict("records"):
            task = names[row["tuned"]]
            others = matrix.loc[task].drop(task)
            prints.append({"base": base, "task": task, "group": int(row["group"]), "nearest": str(others.idxmin()),
                           "nearest_distance": float(others.min()), "onset_layer": row["onset_layer"],
                           "peak_layer": row["peak_layer"], "peak_drift": float(row["peak_drift"])})
        pairs += [{"base": base, "task_a": a, "task_b": b, "distance": float(matrix.loc[a, b])}
                  for i, a in enumerate(tasks) for b in tasks[i + 1:]]
        say(f"fingerprints of {base}'s fine-tunes: groups "
            + ", ".join(f"{p['task']}={p['group']}" for p in prints if p["base"] == base))
    return pd.DataFrame(prints), pd.DataFrame(pairs), matrices
