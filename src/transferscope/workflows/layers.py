"""Per-layer profile of one model and the recommended layer (``transferscope layers``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.extraction.encoder import Encoder
from transferscope.metrics import get_metric
from transferscope.metrics.ranking import rank_correlation
from transferscope.workflows.engine.candidates import ExtractionOptions, extract_candidates
from transferscope.workflows.engine.score_cache import ScoreCache
from transferscope.workflows.engine.scoring import Scorer, probe_protocol, probe_splits, tied_with_best
from transferscope.workflows.storage.results import Result

__all__ = ["LayerProfile", "layer_profile", "DEFAULT_GEOMETRY", "DEFAULT_LAYER_METRICS"]

DEFAULT_GEOMETRY = ("twonn", "rankme", "anisotropy")
DEFAULT_LAYER_METRICS = ("logme", "knn")
#: Columns only the full table holds (the terminal's :meth:`LayerProfile.views` leaves them out).
_FULL_TABLE_ONLY = ("probe_setting", "mutual_knn_prev")


def _first_probe(table: pd.DataFrame) -> str | None:
    """The probe's first measure column (``probe_accuracy`` / ``probe_r2``), None without a probe."""
    return next((c for c in table.columns if c.startswith("probe_") and not c.endswith("_se")
                 and c != "probe_setting"), None)


@dataclass(frozen=True)
class LayerProfile(Result):
    """Result of :func:`layer_profile`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per layer, in the model's order: ``layer``, ``dim``, one column
        per geometry measure, ``cka_prev`` and ``mutual_knn_prev`` (similarity to
        the previous layer), one column per estimator and, with a probe,
        ``probe_<metric>``.
    recommended : str
        The layer with the best measured probe score, or the best first
        estimator when no probe was run.
    basis : str
        The column the recommendation was made on.
    evidence : list of str
        Sentences behind the recommendation (runner-up margin, the layers within
        one binomial standard error of the best probe accuracy, agreement of
        each estimator with the probe across layers).
    agreement : dict of str to float
        Weighted Kendall tau between each estimator and the probe over layers.
    warnings : list of str
        What the estimators warned about (each once).
    """

    kind = "layers"
    title = "Layers"

    table: pd.DataFrame
    recommended: str
    basis: str
    evidence: list[str] = field(default_factory=list)
    agreement: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def answer(self) -> list[str]:
        """The recommended layer and the evidence behind it, in plain words."""
        return [f"Recommended layer: {self.recommended} (by {self.basis})", *(f"  - {line}" for line in self.evidence)]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The compact table a terminal shows, a short line per layer (every column is in
        :meth:`to_frame`): the estimators, the probe's first measure as ``value ± standard error``,
        and the geometry; the probe's other measures and the similarity to the previous layer's
        mutual neighbours are left to the full table."""
        from transferscope.workflows.storage.results import se_text

        shown = self.table.drop(columns=[c for c in self.table.columns if c in _FULL_TABLE_ONLY
                                         or (c.startswith("probe_") and c != _first_probe(self.table)
                                             and not c.endswith("_se"))])
        probe = _first_probe(self.table)
        if probe is not None and f"{probe}_se" in shown:
            shown = shown.assign(**{probe: [se_text(v, se, digits=3) for v, se in
                                            zip(shown[probe], shown[f"{probe}_se"], strict=True)]})
        shown = shown.drop(columns=[c for c in shown.columns if c.startswith("probe_") and c.endswith("_se")])
        return [("model order; --output keeps every column", shown)]



def layer_profile(
    *,
    dataset: Dataset,
    model: str | Encoder,
    pooling: str = "mean",
    geometry: Sequence[str] = DEFAULT_GEOMETRY,
    metrics: Sequence[str] = DEFAULT_LAYER_METRICS,
    probe: bool | str = True,
    neighbors: int = 10,
    seed: int = 0,
    extraction: ExtractionOptions | None = None,
    n_jobs: int | None = None,
) -> LayerProfile:
    """Geometry, similarity to the previous layer, estimators and probe for every layer.

    Parameters
    ----------
    dataset : Dataset
        Labelled inputs (the labels feed the estimators and the probe).
    model : str or Encoder
    pooling : str, default="mean"
    geometry : sequence of str
        Registered geometry measures, default twonn, rankme, anisotropy.
    metrics : sequence of str
        Registered transferability estimators, default logme, knn.
    probe : bool or str, default=True
        Measure the ground truth per layer: ``True`` is the linear probe on 5 x 2-fold repeated
        splits (``linear_cv``: mean and standard error; the layers it cannot tell from the best
        are named as such), ``"linear"`` one seeded 60/20/20 split. The recommendation is then
        the measured best, and the estimators' agreement with it is reported.
    neighbors : int, default=10
        ``k`` of the neighbourhood overlap (``mutual_knn``) between consecutive layers.
    seed, extraction, n_jobs
        As for :func:`transferscope.rank`.

    Returns
    -------
    LayerProfile

    Examples
    --------
    >>> from transferscope.datasets import load_builtin
    >>> from transferscope.workflows.layers import layer_profile
    >>> from transferscope.workflows.engine.candidates import ExtractionOptions
    >>> profile = layer_profile(dataset=load_builtin("sentence-polarity"), model="tfidf",
    ...                         extraction=ExtractionOptions(use_cache=False), n_jobs=1)
    >>> profile.recommended, profile.basis  # one layer: nothing to choose between
    ('tfidf-svd', 'probe_accuracy')
    >>> list(profile.table.columns[:5])
    ['layer', 'dim', 'twonn', 'rankme', 'anisotropy']
    """
    geometry = [get_metric(g, "geometry").name for g in geometry]
    extraction = extraction or ExtractionOptions()
    if not metrics and not probe:
        raise InputError("give at least one estimator or probe=True: a layer cannot be recommended without either")
    protocol = probe_protocol(probe)
    splits = probe_splits(dataset, seed, probe=protocol) if protocol else None
    scorer = Scorer(list(metrics), task=dataset.task, probe=protocol, splits=splits,
                    cache=ScoreCache(extraction.cache_dir) if extraction.use_cache else None, n_jobs=n_jobs,
                    progress=extraction.progress)
    names = scorer.estimators
    candidates = extract_candidates(dataset, [model], layers="all", poolings=[pooling], seed=seed,
                                    extraction=extraction)
    scores = scorer.score(candidates, dataset.labels)
    scored = scores.to_frame()
    rows = []
    previous = None
    for cand in candidates:
        feats = cand.features
        row: dict[str, Any] = {"layer": cand.layer, "dim": cand.dim}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for g in geometry:
                row[g] = get_metric(g).func(feats)
        if previous is None:
            row["cka_prev"] = row["mutual_knn_prev"] = float("nan")
        else:
            row["cka_prev"] = get_metric("cka").func(previous, feats)
            row["mutual_knn_prev"] = get_metric("mutual_knn").func(previous, feats, k=neighbors)
        previous = feats
        rows.append(row)
    table = pd.DataFrame(rows)
    extra = scored.drop(columns=[c for c in ("candidate", "model", "layer", "pooling", "dim") if c in scored])
    table = pd.concat([table, extra.reset_index(drop=True)], axis=1)
    probe_col = next((c for c in table.columns if c.startswith("probe_") and c != "probe_setting"
                      and pd.api.types.is_numeric_dtype(table[c])), None) if protocol else None
    basis = probe_col or names[0]
    n_test = len(splits[2]) if protocol == "linear" else 0
    return _recommend(table, basis, names, probe_col, n_test if dataset.task == "classification" else 0,
                      notes=scores.warnings)


def _recommend(table: pd.DataFrame, basis: str, names: list[str], probe_col: str | None,
               n_test: int = 0, *, notes: Sequence[str] = ()) -> LayerProfile:
    order = table[basis].to_numpy(dtype=float)
    best = int(np.nanargmax(order))
    recommended = str(table["layer"].iloc[best])
    evidence = []
    ranked = np.argsort(-order, kind="stable")
    if len(ranked) > 1:
        second = int(ranked[1])
        evidence.append(f"{recommended} has the best {basis} ({order[best]:.4f}); runner-up "
                        f"{table['layer'].iloc[second]} ({order[second]:.4f}).")
    else:
        evidence.append(f"{recommended} has {basis} {order[best]:.4f}.")
    if probe_col is not None and f"{probe_col}_se" in table and len(ranked) > 1:
        # The probe's own noise (repeated splits): layers within one standard error of the
        # difference from the best are not told apart.
        tied = tied_with_best(order, table[f"{probe_col}_se"].to_numpy(dtype=float))
        close = [str(table["layer"].iloc[i]) for i in ranked[1:] if tied[i]]
        if close:
            evidence.append(f"within one standard error of it ({basis} {order[best]:.4f} +- "
                            f"{table[f'{probe_col}_se'].iloc[best]:.4f} over repeated splits): "
                            f"{', '.join(close)}; the probe does not separate these.")
    elif n_test and len(ranked) > 1 and 0.0 <= order[best] <= 1.0:
        # Binomial standard error of a test accuracy: layers within it are not told apart.
        se = float(np.sqrt(order[best] * (1.0 - order[best]) / n_test))
        close = [str(table["layer"].iloc[i]) for i in ranked[1:] if order[best] - order[i] <= se]
        if close:
            evidence.append(f"within one standard error ({se:.4f}, {n_test} test samples) of it: "
                            f"{', '.join(close)}; the probe does not separate these.")
    agreement: dict[str, float] = {}
    if probe_col is not None and len(table) > 1:
        for name in names:
            scores = table[name].to_numpy(dtype=float)
            if not get_metric(name).higher_is_better:
                scores = -scores
            tau = rank_correlation(scores, order, method="weighted_kendall")
            agreement[name] = tau
            pick = str(table["layer"].iloc[int(np.nanargmax(scores))])
            verdict = "agrees" if pick == recommended else f"would pick {pick}"
            evidence.append(f"{name}: weighted Kendall tau with the probe across layers {tau:.3f}; {verdict}.")
    return LayerProfile(table=table, recommended=recommended, basis=basis, evidence=evidence, agreement=agreement,
                        warnings=list(notes))
