"""Priors for a ranking (``rank --prior``): what is known about the candidates before the target.

A prior is named by what it is and says where it comes from:

* ``params``: each candidate model's parameter count
  (:func:`~transferscope.extraction.specs.parameter_count`; unknown for a hub id);
* ``width``: the candidate's embedding width;
* ``mteb``, ``sbert``, ``imagenet``: published benchmark scores of the offline zoo's models, each
  with its source (``workflows/published/model_facts.csv``; only where the published model is the
  one the zoo ships);
* a results store (``.duckdb``, read-only): ``history``, each candidate's measured transfer on the
  store's targets, rank-scaled per target and averaged
  (:func:`~transferscope.workflows.meta.history_scores`); a target named like the one being ranked
  is left out. Candidates are matched by their full name (``model | layer | pooling``), else by
  model;
* a table (CSV, Parquet, JSONL) with columns ``model`` (or ``candidate``) and ``value``: the file's
  own prior, named after the file (higher is better).

``combined`` joins the priors and the estimators into one order. With a results store it is
*fitted*: non-negative rank weights (:func:`~transferscope.metrics.combination.learn_rank_weights`)
of the estimators the store also holds, its history prior (recomputed per store target without
that target) and ``params`` when asked, fitted to the store targets' measured transfer; the
target being ranked is never among them. Without a store there is nothing to fit on, and
``combined`` is the plain mean rank of the priors and the first estimator (said so in the notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from transferscope.errors import InputError

__all__ = ["Prior", "BUILTIN_PRIORS", "check_priors", "resolve_prior", "apply_priors"]

#: Priors known by name, with what they hold (the published facts of ``published/model_facts.csv`` too).
BUILTIN_PRIORS = {"params": "parameter count of the candidate's model",
                  "width": "embedding width of the candidate",
                  "mteb": "published MTEB English average (56 datasets) of the zoo model",
                  "sbert": "published sentence-transformers average (sentence embeddings, semantic search)",
                  "imagenet": "published ImageNet-1k top-1 of the zoo model"}


@dataclass(frozen=True)
class Prior:
    """One prior's values for the rows of a ranking (NaN where unknown) and where they come from;
    ``history`` holds the store's meta table when the prior is a store's history."""

    name: str
    values: np.ndarray
    provenance: str
    history: pd.DataFrame | None = None


def check_priors(prior: str | Sequence[str] | None) -> list[str]:
    """``prior`` as a list of names, each a built-in prior or an existing file (checked before any work)."""
    if prior is None:
        return []
    names = [prior] if isinstance(prior, str) else list(prior)
    for name in names:
        if not isinstance(name, str) or not (name in BUILTIN_PRIORS or Path(name).expanduser().is_file()):
            raise InputError(f"--prior must be {', '.join(BUILTIN_PRIORS)}, a results store (.duckdb) or a table "
                             f"(model,value), got {name!r}")
    if len(set(names)) != len(names):
        raise InputError("--prior: give each prior once")
    return names


def _model_of(candidate: str) -> str:
    return candidate.split(" | ")[0].strip()


def _match(table: pd.DataFrame, mapping: pd.Series) -> np.ndarray:
    """``mapping`` (keyed by candidate name or model) looked up for each row of ``table``."""
    by_name = table["candidate"].map(mapping) if "candidate" in table else pd.Series(np.nan, index=table.index)
    models = table["model"] if "model" in table else table["candidate"].map(_model_of)
    by_model = models.map(mapping)
    return by_name.fillna(by_model).to_numpy(dtype=float)


def resolve_prior(prior: str, table: pd.DataFrame, *, target: str | None = None) -> Prior:
    """The prior ``prior`` (module notes) for the rows of the ranking ``table``.

    Examples
    --------
    >>> table = pd.DataFrame({"candidate": ["minilm | output | native", "tfidf-svd | tfidf-svd | none"],
    ...                       "model": ["minilm", "tfidf-svd"], "dim": [384, 199]})
    >>> resolve_prior("params", table).values.tolist()
    [22713216.0, 0.0]
    """
    if prior == "params":
        from transferscope.extraction.specs import parameter_count

        counts = [parameter_count(str(m)) for m in (table["model"] if "model" in table else table["candidate"])]
        return Prior("params", np.array([np.nan if c is None else c for c in counts], dtype=float),
                     "parameter count (offline zoo entries, digit-zoo architectures, safetensors headers)")
    if prior in ("mteb", "sbert", "imagenet"):
        from transferscope.workflows.published.literature import read_published

        facts = [r for r in read_published("model_facts.csv") if r["fact"] == prior]
        mapping = pd.Series({r["model"]: float(r["value"]) for r in facts}, dtype=float)
        sources = sorted({r["source"].split("@")[0] for r in facts})
        return Prior(prior, _match(table, mapping), f"{BUILTIN_PRIORS[prior]} ({', '.join(sources)})")
    if prior == "width":
        if "dim" not in table:
            raise InputError("--prior width needs the candidates' widths (a ranking of models)")
        return Prior("width", table["dim"].to_numpy(dtype=float), "embedding width")
    path = Path(prior).expanduser()
    if not path.is_file():
        raise InputError(f"--prior must be {', '.join(BUILTIN_PRIORS)}, a results store (.duckdb) or a table "
                         f"(model,value), got {prior!r}")
    if path.suffix.lower() == ".duckdb":
        from transferscope.workflows.meta import history_scores, load_meta_table

        history = load_meta_table(path)
        truths = {t: part.set_index("candidate")["value"] for t, part in history[history["metric"] == "truth"]
                  .groupby("target")}
        same = [t for t in truths if target is not None and (t == target or t.endswith(f"/{target}"))]
        names = sorted(set(history["candidate"]))
        scores = pd.Series(history_scores(truths, names, exclude=same), index=names)
        by_model = pd.Series({m: scores[[n for n in names if _model_of(n) == m]].mean()
                              for m in {_model_of(n) for n in names}})
        mapping = pd.concat([scores, by_model[~by_model.index.isin(scores.index)]])
        kept = len(truths) - len(same)
        return Prior("history", _match(table, mapping),
                     f"mean rank of measured transfer on {kept} target(s) of {path.name}"
                     + (f" ({', '.join(same)} left out: it is the target)" if same else ""), history=history)
    from transferscope.datasets.loaders import load_table

    frame = load_table(path, what="--prior")
    key = "model" if "model" in frame else "candidate" if "candidate" in frame else None
    if key is None or "value" not in frame:
        raise InputError(f"--prior file '{path}' needs the columns model (or candidate) and value; it has "
                         f"{', '.join(map(str, frame.columns))}")
    values = pd.to_numeric(frame["value"], errors="coerce")
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise InputError(f"--prior file '{path}' row {row}: value {frame['value'].iloc[row]!r} is not a number")
    mapping = pd.Series(values.to_numpy(dtype=float), index=frame[key].astype(str))
    if mapping.index.duplicated().any():
        raise InputError(f"--prior file '{path}' names {mapping.index[mapping.index.duplicated()][0]!r} twice")
    return Prior(path.stem, _match(table, mapping), f"values of {path.name}")


def apply_priors(table: pd.DataFrame, priors: Sequence[Prior], *, estimators: Sequence[str],
                 target: str | None = None) -> pd.DataFrame:
    """``table`` with a ``prior:<name>`` column per prior and ``combined``, ordered by ``combined``
    (module notes); ``attrs["prior_notes"]`` says how ``combined`` was made and how far the
    estimates moved the prior's order, ``attrs["combined_weights"]`` holds its weights.

    Examples
    --------
    >>> table = pd.DataFrame({"candidate": ["a", "b", "c"], "model": ["a", "b", "c"], "dim": [8, 4, 2],
    ...                       "logme": [0.1, 0.9, 0.5]})
    >>> ranked = apply_priors(table, [resolve_prior("width", table)], estimators=["logme"])
    >>> ranked["candidate"].tolist(), ranked["combined"].round(2).tolist()
    (['b', 'a', 'c'], [0.75, 0.5, 0.25])
    """
    from transferscope.metrics.combination import weighted_rank
    from transferscope.metrics.ranking import rank_correlation
    from transferscope.workflows.meta import metric_orientation, neutral_fill

    if not priors:
        return table
    out = table.copy()
    columns = []
    for prior in priors:
        column = f"prior:{prior.name}"
        if column in out:
            raise InputError(f"--prior {prior.name} is given twice")
        out[column] = prior.values
        columns.append(column)
    present = [m for m in estimators if m in out and np.isfinite(out[m].to_numpy(dtype=float)).any()]
    store = next((p for p in priors if p.history is not None), None)
    notes = [f"prior:{p.name}: {p.provenance}; unknown for {int(np.isnan(p.values).sum())} of {len(p.values)}"
             for p in priors if np.isnan(p.values).any()]
    fitted = None
    if store is not None:
        fitted = _fit_on_history(store.history, present, with_params=any(p.name == "params" for p in priors),
                                 target=target)
    if fitted is not None:
        members, weights, n_targets = fitted
        inputs = [m if m in present else f"prior:{m}" for m in members]
        flags = [metric_orientation(m) if m in present else True for m in members]
        out["combined"] = weighted_rank(neutral_fill(out[inputs].to_numpy(dtype=float)), weights, higher_is_better=flags)
        weight_map = {name: float(w) for name, w in zip(inputs, weights)}
        notes.append("combined: rank weights fitted on " + f"{n_targets} target(s) of the results store ("
                     + ", ".join(f"{name} {w:.2f}" for name, w in zip(inputs, weights)) + ")")
    else:
        inputs = [*columns, *present[:1]]
        flags = [True] * len(columns) + [metric_orientation(m) for m in present[:1]]
        weight_map = {name: 1.0 / len(inputs) for name in inputs}
        out["combined"] = weighted_rank(neutral_fill(out[inputs].to_numpy(dtype=float)),
                                        np.full(len(inputs), 1.0 / len(inputs)), higher_is_better=flags)
        notes.append("combined: the mean rank of " + ", ".join(inputs) + " (not fitted: give a results store as "
                     "--prior to fit the weights on its targets)")
    prior_order = out[columns[0]].to_numpy(dtype=float)
    out = out.sort_values("combined", ascending=False, kind="stable").reset_index(drop=True)
    if "rank" in out:
        out["rank"] = np.arange(1, len(out) + 1)
    order = out[columns[0]].to_numpy(dtype=float)
    if np.isfinite(prior_order).sum() >= 2:
        top_prior = table["candidate"].iloc[int(np.nanargmax(prior_order))]
        top = out["candidate"].iloc[0]
        agreement = rank_correlation(np.nan_to_num(order, nan=np.nanmin(order) - 1),
                                     out["combined"].to_numpy(dtype=float), method="kendall")
        moved = ("the estimates kept the prior's pick" if top == top_prior else
                 f"the estimates moved the pick from {top_prior} (the prior's) to {top}")
        notes.append(f"{columns[0]} alone picks {top_prior}; {moved} (Kendall tau between the prior's order and "
                     f"the combined one {agreement:.2f})")
    out.attrs = {**table.attrs, "prior_notes": notes, "combined_weights": weight_map}
    return out


def _fit_on_history(history: pd.DataFrame, estimators: Sequence[str], *, with_params: bool,
                    target: str | None) -> tuple[list[str], np.ndarray, int] | None:
    """Rank weights of ``estimators`` (those the store holds), the store's history prior and
    ``params``, fitted on the store's targets (never one named like ``target``)."""
    from transferscope.metrics.combination import learn_rank_weights
    from transferscope.workflows.meta import COMBINER, history_scores, metric_orientation, neutral_fill

    held = [m for m in estimators if m in set(history["metric"])]
    truths = {t: part.set_index("candidate")["value"] for t, part in history[history["metric"] == "truth"]
              .groupby("target")}
    usable = [t for t in truths if not (target is not None and (t == target or t.endswith(f"/{target}")))]
    if len(usable) < 2:
        return None
    members = [*held, "history", *(["params"] if with_params else [])]
    if len(members) < 2:
        return None
    blocks = []
    for t in usable:
        truth = truths[t].dropna()
        if len(truth) < 2:
            continue
        wide = history[history["target"] == t].pivot_table(index="candidate", columns="metric", values="value",
                                                           aggfunc="first").reindex(truth.index)
        cols = [wide[m].to_numpy(dtype=float) if m in wide else np.full(len(truth), np.nan) for m in held]
        cols.append(history_scores(truths, list(truth.index), exclude=[t, *(set(truths) - set(usable))]))
        if with_params:
            from transferscope.extraction.specs import parameter_count

            counts = [parameter_count(_model_of(c)) for c in truth.index]
            cols.append(np.array([np.nan if c is None else c for c in counts], dtype=float))
        blocks.append((neutral_fill(np.column_stack(cols)), truth.to_numpy(dtype=float)))
    if len(blocks) < 2:
        return None
    flags = [metric_orientation(m) for m in held] + [True] * (len(members) - len(held))
    weights = learn_rank_weights(blocks, higher_is_better=flags, alpha=1.0, method=COMBINER)
    return members, weights, len(blocks)

