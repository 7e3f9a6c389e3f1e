"""Run a suite: cached extraction -> estimators -> ground truth -> meta-evaluation.

The unit of work is a cell (suite, target, candidate, seed): features from the
feature cache, every applicable estimator, the ground truth (a probe, fine-tuning,
the published fine-tuning accuracy of ``probe: published``, or for a word-similarity
target the Spearman of the pair cosines, :mod:`~transferscope.workflows.pair_targets`). Each finished
cell is written to the results store in one transaction; a rerun skips cells
already there, so an interrupted run resumes. Meta-evaluation (per target and
estimator: weighted Kendall tau, Kendall tau, regret@1, top-1 hit against the
probe) is recomputed from the stored rows at the end of every run, with the
static prior baseline next to the estimators.

A cell is "already there" only when it was stored under the same cell key
(:func:`cell_key`): a hash of everything that changes its rows: the target's
inputs and labels as the run sees them (so ``max_samples``, the seed, the data
root and split), the task, the sorted list of estimators, the ground truth
(``probe`` and, for ``finetune``, its options), the model's identity (weights)
and preprocessing, the layer, the pooling and the model's static prior. A cell
stored under another key (another ``--max-samples``, an estimator added or
removed, new weights) is recomputed whole and its rows replace the old ones in
one transaction: estimators and probes already computed for the same features
come from the score cache, so adding an estimator computes only that estimator.
Library versions are not part of the key (each row records them). The
meta-evaluation uses only rows stored under the current keys. A suite whose
candidates give the same candidate name twice (the same model listed twice,
overlapping layers or a repeated pooling) is refused before any work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.builtin import load_builtin
from transferscope.datasets.dataset import Dataset
from transferscope.datasets.vision_targets import VISION_TARGETS, load_vision_target
from transferscope.errors import InputError
from transferscope.extraction.checks import check_model
from transferscope.extraction.encoder import Encoder
from transferscope.extraction.finetuned import leaks_into
from transferscope.extraction.specs import select_layers
from transferscope.extraction.versions import library_versions
from transferscope.hashing import hash_fields
from transferscope.metrics.registry import get_metric, list_metrics
from transferscope.probes import FEATURE_PROBE_NAMES, REPEATED_SPLIT_PROBES
from transferscope.workflows.engine.candidates import Candidate, ExtractionOptions, encoder_candidates
from transferscope.workflows.engine.finetuning import can_finetune, finetune_transfer
from transferscope.workflows.engine.score_cache import ScoreCache, labels_fingerprint
from transferscope.workflows.engine.scoring import CandidateScores, Scorer
from transferscope.workflows.meta import MEASURES
from transferscope.workflows.pair_targets import is_pair_target, load_pair_target
from transferscope.workflows.storage.results import Result, interval_text
from transferscope.workflows.storage.store import ResultStore
from transferscope.workflows.suite import Suite

__all__ = ["BenchmarkResult", "run_benchmark", "suite_estimators", "cell_key", "aggregate_table", "interval_table",
           "interval_display", "META_METHODS", "META_BOOTSTRAPS"]

META_METHODS = MEASURES  # the measures of meta_evaluate, stored per target
META_BOOTSTRAPS = 500  # bootstrap resamples behind each meta-evaluation interval
_CELL_FORMAT = 1  # bump when what a cell computes changes


@dataclass
class BenchmarkResult(Result):
    """Meta-evaluation rows of the run and the estimator x target aggregate table.

    ``computed_cells`` counts the cells computed by this run, among them
    ``replaced_cells`` that the store held under other settings (their rows were replaced);
    ``skipped_cells`` those already stored under the same settings.
    """

    kind = "benchmark"
    title = "Benchmark"

    meta: pd.DataFrame
    aggregate: pd.DataFrame
    computed_cells: int
    skipped_cells: int
    replaced_cells: int = 0

    def _repr_html_(self) -> str:
        from transferscope.workflows.storage.results import html_view

        return html_view("Benchmark", [f"{self.computed_cells} cell(s) computed, {self.skipped_cells} already stored"],
                         self.aggregate)

    def to_frame(self) -> pd.DataFrame:
        return self.meta.copy()

    def answer(self) -> list[str]:
        """The best method on average over the targets (weighted Kendall tau), among the methods
        measured on the most targets: a mean over fewer targets is over other targets, so it is
        named beside the answer where it is higher, not compared with it."""
        if self.aggregate.empty or "mean" not in self.aggregate:
            return []
        targets = [c for c in self.aggregate.columns if c not in ("estimator", "mean")]
        covered = self.aggregate[targets].notna().sum(axis=1)
        ranked = self.aggregate.assign(covered=covered).sort_values("mean", ascending=False)
        everywhere = ranked[ranked["covered"] == covered.max()]
        best = everywhere.iloc[0]
        lines = [f"Best on average: {best['estimator']} (mean weighted tau {best['mean']:.3f}; "
                 f"{self.computed_cells} cell(s) computed, {self.skipped_cells} already stored)"]
        higher = ranked[(ranked["covered"] < covered.max()) & (ranked["mean"] > best["mean"])]
        if not higher.empty:
            lines.append("  higher means over fewer targets (not comparable): " + ", ".join(
                f"{r.estimator} {r.mean:.3f} on {r.covered} of {int(covered.max())}" for r in higher.itertuples()))
        return lines


def suite_estimators(suite: Suite, task: str) -> list[str]:
    """Estimators of ``suite`` that apply to ``task`` (those that need a source head only
    with ``suite.source_probs``)."""
    if suite.estimators == "all":
        names = [i.name for i in list_metrics("transferability")
                 if task in i.task_types and (suite.source_probs or not i.needs_source_probs)
                 and i.uses_features and i.name not in suite.exclude]
    else:
        names = [str(n) for n in suite.estimators]
        names = [n for n in names if task in get_metric(n, "transferability").task_types]
    return names


def _prior(suite: Suite, model: str) -> float | None:
    return suite.priors.get(model)


def cell_key(suite: Suite, data: Dataset, estimators: list[str], encoder: Encoder, model: str,
             layer: str, pooling: str) -> str:
    """The key of one benchmark cell: a hash of every setting that changes its rows (module notes)."""
    return hash_fields({
        "format": _CELL_FORMAT,
        "dataset": data.fingerprint(),
        "labels": labels_fingerprint(data.labels),
        "task": data.task,
        "estimators": sorted(estimators),
        "probe": suite.probe,
        "finetune": suite.finetune if suite.probe == "finetune" else {},
        "model": encoder.identity(),
        "preprocessing": encoder.preprocessing(),
        "layer": layer,
        "pooling": pooling,
        "prior": _prior(suite, model),
    })


def _candidate_plan(suite: Suite, seed: int, memo: dict[tuple[str, int], Encoder],
                    extraction: ExtractionOptions) -> list[tuple[Any, Encoder, list[tuple[str, str]], dict]]:
    """Every suite candidate with its encoder, output keys and cell names; a name given twice is refused."""
    plan = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(suite.candidates):
        encoder = _encoder(spec.model, seed, memo, extraction)
        check_model(encoder, getattr(encoder, "max_length", 128))  # damaged weights: one line, before any cell
        keys = encoder.output_keys(select_layers(encoder, spec.layers), spec.poolings)
        names: dict[tuple[str, str], str] = {}
        for key in keys:
            name = f"{encoder.name} | {key[0]} | {key[1]}"
            if name in seen:
                where = (f"suite candidate {i} ({spec.model}) gives it twice (a repeated layer or pooling)"
                         if seen[name] == i else
                         f"suite candidates {seen[name]} ({suite.candidates[seen[name]].model}) and {i} "
                         f"({spec.model}) both give it")
                raise InputError(f"duplicate candidate {name!r}: {where}; list each candidate once")
            seen[name] = i
            names[key] = name
        plan.append((spec, encoder, keys, names))
    return plan


def load_target(suite: Suite, target: str) -> Dataset:
    """The dataset of ``target``: an image target of :mod:`transferscope.datasets.vision_targets`
    read from ``suite.data_root`` (split ``suite.target_split``) when the suite has a data root,
    else a built-in dataset."""
    if suite.data_root is not None and target in VISION_TARGETS:
        return load_vision_target(target, suite.data_root, split=suite.target_split)
    return load_builtin(target)


def _varying_label_columns(data: Dataset, log: Callable[[str], None] | None) -> Dataset:
    """A multilabel dataset without the label columns that are constant (all absent or all present),
    which no estimator can score (a subsample can lose a rare class)."""
    labels = np.asarray(data.labels)
    keep = np.flatnonzero(labels.min(axis=0) != labels.max(axis=0))
    if keep.size == labels.shape[1]:
        return data
    if keep.size == 0:
        raise InputError(f"target {data.name} has no label that is present in some samples and absent in others")
    if log is not None:
        log(f"{data.name}: {labels.shape[1] - keep.size} of {labels.shape[1]} labels occur in no sample or in all; "
            "left out")
    return dataclasses.replace(data, labels=labels[:, keep], _fingerprint=list(data._fingerprint))


def _encoder(spec_model: str, seed: int, memo: dict[tuple[str, int], Encoder], extraction: ExtractionOptions) -> Encoder:
    """``extraction.encoder``, reusing torchvision models across targets (building one takes seconds)."""
    key = (spec_model, seed)
    if key in memo:
        return memo[key]
    encoder = extraction.encoder(spec_model, seed=seed)  # a finetuned: source is trained first
    if getattr(encoder, "adapter", "") == "torchvision":
        memo[key] = encoder
    return encoder


def _published_truth(encoder: Any, model: str, target: str) -> dict[str, Any]:
    """The published fine-tuning accuracy of the candidate's model on ``target`` (as a fraction)."""
    from transferscope.workflows.published.literature import (
        IMAGENET_11X11_TARGETS,
        published_finetune_accuracy,
        published_model_key,
    )

    key = published_model_key(getattr(encoder, "builder", ""), getattr(encoder, "weights_name", None))
    if key is None:
        raise InputError(f"probe 'published' has no fine-tuning accuracy for candidate {model!r}: it must be "
                         "one of the 11 torchvision ImageNet models with IMAGENET1K_V1 weights")
    value, source = published_finetune_accuracy(target, key)
    notes = IMAGENET_11X11_TARGETS.get(target, ("", ""))[1]
    return {"value": value / 100.0,
            "settings": {"truth": "published", "source": source, "model": key, "published_percent": value,
                         "target_metric": notes.rpartition("metric: ")[2] or "accuracy"}}


def run_benchmark(
    suite: Suite,
    *,
    store: ResultStore,
    cache_dir: str | None = None,
    run_id: str | None = None,
    n_jobs: int | None = None,
    backend: str = "local",
    extraction: ExtractionOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Run every unfinished cell of ``suite``, store the rows, return the meta-evaluation.

    ``extraction`` gives the batch size, token length, device, remote-code permission and progress
    bars of every model the suite builds (its cache settings are ``cache_dir``'s); a token length
    other than the default changes the features, so those cells are recomputed under their own
    keys. ``progress`` receives a line per step (the library's convention: bars from
    ``extraction.progress``, lines to a ``progress`` callable).

    ``backend="ray"`` runs extraction as Ray Data ``map_batches`` over a pool of
    encoder actors and the scoring cells as Ray tasks (``RAY_ADDRESS`` or a local
    instance); both go through the same feature and score caches.

    Examples
    --------
    >>> from transferscope.workflows.suite import load_suite
    >>> suite = load_suite({"name": "mini", "candidates": ["tfidf", "hashing"],
    ...                     "targets": ["sentence-polarity"], "estimators": ["logme", "knn"],
    ...                     "max_samples": 60})  # doctest: +SKIP
    >>> run_benchmark(suite, store=ResultStore("r.duckdb")).aggregate  # doctest: +SKIP
    """
    run_id = run_id or pd.Timestamp.now("UTC").strftime("%Y%m%dT%H%M%S")
    given = extraction or ExtractionOptions()
    extraction = dataclasses.replace(given, cache_dir=cache_dir, use_cache=True, names=given.called)
    bars, log = extraction.progress, progress
    cache = extraction.feature_cache()  # the default folder checked here, before any work
    scores = ScoreCache(cache_dir)
    versions = library_versions()
    computed = skipped = replaced = 0
    current: set[str] = set()
    memo: dict[tuple[str, int], Encoder] = {}
    published = suite.probe == "published"
    for seed in suite.seeds:
        for target in suite.targets:
            pair_target = load_pair_target(target) if is_pair_target(target) else None
            data = load_target(suite, target) if pair_target is None else pair_target.pairs
            if suite.max_samples is not None and pair_target is None:  # rated pairs are few: all kept
                data = data.subsample(int(suite.max_samples), seed=seed)
            if data.task == "multilabel":
                data = _varying_label_columns(data, log)
            estimators = suite_estimators(suite, data.task)
            if log is not None:
                log(f"{target}: {len(data)} samples, {data.task}, {len(estimators)} estimators")
            own_truth = published or pair_target is not None  # no probe: the truth is computed below
            scorer = Scorer(estimators, task=data.task, cache=scores, n_jobs=n_jobs, backend=backend,
                            on_error="nan", probe=None if own_truth else (
                                suite.probe if suite.probe in FEATURE_PROBE_NAMES else "linear"),
                            splits=None if own_truth else _splits(data, seed, suite.probe), progress=bars)
            items, fingerprint = ((data.inputs, data.fingerprint()) if pair_target is None
                                  else (pair_target.words, pair_target.words_fingerprint))
            pending: list[tuple[Candidate, Encoder, str, dict[str, Any] | None]] = []
            stale = 0
            for spec, encoder, keys, names in _candidate_plan(suite, seed, memo, extraction):
                if leaks_into(spec.model, target):
                    if log is not None:
                        log(f"{target}: {spec.model} was fine-tuned on this target's inputs and labels; "
                            "not evaluated on it")
                    continue
                cells = {key: cell_key(suite, data, estimators, encoder, spec.model, *key) for key in keys}
                current.update(cells.values())
                todo = [k for k in keys if not store.has_cell(suite.name, target, names[k], seed, key=cells[k])]
                stale += sum(store.has_cell(suite.name, target, names[k], seed) for k in todo)
                skipped += len(keys) - len(todo)
                if not todo:
                    continue
                got = encoder_candidates(encoder, items, fingerprint,
                                         layers=list(dict.fromkeys(k[0] for k in todo)), poolings=spec.poolings,
                                         with_head=scorer.needs_source_probs, cache=cache, progress=bars,
                                         spec=spec.model, backend=backend, seed=seed,
                                         build_options=extraction.build_options())
                by_key = {(c.layer, c.pooling): c for c in got}
                for key in todo:
                    cand, truth = by_key[key], None
                    if pair_target is not None:  # estimators on the pairs, the truth from the words' cosines
                        cand, truth = pair_target.pair_candidate(cand), pair_target.truth(cand, seed=seed)
                    pending.append((cand, encoder, cells[key], truth))
            if stale and log is not None:
                log(f"{target}: {stale} stored cell(s) were computed under other settings (samples, estimators, "
                    "ground truth or model); recomputing them and replacing their rows")
            replaced += stale
            if pending:
                results = scorer.score([cand for cand, _, _, _ in pending], data.labels)
                for scored, (cand, encoder, cell, truth) in zip(results.rows, pending, strict=True):
                    row = scored.row()
                    rows = _cell_rows(scored, suite, target, seed, run_id, estimators, versions)
                    if truth is not None:
                        rows.append({**_cell_base(cand, suite, target, seed, run_id, versions), "kind": "probe",
                                     "metric": "spearman", **truth})
                    elif published:
                        base = _cell_base(cand, suite, target, seed, run_id, versions)
                        rows.append({**base, "kind": "probe", "metric": "finetune_accuracy",
                                     **_published_truth(encoder, cand.spec, target)})
                    elif suite.probe == "finetune":
                        rows.append({**rows[0], "kind": "probe", "metric": "finetune_accuracy",
                                     **_finetune_truth(encoder, data, scorer.splits, seed, suite, scores, row,
                                                       progress=bars)})
                    store.add_rows([{**r, "cell": cell} for r in rows])  # replaces the cell's old rows
                    computed += 1
    meta = _meta_evaluate(suite, store, run_id, current)
    return BenchmarkResult(meta, aggregate_table(meta), computed, skipped, replaced)


def _splits(data: Dataset, seed: int, probe: str) -> Any:
    """The ground truth's splits: 60/20/20, or for a repeated-split probe 5 x 2-fold triples."""
    if probe in REPEATED_SPLIT_PROBES:
        return tuple(data.repeated_splits(seed=seed))
    split = data.split(seed=seed)
    return split.train, split.val, split.test


def _split_description(probe: str) -> str:
    return "5 x 2-fold repeated stratified" if probe in REPEATED_SPLIT_PROBES else "60/20/20 stratified"


def _cell_base(cand: Candidate, suite: Suite, target: str, seed: int, run_id: str,
               versions: dict[str, str]) -> dict[str, Any]:
    """The columns every row of a cell shares; ``model`` is the spec as the suite names it."""
    return {"run": run_id, "suite": suite.name, "target": target, "candidate": cand.name,
            "model": cand.spec, "layer": cand.layer, "pooling": cand.pooling, "seed": seed,
            "versions": versions}


def _cell_rows(scored: CandidateScores, suite: Suite, target: str, seed: int, run_id: str,
               estimators: list[str], versions: dict[str, str]) -> list[dict[str, Any]]:
    cand, row = scored.candidate, scored.row()
    prior = _prior(suite, cand.spec)
    base = _cell_base(cand, suite, target, seed, run_id, versions)
    rows = [{**base, "kind": "estimator", "metric": name, "value": row[name]} for name in estimators]
    if prior is not None:
        rows.append({**base, "kind": "estimator", "metric": "static", "value": prior,
                     "settings": {"prior": "suite priors"}})
    probe_name = "linear" if suite.probe == "finetune" else suite.probe
    for key, value in row.items():
        if key.startswith("probe_") and key != "probe_setting":
            settings = {"probe": probe_name, "setting": row.get("probe_setting"),
                        "split": _split_description(probe_name), "seed": seed}
            if scored.probe is not None and key == f"probe_{scored.probe.metric}" and (
                    "split_scores" in scored.probe.settings):
                settings["split_scores"] = scored.probe.settings["split_scores"]
            rows.append({**base, "kind": "probe", "metric": key.removeprefix("probe_"), "value": value,
                         "settings": settings})
    return rows


def _finetune_truth(encoder: Any, data: Any, splits: tuple[np.ndarray, ...], seed: int, suite: Suite,
                    scores: ScoreCache, row: dict[str, Any], *, progress: bool = False) -> dict[str, Any]:
    """Fine-tuned test accuracy of the candidate's model (:func:`finetune_transfer`, its steps on a
    bar with ``progress``: minutes per model on a CPU); the linear-probe accuracy for extractors
    without weights to fine-tune."""
    if not can_finetune(encoder):
        return {"value": row["probe_accuracy"],
                "settings": {"truth": "linear probe (fixed extractor: no weights to fine-tune)"}}
    return finetune_transfer(encoder, data, splits, seed=seed, options=suite.finetune, cache=scores,
                             progress=progress)


def _meta_evaluate(suite: Suite, store: ResultStore, run_id: str, cells: set[str] | None = None) -> pd.DataFrame:
    """Meta-evaluation of the stored rows of ``suite`` (of the cell keys ``cells`` when given),
    through :func:`~transferscope.workflows.meta.meta_evaluate`, once per seed: every estimator,
    the suite's ``static`` prior as ``prior:static``, the history priors (``prior:history``,
    ``prior:history_rank``: each candidate's measured transfer on the other targets of the suite)
    and ``combined`` (rank weights of all of them fitted on the other targets, leave-one-target-out).

    Each value carries a 95% bootstrap interval (``settings.low`` / ``settings.high``) over the
    candidates and, where the ground truth was measured on repeated splits, over its splits too
    (``settings.truth_noise``). Rows are named ``<method>:<measure>`` for each measure of
    :data:`META_METHODS`.
    """
    from transferscope.workflows.meta import meta_evaluate, store_meta_table

    rows = store.table(suite=suite.name)
    rows = rows[rows["kind"] != "meta"]
    if cells is not None:
        rows = rows[rows["cell"].isin(cells)]
    out = []
    for seed, part in rows.groupby("seed", sort=True):
        frame, splits, truth_metrics = store_meta_table(part)
        if frame.empty:
            continue
        priors = ["static"] if "static" in set(frame["metric"]) else []
        result = meta_evaluate(frame, priors=priors, truth_splits=splits, n_boot=META_BOOTSTRAPS, seed=int(seed))
        weights = result.weights.set_index("target") if len(result.weights) else pd.DataFrame()
        for _, r in result.table[result.table["target"] != "mean"].iterrows():
            settings = {"truth": truth_metrics[r["target"]], "candidates": int(r["candidates"]), "level": 0.95,
                        "truth_noise": bool(r["truth_noise"]), "kind": r["kind"]}
            if r["method"] == "combined" and r["target"] in weights.index:
                w = weights.loc[r["target"]].drop("training_targets", errors="ignore")
                settings |= {"weights": {k: round(float(v), 4) for k, v in w.items()},
                             "training_targets": int(weights.loc[r["target"], "training_targets"])}
            for measure in META_METHODS:  # NaN where undefined (a method that ties every candidate)
                out.append({"run": run_id, "suite": suite.name, "target": r["target"], "candidate": "*",
                            "kind": "meta", "metric": f"{r['method']}:{measure}", "seed": int(seed),
                            "value": float(r[measure]), "settings": {**settings, "low": r[f"{measure}_low"],
                                                                     "high": r[f"{measure}_high"]}})
    store.delete(suite=suite.name, kind="meta")
    store.add_rows(out)
    return pd.DataFrame(out)


def aggregate_table(meta: pd.DataFrame, method: str = "weighted_kendall") -> pd.DataFrame:
    """Estimator x target table of one meta-evaluation method, with the mean over targets."""
    if meta.empty:
        return pd.DataFrame()
    chosen = meta[meta["metric"].str.endswith(f":{method}")].copy()
    chosen["estimator"] = chosen["metric"].str.rsplit(":", n=1).str[0]
    table = chosen.pivot_table(index="estimator", columns="target", values="value", aggfunc="mean")
    table["mean"] = table.mean(axis=1)
    return table.sort_values("mean", ascending=False).reset_index()


def interval_table(meta: pd.DataFrame, method: str = "weighted_kendall") -> pd.DataFrame:
    """Long form of one meta-evaluation method: estimator, target, seed, value and its 95%
    bootstrap interval (``low``, ``high``), and whether the interval includes the ground truth's
    own noise (``truth_noise``: the probe was measured on repeated splits)."""
    if meta.empty:
        return pd.DataFrame(columns=["estimator", "target", "seed", "value", "low", "high", "truth_noise"])
    chosen = meta[meta["metric"].str.endswith(f":{method}")]
    return pd.DataFrame({
        "estimator": chosen["metric"].str.rsplit(":", n=1).str[0].to_numpy(),
        "target": chosen["target"].to_numpy(),
        "seed": chosen["seed"].to_numpy(),
        "value": chosen["value"].to_numpy(dtype=float),
        "low": [s["low"] for s in chosen["settings"]],
        "high": [s["high"] for s in chosen["settings"]],
        "truth_noise": [bool(s["truth_noise"]) for s in chosen["settings"]],
    })


def interval_display(meta: pd.DataFrame, method: str = "weighted_kendall") -> pd.DataFrame:
    """:func:`aggregate_table` with each cell as ``value [low, high]`` (one seed: its interval;
    several seeds: the mean and the range of the seeds' intervals) for printing."""
    table = aggregate_table(meta, method)
    if table.empty:
        return table
    intervals = interval_table(meta, method).groupby(["estimator", "target"]).agg(
        value=("value", "mean"), low=("low", "min"), high=("high", "max"))
    shown = table.copy()
    for target in [c for c in table.columns if c not in ("estimator", "mean")]:
        shown[target] = [_cell_text(intervals, est, target) for est in table["estimator"]]
    return shown


def _cell_text(intervals: pd.DataFrame, estimator: str, target: str) -> str:
    if (estimator, target) not in intervals.index:
        return ""
    value, low, high = intervals.loc[(estimator, target)]
    return interval_text(value, low, high)
