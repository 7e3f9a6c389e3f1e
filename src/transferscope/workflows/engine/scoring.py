"""Scoring: estimators and a probe on every candidate, through the score cache, on a backend.

A :class:`Scorer` takes estimators by name and reads what each declares (the task types it
supports, whether it takes ``task``, its options, whether it needs source probabilities): it
validates them once, when it is built. :meth:`Scorer.score` turns every candidate into a
:class:`Cell`, a pure and idempotent unit of work; cells whose every result is in the score
cache are read in this process, the others go to a :class:`Backend` (``local``: this process or
joblib processes; ``ray``: tasks on a cluster), and the results come back as a typed :class:`Scores` (values,
probe results and warnings per candidate) that renders to a DataFrame.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.hashing import hash_array, hash_fields
from transferscope.metrics import check_options, get_metric
from transferscope.probes.learning_curve import PREDICTION_LEVELS, PredictedScore, prediction_interval
from transferscope.probes.result import ProbeResult
from transferscope.workflows.engine.candidates import Candidate
from transferscope.workflows.engine.score_cache import CacheMiss, ScoreCache, labels_fingerprint

LOGGER = logging.getLogger("transferscope.scoring")

__all__ = ["DEFAULT_PROBE", "probe_protocol", "tied_with_best", "Scorer", "Scores", "CandidateScores", "Cell", "Backend", "LocalBackend",
           "RayBackend", "get_backend", "probe_splits", "splits_fingerprint", "BACKENDS"]

BACKENDS = ("local", "ray")

#: The probe of ``probe=True``: the linear probe on 5 x 2-fold repeated splits, which measures the
#: ground truth with its noise (mean and corrected standard error); ``"linear"`` is one 60/20/20 split.
DEFAULT_PROBE = "linear_cv"


def probe_protocol(probe: bool | str | None) -> str | None:
    """``probe`` as a protocol name: ``True`` -> :data:`DEFAULT_PROBE`, ``False``/``None`` -> None.

    Examples
    --------
    >>> probe_protocol(True), probe_protocol("linear"), probe_protocol(False)
    ('linear_cv', 'linear', None)
    """
    if probe is None or probe is False:
        return None
    if probe is True:
        return DEFAULT_PROBE
    if not isinstance(probe, str):
        raise InputError(f"probe must be True, False or a probe name, got {probe!r}")
    return probe


def tied_with_best(means: Any, standard_errors: Any) -> np.ndarray:
    """Which candidates the ground truth cannot tell from the best one: those whose mean is
    within one standard error of the difference (``sqrt(se_best^2 + se_i^2)``) of the best mean.

    Examples
    --------
    >>> tied_with_best([0.80, 0.79, 0.70], [0.01, 0.01, 0.01]).tolist()
    [True, True, False]
    """
    m = np.asarray(means, dtype=float)
    se = np.asarray(standard_errors, dtype=float)
    best = int(np.nanargmax(m))
    return (m[best] - m) <= np.sqrt(se[best] ** 2 + se ** 2)


@dataclass(frozen=True)
class CandidateScores:
    """The results of one candidate: estimator values by name, the probe outcome, warnings."""

    candidate: Candidate
    values: dict[str, float]
    probe: ProbeResult | None
    warnings: list[str]
    prediction: PredictedScore | None = None

    def row(self) -> dict[str, Any]:
        row: dict[str, Any] = {**self.candidate.describe(), "dim": self.candidate.dim, **self.values}
        if self.prediction is not None:
            row.update(self.prediction.columns())
        if self.probe is not None:
            row.update(self.probe.columns())
        return row


@dataclass(frozen=True)
class Scores:
    """The results of :meth:`Scorer.score`, in the candidates' order.

    ``warnings`` holds each distinct warning once (e.g. H-score with N <= D), in order.
    """

    rows: list[CandidateScores]
    estimators: list[str]
    warnings: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate: candidate, model, layer, pooling, dim, one column per estimator
        and, with a probe, ``probe_<metric>`` columns and ``probe_setting``."""
        return pd.DataFrame([r.row() for r in self.rows])


@dataclass(frozen=True)
class Plan:
    """One estimator as a cell runs it: its name, options, and what it declares."""

    name: str
    options: dict[str, Any]
    needs_source_probs: bool


@dataclass(frozen=True)
class Cell:
    """One candidate's work: every estimator and the probe (pure and idempotent).

    With ``cached_only`` results are only read from the cache; a missing one raises
    :class:`~transferscope.workflows.engine.score_cache.CacheMiss` instead of being computed.
    """

    features: np.ndarray
    labels: np.ndarray
    task: str
    plans: tuple[Plan, ...]
    source_probs: np.ndarray | None = None
    probe: str | None = None
    splits: Any = None
    cache: ScoreCache | None = None
    features_id: str = ""
    labels_id: str = ""
    splits_id: str = ""
    on_error: str = "raise"
    cached_only: bool = False
    predict_level: float | None = None
    predict_splits: Any = None
    predict_splits_id: str = ""

    def run(self) -> tuple[dict[str, float], ProbeResult | None, PredictedScore | None, list[str]]:
        values: dict[str, float] = {}
        messages: list[str] = []
        for plan in self.plans:
            info = get_metric(plan.name, "transferability")
            opts, key_opts = dict(plan.options), dict(plan.options)
            if plan.needs_source_probs and "source_probs" not in opts:
                if self.source_probs is None:
                    values[plan.name] = float("nan")
                    messages.append(f"{plan.name}: needs source_probs; candidates without a classification head "
                                    "get NaN")
                    continue
                opts["source_probs"] = self.source_probs
                key_opts["source_probs"] = "array:" + (hash_array(np.asarray(self.source_probs))
                                                       if self.cache else "")
            for key, value in key_opts.items():  # arrays are keyed by content, never by repr
                if isinstance(value, np.ndarray):
                    key_opts[key] = "array:" + hash_array(value)

            def compute(info: Any = info, opts: dict[str, Any] = opts) -> dict[str, Any]:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    value = info.func(self.features, self.labels, **opts)
                return {"value": value, "warnings": [str(w.message) for w in caught]}

            try:
                result = ScoreCache.fetch(self.cache, compute, cached_only=self.cached_only,
                                          required=("value", "warnings"), features=self.features_id,
                                          labels=self.labels_id, metric=plan.name, options=key_opts)
            except InputError as exc:  # not cached: a later on_error="raise" call must still raise
                if self.on_error == "raise":
                    raise InputError(f"{plan.name}: {exc}") from None
                result = {"value": float("nan"), "warnings": [f"gave NaN on a candidate: {exc}"]}
            values[plan.name] = result["value"]
            messages.extend(f"{plan.name}: {m}" for m in result["warnings"])
        return values, self._probe(), self._prediction(), messages

    def _prediction(self) -> PredictedScore | None:
        """The predicted probe score (learning curve on subsamples); its interval is calibrated
        after the cache, so a changed calibration never reads a stale interval."""
        if self.predict_level is None:
            return None

        def run_prediction() -> dict[str, Any]:
            from transferscope.probes.learning_curve import predict_probe_score

            res = predict_probe_score(self.features, self.labels, splits=self.predict_splits, task=self.task)
            return {"value": res.value, "scale": res.scale, "metric": res.metric, "settings": res.settings}

        result = ScoreCache.fetch(self.cache, run_prediction, cached_only=self.cached_only,
                                  required=("value", "scale", "metric", "settings"), features=self.features_id,
                                  labels=self.labels_id, metric="predicted_probe",
                                  options={"task": self.task, "splits": self.predict_splits_id})
        low, high = prediction_interval(result["value"], result["scale"], level=self.predict_level,
                                        metric=result["metric"])
        return PredictedScore(value=result["value"], low=low, high=high, level=self.predict_level,
                              metric=result["metric"], scale=result["scale"], settings=result["settings"])

    def _probe(self) -> ProbeResult | None:
        if self.probe is None or self.splits is None:
            return None

        def run_probe() -> dict[str, Any]:
            from transferscope.probes import FEATURE_PROBE_TASKS, FEATURE_PROBES  # only when not cached

            kwargs = {"task": self.task} if len(FEATURE_PROBE_TASKS[self.probe]) > 1 else {}
            res = FEATURE_PROBES[self.probe](self.features, self.labels, splits=self.splits, **kwargs)
            return {"score": res.score, "metric": res.metric, "metrics": res.metrics,
                    "settings": {"probe": self.probe, **res.settings}}

        result = ScoreCache.fetch(self.cache, run_probe, cached_only=self.cached_only,
                                  required=("score", "metric", "metrics", "settings"), features=self.features_id,
                                  labels=self.labels_id,
                                  metric="linear_probe" if self.probe == "linear" else f"{self.probe}_probe",
                                  options={"task": self.task, "splits": self.splits_id})
        return ProbeResult(score=result["score"], metric=result["metric"], metrics=result["metrics"],
                           settings=result["settings"])


def run_cell(cell: Cell) -> tuple[dict[str, float], ProbeResult | None, PredictedScore | None, list[str]]:
    """``cell.run()``, as a module-level function that process pools and Ray can ship."""
    return cell.run()


class Backend(Protocol):
    """Where cells run: ``map`` applies ``fn`` to every item and returns the results in order."""

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any],
            on_done: Callable[[int], None] | None = None) -> list[Any]: ...


@dataclass(frozen=True)
class LocalBackend:
    """This machine: one cell after the other in this process with ``n_jobs=1``, else parallel
    processes (joblib's loky, one BLAS thread each); ``n_jobs=None`` uses every core from four
    cells on (starting processes costs more than a few cells)."""

    n_jobs: int | None = None

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any],
            on_done: Callable[[int], None] | None = None) -> list[Any]:
        done = on_done or (lambda n: None)
        jobs = self.n_jobs if self.n_jobs is not None else (-1 if len(items) >= 4 else 1)
        if jobs == 1 or not items:
            out = []
            for item in items:
                out.append(fn(item))
                done(1)
            return out
        from joblib import Parallel, delayed, parallel_config

        if not _STARTED_POOLS:
            _STARTED_POOLS.append("loky")
        with parallel_config(backend="loky", inner_max_num_threads=1):
            out = []
            for result in Parallel(n_jobs=jobs, return_as="generator")(delayed(fn)(item) for item in items):
                out.append(result)  # in order, as they finish
                done(1)
            return out


_STARTED_POOLS: list[str] = []  # "loky" once LocalBackend has run cells in worker processes


def close_worker_pools() -> None:
    """Stop the worker processes :class:`LocalBackend` keeps for reuse between calls (joblib's
    loky executor keeps them for minutes), and wait for them: a command ends with no process of
    its own left behind, on success, error or Ctrl-C. Nothing to do (nothing is started) when no
    pool was started."""
    if not _STARTED_POOLS:
        return
    from joblib.externals.loky import get_reusable_executor

    _STARTED_POOLS.clear()
    get_reusable_executor().shutdown(wait=True, kill_workers=True)


@dataclass(frozen=True)
class RayBackend:
    """Every item a Ray task (on the cluster named by ``RAY_ADDRESS``, else a local Ray)."""

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any],
            on_done: Callable[[int], None] | None = None) -> list[Any]:
        if not items:
            return []
        from transferscope.extraction.ray_backend import start_ray

        ray = start_ray()
        remote = ray.remote(fn)
        refs = [remote.remote(ray.put(item)) for item in items]
        pending = list(refs)
        while pending and on_done is not None:  # advance as tasks finish; results are read in order below
            ready, pending = ray.wait(pending, num_returns=1)
            on_done(len(ready))
        return list(ray.get(refs))


def get_backend(name: str, *, n_jobs: int | None = None) -> Backend:
    """The backend called ``name``: ``local`` (this machine, ``n_jobs`` processes) or ``ray``."""
    if name == "local":
        return LocalBackend(n_jobs)
    if name == "ray":
        return RayBackend()
    raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")


def check_probe_classes(dataset: Dataset) -> None:
    """Refuse classification labels where classes of a single sample hold half the samples or more:
    a probe cannot learn a class it sees once (the sample is in training or in test, never both),
    and its accuracy would be a plausible-looking 0 (issue 26: one sample per class)."""
    if dataset.task != "classification":
        return
    values, counts = np.unique(dataset.labels, return_counts=True)
    single = counts == 1
    if 2 * int(single.sum()) >= len(dataset):
        raise InputError(f"dataset '{dataset.name}': {int(single.sum())} of {values.size} classes have a single "
                         f"sample (e.g. {values[single][0]!r}), {single.sum() / len(dataset):.0%} of the samples; a "
                         "probe cannot learn a class it sees once: give at least 2 samples of most classes")


def probe_splits(dataset: Dataset, seed: int, *, probe: str = "linear", repeats: int = 5,
                 folds: int = 2) -> Any:
    """The splits ``probe`` is fitted on: the seeded 60/20/20 (train, val, test) split, or for a
    repeated-split probe (``linear_cv``) ``repeats`` x ``folds`` of them
    (:meth:`~transferscope.datasets.Dataset.repeated_splits`); one InputError where the data are
    too few."""
    from transferscope.probes import REPEATED_SPLIT_PROBES

    too_few = (f"dataset '{dataset.name}' has {len(dataset)} samples: too few for the probe's seeded "
               f"{'repeated K-fold' if probe in REPEATED_SPLIT_PROBES else '60/20/20'} splits (each part needs "
               "samples, the training part two classes); give more data or turn the probe off (probe=False, "
               "--no-probe)")
    try:
        triples = (dataset.repeated_splits(repeats=repeats, folds=folds, seed=seed) if probe in REPEATED_SPLIT_PROBES
                   else [dataset.split(seed=seed)])
    except ValueError:
        raise InputError(too_few) from None
    for s in triples:
        if min(len(s.train), len(s.val), len(s.test)) == 0 or (
                dataset.task == "classification" and np.unique(dataset.labels[s.train]).shape[0] < 2):
            raise InputError(too_few)
    check_probe_classes(dataset)
    return tuple(triples) if probe in REPEATED_SPLIT_PROBES else triples[0]


def splits_fingerprint(splits: Any) -> str:
    """A hash of probe splits: a (train, val, test) triple, or a sequence of triples."""
    if len(splits) and (len(splits[0]) == 0 or np.isscalar(splits[0][0])):  # one (train, val, test) triple
        return hash_fields({"splits": [np.asarray(s).tolist() for s in splits]})
    return hash_fields({"splits": [[np.asarray(s).tolist() for s in triple] for triple in splits]})


class Scorer:
    """Estimators (and optionally a probe) for one task, checked once, run on any candidates.

    Parameters
    ----------
    estimators : sequence of str
        Registered transferability estimators (names are case-insensitive). Each must support
        ``task``; its options (``options[name]``) are checked against what it declares.
    task : {"classification", "regression", "multilabel"}
    options : mapping, optional
        ``{"knn": {"k": 10}}``.
    probe : str, optional
        A probe on frozen features (``linear``, ``knn``, ``ncm``, ``mlp``), fitted on ``splits``.
    splits : (train, val, test) index arrays, or a sequence of them, optional
        Required with ``probe`` (a sequence for ``linear_cv``; see :func:`probe_splits`).
    cache : ScoreCache, optional
        Results already computed for the same feature values, labels and settings are reused.
    backend : str or Backend, default="local"
        ``local`` (this machine), ``ray`` (tasks), or any :class:`Backend`.
    n_jobs : int, optional
        Processes of the local backend (all cores from four cells on when omitted).
    on_error : {"raise", "nan"}, default="raise"
        With ``"nan"`` an estimator that rejects a candidate's data gives NaN and a warning
        instead of stopping every other cell: what a benchmark over many cells wants.
    predict : float, optional
        Also predict the ``linear_cv`` probe's score from probes on subsamples, with an interval
        of this coverage (0.8, 0.9 or 0.95; :mod:`transferscope.probes.learning_curve`).
    predict_splits : sequence of (train, val, test), optional
        The repeated splits the prediction targets (required with ``predict``).
    progress : bool, default=False
        A progress bar with ETA on stderr over the candidates still to score (estimators, probe
        and prediction of one candidate are one step).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.workflows.engine.candidates import feature_candidates
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> cands = feature_candidates({"good": rng.normal(size=(60, 3)) + 2 * y[:, None],
    ...                             "noise": rng.normal(size=(60, 3))}, n_samples=60)
    >>> scores = Scorer(["knn"], task="classification", n_jobs=1).score(cands, y)
    >>> scores.to_frame()[["candidate", "knn"]].round(2).values.tolist()
    [['good', 0.85], ['noise', 0.6]]
    """

    def __init__(
        self,
        estimators: Sequence[str],
        *,
        task: str,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        probe: str | None = None,
        splits: Any = None,
        cache: ScoreCache | None = None,
        backend: str | Backend = "local",
        n_jobs: int | None = None,
        on_error: str = "raise",
        predict: float | None = None,
        predict_splits: Any = None,
        progress: bool = False,
    ) -> None:
        names = [str(m).strip().lower() for m in estimators if str(m).strip()]
        given = {k.lower(): dict(v) for k, v in (options or {}).items()}
        plans = []
        for name in names:
            info = get_metric(name, "transferability")
            if task not in info.task_types:
                raise InputError(f"metric '{name}' does not support {task} targets "
                                 f"(it supports: {', '.join(info.task_types)})")
            opts = dict(given.get(name, {}))
            if info.takes_task:
                opts.setdefault("task", task)
            supplied = {"source_probs": None} if info.needs_source_probs else {}
            check_options(info, {**supplied, **opts})  # source_probs come per candidate
            plans.append(Plan(name, opts, info.needs_source_probs))
        if probe is not None:
            from transferscope.probes import FEATURE_PROBE_TASKS

            if probe not in FEATURE_PROBE_TASKS:
                raise InputError(f"probe must be one of {', '.join(FEATURE_PROBE_TASKS)}, got {probe!r}")
            if task not in FEATURE_PROBE_TASKS[probe]:
                raise InputError(f"probe '{probe}' supports {', '.join(FEATURE_PROBE_TASKS[probe])} only")
            if splits is None:
                raise InputError("a probe needs splits (train, val, test index arrays)")
        if predict is not None:
            if isinstance(predict, bool) or predict not in PREDICTION_LEVELS:
                raise InputError(f"predict must be an interval level among "
                                 f"{', '.join(map(str, PREDICTION_LEVELS))}, got {predict!r}")
            if task not in ("classification", "regression"):
                raise InputError(f"predicted probe scores support classification and regression, not {task}")
            if predict_splits is None or len(predict_splits) < 2:
                raise InputError("a prediction needs the repeated splits it targets (predict_splits)")
        if on_error not in ("raise", "nan"):
            raise InputError(f"on_error must be 'raise' or 'nan', got {on_error!r}")
        self.estimators = names
        self.task = task
        self.plans = tuple(plans)
        self.probe = probe
        self.splits = splits
        self.cache = cache
        self.backend = get_backend(backend, n_jobs=n_jobs) if isinstance(backend, str) else backend
        self.on_error = on_error
        self.predict = predict
        self.predict_splits = predict_splits
        self.progress = bool(progress)

    @property
    def needs_source_probs(self) -> bool:
        """Whether an estimator needs the source head's probabilities (extract them with the features)."""
        return any(plan.needs_source_probs for plan in self.plans)

    def cells(self, candidates: Sequence[Candidate], labels: np.ndarray) -> list[Cell]:
        cached = self.cache is not None
        labels_id = labels_fingerprint(labels) if cached else ""
        splits_id = splits_fingerprint(self.splits) if self.splits is not None else ""
        predict_id = splits_fingerprint(self.predict_splits) if self.predict is not None else ""
        return [Cell(features=c.features, labels=labels, task=self.task, plans=self.plans,
                     source_probs=c.source_probs, probe=self.probe, splits=self.splits, cache=self.cache,
                     features_id=hash_array(np.asarray(c.features)) if cached else "", labels_id=labels_id,
                     splits_id=splits_id, on_error=self.on_error, predict_level=self.predict,
                     predict_splits=self.predict_splits, predict_splits_id=predict_id)
                for c in candidates]

    def score(self, candidates: Sequence[Candidate], labels: Any) -> Scores:
        """Every estimator and the probe on every candidate (cached results reused)."""
        labels = np.asarray(labels)
        cells = self.cells(candidates, labels)
        results: list[Any] = [None] * len(cells)
        if self.cache is not None:  # fully cached cells are read here: no worker starts for them
            for i, cell in enumerate(cells):
                try:
                    results[i] = replace(cell, cached_only=True).run()
                except CacheMiss:
                    pass
        todo = [i for i, r in enumerate(results) if r is None]
        LOGGER.info("scoring %d candidate(s): %d from the score cache, %d computed (%s)", len(cells),
                    len(cells) - len(todo), len(todo), ", ".join(self.estimators))
        from transferscope.extraction.progress import progress_bar

        label = ", ".join([*self.estimators, *(["probe"] if self.probe else [])]) or "scores"
        with progress_bar(f"scoring ({label})", total=len(todo), enabled=self.progress and bool(todo)) as advance:
            computed = self.backend.map(run_cell, [cells[i] for i in todo], on_done=advance)
        for i, result in zip(todo, computed, strict=True):
            results[i] = result
        rows, notes = [], {}
        for cand, (values, probe, prediction, messages) in zip(candidates, results, strict=True):
            messages = [*cand.notes, *messages]
            rows.append(CandidateScores(cand, values, probe, messages, prediction))
            for message in messages:
                notes.setdefault(message, None)
        return Scores(rows=rows, estimators=list(self.estimators), warnings=list(notes))
