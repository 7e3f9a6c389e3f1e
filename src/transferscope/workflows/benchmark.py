"""Run a suite: cached extraction -> estimators -> ground truth -> meta-evaluation.

The unit of work is a cell (suite, target, candidate, seed): features from the
feature cache, every applicable estimator, the linear probe. Each finished
cell is written to the results store in one transaction; a rerun skips cells
already there, so an interrupted run resumes. Meta-evaluation (per target and
estimator: weighted Kendall tau, Kendall tau, regret@1, top-1 hit against the
probe) is recomputed from the stored rows at the end of every run, with the
static prior baseline next to the estimators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.builtin import load_builtin
from transferscope.extraction.cache import FeatureCache
from transferscope.extraction.features import extract_features
from transferscope.extraction.versions import library_versions
from transferscope.metrics.ranking import rank_correlation
from transferscope.metrics.registry import list_metrics
from transferscope.workflows.encoders import build_encoder
from transferscope.workflows.rank import _cached, score_candidates, select_layers
from transferscope.workflows.score_cache import ScoreCache, labels_fingerprint
from transferscope.workflows.store import ResultStore
from transferscope.workflows.suite import Suite

__all__ = ["BenchmarkResult", "run_benchmark", "suite_estimators", "META_METHODS"]

META_METHODS = ("weighted_kendall", "kendall", "regret@1", "top1")


@dataclass
class BenchmarkResult:
    """Meta-evaluation rows of the run and the estimator x target aggregate table."""

    meta: pd.DataFrame
    aggregate: pd.DataFrame
    computed_cells: int
    skipped_cells: int


def suite_estimators(suite: Suite, task: str) -> list[str]:
    """Estimators of ``suite`` that apply to ``task`` (no source head needed)."""
    if suite.estimators == "all":
        names = [i.name for i in list_metrics("transferability")
                 if task in i.task_types and not i.needs_source_probs
                 and i.properties.get("uses_features", True) and i.name not in suite.exclude]
    else:
        names = [str(n) for n in suite.estimators]
        names = [n for n in names if task in next(i for i in list_metrics("transferability") if i.name == n).task_types]
    return names


def _prior(suite: Suite, model: str) -> float | None:
    return suite.priors.get(model)


def run_benchmark(
    suite: Suite,
    *,
    store: ResultStore,
    cache_dir: str | None = None,
    run_id: str | None = None,
    n_jobs: int | None = None,
    backend: str = "local",
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Run every unfinished cell of ``suite``, store the rows, return the meta-evaluation.

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
    cache = FeatureCache(cache_dir)
    scores = ScoreCache(cache_dir)
    versions = library_versions()
    computed = skipped = 0
    for seed in suite.seeds:
        for target in suite.targets:
            data = load_builtin(target)
            if suite.max_samples is not None:
                data = data.subsample(int(suite.max_samples), seed=seed)
            estimators = suite_estimators(suite, data.task)
            if log is not None:
                log(f"{target}: {len(data)} samples, {data.task}, {len(estimators)} estimators")
            pending = []
            for spec in suite.candidates:
                encoder = build_encoder(spec.model, seed=seed, cache_dir=cache_dir)
                layers = select_layers(encoder, spec.layers)
                keys = encoder.output_keys(layers, spec.poolings)
                names = {key: f"{encoder.name} | {key[0]} | {key[1]}" for key in keys}
                todo = [k for k in keys if not store.has_cell(suite.name, target, names[k], seed)]
                skipped += len(keys) - len(todo)
                if not todo:
                    continue
                todo_layers = list(dict.fromkeys(k[0] for k in todo))
                if backend == "ray":
                    from transferscope.workflows.ray_extraction import extract_features_ray

                    feats = extract_features_ray(spec.model, data.inputs, layers=todo_layers,
                                                 poolings=spec.poolings, cache=cache, seed=seed,
                                                 dataset_fingerprint=data.fingerprint())
                else:
                    feats = extract_features(encoder, data.inputs, layers=todo_layers, poolings=spec.poolings,
                                             cache=cache, dataset_fingerprint=data.fingerprint(),
                                             progress=progress)
                for key in todo:
                    pending.append({"candidate": names[key], "model": spec.model, "layer": key[0],
                                    "pooling": key[1], "features": feats[key], "_encoder": encoder})
            if pending:
                split = data.split(seed=seed)
                splits = (split.train, split.val, split.test)
                encoders = [cand.pop("_encoder") for cand in pending]
                table = score_candidates(pending, data.labels, task=data.task, metrics=estimators,
                                         probe_splits=splits, score_cache=scores, n_jobs=n_jobs,
                                         backend=backend,
                                         probe="linear" if suite.probe == "finetune" else suite.probe)
                for row, encoder in zip(table.to_dict("records"), encoders, strict=True):
                    rows = _cell_rows(row, suite, target, seed, run_id, estimators, versions,
                                      _prior(suite, row["model"]))
                    if suite.probe == "finetune":
                        rows.append({**rows[0], "kind": "probe", "metric": "finetune_accuracy",
                                     **_finetune_truth(encoder, data, splits, seed, suite, scores, row)})
                    store.add_rows(rows)
                    computed += 1
    meta = _meta_evaluate(suite, store, run_id)
    return BenchmarkResult(meta, aggregate_table(meta), computed, skipped)


def _cell_rows(row: dict[str, Any], suite: Suite, target: str, seed: int, run_id: str,
               estimators: list[str], versions: dict[str, str], prior: float | None) -> list[dict[str, Any]]:
    base = {"run": run_id, "suite": suite.name, "target": target, "candidate": row["candidate"],
            "model": row["model"], "layer": row["layer"], "pooling": row["pooling"], "seed": seed,
            "versions": versions}
    rows = [{**base, "kind": "estimator", "metric": name, "value": row[name]} for name in estimators]
    if prior is not None:
        rows.append({**base, "kind": "estimator", "metric": "static", "value": prior,
                     "settings": {"prior": "suite priors"}})
    for key, value in row.items():
        if key.startswith("probe_") and key != "probe_setting":
            rows.append({**base, "kind": "probe", "metric": key.removeprefix("probe_"), "value": value,
                         "settings": {"probe": "linear" if suite.probe == "finetune" else suite.probe,
                                      "setting": row.get("probe_setting"),
                                      "split": "60/20/20 stratified", "seed": seed}})
    return rows


def _finetune_truth(encoder: Any, data: Any, splits: tuple[np.ndarray, ...], seed: int, suite: Suite,
                    scores: ScoreCache, row: dict[str, Any]) -> dict[str, Any]:
    """Fine-tuned test accuracy of the candidate's model (cached per model, target and settings);
    the linear-probe accuracy for extractors without weights to fine-tune."""
    import inspect

    from transferscope.extraction.fingerprint import hash_fields

    module = getattr(encoder, "module", None)
    if getattr(encoder, "adapter", "") in ("hf", "sentence-transformers"):
        from transferscope.probes.finetune_text import finetune_text_probe

        accepted = inspect.signature(finetune_text_probe).parameters
        metric, options = "finetune_text", {k: v for k, v in suite.finetune.items() if k in accepted}

        def run() -> Any:
            return finetune_text_probe(str(encoder.path), data.inputs, data.labels, splits=splits, seed=seed,
                                       random_init=encoder.random_init, **options)
    elif module is not None:
        from transferscope.probes.finetune import finetune_probe

        metric, options = "finetune", {"mode": "full", "epochs": 5, "lr": [1e-3, 3e-3], **suite.finetune}

        def run() -> Any:
            lr = options["lr"]
            rest = {k: v for k, v in options.items() if k != "lr"}
            return finetune_probe(lambda: module, data.inputs, data.labels, splits=splits, seed=seed,
                                  lr=tuple(lr) if isinstance(lr, list) else lr, **rest)
    else:
        return {"value": row["probe_accuracy"],
                "settings": {"truth": "linear probe (fixed extractor: no weights to fine-tune)"}}

    def compute() -> dict[str, Any]:
        result = run()
        return {"value": result.score, "settings": {"truth": "fine-tuned", **result.settings}}

    return _cached(scores, compute, model=encoder.identity(), dataset=data.fingerprint(),
                   labels=labels_fingerprint(data.labels),
                   splits=hash_fields({"s": [np.asarray(s).tolist() for s in splits]}),
                   metric=metric, options=options, seed=seed)


def _meta_evaluate(suite: Suite, store: ResultStore, run_id: str) -> pd.DataFrame:
    rows = store.table(suite=suite.name)
    rows = rows[rows["kind"] != "meta"]
    out = []
    for (target, seed), group in rows.groupby(["target", "seed"]):
        probe = group[group["kind"] == "probe"]
        found = set(probe["metric"])
        truth_metric = ("finetune_accuracy" if "finetune_accuracy" in found
                        else "accuracy" if "accuracy" in found else "r2")
        truth = probe[probe["metric"] == truth_metric].set_index("candidate")["value"]
        est = group[group["kind"] == "estimator"].pivot_table(index="candidate", columns="metric",
                                                              values="value", aggfunc="first")
        est = est.reindex(truth.index)
        for metric in est.columns:
            values = est[metric].to_numpy(dtype=float)
            ok = np.isfinite(values)
            if ok.sum() < 2:
                continue
            for method in META_METHODS:
                out.append({"run": run_id, "suite": suite.name, "target": target, "candidate": "*",
                            "kind": "meta", "metric": f"{metric}:{method}", "seed": int(seed),
                            "value": rank_correlation(values[ok], truth.to_numpy()[ok], method=method),
                            "settings": {"truth": truth_metric,
                                         "candidates": int(ok.sum())}})
    store.delete(suite=suite.name, kind="meta")
    store.add_rows(out)
    return pd.DataFrame(out)


def aggregate_table(meta: pd.DataFrame, method: str = "weighted_kendall") -> pd.DataFrame:
    """Estimator x target table of one meta-evaluation method, with the mean over targets."""
    if meta.empty:
        return pd.DataFrame()
    chosen = meta[meta["metric"].str.endswith(f":{method}")].copy()
    chosen["estimator"] = chosen["metric"].str.split(":").str[0]
    table = chosen.pivot_table(index="estimator", columns="target", values="value", aggfunc="mean")
    table["mean"] = table.mean(axis=1)
    return table.sort_values("mean", ascending=False).reset_index()
