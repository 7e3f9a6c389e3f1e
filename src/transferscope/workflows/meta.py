"""Meta-evaluation of any table (``transferscope meta``, :func:`meta_evaluate`).

A *meta table* is tidy: one row per ``target``, ``candidate``, ``metric`` and ``value``. One metric
is the measured transfer (``truth``); the others are scores that rank the candidates of a target:
transferability *estimators* (they look at the target) and *priors* (they do not: a model's
parameter count, its record elsewhere). Every method is scored per target against the truth by
weighted Kendall tau (hyperbolic weights, :func:`scipy.stats.weightedtau`), Kendall tau,
regret@1 (the truth lost by taking the method's first pick, in the truth's units) and top-1 hit,
each with a 95% percentile bootstrap interval; ``mean`` averages the targets.

Methods, named by what they are:

* each estimator by its metric name (higher is better for names the registry does not know,
  unless declared lower-is-better);
* ``prior:<name>`` for each prior in the table, and two computed here (:func:`history_scores`),
  never from the target itself: ``prior:history``, each candidate's mean measured transfer on the
  *other* targets (its mean accuracy elsewhere), and ``prior:history_rank``, its mean rank there
  (rank-scaled to [0, 1] within each target first, so that targets of any metric or scale weigh
  alike);
* ``combined``: one answer from the priors and the estimators, fitted only on the other targets
  (leave-one-target-out; leave-one-suite-out with ``by_suite``): non-negative weights of every
  method's rank learned by :data:`COMBINER` (``rank-weights``, the ridge of
  :func:`~transferscope.metrics.combination.fit_combination`, ``alpha`` 1) on the other targets,
  whose own history prior is recomputed without the held-out target (its whole suite with
  ``by_suite``), so its truth enters nothing that scores it. ``rank-weights`` was chosen before any evaluation target was looked at, as the
  simplest learned combination that can ignore a useless input (weight 0). The other learners
  (a top-weighted pairwise learning-to-rank and a Gaussian update) and a per-target choice among
  them by nested leave-one-target-out (:func:`choose_combination`) are shown beside it with
  ``all_combiners`` (``combined:pairwise``, ``combined:bayes``, ``combined:chosen``): the evidence
  for keeping one, not a second answer.

**Intervals.** Per target, the candidates are resampled with replacement (the same resamples for
every method, so differences are paired); for ``mean``, the targets are resampled too. ``gain`` is
each method's mean weighted tau minus that of the best prior (the prior with the highest mean,
chosen in hindsight, which favours the prior), with the paired interval of the difference.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transferscope.errors import InputError
from transferscope.workflows.storage.results import Result

__all__ = ["MetaEvaluation", "meta_evaluate", "load_meta_table", "published_meta_table", "history_scores",
           "neutral_fill", "metric_orientation", "store_meta_table", "read_meta_table", "choose_combination", "Combination", "MAX_VALIDATION_BLOCKS", "TRUTH_METRICS", "PUBLISHED_META_TABLES", "MEASURES", "HISTORY_PRIOR", "HISTORY_RANK_PRIOR", "COMBINED", "COMBINER"]

MEASURES = ("weighted_kendall", "kendall", "regret@1", "top1")
HISTORY_PRIOR = "prior:history"
HISTORY_RANK_PRIOR = "prior:history_rank"
COMBINED = "combined"
PRIOR_PREFIX = "prior:"
_ALPHA = 1.0
#: The learner behind ``combined``: chosen before any evaluation target was looked at (module notes).
COMBINER = "rank-weights"
_COLUMNS = ("target", "candidate", "metric", "value")


def _imagenet_top1_rows(targets: Sequence[str], models: Sequence[str]) -> list[dict[str, Any]]:
    """``prior:imagenet`` rows: the published ImageNet-1k top-1 of each torchvision model (named by
    its builder, as the published tables name them), a fact that never looks at the target."""
    from transferscope.workflows.published.literature import IMAGENET_11X11_MODELS, read_published

    top1 = {r["model"]: float(r["value"]) for r in read_published("model_facts.csv") if r["fact"] == "imagenet"}
    spec = {builder: f"torchvision:{b}:{weights.split('.', 1)[1]}" for builder, (b, weights) in IMAGENET_11X11_MODELS.items()}
    return [{"target": t, "candidate": m, "metric": "prior:imagenet", "value": top1[spec[m]]}
            for t in targets for m in models if m in spec and spec[m] in top1]


def _tllib_10x8() -> pd.DataFrame:
    from transferscope.workflows.published.literature import read_published

    rows = []
    for row in read_published("tllib_model_scores.csv"):
        for column, metric in (("finetune_accuracy", "truth"), ("logme", "logme"), ("hscore", "hscore"),
                               ("leep", "leep"), ("nce", "nce")):
            rows.append({"target": row["target"], "candidate": row["model"], "metric": metric,
                         "value": float(row[column])})
    truths = pd.DataFrame(rows)
    return pd.DataFrame(rows + _imagenet_top1_rows(list(dict.fromkeys(truths["target"])),
                                                   list(dict.fromkeys(truths["candidate"]))))


def _sfda_11x11() -> pd.DataFrame:
    from transferscope.workflows.published.literature import read_published

    rows = [{"target": row["target"], "candidate": row["model"], "metric": "truth",
             "value": float(row["finetune_accuracy"])} for row in read_published("sfda_finetune_accuracy.csv")]
    targets = list(dict.fromkeys(r["target"] for r in rows))
    return pd.DataFrame(rows + _imagenet_top1_rows(targets, list(dict.fromkeys(r["candidate"] for r in rows))))


#: Published tables by name: ``published:NAME`` -> (description, loader).
PUBLISHED_META_TABLES: dict[str, tuple[str, Callable[[], pd.DataFrame]]] = {
    "published:tllib-10x8": ("Transfer-Learning-Library's model-selection benchmark: 10 ImageNet models x 8 "
                             "targets, fine-tuned accuracy and the published LogME, H-score, LEEP and NCE "
                             "(thuml/Transfer-Learning-Library, examples/model_selection), and prior:imagenet, "
                             "each model's published ImageNet-1k top-1 (torchvision)", _tllib_10x8),
    "published:sfda-11x11": ("SFDA / ETran ground truth: fine-tuned accuracy of 11 ImageNet models on 11 targets "
                             "(TencentARC/SFDA tw_group1.py), and prior:imagenet (torchvision's ImageNet-1k "
                             "top-1); no per-model estimator scores are published",
                             _sfda_11x11),
}


def published_meta_table(name: str) -> pd.DataFrame:
    """A published table of :data:`PUBLISHED_META_TABLES` as a meta table (truth metric ``truth``).

    Examples
    --------
    >>> frame = published_meta_table("published:tllib-10x8")
    >>> frame["target"].nunique(), frame["candidate"].nunique(), sorted(frame["metric"].unique())
    (8, 10, ['hscore', 'leep', 'logme', 'nce', 'prior:imagenet', 'truth'])
    """
    if name not in PUBLISHED_META_TABLES:
        raise InputError(f"table must be a file or one of {', '.join(PUBLISHED_META_TABLES)}, got {name!r}")
    return PUBLISHED_META_TABLES[name][1]()


#: The probe metric that is a target's truth, the first one measured: fine-tuning, the probe's
#: accuracy, its R^2, a word-similarity set's Spearman correlation.
TRUTH_METRICS = ("finetune_accuracy", "accuracy", "r2", "spearman")


def _store_table(path: Path, suite: str | None) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The estimator and truth rows of a results store as a meta table, with the truth's per-split
    values (:func:`store_meta_table`), read without writing."""
    from transferscope.workflows.storage.store import read_store

    rows = read_store(path, kinds=("estimator", "probe"))
    if suite is not None:
        if suite not in set(rows["suite"]):
            raise InputError(f"--suite {suite!r} is not in '{path}'; it holds {', '.join(sorted(set(rows['suite'])))}")
        rows = rows[rows["suite"] == suite]
    if rows.empty:
        raise InputError(f"table '{path}' holds no estimator or probe rows")
    frame, splits, _ = store_meta_table(rows)
    if frame.empty:
        raise InputError(f"table '{path}' holds no target with a measured truth")
    return frame, splits


def store_meta_table(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, str]]:
    """Results-store rows (``suite, target, candidate, kind, metric, value, seed, settings``) as a
    meta table: per target, its estimator rows and, as ``truth``, its probe rows of the first
    metric of :data:`TRUTH_METRICS` measured (fine-tuning accuracy, else the probe's accuracy, else
    R^2, else a similarity set's Spearman), averaged over seeds; targets are named ``suite/target``
    when the rows hold several suites. Returns the table, the truth's per-split values of the
    targets measured on repeated splits with one seed (for ``meta_evaluate(truth_splits=...)``),
    and each target's truth metric. Candidates without a finite truth are left out.
    """
    several = rows["suite"].nunique() > 1
    frames, splits, metrics = [], {}, {}
    for (name, target), part in rows.groupby(["suite", "target"], sort=False):
        probe = part[part["kind"] == "probe"]
        truth_metric = next((m for m in TRUTH_METRICS if m in set(probe["metric"])), None)
        if truth_metric is None:
            continue
        label = f"{name}/{target}" if several else str(target)
        measured = probe[probe["metric"] == truth_metric]
        measured = measured[~measured.duplicated(["candidate", "seed"], keep="last")]
        truth = measured.groupby("candidate", sort=False)["value"].mean()
        truth = truth[np.isfinite(truth.to_numpy(dtype=float))]
        if len(truth) < 2:
            continue
        per_split = _split_values(measured.set_index("candidate")["settings"]) if measured["seed"].nunique() == 1 \
            else None
        if per_split is not None:
            per_split = per_split.reindex(truth.index)
            if np.isfinite(per_split.to_numpy(dtype=float)).all():
                splits[label] = per_split
        metrics[label] = truth_metric
        frames.append(pd.DataFrame({"target": label, "candidate": truth.index, "metric": "truth",
                                    "value": truth.to_numpy()}))
        scores = part[(part["kind"] == "estimator") & part["candidate"].isin(truth.index)]
        scores = scores.groupby(["candidate", "metric"], sort=False)["value"].mean().reset_index()
        frames.append(scores.dropna(subset=["value"]).assign(target=label))
    if not frames:
        return pd.DataFrame(columns=list(_COLUMNS)), {}, {}
    return pd.concat(frames, ignore_index=True)[list(_COLUMNS)], splits, metrics


def _split_values(settings: pd.Series) -> pd.DataFrame | None:
    """Candidates x splits of the truth's per-split values (``split_scores`` in each row's
    settings), when every candidate has them for the same number (at least 2) of splits."""
    import json

    parsed = [json.loads(v) if isinstance(v, str) else v for v in settings]
    scores = [v.get("split_scores") if isinstance(v, dict) else None for v in parsed]
    if not scores or any(not isinstance(v, list) or len(v) != len(scores[0]) for v in scores) or len(scores[0]) < 2:
        return None
    return pd.DataFrame(np.asarray(scores, dtype=float), index=settings.index)


def load_meta_table(table: str | Path | pd.DataFrame, *, suite: str | None = None) -> pd.DataFrame:
    """A meta table from a DataFrame, a published name, a CSV / Parquet / JSONL file or a results store.

    A results store (``.duckdb``, opened read-only) gives each suite's estimator rows and, as
    ``truth``, its probe rows (fine-tuning accuracy where measured, else the probe's accuracy,
    else R^2), averaged over seeds; targets are named ``suite/target`` when the store holds
    several suites (``suite`` keeps one). :func:`read_meta_table` also gives the truth's splits.
    """
    return read_meta_table(table, suite=suite)[0]


def read_meta_table(table: str | Path | pd.DataFrame, *,
                    suite: str | None = None) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """:func:`load_meta_table`, and for a results store the truth's per-split values of the targets
    measured on repeated splits (``truth_splits`` of :func:`meta_evaluate`; empty otherwise)."""
    splits: dict[str, pd.DataFrame] = {}
    if isinstance(table, pd.DataFrame):
        frame = table
    elif isinstance(table, str) and table.startswith("published:"):
        frame = published_meta_table(table)
    else:
        path = Path(table).expanduser()
        if path.suffix.lower() == ".duckdb":
            if not path.is_file():
                raise InputError(f"table '{table}' does not exist")
            frame, splits = _store_table(path, suite)
        else:
            from transferscope.datasets.loaders import load_table

            frame = load_table(path, what="table")
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"table must have the columns {', '.join(_COLUMNS)}; it lacks {', '.join(missing)}")
    frame = frame[list(_COLUMNS)].copy()
    for column in ("target", "candidate", "metric"):
        frame[column] = frame[column].astype(str)
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = values.isna() & frame["value"].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"table row {row}: value {frame['value'].iloc[row]!r} is not a number")
    frame["value"] = values.astype(float)
    duplicated = frame.duplicated(["target", "candidate", "metric"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        r = frame.iloc[row]
        raise InputError(f"table row {row}: target {r['target']!r}, candidate {r['candidate']!r}, metric "
                         f"{r['metric']!r} appears twice")
    return frame, splits


def history_scores(truths: Mapping[str, pd.Series], candidates: Sequence[str], *,
                   exclude: Sequence[str] = (), ranks: bool = True) -> np.ndarray:
    """The history prior: each candidate's measured transfer on the targets of ``truths`` not in
    ``exclude``, averaged; NaN for a candidate measured on none of them. With ``ranks`` each
    target's values are first rank-scaled to [0, 1] among the candidates measured on it (targets
    of any metric or scale weigh alike); without, the values are averaged as they are (the mean
    accuracy elsewhere: meaningful when every target has the same metric).

    Examples
    --------
    >>> truths = {"a": pd.Series({"x": 0.9, "y": 0.5, "z": 0.1}), "b": pd.Series({"x": 0.2, "y": 0.8})}
    >>> history_scores(truths, ["x", "y", "z", "w"], exclude=["c"]).tolist()
    [0.5, 0.75, 0.0, nan]
    >>> history_scores(truths, ["x", "y", "z", "w"], ranks=False).round(2).tolist()
    [0.55, 0.65, 0.1, nan]
    """
    return _History(truths).scores(candidates, exclude, ranks=ranks)


@dataclass
class MetaEvaluation(Result):
    """Result of :func:`meta_evaluate`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per target (and ``mean``) x method: ``kind`` (estimator, prior or combined),
        ``candidates`` (and, on ``mean`` rows, ``targets``: where the method is defined; a mean
        over fewer targets is not comparable), and for each measure of :data:`MEASURES` its value, ``_low`` and ``_high``.
    gains : pandas.DataFrame
        One row per method: ``gain`` (mean weighted tau minus the best prior's, paired on the
        ``targets`` where both are defined), ``gain_low``, ``gain_high``, and ``best_prior`` (the
        best of the priors defined on the most targets).
    weights : pandas.DataFrame
        Per held-out target: the number of targets ``combined`` was fitted on, its weights (one
        column per input method) and, with ``all_combiners``, the learner ``combined:chosen``
        took and each learner's validation score (``validation:<learner>``).
    """

    kind = "meta"
    title = "Meta-evaluation"

    table: pd.DataFrame
    gains: pd.DataFrame
    weights: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self, measure: str = "weighted_kendall") -> pd.DataFrame:
        """``value [low, high]`` of ``measure`` per method (rows) and target (columns), ``mean``
        last, with the gain over the best prior."""
        t = self.table
        cells = t.assign(cell=[f"{v:.3f} [{lo:.2f}, {hi:.2f}]" if np.isfinite(v) else "" for v, lo, hi in
                               zip(t[measure], t[f"{measure}_low"], t[f"{measure}_high"])])
        wide = cells.pivot_table(index="method", columns="target", values="cell", aggfunc="first")
        order = [c for c in wide.columns if c != "mean"] + ["mean"]
        wide = wide[order]
        means = t[t["target"] == "mean"].set_index("method")[measure]
        wide = wide.loc[means.sort_values(ascending=measure == "regret@1", kind="stable").index]
        gains = self.gains.set_index("method")
        wide["gain over best prior"] = [
            f"{gains.loc[m, 'gain']:+.3f} [{gains.loc[m, 'gain_low']:+.2f}, {gains.loc[m, 'gain_high']:+.2f}]"
            if m in gains.index and np.isfinite(gains.loc[m, "gain"]) else "" for m in wide.index]
        return wide.reset_index()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self) -> str:
        from transferscope.workflows.storage.results import html_view

        return html_view("Meta-evaluation (weighted tau [95% interval])", self.answer(), self.summary())

    def answer(self) -> list[str]:
        """One line: the best method on average, and whether anything beats the best prior."""
        return [self._answer_line()]

    def _answer_line(self) -> str:
        means = self.table[self.table["target"] == "mean"].set_index("method")
        everywhere = means[means["targets"] == means["targets"].max()]  # a mean over fewer targets is not comparable
        best = everywhere["weighted_kendall"].idxmax()
        line = (f"Best on average over all {int(everywhere['targets'].max())} targets: {best} (mean weighted tau "
                f"{means.loc[best, 'weighted_kendall']:.3f} [{means.loc[best, 'weighted_kendall_low']:.2f}, "
                f"{means.loc[best, 'weighted_kendall_high']:.2f}])")
        partial = means[(means["targets"] < means["targets"].max())
                        & (means["weighted_kendall"] > means.loc[best, "weighted_kendall"])]
        if len(partial):
            line += ("; higher but on fewer targets: " + ", ".join(
                f"{m} ({int(r['targets'])} targets, {r['weighted_kendall']:.3f})" for m, r in partial.iterrows()))
        if self.gains.empty:
            return line + "; no prior to compare with"
        prior = str(self.gains["best_prior"].iloc[0])
        beating = self.gains[(self.gains["gain_low"] > 0) & (self.gains["method"] != prior)]
        if beating.empty:
            return line + f"; no method beats the best prior ({prior}) beyond its interval"
        everywhere_targets = int(self.gains["targets"].max())
        named = [m if t == everywhere_targets else f"{m} (on its {t} targets)"
                 for m, t in zip(beating["method"], beating["targets"])]
        return line + f"; beyond the interval, {', '.join(named)} beat the best prior ({prior})"


@dataclass
class Combination:
    """The combination :func:`choose_combination` keeps: its learner (``method``), its weights
    fitted on every training block, each learner's validation score (mean weighted tau over the
    held-out blocks) and each learner's weights (``fitted``)."""

    method: str
    weights: np.ndarray
    validation: dict[str, float]
    fitted: dict[str, np.ndarray]


#: Held-out blocks behind a choice of learner: every block up to this many, else a seeded sample.
MAX_VALIDATION_BLOCKS = 12


def choose_combination(blocks: Sequence[tuple[np.ndarray, np.ndarray]], *, higher_is_better: Sequence[bool],
                       alpha: float = 1.0, seed: int = 0) -> Combination:
    """Choose a learner of :data:`~transferscope.metrics.combination.COMBINERS` on ``blocks`` alone
    and fit it on all of them.

    Each learner is scored by leave-one-block-out: fitted on the other blocks, the weighted Kendall
    tau of its combined ranking on the held-out block, averaged (over every block, or over a seeded
    sample of :data:`MAX_VALIDATION_BLOCKS`, which bounds the cost on large tables). The best mean
    wins; ties go to the earlier learner (``rank-weights`` first, the simplest). Nothing outside
    ``blocks`` is looked at, so a target scored with the result must not be among them.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truths = [rng.normal(size=8) for _ in range(4)]
    >>> blocks = [(np.column_stack([t + 0.1 * rng.normal(size=8), rng.normal(size=8)]), t) for t in truths]
    >>> choice = choose_combination(blocks, higher_is_better=[True, True])
    >>> choice.method, choice.weights.round(2).tolist()
    ('rank-weights', [1.0, 0.0])
    """
    from transferscope.metrics.combination import COMBINERS, combination_statistics, fit_combination
    from transferscope.metrics.ranking import rank_correlation, rank_scale

    if len(blocks) < 2:
        raise InputError(f"choosing a combination needs at least 2 training blocks, got {len(blocks)}")
    stats = [combination_statistics(x, t, higher_is_better=higher_is_better) for x, t in blocks]
    total = stats[0]
    for block in stats[1:]:
        total = total + block
    held = np.arange(len(blocks))
    if len(held) > MAX_VALIDATION_BLOCKS:
        held = np.sort(np.random.default_rng(seed).choice(held, MAX_VALIDATION_BLOCKS, replace=False))
    validation = {}
    for method in COMBINERS:
        values = []
        for b in held:
            weights = fit_combination(total - stats[b], method=method, alpha=alpha)
            x, truth = blocks[b]
            combined = rank_scale(x, higher_is_better=higher_is_better) @ weights
            values.append(rank_correlation(combined, truth, method="weighted_kendall"))
        finite = [v for v in values if np.isfinite(v)]
        validation[method] = float(np.mean(finite)) if finite else float("nan")
    fitted = {method: fit_combination(total, method=method, alpha=alpha) for method in COMBINERS}
    best = max(COMBINERS, key=lambda m: (np.nan_to_num(validation[m], nan=-np.inf), -COMBINERS.index(m)))
    return Combination(method=best, weights=fitted[best], validation=validation, fitted=fitted)


def metric_orientation(metric: str, lower_is_better: Sequence[str] = ()) -> bool:
    """Whether higher is better for ``metric``: False when it is in ``lower_is_better``, else the
    registry's word where it knows the name, else True."""
    if metric in lower_is_better:
        return False
    from transferscope.metrics.registry import get_metric

    try:
        return bool(get_metric(metric).higher_is_better)  # an estimator, or a geometry measure (rankme, twonn)
    except InputError:
        return True


def meta_evaluate(frame: pd.DataFrame | str | Path, *, truth: str = "truth", priors: Sequence[str] = (),
                  lower_is_better: Sequence[str] = (), history: bool = True, combine: bool = True,
                  all_combiners: bool = False, by_suite: bool = False,
                  truth_splits: Mapping[str, pd.DataFrame] | None = None, n_boot: int = 1000,
                  seed: int = 0) -> MetaEvaluation:
    """Score every estimator, prior and their combination against the truth of each target (module notes).

    Parameters
    ----------
    frame : DataFrame, str or path
        A meta table (:func:`load_meta_table` reads files, stores and ``published:`` names).
    truth : str, default="truth"
        The metric holding the measured transfer (higher is better).
    priors : sequence of str
        Metrics of the table that are priors (they never looked at the target).
    lower_is_better : sequence of str
        Metrics where lower ranks a candidate higher (the registry knows its own metrics).
    history : bool, default=True
        Add ``prior:history`` (needs at least 2 targets).
    combine : bool, default=True
        Add ``combined`` (needs 2 methods and, for every target, another target to fit it on).
    all_combiners : bool, default=False
        Also add ``combined:<learner>`` for the other learners of
        :data:`~transferscope.metrics.combination.COMBINERS` (``combined`` is :data:`COMBINER`), and
        ``combined:chosen``: per target, the learner :func:`choose_combination` picks on that
        target's training targets alone (nested leave-one-target-out).
    by_suite : bool, default=False
        Targets are named ``suite/target``: fit the combination for a target on the other suites
        only (leave-one-suite-out).
    truth_splits : mapping of str to DataFrame, optional
        Per target, the truth measured on each of several splits (candidates x splits): its
        resamples then draw the splits too (the truth of a resample is the mean of its drawn
        splits), so that the intervals cover the truth's own noise (``truth_noise`` in the table);
        the value itself is against the truth. A results store given as ``frame`` brings its own.
    n_boot : int, default=1000
    seed : int, default=0

    Returns
    -------
    MetaEvaluation

    Examples
    --------
    >>> result = meta_evaluate("published:tllib-10x8", n_boot=100)
    >>> means = result.table[result.table["target"] == "mean"].set_index("method")
    >>> round(float(means.loc["prior:history", "weighted_kendall"]), 3)  # each model's mean accuracy elsewhere
    0.757
    """
    data, stored_splits = read_meta_table(frame)
    if truth_splits is None:
        truth_splits = stored_splits
    if not (isinstance(n_boot, int) and n_boot >= 10):
        raise InputError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    metrics = list(dict.fromkeys(data["metric"]))
    if truth not in metrics:
        raise InputError(f"truth: the table has no metric {truth!r}; it has {', '.join(metrics)}")
    unknown = [p for p in (*priors, *lower_is_better) if p not in metrics]
    if unknown:
        raise InputError(f"--prior / --lower-is-better name metrics the table lacks: {', '.join(unknown)} "
                         f"(it has {', '.join(metrics)})")
    if truth in priors:
        raise InputError(f"the truth {truth!r} cannot also be a prior")
    named = [m for m in metrics if m.startswith(PRIOR_PREFIX) and m != truth and m not in priors]
    priors = [*priors, *named]  # a metric named prior:<name> in the table is a prior by its name
    estimators = [m for m in metrics if m != truth and m not in priors]
    wide = {target: part.pivot_table(index="candidate", columns="metric", values="value", aggfunc="first")
            for target, part in data.groupby("target", sort=False)}
    truths = {t: w[truth].dropna() for t, w in wide.items() if truth in w.columns}
    targets = [t for t, v in truths.items() if len(v) >= 2]
    if not targets:
        raise InputError(f"no target has the truth {truth!r} for at least 2 candidates")
    names = {m: m for m in estimators} | {p: p if p.startswith(PRIOR_PREFIX) else PRIOR_PREFIX + p for p in priors}
    higher = {names[m]: metric_orientation(m, lower_is_better) for m in names}
    kinds = {names[m]: "estimator" for m in estimators} | {names[p]: "prior" for p in priors}
    with_history = history and len(targets) >= 2
    if with_history:
        for name in (HISTORY_PRIOR, HISTORY_RANK_PRIOR):
            higher[name], kinds[name] = True, "prior"
    inputs = list(higher)
    group = {t: t.split("/", 1)[0] for t in targets} if by_suite else {t: t for t in targets}
    with_combined = (combine and len(inputs) >= 2
                     and all(sum(group[o] != group[t] for o in targets) >= 1 for t in targets))
    if with_combined:
        higher[COMBINED], kinds[COMBINED] = True, "combined"

    scoring = _Inputs(truths, wide, targets, names, inputs, [higher[m] for m in inputs], with_history, group)
    per_target: dict[str, pd.DataFrame] = {}
    weight_rows = []
    for target in targets:
        scores = pd.DataFrame(scoring.scores_for(target, []), index=truths[target].index, columns=inputs)
        if with_combined:
            weight_rows.append(scoring.combine(target, scores, all_combiners=all_combiners, seed=seed))
        per_target[target] = scores
    methods = list(per_target[targets[0]].columns)
    for method in methods:
        if method.startswith(f"{COMBINED}:"):
            higher[method], kinds[method] = True, "combined"
    splits = _checked_splits(truth_splits or {}, truths)
    results = _resample_targets(targets, truths, per_target, methods, higher, splits, n_boot=n_boot, seed=seed)
    rows, replicates = _target_rows(targets, results, methods, kinds, splits, n_boot)
    picks = np.random.default_rng(seed).integers(0, len(targets), (n_boot, len(targets)))
    table = pd.DataFrame(rows + _mean_rows(pd.DataFrame(rows), methods, kinds, replicates, picks))
    return MetaEvaluation(table=table, gains=_gains(table, targets, methods, kinds, replicates, picks),
                          weights=pd.DataFrame(weight_rows),
                          settings={"truth": truth, "priors": list(priors), "estimators": estimators,
                                    "lower_is_better": list(lower_is_better), "targets": len(targets),
                                    "history": with_history, "combined": with_combined, "n_boot": n_boot,
                                    "seed": seed, "combination": f"{COMBINER}, alpha {_ALPHA:g}, "
                                    + ("leave-one-suite-out" if by_suite else "leave-one-target-out")})


class _Inputs:
    """The input methods' scores of every target (estimators, given priors, the history priors with
    any targets left out) and the combination fitted for a target on the others (module notes)."""

    def __init__(self, truths: Mapping[str, pd.Series], wide: Mapping[str, pd.DataFrame], targets: Sequence[str],
                 names: Mapping[str, str], inputs: Sequence[str], flags: Sequence[bool], with_history: bool,
                 group: Mapping[str, str]) -> None:
        from transferscope.metrics.combination import BlockTruth
        from transferscope.metrics.ranking import rank_scale

        self.truths, self.targets, self.inputs, self.flags = truths, list(targets), list(inputs), list(flags)
        self.with_history, self.group, self.given = with_history, group, len(names)
        self.fixed = {}  # target -> candidates x (estimators and given priors), computed once
        for target in targets:
            w = wide[target].reindex(truths[target].index)
            self.fixed[target] = np.column_stack([np.empty((len(w), 0)), *(
                w[m].to_numpy(dtype=float) if m in w.columns else np.full(len(w), np.nan) for m in names)])
        self.record = _History(truths)
        self.static_ranks = {t: rank_scale(neutral_fill(self.fixed[t]), higher_is_better=self.flags[:self.given])
                             if self.given else self.fixed[t] for t in targets}
        self.block_truths = {t: BlockTruth.of(truths[t].to_numpy(dtype=float)) for t in targets}
        self.totals: dict[str, Any] | None = None  # training_statistics(), on the first combine

    def scores_for(self, target: str, held_out: Sequence[str]) -> np.ndarray:
        """Candidates x input methods of ``target``; the history priors leave out ``held_out``."""
        if not self.with_history:
            return self.fixed[target]
        exclude = [target, *held_out]
        return np.column_stack([self.fixed[target], self.record.scores_of(target, exclude, ranks=False),
                                self.record.scores_of(target, exclude, ranks=True)])

    def training_statistics(self) -> dict[str, Any]:
        """Per group of held-out targets: the summed
        :func:`~transferscope.metrics.combination.combination_statistics` of every target outside
        it, each target's history priors leaving out itself and the group, and rank-scaled after
        :func:`neutral_fill` (the estimators and given priors ranked once). A training target's
        blocks for all the groups it trains are built, ranked and summed as one stack."""
        from transferscope.metrics.combination import CombinationStatistics, combination_statistics
        from transferscope.metrics.ranking import rank_scale

        groups = list(dict.fromkeys(self.group[t] for t in self.targets))
        members = {g: [t for t in self.targets if self.group[t] == g] for g in groups}

        def block_statistics(other: str) -> tuple[list[int], Any]:
            held = [i for i, g in enumerate(groups) if g != self.group[other]]
            static = self.static_ranks[other]
            if not held:
                return held, None
            if self.with_history:
                left_out = [[other, *members[groups[i]]] for i in held]
                history = [rank_scale(neutral_fill(self.record.scores_without(other, left_out, ranks=r).T))
                           for r in (False, True)]  # candidates x groups, each
                blocks = np.concatenate([np.broadcast_to(static, (len(held), *static.shape)),
                                         np.stack(history, axis=2).transpose(1, 0, 2)], axis=2)
            else:
                blocks = np.broadcast_to(static, (len(held), *static.shape))
            return held, combination_statistics(blocks, self.block_truths[other], ranked=True)

        sums: dict[str, np.ndarray] = {}  # field of CombinationStatistics -> one sum per group
        for held, stats in _in_parallel(block_statistics, self.targets):
            for name in (f.name for f in fields(CombinationStatistics)) if held else ():
                value = getattr(stats, name)
                sums.setdefault(name, np.zeros((len(groups), *np.shape(value)[1:])))[held] += value
        return {g: CombinationStatistics(**{name: total[i] for name, total in sums.items()})
                for i, g in enumerate(groups)}

    def combine(self, target: str, scores: pd.DataFrame, *, all_combiners: bool, seed: int) -> dict[str, Any]:
        """Add ``combined`` (and with ``all_combiners`` the other learners and the nested choice) to
        ``scores``, fitted on the targets outside ``target``'s group; returns its weights row."""
        from transferscope.metrics.combination import COMBINERS, fit_combination, weighted_rank

        if self.totals is None:
            self.totals = self.training_statistics()
        held = [t for t in self.targets if self.group[t] == self.group[target]]  # the target, or its suite
        training = [other for other in self.targets if self.group[other] != self.group[target]]
        stats = self.totals[self.group[target]]
        filled = neutral_fill(scores[self.inputs].to_numpy(dtype=float))
        weights = fit_combination(stats, method=COMBINER, alpha=_ALPHA)
        scores[COMBINED] = weighted_rank(filled, weights, higher_is_better=self.flags)
        row: dict[str, Any] = {"target": target}
        if all_combiners and len(training) >= 2:  # a choice by leave-one-out needs 2 training targets
            for name in COMBINERS:
                if name != COMBINER:
                    scores[f"{COMBINED}:{name}"] = weighted_rank(
                        filled, fit_combination(stats, method=name, alpha=_ALPHA), higher_is_better=self.flags)
            blocks = [(neutral_fill(self.scores_for(other, held)), self.truths[other].to_numpy(dtype=float))
                      for other in training]
            choice = choose_combination(blocks, higher_is_better=self.flags, alpha=_ALPHA, seed=seed)
            scores[f"{COMBINED}:chosen"] = weighted_rank(filled, choice.weights, higher_is_better=self.flags)
            row |= {"chosen": choice.method, **{f"validation:{k}": v for k, v in choice.validation.items()}}
        row["training_targets"] = len(training)
        return row | {m: float(w) for m, w in zip(self.inputs, weights)}


def _checked_splits(truth_splits: Mapping[str, Any], truths: Mapping[str, pd.Series]) -> dict[str, np.ndarray]:
    """Each target's per-split truth as a (candidates x splits) matrix in the truth's order."""
    splits = {}
    for target, frame_splits in truth_splits.items():
        if target in truths:
            matrix = pd.DataFrame(frame_splits).reindex(truths[target].index).to_numpy(dtype=float)
            if matrix.ndim != 2 or matrix.shape[1] < 1 or not np.isfinite(matrix).all():
                raise InputError(f"truth_splits[{target!r}] must give every candidate of the target a finite value "
                                 "per split")
            splits[target] = matrix
    return splits


def _resample_targets(targets: Sequence[str], truths: Mapping[str, pd.Series], per_target: Mapping[str, pd.DataFrame],
                      methods: Sequence[str], higher: Mapping[str, bool], splits: Mapping[str, np.ndarray], *,
                      n_boot: int, seed: int) -> list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
    """Every measure of every method on every target: row 0 the sample itself (the value, as
    rank_correlation gives it), then the resamples, each target from its own seeded stream (so the
    result does not depend on which thread runs it). Targets run side by side on the machine's
    cores: the matrix products are BLAS's, the sums between them NumPy's, which release the GIL."""
    from transferscope.metrics.ranking import resampled_rank_correlation

    streams = dict(zip(targets, np.random.SeedSequence(seed).spawn(len(targets))))

    def resample(target: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        measured, scores = truths[target].to_numpy(dtype=float), per_target[target]
        n = len(measured)
        stream = np.random.default_rng(streams[target])
        draws = np.vstack([np.arange(n, dtype=np.int32), stream.integers(0, n, (n_boot, n), dtype=np.int32)])
        oriented = np.column_stack([scores[m].to_numpy(dtype=float) * (1.0 if higher[m] else -1.0) for m in methods])
        usable = np.isfinite(oriented).sum(axis=0) >= 2
        out = resampled_rank_correlation(oriented[:, usable], measured, draws, methods=MEASURES)
        if target not in splits:
            return oriented, usable, out
        per_split = splits[target]
        picks = np.vstack([np.arange(per_split.shape[1]), stream.integers(0, per_split.shape[1],
                                                                          (n_boot, per_split.shape[1]))])
        covered = np.isfinite(oriented).all(axis=0)[usable]
        if covered.any():  # a method that does not cover every candidate keeps the interval without the noise
            noisy = resampled_rank_correlation(oriented[:, usable][:, covered], measured, draws[1:],
                                               methods=MEASURES, truth_splits=per_split, split_draws=picks[1:])
            for m in MEASURES:  # row 0 stays the value against the truth itself (not the mean of its splits)
                out[m][np.flatnonzero(covered)[:, None], np.arange(1, n_boot + 1)[None, :]] = noisy[m]
        return oriented, usable, out

    return _in_parallel(resample, targets)


def _in_parallel(function: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[function(item) for item in items]``, the items side by side in threads on the machine's
    cores, each thread's BLAS limited to one thread (the work is NumPy's and BLAS's, which release
    the GIL); the results in the items' order."""
    from concurrent.futures import ThreadPoolExecutor

    import scipy.linalg  # noqa: F401 - loads SciPy's BLAS (the triangular products'), so the limit reaches it
    from threadpoolctl import threadpool_limits

    workers = max(1, min(len(items), os.cpu_count() or 1))
    if workers == 1:
        return [function(item) for item in items]
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def _target_rows(targets: Sequence[str], results: Sequence[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]],
                 methods: Sequence[str], kinds: Mapping[str, str], splits: Mapping[str, np.ndarray],
                 n_boot: int) -> tuple[list[dict[str, Any]], dict[str, list[np.ndarray]]]:
    """One row per target and method (value and interval of each measure), and per method the
    weighted tau of every resample of every target."""
    rows, replicates = [], {}
    for target, (oriented, usable, boot) in zip(targets, results):
        column = np.cumsum(usable) - 1
        for j, method in enumerate(methods):
            ok = np.isfinite(oriented[:, j])
            row = {"target": target, "method": method, "kind": kinds[method], "candidates": int(ok.sum()),
                   "truth_noise": target in splits and bool(ok.all())}
            boot_tau = np.full(n_boot, np.nan)
            for measure in MEASURES:
                if not usable[j]:
                    row.update({measure: np.nan, f"{measure}_low": np.nan, f"{measure}_high": np.nan})
                    continue
                point, values = boot[measure][column[j], 0], boot[measure][column[j], 1:]
                if measure == "weighted_kendall":
                    boot_tau = values
                low, high = _interval(values)
                row.update({measure: float(point), f"{measure}_low": low, f"{measure}_high": high})
            replicates.setdefault(method, []).append(boot_tau)
            rows.append(row)
    return rows, replicates


def _mean_rows(table: pd.DataFrame, methods: Sequence[str], kinds: Mapping[str, str],
               replicates: Mapping[str, list[np.ndarray]], picks: np.ndarray) -> list[dict[str, Any]]:
    """The ``mean`` row of each method, its intervals with the targets resampled too."""
    rows = []
    for method in methods:
        part = table[table["method"] == method]
        row = {"target": "mean", "method": method, "kind": kinds[method],
               "candidates": int(part["candidates"].sum()), "targets": int(part["weighted_kendall"].notna().sum()),
               "truth_noise": bool(part["truth_noise"].all())}
        for measure in MEASURES:
            row[measure] = float(part[measure].mean())
            if measure == "weighted_kendall":
                row[f"{measure}_low"], row[f"{measure}_high"] = _interval(
                    _mean_over_targets(np.vstack(replicates[method]), picks))
            else:
                row[f"{measure}_low"], row[f"{measure}_high"] = _target_interval(part[measure].to_numpy(), picks)
        rows.append(row)
    return rows


def _gains(table: pd.DataFrame, targets: Sequence[str], methods: Sequence[str], kinds: Mapping[str, str],
           replicates: Mapping[str, list[np.ndarray]], picks: np.ndarray) -> pd.DataFrame:
    """Each method's mean weighted tau minus the best prior's (the best of the priors defined on the
    most targets), paired on the targets where both are defined, with its interval."""
    columns = ["method", "gain", "gain_low", "gain_high", "best_prior", "targets"]
    means = table[table["target"] == "mean"].set_index("method")
    prior_methods = [m for m in methods if kinds[m] == "prior" and np.isfinite(means.loc[m, "weighted_kendall"])]
    if not prior_methods:
        return pd.DataFrame([], columns=columns)
    most = max(means.loc[p, "targets"] for p in prior_methods)
    best_prior = max((m for m in prior_methods if means.loc[m, "targets"] == most),
                     key=lambda m: means.loc[m, "weighted_kendall"])
    per_target = table[table["target"] != "mean"].pivot_table(index="target", columns="method",
                                                               values="weighted_kendall", dropna=False).reindex(targets)
    gains = []
    for method in methods:
        point = per_target[method] - per_target[best_prior] if method in per_target else pd.Series(np.nan)
        diff = _mean_over_targets(np.vstack(replicates[method]) - np.vstack(replicates[best_prior]), picks)
        low, high = _interval(diff)
        gains.append({"method": method, "gain": float(point.mean()) if point.notna().any() else float("nan"),
                      "gain_low": low, "gain_high": high, "best_prior": best_prior,
                      "targets": int(point.notna().sum())})
    return pd.DataFrame(gains, columns=columns)


class _History:
    """:func:`history_scores` for any number of (target, left-out targets) questions: every
    target's truth, as is and rank-scaled, in one (targets x candidates) matrix, averaged over the
    rows kept by one matrix product for any number of left-out sets (not a total less the rows
    left out, whose cancellation would lose digits when targets differ in scale; targets with
    fewer than 2 finite values are not used)."""

    def __init__(self, truths: Mapping[str, pd.Series]) -> None:
        from transferscope.metrics.ranking import rank_scale

        used = {t: v[np.isfinite(v.to_numpy(dtype=float))] for t, v in truths.items()}
        used = {t: v for t, v in used.items() if len(v) >= 2}
        names = sorted({c for v in used.values() for c in v.index})
        self.column = {c: j for j, c in enumerate(names)}
        self.row = {t: i for i, t in enumerate(used)}
        self.targets = {t: np.array([self.column.get(c, -1) for c in v.index]) for t, v in truths.items()}
        matrices = {False: np.full((len(used), len(names)), np.nan), True: np.full((len(used), len(names)), np.nan)}
        for t, v in used.items():
            cols = [self.column[c] for c in v.index]
            matrices[False][self.row[t], cols] = v.to_numpy(dtype=float)
            matrices[True][self.row[t], cols] = rank_scale(v.to_numpy(dtype=float))[:, 0]
        self.filled = {k: np.nan_to_num(m) for k, m in matrices.items()}
        self.present = np.isfinite(matrices[False]).astype(float)

    def scores(self, candidates: Sequence[str], exclude: Sequence[str], *, ranks: bool) -> np.ndarray:
        columns = np.array([self.column.get(c, -1) for c in candidates], dtype=int)
        return self._means(columns, [exclude], ranks)[0]

    def scores_of(self, target: str, exclude: Sequence[str], *, ranks: bool) -> np.ndarray:
        """:meth:`scores` of the candidates of ``target``, in its truth's order."""
        return self._means(self.targets[target], [exclude], ranks)[0]

    def scores_without(self, target: str, left_out: Sequence[Sequence[str]], *, ranks: bool) -> np.ndarray:
        """:meth:`scores_of` ``target`` for each set of ``left_out`` targets (one row per set)."""
        return self._means(self.targets[target], left_out, ranks)

    def _means(self, columns: np.ndarray, left_out: Sequence[Sequence[str]], ranks: bool) -> np.ndarray:
        keep = np.ones((len(left_out), len(self.row)))
        for i, exclude in enumerate(left_out):
            keep[i, [self.row[t] for t in exclude if t in self.row]] = 0.0
        known = columns >= 0
        cols = columns[known]
        sums, counts = keep @ self.filled[ranks][:, cols], keep @ self.present[:, cols]
        out = np.full((len(left_out), columns.size), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        # Equal records must give exactly equal means (a tie the prior declares: ranks tie often),
        # which the rounding of a sum's order breaks: 12 significant digits keep every real difference.
        scale = 10.0 ** (11 - np.floor(np.log10(np.where(np.isfinite(means) & (means != 0), np.abs(means), 1.0))))
        out[:, known] = np.round(means * scale) / scale
        return out


def neutral_fill(matrix: np.ndarray) -> np.ndarray:
    """Missing scores (a candidate a method does not cover) at the column's median, so that they
    rank neither first nor last inside a combination."""
    out = matrix.copy(order="K")  # a column-major matrix stays so (its columns are ranked next)
    missing = ~np.isfinite(out)
    for j in np.flatnonzero(missing.any(axis=0)):
        column = out[:, j]
        column[missing[:, j]] = np.median(column[~missing[:, j]]) if (~missing[:, j]).any() else 0.0
    return out


def _interval(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [0.025, 0.975])
    return float(low), float(high)


def _mean_over_targets(replicates: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """Per bootstrap draw: the mean over resampled targets of that draw's per-target replicate."""
    drawn = replicates[picks, np.arange(picks.shape[0])[:, None]]
    finite = np.isfinite(drawn)
    means = np.where(finite, drawn, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)
    means[~finite.any(axis=1)] = np.nan
    return means


def _target_interval(values: np.ndarray, picks: np.ndarray) -> tuple[float, float]:
    """Interval of the mean over targets of one value per target, targets resampled."""
    return _interval(_mean_over_targets(np.repeat(values[:, None], picks.shape[0], axis=1), picks))
