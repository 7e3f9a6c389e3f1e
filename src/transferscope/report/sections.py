"""From result tables to report sections: what each kind of result is drawn as.

A :class:`Results` is one table with the kind of result it holds and the settings behind it.
:func:`detect_kind` recognises the tables the commands write (``--output``) by their columns;
:func:`store_results` splits the rows of a results store (DuckDB) into the same kinds.
:func:`sections` turns each into a :class:`Section`: a title, a sentence on how to read it, its
figures (:mod:`transferscope.report.figures`) and the table itself. Nothing here computes a
score: a report draws results (the rank correlation beside an estimator-vs-truth scatter is the
stored meta-evaluation's, shown only where the store holds one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.report.figures import Figure, Series, equal_to_rounding

__all__ = ["Results", "Section", "KINDS", "detect_kind", "store_results", "sections", "provenance", "matrix_results",
           "parts", "benchmark_results"]

KINDS = ("ranking", "selection", "layers", "similarity", "benchmark", "compat", "elastic", "drift", "sources",
         "sources-eval", "meta", "demo", "table")
_ID_COLUMNS = {"rank", "candidate", "model", "layer", "pooling", "dim", "probe_setting", "probe_tied_with_best"}


@dataclass
class Results:
    """One result table, the kind of result it is (:data:`KINDS`) and the settings behind it;
    ``report_title`` the title of the report the command drew (a saved result keeps it)."""

    kind: str
    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    report_title: str = ""

    @classmethod
    def of(cls, result: Any, *, title: str = "", settings: dict[str, Any] | None = None) -> Results:
        """The report's view of a command's result (a
        :class:`~transferscope.workflows.storage.results.Result`): its kind (the section that draws
        it, by its type), its full table, and ``settings`` (its own provenance by default) with its
        answer lines."""
        merged = dict(result.provenance if settings is None else settings)
        from transferscope.workflows.storage.results import plain_answer

        merged["answer"] = merged.get("answer") or plain_answer(result.answer())
        return cls(result.kind, result.to_frame(), settings=merged, title=title or result.title)


@dataclass
class Section:
    title: str
    intro: str
    figures: list[Figure]
    table: pd.DataFrame


def matrix_results(matrix: pd.DataFrame, *, measure: str, title: str) -> Results:
    """A rows x columns matrix (e.g. layer x layer CKA, a compatibility matrix) as a heatmap result."""
    long = pd.DataFrame([{"row": str(r), "column": str(c), "measure": measure, "value": matrix.loc[r, c]}
                         for r in matrix.index for c in matrix.columns])
    return Results("similarity", long, title=title)


def detect_kind(table: pd.DataFrame) -> str:
    """The kind of a command's output table, from its columns (``"table"`` when unknown).

    Examples
    --------
    >>> detect_kind(pd.DataFrame(columns=["rank", "candidate", "logme"]))
    'ranking'
    >>> detect_kind(pd.DataFrame(columns=["row", "column", "measure", "value"]))
    'similarity'
    """
    cols = set(table.columns)
    if {"kind", "metric", "value", "suite"} <= cols:
        return "benchmark"
    if {"rank", "candidate"} <= cols:
        return "ranking"
    if {"candidate", "estimator_rank", "status"} <= cols:
        return "selection"
    if {"row", "column", "measure", "value"} <= cols:
        return "similarity"
    if {"target", "method", "weighted_kendall", "weighted_kendall_low"} <= cols:
        return "meta"
    if {"space", "ranking", "tau"} <= cols:
        return "sources-eval"
    if {"source", "otdd"} <= cols:
        return "sources"
    if {"tuned", "layer", "drift"} <= cols:
        return "drift"
    if {"compression", "bytes", "quality"} <= cols:
        return "elastic"
    if {"new", "setting", "recovered"} <= cols:
        return "compat"
    if "layer" in cols and ("cka_prev" in cols or "rankme" in cols or "twonn" in cols):
        return "layers"
    return "table"


def _settings(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def benchmark_results(rows: pd.DataFrame, *, suite: str, settings: dict[str, Any] | None = None) -> Results:
    """A benchmark suite's stored rows as the report draws them, under the one title a run's
    report and ``transferscope report STORE`` both give it."""
    return Results("benchmark", rows, settings=dict(settings or {}), title=f"Benchmark suite {suite}",
                   report_title=f"Which estimator predicts transfer? ({suite})")


def store_results(rows: pd.DataFrame) -> list[Results]:
    """Split the tidy rows of a results store into :class:`Results` per suite and kind."""
    out: list[Results] = []
    for suite, part in rows.groupby("suite", sort=True):
        kinds = set(part["kind"])
        if suite == "sources-eval":
            quality = part[part["kind"] == "meta"]
            table = pd.DataFrame({"space": quality["model"], "ranking": quality["candidate"],
                                  "target": quality["target"], "tau": quality["value"],
                                  "low": [_settings(s).get("low") for s in quality["settings"]],
                                  "high": [_settings(s).get("high") for s in quality["settings"]]})
            out.append(Results("sources-eval", table.reset_index(drop=True), title="Source rankings evaluated"))
        elif kinds & {"estimator", "probe", "meta"}:
            out.append(benchmark_results(part.reset_index(drop=True), suite=str(suite)))
        elif suite == "drift":
            wide = _wide(part, ["target", "model", "layer"]).rename(columns={"model": "tuned"})
            out.append(Results("drift", wide, title="Drift"))
        elif suite == "sources":
            wide = _wide(part, ["target", "candidate", "model", "layer"]).rename(columns={"candidate": "source"})
            out.append(Results("sources", wide, title="Sources"))
        elif suite == "elastic":
            e = part.assign(compression=part["metric"].str.rsplit(":", n=1).str[0],
                            bytes=[_settings(s).get("bytes") for s in part["settings"]],
                            pareto=[bool(_settings(s).get("pareto")) for s in part["settings"]])
            table = e[["target", "model", "layer", "compression", "bytes", "pareto", "value", "settings", "versions"]]
            out.append(Results("elastic", table.rename(columns={"value": "quality"}).reset_index(drop=True),
                               title="Elastic embeddings"))
        else:
            out.append(Results("table", _wide(part, ["target", "candidate", "model", "layer"]), title=f"{suite} results"))
    return out


def _wide(part: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    """Tidy rows as one row per ``index`` and one column per metric (order of first appearance),
    with the settings and versions of the first row of each."""
    keys = part[index].astype(str).agg("\x1f".join, axis=1)
    wide = part.assign(_key=keys).pivot_table(index="_key", columns="metric", values="value", aggfunc="first",
                                              sort=False)
    first = part.assign(_key=keys).drop_duplicates("_key").set_index("_key")
    metrics = list(dict.fromkeys(part["metric"]))
    table = pd.concat([first[index + ["settings", "versions"]], wide[metrics]], axis=1).reset_index(drop=True)
    table.columns.name = None
    return table


def _numeric(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in _ID_COLUMNS and pd.api.types.is_numeric_dtype(table[c])
            and not pd.api.types.is_bool_dtype(table[c])]


def _ranking(res: Results) -> Section:
    t = res.table
    labels = [str(c) for c in t["candidate"]]
    figures = []
    if "predicted_accuracy" in t:
        by = t.sort_values("predicted_accuracy", ascending=False, kind="stable")  # ordered by what it shows
        extra = {"measured probe": by["probe_accuracy"].tolist()} if "probe_accuracy" in by else None
        figures.append(Figure("bars", "Predicted accuracy with its interval, highest first", xlabel="accuracy", labels=[str(c) for c in by["candidate"]],
                              values=by["predicted_accuracy"].tolist(),
                              low=by.get("predicted_accuracy_low", pd.Series(dtype=float)).tolist() or None,
                              high=by.get("predicted_accuracy_high", pd.Series(dtype=float)).tolist() or None,
                              extra=extra, fit_axis=True))
    elif "probe_accuracy" in t:
        by = t.sort_values("probe_accuracy", ascending=False, kind="stable")
        se = by["probe_accuracy_se"] if "probe_accuracy_se" in by else None
        figures.append(Figure("bars", "Measured probe accuracy (+- 1 standard error), highest first",
                              xlabel="accuracy", labels=[str(c) for c in by["candidate"]],
                              values=by["probe_accuracy"].tolist(),
                              low=None if se is None else (by["probe_accuracy"] - se).tolist(),
                              high=None if se is None else (by["probe_accuracy"] + se).tolist(), fit_axis=True))
    estimators = [c for c in _numeric(t) if not c.startswith(("predicted_", "probe_"))]
    for name in estimators:
        values = t[name].tolist()
        figures.append(Figure("bars", _score_title(name, values, "higher is better"), xlabel=name, labels=labels,
                              values=values, fit_axis=True))
    intro = ("Candidates best first. A bar is an estimator's score: only the order within one estimator "
             "means something, not its scale, so its axis starts just below the lowest score (the best "
             "candidate has the longest bar). The predicted accuracy is what a linear probe would reach, "
             "with the interval it falls in for about 80% of targets; the diamond is the probe actually measured.")
    return Section(res.title or "Ranking", intro, figures, t)


def _score_title(name: str, values: list[Any], reading: str) -> str:
    """The title of an estimator's bars: how to read them, or that they are equal up to rounding (a
    saturated score: its bars are drawn equal, and the title says so)."""
    return f"{name} per candidate: " + ("equal up to rounding (cannot tell them apart)"
                                        if equal_to_rounding(values) else reading)


def _selection(res: Results) -> Section:
    t = res.table.sort_values("estimator_rank")
    figures = []
    probed = t[t["probe_mean"].notna()] if "probe_mean" in t else t.iloc[:0]
    if len(probed):
        se = probed["probe_se"] if "probe_se" in probed else probed["probe_mean"] * 0
        order = probed.sort_values("probe_mean", ascending=False)
        se = se.loc[order.index]
        labels = [f"{c} ({'pick, ' if s == 'pick' else ''}{int(n)} split{'s' * (int(n) != 1)})"
                  if "splits" in order else str(c)
                  for c, s, n in zip(order["candidate"], order.get("status", [""] * len(order)),
                                     order.get("splits", [0] * len(order)))]
        figures.append(Figure("bars", "Measured probe of the survivors (+- 1 s.e.; fewer splits: less sure)",
                              xlabel="probe score", labels=labels,
                              values=order["probe_mean"].tolist(), low=(order["probe_mean"] - se).tolist(),
                              high=(order["probe_mean"] + se).tolist(), fit_axis=True))
    for name in [c for c in _numeric(t) if c not in ("estimator_rank", "probe_mean", "probe_se", "splits")]:
        values = t[name].tolist()
        figures.append(Figure("bars", _score_title(name, values, "its order decides what is probed"), xlabel=name,
                              labels=t["candidate"].astype(str).tolist(), values=values, fit_axis=True))
    intro = ("Estimators ranked every candidate; the promising ones were probed on more and more splits "
             "(successive halving) and the others left out, as the status column says. The pick is the best "
             "measured probe; its interval and the chance that another candidate is better are at the top.")
    return Section(res.title or "Selection", intro, figures, t)


def _layers(res: Results) -> Section:
    """Per layer: the probe in its own units with its standard error (the truth), the estimators
    and geometry measures each scaled to 0-1 and oriented by their declared direction (they only
    order the layers), and the similarities to the previous layer on their own axis: never a
    standard error or a similarity on a quality axis."""
    from transferscope.workflows.meta import metric_orientation

    t = res.table
    layers = [str(v) for v in t["layer"]]
    numeric = [c for c in _numeric(t) if c != "dim"]
    probes = [c for c in numeric if c.startswith("probe_") and f"{c}_se" in t]
    figures = []
    for name in probes[:1]:  # the probe's main measure; its others are in the table
        values, se = t[name].astype(float), t[f"{name}_se"].astype(float)
        figures.append(Figure("lines", f"Measured {name} per layer (+- 1 standard error over repeated splits)",
                              xlabel="layer", ylabel=name, series=[Series(
                                  name, layers, values.tolist(), text=[f"{name} = {v:.4f} +- {e:.4f}"
                                                                       for v, e in zip(values, se)],
                                  low=(values - se).tolist(), high=(values + se).tolist())]))
    estimators = [c for c in numeric if not c.startswith("probe_") and not c.endswith("_prev")]
    series = []
    for name in estimators:
        values = t[name].astype(float)
        oriented = values if metric_orientation(name) else -values
        span = oriented.max() - oriented.min()
        scaled = (oriented - oriented.min()) / span if np.isfinite(span) and span > 0 else oriented * 0.0
        series.append(Series(name, layers, scaled.tolist(), text=[f"{name} = {v:.4g}" for v in values]))
    if series:
        figures.append(Figure("lines", "Estimators per layer (each scaled to 0-1, 1 its best layer; hover for the "
                              "value)", xlabel="layer", ylabel="scaled, higher is better", series=series))
    previous = [c for c in numeric if c.endswith("_prev")]  # cka_prev, mutual_knn_prev: 1 = the same
    if previous:
        figures.append(Figure("lines", "Similarity to the previous layer (1 = the same representation)",
                              xlabel="layer", ylabel="similarity", series=[Series(
                                  name, layers, t[name].astype(float).tolist()) for name in previous]))
    intro = ("One point per layer in the model's order. The probe is the measured truth, in its own units with "
             "its standard error; the estimators only order the layers, so each is scaled to 0-1 (its best layer "
             "at 1) to share an axis; the hover shows the measured value.")
    return Section(res.title or "Layers", intro, figures, t)


def _similarity(res: Results) -> Section:
    t = res.table
    rows = list(dict.fromkeys(str(v) for v in t["row"]))
    cols = list(dict.fromkeys(str(v) for v in t["column"]))
    lookup = {(str(r), str(c)): v for r, c, v in zip(t["row"], t["column"], t["value"])}
    matrix = [[lookup.get((r, c)) for c in cols] for r in rows]
    measure = str(t["measure"].iloc[0]) if len(t) else "similarity"
    figures = [Figure("heatmap", f"{measure} between representations", rows=rows, columns=cols, matrix=matrix)]
    empty = _empty_cells(matrix)
    note = (f" {empty} cell(s) are empty: not measured (in a compatibility matrix, an older model's queries on "
            "a newer model's gallery, which no upgrade does), or undefined." if empty else "")
    return Section(res.title or f"Similarity ({measure})",
                   "Each cell compares two representations of the same inputs; hover for the value." + note,
                   figures, t)


def _empty_cells(matrix: list[list[Any]]) -> int:
    """How many cells of a heatmap's matrix are empty: not measured (None) or undefined (NaN)."""
    return sum(v is None or not np.isfinite(v) for row in matrix for v in row)


def _benchmark(res: Results) -> Section:
    rows = res.table
    meta = rows[(rows["kind"] == "meta") & rows["metric"].str.endswith(":weighted_kendall")].copy()
    figures: list[Figure] = []
    if len(meta):
        meta["estimator"] = meta["metric"].str.rsplit(":", n=1).str[0]
        meta["low"] = [_settings(s).get("low") for s in meta["settings"]]
        meta["high"] = [_settings(s).get("high") for s in meta["settings"]]
        means = meta.groupby("estimator")["value"].mean().sort_values(ascending=False)
        counts = meta[np.isfinite(meta["value"].astype(float))].groupby("estimator")["target"].nunique()
        every = int(counts.max()) if len(counts) else 0
        # a mean over fewer targets is over other targets: said on its bar, not compared silently
        labels = [name if counts.get(name, 0) == every else f"{name} ({counts.get(name, 0)} of {every} targets)"
                  for name in means.index]
        figures.append(Figure("bars", "Mean weighted Kendall tau over the targets (higher = better ranking)",
                              xlabel="weighted tau", labels=labels, values=means.tolist()))
        targets = sorted(meta["target"].unique())
        estimators = list(means.index)
        lookup = {(e, t): v for e, t, v in zip(meta["estimator"], meta["target"], meta["value"])}
        matrix = [[lookup.get((e, t)) for t in targets] for e in estimators]
        empty = _empty_cells(matrix)
        figures.append(Figure("heatmap", "Weighted tau per estimator and target", rows=estimators, columns=targets,
                              matrix=matrix, note="an empty cell: the estimator does not apply to that target (a "
                              "regression or similarity target), or it tied every candidate" if empty else ""))
        for target in targets:
            part = meta[meta["target"] == target].sort_values("value", ascending=False)
            figures.append(Figure("bars", f"{target}: weighted tau with its 95% interval", xlabel="weighted tau",
                                  labels=part["estimator"].tolist(), values=part["value"].tolist(),
                                  low=part["low"].tolist(), high=part["high"].tolist()))
    figures += _estimator_vs_truth(rows, meta)
    intro = ("How well each estimator's ranking of the candidates agreed with the measured transfer. Intervals "
             "are 95% bootstrap intervals over candidates and truth splits; overlapping intervals mean the data "
             "cannot tell the estimators apart.")
    return Section(res.title or "Benchmark", intro, figures, _benchmark_table(meta))


def _estimator_vs_truth(rows: pd.DataFrame, meta: pd.DataFrame) -> list[Figure]:
    estimators = rows[rows["kind"] == "estimator"]
    probes = rows[rows["kind"] == "probe"]
    if not len(estimators) or not len(probes):
        return []
    truth_metric = {t: _settings(s).get("truth") for t, s in zip(meta["target"], meta["settings"])} if len(meta) else {}
    best = (meta.groupby("estimator")["value"].mean().sort_values(ascending=False).index.tolist()
            if len(meta) else sorted(estimators["metric"].unique()))
    stored = ({(e, t): v for e, t, v in zip(meta["estimator"], meta["target"], meta["value"])}
              if len(meta) else {})
    figures = []
    for target in sorted(estimators["target"].unique()):
        p = probes[probes["target"] == target]
        metric = truth_metric.get(target) or ("finetune_accuracy" if (p["metric"] == "finetune_accuracy").any()
                                              else "accuracy")
        truth = p[p["metric"] == metric].groupby("candidate")["value"].mean()
        if truth.empty:
            continue
        series = []
        for i, name in enumerate([e for e in best if e in set(estimators["metric"])][:8]):
            e = estimators[(estimators["target"] == target) & (estimators["metric"] == name)]
            scores = e.groupby("candidate")["value"].mean().reindex(truth.index)
            keep = np.isfinite(scores.astype(float)) & np.isfinite(truth.astype(float))
            if keep.sum() < 3:
                continue
            tau = stored.get((name, target))  # the benchmark's own value, when the store holds one
            label = name if tau is None or not np.isfinite(tau) else f"{name} (weighted tau {tau:.2f})"
            series.append(Series(label, scores[keep].tolist(), truth[keep].tolist(),
                                 text=list(truth.index[keep]), visible=i == 0))
        if series:
            figures.append(Figure("scatter", f"{target}: estimator score against measured {metric}",
                                  xlabel="estimator score", ylabel=f"measured {metric}", series=series,
                                  note="one estimator shown; click the legend for the others"))
    return figures


def _benchmark_table(meta: pd.DataFrame) -> pd.DataFrame:
    if not len(meta):
        return pd.DataFrame()
    table = meta.pivot_table(index="estimator", columns="target", values="value", aggfunc="first")
    table["mean"] = table.mean(axis=1)
    return table.sort_values("mean", ascending=False).round(3).reset_index()


def _compat(res: Results) -> Section:
    t = res.table
    verdict_metric = res.settings.get("metric")  # the metric the verdict was taken on: the chart shows it
    metric = (verdict_metric if verdict_metric in t else
              next((c for c in ("map", "mAP", "recall@1") if c in t), _numeric(t)[0] if _numeric(t) else None))
    figures = []
    if metric is not None:
        labels = [f"{n} {s}" + (f" {a}@{p}" if isinstance(a, str) and a else "")
                  for n, s, a, p in zip(t["new"], t["setting"], t.get("aligner", [""] * len(t)),
                                        t.get("pairs", [""] * len(t)))]
        values = t[metric].astype(float)
        missing = [label for label, v in zip(labels, values) if not np.isfinite(v)]
        figures.append(Figure("bars", f"{metric} per setting (old/old is the bar to reach)", xlabel=metric,
                              labels=labels, values=values.tolist(),
                              note=("no value (not measured) for: " + "; ".join(missing)) if missing else ""))
    intro = ("Can the new model's queries search the old model's index? new/old is the query by the new model "
             "against the old gallery, as is and after each aligner; it is compatible when it reaches old/old.")
    return Section(res.title or "Compatibility", intro, figures, t)


def _elastic(res: Results) -> Section:
    t = res.table
    series = [Series(str(layer), part["bytes"].tolist(), part["quality"].tolist(),
                     text=part["compression"].astype(str).tolist(),
                     front=part["pareto"].astype(bool).tolist() if "pareto" in part else None)
              for layer, part in t.groupby("layer", sort=False)]
    figures = [Figure("front", "Quality against bytes per vector", xlabel="bytes per vector (log)", ylabel="quality",
                      series=series, log_x=True)]
    return Section(res.title or "Elastic embeddings", "Each point is one compression of one layer; the dotted "
                   "line joins the Pareto front: nothing is both smaller and better.", figures, t)


def _drift(res: Results) -> Section:
    t = res.table
    with_null = "null_drift" in t and t["null_drift"].notna().any()
    figures = [Figure("lines", "Drift from the base per layer (1 - linear CKA)"
                      + ("; dashed: a re-seeded twin (the null)" if with_null else ""),
                      xlabel="layer", ylabel="drift",
                      series=[Series(str(n), [str(v) for v in p["layer"]], p["drift"].tolist(),
                                     null=p["null_drift"].tolist() if with_null and p["null_drift"].notna().any()
                                     else None, null_name="re-seeded twin")
                              for n, p in t.groupby("tuned", sort=False)])]
    if "mutual_knn" in t:
        figures.append(Figure("lines", "Mutual 10-NN overlap with the base", xlabel="layer", ylabel="overlap",
                              series=[Series(str(n), [str(v) for v in p["layer"]], p["mutual_knn"].tolist())
                                      for n, p in t.groupby("tuned", sort=False)]))
    return Section(res.title or "Drift", "What fine-tuning changed, layer by layer: 0 is unchanged.", figures, t)


def _sources(res: Results) -> Section:
    t = res.table.sort_values("otdd")
    figures = [Figure("bars", f"{m} to the target (nearest first)", xlabel=m, labels=t["source"].astype(str).tolist(),
                      values=t[m].tolist()) for m in ("otdd", "task2vec", "mmd_rbf") if m in t]
    return Section(res.title or "Sources", "Distances between each source and the target in one model's space; "
                   "smaller = nearer.", figures, t)


def _sources_eval(res: Results) -> Section:
    t = res.table
    mean = t[t["target"] == "mean"].sort_values("tau", ascending=False)
    labels = [f"{r} ({s})" for r, s in zip(mean["ranking"], mean["space"])]
    figures = [Figure("bars", "Mean weighted tau against measured source -> target transfer", xlabel="weighted tau",
                      labels=labels, values=mean["tau"].tolist(), low=mean["low"].tolist(),
                      high=mean["high"].tolist())]
    return Section(res.title or "Source rankings evaluated", "Does each ranking of the sources predict measured "
                   "transfer? random and largest_source are the baselines.", figures, t)


def _meta(res: Results) -> Section:
    """A meta-evaluation (``transferscope meta``): each method's mean over targets with its 95%
    interval, best first, one measure per chart (regret@1 lower is better, the others higher);
    every target's row stays in the table."""
    t = res.table
    mean = t[t["target"] == "mean"]
    figures = []
    for measure, better in (("weighted_kendall", "higher"), ("regret@1", "lower"), ("top1", "higher")):
        if measure not in mean or f"{measure}_low" not in mean or not mean[measure].notna().any():
            continue
        shown = mean[mean[measure].notna()].sort_values(measure, ascending=better == "lower")  # best on top
        figures.append(Figure("bars", f"{measure}: mean over targets [95% interval] ({better} is better)",
                              xlabel=measure, labels=shown["method"].astype(str).tolist(),
                              values=shown[measure].tolist(), low=shown[f"{measure}_low"].tolist(),
                              high=shown[f"{measure}_high"].tolist()))
    targets = int(t.loc[t["target"] != "mean", "target"].nunique())
    return Section(res.title or "Meta-evaluation", f"How well each estimator, prior and their combination ranks "
                   f"the candidates against measured transfer, over {targets} target(s).", figures, t)


def _table(res: Results) -> Section:
    return Section(res.title or "Results", "", [], res.table)


_BUILDERS = {"ranking": _ranking, "selection": _selection, "layers": _layers, "similarity": _similarity, "benchmark": _benchmark,
             "compat": _compat, "elastic": _elastic, "drift": _drift, "sources": _sources,
             "sources-eval": _sources_eval, "meta": _meta, "table": _table}


def sections(results: list[Results]) -> list[Section]:
    """One :class:`Section` per result (a result of several parts, :func:`parts`, one per part),
    model names shortened (:func:`short_names`; the full specs stay in the provenance)."""
    return [_BUILDERS[r.kind](_short_named(r)) for r in parts(results)]


def parts(results: list[Results]) -> list[Results]:
    """``results`` with a result of several parts split into them: the demo's table (its rankings,
    stacked with a ``dataset`` column) into one ranking per dataset, in order, and the layer-CKA
    matrix its settings hold (``layer_similarity``) into a heatmap. The run's report and ``report
    FILE`` on its saved table both draw these parts.

    Examples
    --------
    >>> demo = Results("demo", pd.DataFrame({"dataset": ["a", "a", "b"], "rank": [1, 2, 1],
    ...                                      "candidate": ["x", "y", "x"], "logme": [1.0, 0.0, 2.0]}))
    >>> [(p.kind, p.title, len(p.table)) for p in parts([demo])]
    [('ranking', 'Ranking on a', 2), ('ranking', 'Ranking on b', 1)]
    """
    out: list[Results] = []
    for r in results:
        if r.kind != "demo":
            out.append(r)
            continue
        settings = {k: v for k, v in r.settings.items() if k not in ("layer_similarity", "datasets")}
        for name, part in r.table.groupby("dataset", sort=False):
            # a column that only another dataset's task fills (probe_r2 beside probe_accuracy) is not this ranking's
            table = part.drop(columns="dataset").dropna(axis=1, how="all").reset_index(drop=True)
            out.append(Results("ranking", table, title=f"Ranking on {name}", settings={**settings, "dataset": name}))
        matrix = r.settings.get("layer_similarity")
        if isinstance(matrix, dict) and matrix.get("rows"):
            frame = pd.DataFrame(matrix["values"], index=matrix["rows"], columns=matrix["rows"])
            out.append(matrix_results(frame, measure="cka", title=str(matrix.get("title") or "Linear CKA between layers")))
    return out


def _short_named(res: Results) -> Results:
    """``res`` with short model names in its candidate / model columns (a table written with the
    full specs, e.g. a command's ``--output``, is drawn as the run drew it)."""
    from transferscope.workflows.storage.names import short_candidates, short_names

    table = res.table
    if res.kind not in ("ranking", "selection", "drift", "compat"):  # stored rows keep their names
        return res
    if {"candidate", "model", "layer", "pooling"} <= set(table.columns):
        table = table.assign(candidate=short_candidates(table))
    for column in ("tuned", "new", "old"):
        if column in table and table[column].map(lambda v: isinstance(v, str)).all():
            names = short_names(list(dict.fromkeys(table[column])))
            table = table.assign(**{column: table[column].map(names)})
    return res if table is res.table else Results(res.kind, table, settings=res.settings, title=res.title)


def provenance(results: list[Results]) -> pd.DataFrame:
    """Every setting behind the numbers: ``source``, ``setting``, ``value`` (the given settings, and
    the distinct settings / versions / seeds of stored rows)."""
    rows: list[dict[str, str]] = []

    def add(source: str, mapping: dict[str, Any]) -> None:
        for key, value in sorted(mapping.items()):
            text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
            rows.append({"source": source, "setting": str(key), "value": text})

    def text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)

    for r in results:
        name = r.title or r.kind
        add(name, r.settings)
        table = r.table
        for column in ("versions", "settings"):
            if column not in table:
                continue
            seen: dict[str, dict[str, None]] = {}
            for value in dict.fromkeys(v for v in table[column] if isinstance(v, str) and v):
                for key, item in _settings(value).items():
                    seen.setdefault(str(key), {})[text(item)] = None
            for key, values in sorted(seen.items()):
                shown = list(values)
                rows.append({"source": f"{name} ({column})", "setting": key,
                             "value": "; ".join(shown) if len(shown) <= 5 else
                             f"varies per row ({len(shown)} values, stored with each row)"})
        for column in ("seed", "run", "model"):
            if column in table and column not in r.settings:
                values = sorted({str(v) for v in table[column].dropna()})
                if values:
                    rows.append({"source": name, "setting": column, "value": ", ".join(values[:50])})
    frame = pd.DataFrame(rows, columns=["source", "setting", "value"])
    return frame.drop_duplicates().reset_index(drop=True)
