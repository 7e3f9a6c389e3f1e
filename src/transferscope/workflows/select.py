"""A budgeted model choice (``transferscope select``): estimators on every candidate, probes on
the promising ones, successive halving until the budget is spent.

1. Every candidate is scored by the cheap estimators (through the score cache) and ordered by
   their mean rank.
2. Successive halving on the measured ground truth (the linear probe on the splits of
   :meth:`~transferscope.datasets.Dataset.repeated_splits`, 5 x 2-fold): round 1 probes the
   better half by the estimators (at least two) on two splits each; every next round keeps the
   better half by probe mean and adds two more splits to each survivor, until one candidate is
   left with all ten splits, or the budget is spent. Each split is one probe cell of a
   :class:`~transferscope.workflows.engine.scoring.Scorer` (``probe="linear"`` on that split), cached
   like ``rank --probe-protocol linear``, so a rerun or a larger budget continues where the last
   run stopped.
3. The pick is the survivor with the best probe mean. Its accuracy comes with a 95% interval
   (mean +- t * the corrected standard error of :func:`~transferscope.probes.corrected_standard_error`,
   an accuracy's clipped to [0, 1]),
   and ``p_other_better`` is the largest probability, over the other probed candidates, that
   their mean on the splits both were measured on exceeds the pick's (Student's t on the paired
   differences with the corrected standard error; 0.5 when they share a single split). The cost is counted in probe fits (one split of one candidate) and seconds,
   against probing every candidate on every split.
4. Optionally (``finetune=K``) the models of the K best probed candidates (distinct models, best
   first) are fine-tuned on the first split (:func:`~transferscope.workflows.engine.finetuning.finetune_transfer`:
   train, validation for the learning rate, test), within what a time budget leaves; their test
   scores fill the table's ``finetune_score`` column, beside the probe's score on the
   same split (``probe_split1``). Fixed extractors (no weights) are skipped, and the pick stays the probe's: the
   fine-tuned scores are one split each, with no interval.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.extraction.encoder import Encoder
from transferscope.metrics import get_metric
from transferscope.workflows.engine.candidates import ExtractionOptions, extract_candidates, feature_candidates
from transferscope.workflows.engine.score_cache import ScoreCache
from transferscope.workflows.engine.scoring import Scorer, check_probe_classes
from transferscope.workflows.storage.results import Result

__all__ = ["Budget", "Selection", "select", "parse_budget", "DEFAULT_SELECT_METRICS"]

DEFAULT_SELECT_METRICS = ("logme", "knn")
_SPLITS_PER_ROUND = 2
_REPEATS = 5
_FOLDS = 2


@dataclass(frozen=True)
class Budget:
    """A limit on the probing: ``fits`` (probe fits, one split of one candidate) and/or ``seconds``."""

    fits: int | None = None
    seconds: float | None = None

    def allows(self, fits_done: int, more: int, elapsed: float, per_fit: float) -> bool:
        """Whether ``more`` fits still fit in the budget (seconds: at the mean cost per fit so far)."""
        if self.fits is not None and fits_done + more > self.fits:
            return False
        return self.seconds is None or elapsed + more * per_fit <= self.seconds


def parse_budget(text: str | int | None, *, name: str = "budget") -> Budget:
    """``"10m"``, ``"90s"``, ``"1h"`` (time) or ``"40"`` / ``40`` (probe fits); None: no limit.

    Examples
    --------
    >>> parse_budget("10m"), parse_budget(40)
    (Budget(fits=None, seconds=600.0), Budget(fits=40, seconds=None))
    """
    if text is None:
        return Budget()
    if isinstance(text, bool):
        raise InputError(f"{name} must be a duration such as 10m or a number of probe fits, got {text!r}")
    if isinstance(text, (int, np.integer)):
        if text < 1:
            raise InputError(f"{name} must be at least 1 probe fit, got {text}")
        return Budget(fits=int(text))
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|fits?)?\s*", str(text).lower())
    if match is None:
        raise InputError(f"{name} must be a duration such as 90s, 10m or 1h, or a number of probe fits, got {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    if unit in (None, "fit", "fits"):
        if value < 1 or value != int(value):
            raise InputError(f"{name} must be a whole number of probe fits >= 1, got {text!r}")
        return Budget(fits=int(value))
    seconds = value * {"s": 1, "m": 60, "h": 3600}[unit]
    if seconds <= 0:
        raise InputError(f"{name} must be positive, got {text!r}")
    return Budget(seconds=seconds)


@dataclass(frozen=True)
class Selection(Result):
    """Result of :func:`select`.

    Attributes
    ----------
    pick : str
        The chosen candidate.
    accuracy, low, high : float
        Its probe mean (accuracy, or R^2 for regression) and 95% interval.
    p_other_better : float
        The largest probability, over the other probed candidates, that one of them is better
        (Student's t on the paired split differences; 0.5 for a candidate that shares one split).
    table : pandas.DataFrame
        Every candidate: estimator scores, ``estimator_rank``, ``probe_mean``, ``probe_se``,
        ``splits`` (probed splits), ``eliminated_in`` (round; 0: never probed).
    fits, exhaustive_fits : int
        Probe fits spent, and those probing every candidate on every split would cost.
    seconds : float
        Wall time of the probing.
    stopped_by_budget : bool
        Whether the budget ended the search before one candidate had every split.
    finetuned : dict
        Candidate name -> fine-tuned test score on the first split (``finetune=K``; empty otherwise).
    """

    kind = "selection"
    title = "Selection"

    pick: str
    metric: str
    accuracy: float
    low: float
    high: float
    p_other_better: float
    table: pd.DataFrame
    fits: int
    exhaustive_fits: int
    seconds: float
    stopped_by_budget: bool
    log: list[str] = field(default_factory=list)
    finetuned: dict[str, float] = field(default_factory=dict)

    @property
    def cost_share(self) -> float:
        """Probe fits spent as a share of exhaustive probing."""
        return self.fits / self.exhaustive_fits

    @property
    def finetune_pick(self) -> str | None:
        """The fine-tuned candidate with the best test score (None without fine-tuning)."""
        return max(self.finetuned, key=self.finetuned.__getitem__) if self.finetuned else None

    def answer(self, names: Mapping[str, str] | None = None) -> list[str]:
        """What a user acts on, in plain words: the pick with its measured score and interval (or
        that it was not measured), the cost, and the fine-tuned result; the one text the terminal,
        the notebook and the report show. ``names`` shortens candidate names (full specs by default).

        Examples
        --------
        >>> choice = Selection("a", "accuracy", 0.81, 0.78, 0.84, 0.12, pd.DataFrame(), 12, 40, 1.5, False)
        >>> choice.answer()[:2]
        ['Pick: a', '  accuracy 0.8100 (95% interval 0.7800 to 0.8400); probability that another probed candidate is better: 0.12']
        """
        name = (lambda c: (names or {}).get(c, c))  # noqa: E731
        lines = [f"Pick: {name(self.pick)}"]
        if self.fits == 0:
            lines.append("  not measured: the budget covers no probe fit of the first round, so this is the "
                         "estimators' first choice; give a larger --budget")
        elif not np.isfinite(self.low):  # one split: no spread to take an interval or a comparison from
            lines.append(f"  {self.metric} {self.accuracy:.4f} on one split: no interval, and nothing to tell it from "
                         "the other probed candidates; give a larger --budget")
        else:
            lines.append(f"  {self.metric} {self.accuracy:.4f} (95% interval {self.low:.4f} to {self.high:.4f}); "
                         f"probability that another probed candidate is better: {self.p_other_better:.2f}")
        lines.append(f"  cost: {self.fits} probe fits of {self.exhaustive_fits} for probing every candidate on "
                     f"every split ({100 * self.cost_share:.0f}%), {self.seconds:.1f} s"
                     + ("; stopped by the budget" if self.stopped_by_budget else ""))
        if self.finetune_pick is not None:
            tuned = str(self.table.set_index("candidate").loc[self.finetune_pick, "model"])
            lines.append(f"  fine-tuned: the whole model {name(tuned)} reaches "
                         f"{self.finetuned[self.finetune_pick]:.4f} on split 1 (one split, no interval; "
                         f"fine-tuned {len(self.finetuned)} model(s), best probed candidate "
                         f"{name(self.finetune_pick)})")
        return lines

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def views(self, names: Mapping[str, str] | None = None) -> list[tuple[str, pd.DataFrame]]:
        """The compact table a terminal shows, a short line per candidate (every column is in
        :meth:`to_frame`): short names, the estimators, the probe as ``mean ± standard error`` over
        its splits, and the status (``not probed``: left out by the estimators)."""
        from transferscope.workflows.storage.results import se_text

        name = (lambda c: (names or {}).get(c, c))  # noqa: E731
        t = self.table
        shown = t.drop(columns=[c for c in ("model", "layer", "pooling", "estimator_rank", "probe_mean", "probe_se",
                                            "eliminated_in") if c in t])
        shown = shown.assign(candidate=[name(c) for c in t["candidate"]],
                             probe=[se_text(m, se, digits=3) for m, se in zip(t["probe_mean"], t["probe_se"],
                                                                               strict=True)])
        shown = shown[[c for c in shown.columns if c not in ("splits", "status")] + ["splits", "status"]]
        shown["status"] = shown["status"].replace({"left out by the estimators": "not probed"})
        return [("Candidates, probed ones first", shown)]



def select(
    *,
    dataset: Dataset | None = None,
    models: Sequence[str | Encoder] = (),
    features: Mapping[str, Any] | None = None,
    labels: Any = None,
    task: str | None = None,
    layers: str | Sequence[str | int] = "all",
    poolings: str | Sequence[str] = ("mean",),
    metrics: Sequence[str] = DEFAULT_SELECT_METRICS,
    budget: str | int | Budget | None = None,
    seed: int = 0,
    extraction: ExtractionOptions | None = None,
    n_jobs: int | None = None,
    finetune: int = 0,
    finetune_options: dict[str, Any] | None = None,
    prior: str | Sequence[str] | None = None,
) -> Selection:
    """Choose a representation for ``dataset`` within a probing budget (see the module notes).

    Parameters
    ----------
    dataset : Dataset, optional
    models : sequence of str or Encoder
    features : mapping of str to array, optional
        Instead of ``dataset`` and ``models``: precomputed embeddings (candidate name -> samples x
        dimensions), as for :func:`transferscope.rank`, with their ``labels`` (and ``task``,
        inferred from the labels when omitted). Nothing is extracted or cached, and nothing can
        be fine-tuned.
    labels : array-like, optional
    task : str, optional
    layers, poolings
        As for :func:`transferscope.rank`.
    metrics : sequence of str
        The cheap estimators that order the candidates before any probe.
    budget : str, int or Budget, optional
        ``"10m"`` / ``"90s"`` or a number of probe fits; no limit when omitted (the search then
        ends with one candidate probed on all ten splits).
    seed, extraction, n_jobs
        As for :func:`transferscope.rank`.
    finetune : int, default=0
        Fine-tune the models of this many of the best probed candidates (module notes, step 4).
    finetune_options : dict, optional
        Options of the fine-tuning (``epochs``, ``lr``, ...; see
        :func:`~transferscope.workflows.engine.finetuning.finetune_transfer`).
    prior : str or sequence of str, optional
        As for :func:`transferscope.rank`: the candidates are ordered for probing by ``combined``
        (the priors and the estimators) instead of the estimators alone; the table gains the
        ``prior:<name>`` and ``combined`` columns and the log says how far the estimates moved the
        prior's order.

    Examples
    --------
    >>> from transferscope.datasets import load_builtin
    >>> choice = select(dataset=load_builtin("sentence-polarity"), models=["tfidf", "hashing"],
    ...                 extraction=ExtractionOptions(use_cache=False), n_jobs=1)
    >>> choice.pick in ("tfidf-svd | tfidf-svd | none", "hashing-svd | hashing-svd | none"), choice.fits <= 20
    (True, True)
    """
    dataset = _target(dataset, models, features, labels, task, finetune)
    limit = budget if isinstance(budget, Budget) else parse_budget(budget)
    from transferscope.workflows.priors import check_priors

    priors = check_priors(prior)
    extraction = extraction or ExtractionOptions()
    cache = ScoreCache(extraction.cache_dir) if extraction.use_cache and features is None else None
    scorer = Scorer(list(metrics), task=dataset.task, cache=cache, n_jobs=n_jobs, progress=extraction.progress)
    if not scorer.estimators:
        raise InputError("metrics must name at least one estimator")
    check_probe_classes(dataset)
    splits = dataset.repeated_splits(repeats=_REPEATS, folds=_FOLDS, seed=seed)
    candidates = (feature_candidates(features, n_samples=len(dataset)) if features is not None else
                  extract_candidates(dataset, models, layers=layers, poolings=poolings, seed=seed, extraction=extraction))
    if len(candidates) < 2:
        raise InputError("select needs at least two candidates (feature arrays, or models x layers x poolings)")
    scores = scorer.score(candidates, dataset.labels).to_frame()
    log: list[str] = []
    order = _probe_order(scores, scorer.estimators, priors, dataset.name, log)
    start = time.perf_counter()
    measured, status, alive, fits, stopped = _halve(candidates, order, splits, dataset, limit=limit, cache=cache,
                                                    n_jobs=n_jobs, start=start, log=log)
    metric = "accuracy" if dataset.task == "classification" else "r2"
    probed = [i for i in alive if i in measured]
    if probed:
        pick = max(probed, key=lambda i: (float(np.mean(measured[i])), -order.index(i)))
        mean, low, high = _interval(measured[pick], splits)
        if metric == "accuracy" and np.isfinite(low):  # an accuracy's interval stays within [0, 1]
            low, high = max(0.0, low), min(1.0, high)
    else:
        pick, (mean, low, high) = order[0], (float("nan"),) * 3
        log.append("no probe fit within the budget: the pick is the estimators' first")
    for i in alive:
        status.setdefault(i, "finalist")
    status[pick] = "pick"
    finetuned = _finetune_best(int(finetune), candidates, measured, order, models, dataset, splits[0], seed=seed,
                               options=finetune_options, extraction=extraction, cache=cache, limit=limit,
                               elapsed=time.perf_counter() - start, log=log) if finetune else {}
    tuned = {candidates[i].name: v for i, v in finetuned.items()}
    table = _selection_table(scores, order, measured, status, splits)
    if finetune:
        first = {candidates[i].name: values[0] for i, values in measured.items() if values}
        table["probe_split1"] = [first.get(c, float("nan")) for c in table["candidate"]]
        table["finetune_score"] = [tuned.get(c, float("nan")) for c in table["candidate"]]
    return Selection(pick=candidates[pick].name, metric=metric, accuracy=mean, low=low, high=high,
                     p_other_better=_p_other_better(pick, measured, splits) if probed else float("nan"), table=table,
                     fits=fits, exhaustive_fits=len(candidates) * len(splits), seconds=time.perf_counter() - start,
                     stopped_by_budget=stopped, log=log, finetuned=tuned)


def _target(dataset: Dataset | None, models: Sequence[Any], features: Mapping[str, Any] | None, labels: Any,
            task: str | None, finetune: Any) -> Dataset:
    """The labelled target of :func:`select`: ``dataset`` (with ``models``) or the labels of
    ``features``, each way checked against the other's options."""
    if features is not None:
        if dataset is not None or models:
            raise InputError("give either features + labels, or dataset + models, not both")
        if labels is None:
            raise InputError("labels are required with features")
        if finetune:
            raise InputError("finetune needs models to fine-tune; precomputed features have none")
        dataset = Dataset.of_features(labels, task=task)
    elif dataset is None or not models:
        raise InputError("give a dataset and at least one model, or features and labels")
    elif labels is not None or task is not None:
        raise InputError("labels and task go with features; a dataset brings its own")
    if dataset.task not in ("classification", "regression"):
        raise InputError(f"select supports classification and regression datasets, got {dataset.task}")
    if isinstance(finetune, bool) or not isinstance(finetune, (int, np.integer)) or finetune < 0:
        raise InputError(f"finetune must be a number of models >= 0, got {finetune!r}")
    return dataset


def _probe_order(scores: pd.DataFrame, estimators: Sequence[str], priors: Sequence[str], target: str,
                 log: list[str]) -> list[int]:
    """The candidates' positions in the order they are probed: by the estimators, or with
    ``priors`` by the priors and the estimators combined (whose columns ``scores`` gains)."""
    if not priors:
        return _estimator_order(scores, estimators)
    from transferscope.workflows.priors import apply_priors, resolve_prior

    combined = apply_priors(scores.assign(position=np.arange(len(scores))),
                            [resolve_prior(p, scores, target=target) for p in priors],
                            estimators=estimators, target=target)
    by_position = combined.set_index("position").sort_index()
    for column in [c for c in combined.columns if c.startswith("prior:")] + ["combined"]:
        scores[column] = by_position[column].to_numpy()
    log += [f"prior: {note}" for note in combined.attrs["prior_notes"]]
    return [int(i) for i in combined["position"]]


def _halve(candidates: Sequence[Any], order: list[int], splits: Sequence[Any], dataset: Dataset, *, limit: Budget,
           cache: ScoreCache | None, n_jobs: int | None, start: float, log: list[str],
           ) -> tuple[dict[int, list[float]], dict[int, str], list[int], int, bool]:
    """Successive halving (module notes, steps 2-3): the estimators' better half probed split by
    split, half of them kept per round, until one is left on every split or ``limit`` is spent.
    Returns the probe scores per candidate, each one's status, the candidates still in, the
    number of probe fits and whether the budget stopped it."""
    measured: dict[int, list[float]] = {}
    status: dict[int, str] = {}
    alive = order[:max(2, math.ceil(len(order) / 2))]
    for i in order[len(alive):]:
        status[i] = "left out by the estimators"
    log.append(f"{len(candidates)} candidates; the estimators keep {len(alive)} for probing")
    fits, per_fit, rnd, stopped = 0, 0.0, 0, False
    while True:
        rnd += 1
        want = min(len(splits), _SPLITS_PER_ROUND * rnd)
        more = sum(max(0, want - len(measured.get(i, []))) for i in alive)
        if not limit.allows(fits, more, time.perf_counter() - start, per_fit):
            stopped = True
            log.append(f"round {rnd}: the budget does not cover {more} more probe fits; stopping")
            break
        new_fits, cut = 0, None
        for k in range(want):  # split by split: the candidates still missing split k, on one Scorer
            missing = [i for i in alive if len(measured.setdefault(i, [])) == k]
            if not missing:
                continue
            done, elapsed = fits + new_fits, time.perf_counter() - start
            if limit.seconds is not None and done and not limit.allows(done, len(missing), elapsed, elapsed / done):
                cut = k  # a time budget is checked split by split: the first round's cost is unknown before it
                break
            triple = (splits[k].train, splits[k].val, splits[k].test)
            probe = Scorer([], task=dataset.task, probe="linear", splits=triple, cache=cache, n_jobs=n_jobs)
            for i, row in zip(missing, probe.score([candidates[i] for i in missing], dataset.labels).rows):
                measured[i].append(float(row.probe.score))
            new_fits += len(missing)
        if new_fits:
            fits += new_fits
            per_fit = (time.perf_counter() - start) / fits
        if cut is not None:
            stopped = True
            log.append(f"round {rnd}: the time budget ends after {cut} of {want} split(s); stopping with "
                       f"{len(alive)} candidate(s) on {cut} split(s)")
            break
        ranked = sorted(alive, key=lambda i: (-float(np.mean(measured[i])), order.index(i)))
        log.append(f"round {rnd}: {len(alive)} candidate(s) on {want} split(s); best so far "
                   f"{candidates[ranked[0]].name} ({float(np.mean(measured[ranked[0]])):.4f})")
        keep = ranked[:1] if want == len(splits) else ranked[:max(1, math.ceil(len(alive) / 2))]
        for i in alive:
            if i not in keep:
                status[i] = f"out in round {rnd}"
        alive = keep
        if want == len(splits):
            break
    return measured, status, alive, fits, stopped


def _finetune_best(count: int, candidates: Sequence[Any], measured: dict[int, list[float]], order: list[int],
                   models: Sequence[str | Encoder], dataset: Dataset, split: Any, *, seed: int,
                   options: dict[str, Any] | None, extraction: ExtractionOptions, cache: ScoreCache | None,
                   limit: Budget, elapsed: float, log: list[str]) -> dict[int, float]:
    """Fine-tune the models of the ``count`` best probed candidates (distinct models) on ``split``."""
    from transferscope.workflows.engine.finetuning import can_finetune, finetune_transfer

    by_spec = {m if isinstance(m, str) else m.name: m for m in models}
    ranked = sorted(measured, key=lambda i: (-float(np.mean(measured[i])), order.index(i)))
    chosen: dict[str, int] = {}
    for i in ranked:
        chosen.setdefault(candidates[i].spec, i)
    out: dict[int, float] = {}
    last = 0.0
    for spec, i in chosen.items():
        if len(out) == count:
            break
        model = by_spec.get(spec, spec)
        encoder = extraction.encoder(model, seed=seed) if isinstance(model, str) else model
        if not can_finetune(encoder):
            log.append(f"fine-tuning: {candidates[i].name} is a fixed extractor (no weights); skipped")
            continue
        if limit.seconds is not None and elapsed + last > limit.seconds:
            log.append(f"fine-tuning: the time budget is spent; {candidates[i].name} not fine-tuned")
            break
        began = time.perf_counter()
        result = finetune_transfer(encoder, dataset, split, seed=seed,
                                   options=options, cache=cache, progress=extraction.progress)
        last = time.perf_counter() - began
        elapsed += last
        out[i] = float(result["value"])
        log.append(f"fine-tuning: {candidates[i].name} reaches {out[i]:.4f} on split 1 ({last:.1f} s; "
                   f"its probe there: {measured[i][0]:.4f})")
    return out


def _estimator_order(scores: pd.DataFrame, estimators: list[str]) -> list[int]:
    """Candidate indices by their mean rank over the estimators (best first; NaN ranks last)."""
    ranks = []
    for name in estimators:
        values = scores[name].to_numpy(dtype=float)
        if not get_metric(name).higher_is_better:
            values = -values
        ranks.append(pd.Series(values).rank(ascending=False, na_option="bottom").to_numpy())
    mean_rank = np.mean(ranks, axis=0)
    return [int(i) for i in np.argsort(mean_rank, kind="stable")]


def _standard_error(values: list[float], splits: Sequence[Any]) -> float:
    from transferscope.probes.repeated import corrected_standard_error

    used = splits[:len(values)]
    return corrected_standard_error(values, n_train=int(np.mean([len(s.train) + len(s.val) for s in used])),
                                    n_test=int(np.mean([len(s.test) for s in used])))


def _interval(values: list[float], splits: Sequence[Any]) -> tuple[float, float, float]:
    """The mean of ``values`` and its 95% t interval on the corrected standard error."""
    from scipy import stats

    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, len(values) - 1)) * _standard_error(values, splits)
    return mean, mean - half, mean + half


def _p_other_better(pick: int, measured: dict[int, list[float]], splits: Sequence[Any]) -> float:
    """The largest probability, over the other probed candidates, that their mean on the splits both
    were measured on exceeds the pick's: Student's t on the paired differences with the corrected
    standard error (the splits share training samples), ``n - 1`` degrees of freedom. One shared
    split tells nothing: 0.5. (A bootstrap of two differences of one sign would say 0, whatever
    their size.)"""
    from scipy import stats

    worst = 0.0
    for other, values in measured.items():
        if other == pick:
            continue
        n = min(len(values), len(measured[pick]))
        diff = np.asarray(values[:n], dtype=float) - np.asarray(measured[pick][:n], dtype=float)
        if n < 2:
            worst = max(worst, 0.5)
            continue
        mean, se = float(diff.mean()), _standard_error(diff.tolist(), splits)
        if not se > 0:
            p = 1.0 if mean > 0 else (0.5 if mean == 0 else 0.0)
        else:
            p = float(stats.t.cdf(mean / se, df=n - 1))
        worst = max(worst, p)
    return worst


def _selection_table(scores: pd.DataFrame, order: list[int], measured: dict[int, list[float]],
                     status: dict[int, str], splits: Sequence[Any]) -> pd.DataFrame:
    n = len(scores)
    table = scores.copy()
    table.insert(1, "estimator_rank", [order.index(i) + 1 for i in range(n)])
    table["probe_mean"] = [float(np.mean(measured[i])) if measured.get(i) else float("nan") for i in range(n)]
    table["probe_se"] = [_standard_error(measured[i], splits) if len(measured.get(i, [])) > 1 else float("nan")
                         for i in range(n)]
    table["splits"] = [len(measured.get(i, [])) for i in range(n)]
    table["status"] = [status.get(i, "not probed") for i in range(n)]
    return table.sort_values(["splits", "probe_mean", "estimator_rank"], ascending=[False, False, True],
                             kind="stable").reset_index(drop=True)
