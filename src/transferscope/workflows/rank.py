"""Rank candidate representations (model x layer x pooling, or feature files) on a dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import TASKS, Dataset
from transferscope.errors import InputError
from transferscope.extraction.encoder import Encoder
from transferscope.probes.learning_curve import PREDICTION_LEVELS
from transferscope.workflows.engine.candidates import (
    ExtractionOptions,
    extract_candidates,
    feature_candidates,
    same_features_notes,
)
from transferscope.workflows.engine.score_cache import ScoreCache
from transferscope.workflows.engine.scoring import Scorer, Scores, probe_protocol, probe_splits, tied_with_best
from transferscope.workflows.storage.results import Result

__all__ = ["Ranking", "rank", "ranked_table", "rank_answer", "terminal_view", "DEFAULT_METRICS", "PREDICTION_LEVELS"]

DEFAULT_METRICS = ("logme", "hscore", "knn")


@dataclass(frozen=True)
class Ranking(Result):
    """Result of :func:`rank`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate, best first: ``rank, candidate, model, layer, pooling, dim``, one
        column per estimator, and the prediction, probe and prior columns that were asked for.
    estimators : tuple of str
        The estimators, the table sorted by the first (by ``combined`` with a prior).
    warnings : tuple of str
        What the estimators warned about, and candidates with the same features.
    split_scores : tuple of tuple of float, optional
        The probe's value on each of its splits, per candidate in the table's order (for
        intervals that include the ground truth's noise).
    prior_notes : tuple of str
        With a prior: how ``combined`` was made and how far the estimates moved the prior's order.
    """

    kind = "ranking"
    title = "Ranking"

    table: pd.DataFrame
    estimators: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    split_scores: tuple[tuple[float, ...], ...] | None = None
    prior_notes: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> str:
        """The first candidate."""
        return str(self.table.iloc[0]["candidate"])

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def short_names(self) -> list[str]:
        """The candidates' short names, in the table's order (full specs stay in the table)."""
        from transferscope.workflows.storage.names import short_candidates

        return short_candidates(self.table) if "candidate" in self.table else []

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The compact table a terminal shows, a short line per candidate (:func:`terminal_view`),
        with the name fields and the width every candidate shares said once in the title."""
        from transferscope.workflows.storage.names import distinct_labels

        shown = terminal_view(self.table)
        names = list(shown["candidate"]) if "candidate" in shown else []
        shared = ""
        if len(names) > 1:  # fields every candidate shares (one model, one pooling) go to the title
            compact = distinct_labels(names, separator=" | ")
            shared = " | ".join(f for f in names[0].split(" | ") if f not in compact[names[0]].split(" | "))
            shown = shown.assign(candidate=[compact[n] for n in names])
        if "dim" in shown and len(shown) > 1 and shown["dim"].nunique() == 1:  # one width for all: say it once
            shared = f"{shared}, " * bool(shared) + f"{int(shown['dim'].iloc[0])} dimensions"
            shown = shown.drop(columns=["dim"])
        title = ("Ranking" + (f" of {shared}" if shared else "") + " (best first"
                 + (", by combined" if "combined" in self.table else "")
                 + ("; --output keeps every column)" if len(shown.columns) < len(self.table.columns) else ")"))
        return [(title, shown)]

    def answer(self, names: Sequence[str] | None = None) -> list[str]:
        """The answer line (:func:`rank_answer`) and, with a prior, what it did; ``names`` replaces
        the candidates' names in the table's order."""
        return [rank_answer(self.table, list(self.estimators), names=names),
                *(f"Prior: {note}" for note in self.prior_notes)]


#: Probe columns --output keeps and the terminal leaves out (one probe measure is enough to read).
_SECONDARY_PROBE_COLUMNS = ("probe_balanced_accuracy", "probe_macro_f1", "probe_setting")


def terminal_view(table: pd.DataFrame) -> pd.DataFrame:
    """The ranking as the terminal shows it, one short line per candidate: short names; each
    predicted column as ``value [low, high]`` and the probe as ``value +- standard error``; the
    probe's secondary measures and settings left to ``--output``; ``tied`` marks the candidates
    the probe cannot tell from the best."""
    from transferscope.workflows.storage.names import short_candidates
    from transferscope.workflows.storage.results import interval_text, se_text

    shown = table.assign(candidate=short_candidates(table)) if "candidate" in table else table
    shown = shown.drop(columns=[c for c in ("model", "layer", "pooling", *_SECONDARY_PROBE_COLUMNS) if c in shown])
    for name in [c for c in shown.columns if c.startswith("predicted_") and f"{c}_low" in shown]:
        text = [interval_text(v, lo, hi) for v, lo, hi in
                zip(shown[name], shown[f"{name}_low"], shown[f"{name}_high"], strict=True)]
        shown = shown.drop(columns=[f"{name}_low", f"{name}_high"]).assign(**{name: text})
    for name in [c for c in shown.columns if c.startswith("probe_") and f"{c}_se" in shown]:
        text = [se_text(v, se, digits=3) for v, se in zip(shown[name], shown[f"{name}_se"], strict=True)]
        shown = shown.drop(columns=[f"{name}_se"]).assign(**{name: text})
    if "probe_tied_with_best" in shown:
        tied = ["yes" if value is True or value == 1 else "" for value in shown["probe_tied_with_best"]]
        shown = shown.drop(columns=["probe_tied_with_best"]).assign(tied=tied)
    return shown


def ranked_table(scores: Scores, by: str) -> pd.DataFrame:
    """``scores`` as a table sorted by the column ``by`` (best first, ties in candidate order), with a
    ``rank`` column first and the warnings in ``table.attrs["warnings"]``. With a probe measured
    with its standard error, ``probe_tied_with_best`` marks the candidates it cannot tell from
    the best one (:func:`~transferscope.workflows.engine.scoring.tied_with_best`), and
    ``table.attrs["probe_split_scores"]`` holds its per-split values (candidates x splits, in the
    table's order) for intervals that include the ground truth's noise."""
    table = scores.to_frame().sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    headline = next((f"probe_{r.probe.metric}" for r in scores.rows if r.probe is not None), None)
    if headline is not None and f"{headline}_se" in table:
        table["probe_tied_with_best"] = tied_with_best(table[headline], table[f"{headline}_se"])
    by_name = {r.candidate.name: r.probe.settings.get("split_scores") for r in scores.rows if r.probe is not None}
    splits = [by_name.get(name) for name in table["candidate"]]
    if splits and all(isinstance(v, list) and len(v) == len(splits[0]) for v in splits):
        table.attrs["probe_split_scores"] = [list(map(float, v)) for v in splits]  # lists: pandas compares attrs
    table.attrs["warnings"] = list(scores.warnings)
    return table


def rank(
    *,
    dataset: Dataset | None = None,
    models: Sequence[str | Encoder] = (),
    layers: str | Sequence[str | int] = "all",
    poolings: str | Sequence[str] = ("mean",),
    features: Mapping[str, Any] | None = None,
    labels: Any = None,
    source_probs: Mapping[str, Any] | None = None,
    task: str | None = None,
    metrics: str | Sequence[str] = DEFAULT_METRICS,
    metric_options: Mapping[str, Mapping[str, Any]] | None = None,
    probe: bool | str = False,
    predict: bool | float = False,
    seed: int = 0,
    extraction: ExtractionOptions | None = None,
    n_jobs: int | None = None,
    prior: str | Sequence[str] | None = None,
) -> Ranking:
    """Score and rank candidate representations for one labelled dataset.

    Give either ``dataset`` and ``models`` (features are extracted, cached, for
    every model x layer x pooling), or ``features`` (name -> array) and ``labels``.

    Parameters
    ----------
    dataset : Dataset, optional
    models : sequence of str or Encoder
        Model specifications (see :func:`~transferscope.extraction.specs.build_encoder`).
    layers : "all", "last", or names / indices
    poolings : str or sequence of str
        Token poolings among ``mean``, ``cls``, ``max``, ``last``.
    features : mapping of str to array, optional
        Precomputed embeddings, one candidate each.
    labels : array-like, optional
        Labels for ``features``.
    source_probs : mapping of str to array, optional
        Source-classifier probabilities per feature candidate (same keys as
        ``features``), for estimators such as ``leep`` and ``nce``. With models,
        they come from the classification head of checkpoints that have one.
    task : {"classification", "regression"}, optional
        Defaults to the dataset's task, or is inferred from ``labels``.
    metrics : str or sequence of str
        Registered estimators; the table is sorted by the first.
    metric_options : mapping, optional
        ``{"knn": {"k": 10}}``.
    probe : bool or str, default=False
        Also measure the ground truth next to the estimates: ``True`` is the linear probe on
        5 x 2-fold repeated splits (``linear_cv``: mean, standard error, and which candidates
        it cannot tell from the best), ``"linear"`` one seeded 60/20/20 split.
    predict : bool or float, default=False
        Also predict what the ``linear_cv`` probe would reach, from probes on subsamples
        (learning-curve extrapolation; measured, 0.42 of the probe's time), with an
        interval calibrated on the benchmark targets: ``True`` is the 80% interval, or give the
        level (0.8, 0.9, 0.95). Columns ``predicted_accuracy`` (``predicted_r2``) and its
        ``_low`` / ``_high`` bounds (:mod:`transferscope.probes.learning_curve`).
    seed : int, default=0
        Seeds random baselines and the probe's split.
    extraction : ExtractionOptions, optional
        Cache, batch size, maximum length, device, progress, remote code (defaults otherwise);
        the cache also keeps per-candidate results (scores, probes).
    n_jobs : int, optional
        Processes scoring candidates in parallel (joblib; all cores when omitted).
    prior : str or sequence of str, optional
        What is known before the target (:mod:`transferscope.workflows.priors`): ``"params"``,
        ``"width"``, a results store (``.duckdb``: each candidate's record on its targets) or a
        table of ``model,value``. Adds a ``prior:<name>`` column per prior and ``combined`` (the
        priors and the estimates in one order, fitted on a store's targets when one is given);
        the table is then ordered by ``combined`` and ``attrs["prior_notes"]`` says how far the
        estimates moved the prior's order.

    Returns
    -------
    Ranking
        Its ``table`` holds one row per candidate, best first: ``rank, candidate, model, layer,
        pooling, dim``, one column per metric, and prediction and probe columns if asked.

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> ranking = ts.rank(features={"good": rng.normal(size=(80, 4)) + 3 * y[:, None],
    ...                             "noise": rng.normal(size=(80, 4))},
    ...                   labels=y, metrics=["logme", "knn"])
    >>> list(ranking.table["candidate"]), ranking.best
    (['good', 'noise'], 'good')
    """
    metric_list, models = _check_rank_arguments(
        dataset=dataset, models=models, features=features, labels=labels, source_probs=source_probs, task=task,
        metrics=metrics, metric_options=metric_options, seed=seed, extraction=extraction)
    from transferscope.workflows.priors import check_priors

    priors = check_priors(prior)  # before any work
    extraction = extraction or ExtractionOptions()
    protocol = probe_protocol(probe)
    level = _predict_level(predict)
    if features is not None:
        if dataset is not None or models:
            raise InputError("give either features + labels, or dataset + models, not both")
        if labels is None:
            raise InputError("labels are required with features")
        labelled = Dataset.of_features(labels, task=task)
        y, task = labelled.labels, labelled.task
        splits = probe_splits(labelled, seed, probe=protocol) if protocol else None
        scorer = Scorer(metric_list, task=task, options=metric_options, n_jobs=n_jobs, probe=protocol, splits=splits,
                        predict=level, predict_splits=_predict_splits(labelled, seed, level, protocol, splits),
                        progress=extraction.progress)
        candidates = feature_candidates(features, n_samples=y.shape[0], source_probs=source_probs)
        table = ranked_table(scorer.score(candidates, y), scorer.estimators[0])
        return _ranking(_with_priors(table, priors, estimators=scorer.estimators, target=None), scorer.estimators,
                        settings={"task": task, "seed": seed, "probe": protocol, "predict": level})
    if dataset is None or not models:
        raise InputError("give a dataset and at least one model, or features and labels")
    task = task or dataset.task
    splits = probe_splits(dataset, seed, probe=protocol) if protocol else None
    scorer = Scorer(metric_list, task=task, options=metric_options, n_jobs=n_jobs, probe=protocol, splits=splits,
                    cache=ScoreCache(extraction.cache_dir) if extraction.use_cache else None,
                    predict=level, predict_splits=_predict_splits(dataset, seed, level, protocol, splits),
                    progress=extraction.progress)
    candidates = extract_candidates(dataset, models, layers=layers, poolings=poolings,
                                    with_head=scorer.needs_source_probs, seed=seed, extraction=extraction)
    table = ranked_table(scorer.score(candidates, dataset.labels), scorer.estimators[0])
    table.attrs["warnings"] += same_features_notes(candidates)
    return _ranking(_with_priors(table, priors, estimators=scorer.estimators, target=dataset.name), scorer.estimators,
                    settings={"dataset": dataset.name, "task": task, "seed": seed, "probe": protocol,
                              "predict": level})


def _ranking(table: pd.DataFrame, estimators: Sequence[str], *, settings: dict[str, Any]) -> Ranking:
    """The :class:`Ranking` of a ranked table: what :func:`ranked_table` and the priors noted on the
    table (its ``attrs``) becomes typed fields, and the table is left plain."""
    notes = dict(table.attrs)
    table.attrs = {}
    splits = notes.get("probe_split_scores")
    return Ranking(table=table, estimators=tuple(estimators), warnings=tuple(notes.get("warnings", [])),
                   split_scores=None if splits is None else tuple(tuple(v) for v in splits),
                   prior_notes=tuple(notes.get("prior_notes", [])),
                   settings={k: v for k, v in settings.items() if v is not None})


def _with_priors(table: pd.DataFrame, priors: list[str], *, estimators: Sequence[str],
                 target: str | None) -> pd.DataFrame:
    """``table`` with the (checked) priors and ``combined`` (:func:`~transferscope.workflows.priors.apply_priors`)."""
    if not priors:
        return table
    from transferscope.workflows.priors import apply_priors, resolve_prior

    return apply_priors(table, [resolve_prior(p, table, target=target) for p in priors],
                        estimators=list(estimators), target=target)


def _predict_level(predict: Any) -> Any:
    """``predict`` as an interval level: True -> 0.8, False -> None; a level is passed on to the
    :class:`Scorer`, which checks it."""
    if predict is False or predict is None:
        return None
    return 0.8 if predict is True else predict


def _predict_splits(dataset: Dataset, seed: int, level: float | None, protocol: str | None, splits: Any) -> Any:
    """The repeated splits a prediction targets: the probe's own when it is ``linear_cv``."""
    if level is None:
        return None
    return splits if protocol == "linear_cv" else probe_splits(dataset, seed, probe="linear_cv")


def _check_rank_arguments(*, dataset: Any, models: Any, features: Any, labels: Any, source_probs: Any, task: Any,
                          metrics: Any, metric_options: Any, seed: Any, extraction: Any) -> tuple[list[str], list[Any]]:
    """The arguments of :func:`rank` checked before any work: one InputError naming the argument.

    Returns the metric names and the models as a list (one string is one model)."""
    if features is not None and not isinstance(features, Mapping):
        raise InputError("features must be a mapping of candidate name to array, e.g. {'a': X, 'b': Y}, "
                         f"got {type(features).__name__}")
    if labels is not None and isinstance(labels, (Mapping, str, bytes)):
        raise InputError(f"labels must be an array of one label per sample, got {type(labels).__name__}")
    if labels is not None and features is not None:
        ndim = np.ndim(labels)
        if ndim != 1 and not (ndim == 2 and task == "multilabel"):
            raise InputError(f"labels must be 1-D (one label per sample), got {ndim}-D")
    if source_probs is not None:
        if not isinstance(source_probs, Mapping):
            raise InputError("source_probs must be a mapping of candidate name to probabilities (same keys as "
                             f"features), got {type(source_probs).__name__}")
        unknown = [str(k) for k in source_probs if features is None or k not in features]
        if unknown:
            raise InputError(f"source_probs has key(s) {', '.join(unknown)} that name no features candidate")
    if dataset is not None and not isinstance(dataset, Dataset):
        raise InputError("dataset must be a transferscope Dataset (e.g. transferscope.datasets.load_builtin(name) "
                         f"or load_text_dataset(path, ...)), got {type(dataset).__name__}")
    if isinstance(models, str):
        models = [models]
    elif not isinstance(models, Sequence):
        raise InputError(f"models must be a model spec or a list of them, got {type(models).__name__}")
    if task is not None and task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if isinstance(metrics, str):
        metric_list = metrics.split(",")
    elif isinstance(metrics, Sequence) and all(isinstance(m, str) for m in metrics):
        metric_list = list(metrics)
    else:
        raise InputError(f"metrics must be an estimator name, comma-separated names or a list of names, got {metrics!r}")
    if metric_options is not None and not (isinstance(metric_options, Mapping)
                                           and all(isinstance(v, Mapping) for v in metric_options.values())):
        raise InputError("metric_options must map estimator names to option mappings, e.g. {'knn': {'k': 10}}, "
                         f"got {metric_options!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if extraction is not None and not isinstance(extraction, ExtractionOptions):
        raise InputError(f"extraction must be an ExtractionOptions, got {type(extraction).__name__}")
    if not [m for m in metric_list if m.strip()]:
        raise InputError("metric must name at least one estimator")
    return metric_list, list(models)


def rank_answer(table: pd.DataFrame, estimators: Sequence[str], *, names: Sequence[str] | None = None) -> str:
    """The answer of a :func:`rank` table in one line: its first candidate and by what, which other
    estimators agree (and whom the others put first), and what the probe measured when it ran.

    ``names`` replaces the candidates' names (e.g. short model names), in the table's order.

    Examples
    --------
    >>> table = pd.DataFrame({"candidate": ["a", "b", "c"], "logme": [0.3, 0.2, 0.1], "knn": [0.7, 0.9, 0.1],
    ...                       "probe_accuracy": [0.91, 0.90, 0.60]})
    >>> rank_answer(table, ["logme", "knn"])
    'Answer: a ranks first by logme; knn puts b first; the probe confirms it (accuracy 0.910).'
    """
    from transferscope.metrics.registry import get_metric

    if table.empty:
        return "Answer: no candidate was ranked."
    label = list(names) if names is not None else [str(c) for c in table["candidate"]]
    by = "combined" if "combined" in table else estimators[0]
    best = label[0]
    agree, others = [], []
    for name in estimators:
        if name == by or name not in table:
            continue
        values = table[name].to_numpy(dtype=float)
        if not np.isfinite(values).any():
            continue
        oriented = values if get_metric(name, "transferability").higher_is_better else -values
        top = label[int(np.nanargmax(oriented))]
        highest = float(np.nanmax(oriented))
        if top == best or oriented[0] >= highest - 1e-9 * max(1.0, abs(highest)):  # first, or tied for it
            agree.append(name)
        else:
            others.append(f"{name} puts {top} first")
    parts = [f"{best} ranks first by {by}"]
    if agree:
        parts.append(", ".join(agree) + (" agrees" if len(agree) == 1 else " agree"))
    parts += others
    probe = next((c for c in ("probe_accuracy", "probe_r2") if c in table), None)
    if probe is not None and np.isfinite(table[probe].to_numpy(dtype=float)).any():
        measured = table[probe].to_numpy(dtype=float)
        top = int(np.nanargmax(measured))
        metric = probe.removeprefix("probe_")
        if label[top] == best or measured[0] == measured[top]:
            parts.append(f"the probe confirms it ({metric} {measured[0]:.3f})")
        else:
            parts.append(f"the probe measured {label[top]} best ({metric} {measured[top]:.3f} against "
                         f"{measured[0]:.3f})")
    if "predicted_accuracy" in table and np.isfinite(float(table["predicted_accuracy"].iloc[0])):
        first = table.iloc[0]
        interval = (f" [{first['predicted_accuracy_low']:.3f}, {first['predicted_accuracy_high']:.3f}]"
                    if "predicted_accuracy_low" in table else "")
        parts.append(f"predicted accuracy of {best} {first['predicted_accuracy']:.3f}{interval}")
    return "Answer: " + "; ".join(parts) + "."
