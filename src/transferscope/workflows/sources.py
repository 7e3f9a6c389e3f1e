"""Which source dataset should I transfer from (``transferscope sources``)?

Every candidate source and the target are embedded by one model (``layer`` x ``pooling``,
through the feature cache; each dataset subsampled to ``max_samples``, seeded), and each
source's distance to the target is measured in that space
(:mod:`transferscope.metrics.dataset_distance`): OTDD with Gaussian label costs (the labels
count), linear and RBF MMD and the Frechet distance (inputs only), and the distance between
probe-based task embeddings (``task2vec``: the Fisher of a logistic probe head's feature gains,
:mod:`transferscope.metrics.task_embedding`; labels count). Sources are ranked nearest first by
``measure``; the "largest source" baseline ranks them by size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.workflows.engine.options import ExtractionOptions
from transferscope.workflows.storage.results import Result

__all__ = ["SourceRanking", "rank_sources", "source_distances", "SOURCE_MEASURES"]

SOURCE_MEASURES = ("otdd", "mmd_linear", "mmd_rbf", "frechet", "task2vec")


@dataclass
class SourceRanking(Result):
    """Result of :func:`rank_sources`: ``table`` has one row per source (``source``, ``samples``,
    every measure of :data:`SOURCE_MEASURES`, ``rank`` by ``measure``, ``size_rank``)."""

    kind = "sources"
    title = "Sources"

    table: pd.DataFrame
    measure: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> str:
        return str(self.table.sort_values("rank").iloc[0]["source"])

    def nearest_by_measure(self) -> dict[str, str]:
        """Each measure's nearest source (lower = nearer)."""
        return {m: str(self.table.loc[self.table[m].idxmin(), "source"]) for m in SOURCE_MEASURES
                if m in self.table and self.table[m].notna().any()}

    def answer(self) -> list[str]:
        """The nearest source, and in words which measures disagree with it (a ranking one measure
        makes and another contradicts is weak evidence).

        Examples
        --------
        >>> table = pd.DataFrame({"source": ["a", "b"], "otdd": [1.0, 2.0], "task2vec": [0.5, 0.1], "rank": [1, 2]})
        >>> SourceRanking(table, "otdd").answer()
        ['Nearest source: a (by otdd); task2vec puts b nearest']
        """
        nearest = self.nearest_by_measure()
        line = f"Nearest source: {self.best} (by {self.measure})"
        others = [f"{m} puts {s} nearest" for m, s in nearest.items() if m != self.measure and s != self.best]
        agree = [m for m, s in nearest.items() if m != self.measure and s == self.best]
        if not others:
            return [line + ("; every measure agrees" if agree else "")]
        return [line + "; " + "; ".join(others)]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The table a terminal shows: every source with every distance, nearest first."""
        return [(f"Sources, nearest first by {self.measure}", self.table)]

    def _repr_html_(self) -> str:
        from transferscope.workflows.storage.results import html_view

        return html_view(f"Sources, nearest first by {self.measure}", self.answer(), self.table)


def source_distances(target: np.ndarray, target_labels: np.ndarray, source: np.ndarray, source_labels: np.ndarray,
                     *, seed: int = 0, max_samples: int = 2000,
                     target_embedding: np.ndarray | None = None) -> dict[str, float]:
    """Every measure of :data:`SOURCE_MEASURES` between one source and the target (features in
    one space; the label-aware OTDD needs class labels on both sides). ``target_embedding`` is the
    target's :func:`~transferscope.metrics.task_embedding.fisher_embedding` when already computed
    (one per target, however many sources)."""
    from transferscope.metrics.dataset_distance import frechet_distance, mmd, otdd
    from transferscope.metrics.task_embedding import fisher_embedding, task2vec_distance

    if target_embedding is None:
        target_embedding = fisher_embedding(target, target_labels)

    return {"otdd": otdd(source, source_labels, target, target_labels, max_samples=max_samples, seed=seed),
            "mmd_linear": mmd(source, target), "mmd_rbf": mmd(source, target, kernel="rbf"),
            "frechet": frechet_distance(source, target),
            "task2vec": task2vec_distance(fisher_embedding(source, source_labels), target_embedding)}


def rank_sources(*, target: Dataset, sources: Sequence[Dataset], model: str, layer: str = "last",
                 pooling: str = "mean", measure: str = "otdd", max_samples: int = 2000, seed: int = 0,
                 extraction: ExtractionOptions | None = None, progress: Callable[[str], None] | None = None) -> SourceRanking:
    """Rank ``sources`` for ``target`` by their distance in ``model``'s space (module notes).

    Examples
    --------
    >>> from transferscope.datasets import load_builtin
    >>> ranking = rank_sources(target=load_builtin("sentence-polarity"),
    ...                        sources=[load_builtin("vader-polarity"), load_builtin("word-language")],
    ...                        model="st:path/to/minilm", layer="output")  # doctest: +SKIP
    >>> ranking.table[["source", "otdd", "rank", "size_rank"]]  # doctest: +SKIP
    """
    from transferscope.workflows.engine.candidates import extract_candidates

    if measure not in SOURCE_MEASURES:
        raise InputError(f"measure must be one of {', '.join(SOURCE_MEASURES)}, got {measure!r}")
    if not sources:
        raise InputError("give at least one source dataset")
    names = [s.name for s in sources]
    if len(set(names)) != len(names) or target.name in names:
        raise InputError("give each source once, and not the target itself")
    for data in (target, *sources):
        if data.task != "classification":
            raise InputError(f"dataset {data.name!r} is {data.task}; OTDD's label costs need class labels")
        if data.modality != target.modality:
            raise InputError(f"source {data.name!r} holds {data.modality} inputs and the target {target.name!r} "
                             f"{target.modality}: one model's space cannot hold both")
    extraction = extraction or ExtractionOptions()
    if not getattr(extraction.encoder(model, seed=seed), "chunkable", True):  # TF-IDF, hashing, a #pca / #int8 of any
        raise InputError(f"model {model!r} is fitted on each dataset's own inputs (a TF-IDF or hashing baseline, or a "
                         "compression such as #pca64 or #int8), so two datasets would not share one space; use a "
                         "pretrained model without a compression")

    def embed(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
        part = data.subsample(int(max_samples), seed=seed) if len(data) > max_samples else data
        (cand,) = extract_candidates(part, [model], layers=layer, poolings=[pooling], seed=seed, extraction=extraction)
        return np.asarray(cand.features, dtype=np.float64), np.asarray(part.labels)

    say = progress or (lambda line: None)
    from transferscope.metrics.task_embedding import fisher_embedding

    target_x, target_y = embed(target)
    target_fisher = fisher_embedding(target_x, target_y)
    from transferscope.extraction.progress import progress_bar

    rows = []
    with progress_bar("sources: distances to the target", total=len(sources), enabled=extraction.progress) as advance:
        for data in sources:
            x, y = embed(data)
            rows.append({"source": data.name, "samples": len(data),
                         **source_distances(target_x, target_y, x, y, seed=seed, max_samples=max_samples,
                                            target_embedding=target_fisher)})
            say(f"{data.name}: {measure} {rows[-1][measure]:.4f}")
            advance(1)
    table = pd.DataFrame(rows)
    table["rank"] = table[measure].rank(method="min").astype(int)
    table["size_rank"] = table["samples"].rank(ascending=False, method="min").astype(int)
    return SourceRanking(table=table.sort_values("rank", kind="stable").reset_index(drop=True), measure=measure,
                         settings={"model": model, "layer": layer, "pooling": pooling, "target": target.name,
                                   "max_samples": max_samples, "seed": seed})
