"""Backward compatibility of embedding models (``transferscope compat``): can new queries search
an index of old vectors, as is or after a post-hoc aligner, and from how many paired items?

Protocol (the retrieval setting of the compatibility literature: BCT, Shen et al. 2020):

1. The labelled (or paired: one id per pair) items are split by a seeded rule, per label:
   ``query_fraction`` of each label's items become queries (at least one when a label has two
   or more items, never all of them), the rest the gallery. A gallery item is relevant to a
   query with the same label.
2. Retrieval quality (:func:`~transferscope.metrics.retrieval.retrieval_scores`: mAP,
   Recall@1/5/10, nDCG@10, exact FAISS cosine search) for ``old/old`` (old queries, old
   gallery), ``new/new`` and ``new/old`` (new queries searching the old gallery; models of
   different widths cannot be searched together as is: NaN).
3. Aligners (:mod:`transferscope.probes.aligners`) map new vectors into the old space. Each is
   fitted on a paired subset of the gallery (nested seeded subsets of ``pair_sizes`` items,
   ``"all"`` = the whole gallery: the items one would re-encode with both models) and evaluated
   on the held-out queries: ``aligned`` = aligned new queries searching the old gallery.
4. The verdict on ``metric`` (BCT's criterion: compatible when ``new/old >= old/old``):
   *compatible as is*; else *compatible after alignment* when an aligner meets the criterion
   (the smallest paired-sample size that does, and the share of ``new/new`` it recovers);
   else *not compatible* (re-index).

With several new models (versions), :func:`compatibility_matrix` gives ``C[t, k]``: version
``t``'s queries on version ``k``'s gallery (``t >= k``), and the average compatibility ``AC``
(the share of pairs ``t > k`` meeting the criterion) and average multi-model accuracy ``AM``
(the mean of the lower triangle) of the continual-compatibility literature (CL2R, Biondi et al.).
Versions of different widths cannot search each other as is: their entry is NaN, counts as
not compatible in ``AC`` and is left out of ``AM``. The criterion is taken with ``>=`` throughout (the papers write a strict ``>``), so that a model
is compatible with an identical copy of itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.metrics.retrieval import RETRIEVAL_KS, retrieval_scores
from transferscope.probes.aligners import ALIGNERS, fit_aligners
from transferscope.workflows.engine.options import ExtractionOptions
from transferscope.workflows.storage.results import Result

__all__ = ["CompatResult", "compat", "compat_features", "query_gallery_split", "compatibility_matrix",
           "check_index_file", "ALIGNERS", "COMPAT_METRICS", "DEFAULT_PAIR_SIZES", "VERDICTS"]

COMPAT_METRICS = ("map", "recall@1", "recall@5", "recall@10", "ndcg@10")
DEFAULT_PAIR_SIZES: tuple[int | str, ...] = (100, 1000, "all")
VERDICTS = ("compatible", "compatible after alignment", "not compatible")


@dataclass
class CompatResult(Result):
    """Result of :func:`compat` / :func:`compat_features`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per evaluated setting: ``new`` (the new model), ``setting`` (``old/old``,
        ``new/new``, ``new/old`` or ``aligned``), ``aligner``, ``pairs`` (paired items it was
        fitted on), every metric of :data:`COMPAT_METRICS`, and ``recovered`` (for the new/old and
        aligned rows: the row's ``metric`` as a share of ``new/new``; empty on the reference rows).
    verdicts : pandas.DataFrame
        Per new model: ``verdict`` (one of ``compatible``, ``compatible after alignment``,
        ``not compatible``), the numbers behind it and ``explanation`` (plain words).
    metric : str
        The metric the verdict is taken on.
    matrix : pandas.DataFrame or None
        The compatibility matrix of the versions ``[old, *new]`` (query version x gallery
        version, lower triangle), with several new models.
    summary : dict
        ``AC`` and ``AM`` with several new models; the split sizes; the settings.
    """

    kind = "compat"
    title = "Compatibility"

    table: pd.DataFrame
    verdicts: pd.DataFrame
    metric: str
    matrix: pd.DataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """The verdict of the first new model."""
        return str(self.verdicts["verdict"].iloc[0])

    @property
    def explanation(self) -> str:
        return str(self.verdicts["explanation"].iloc[0])

    def answer(self, names: Mapping[str, str] | None = None) -> list[str]:
        """AC / AM with several new models, in words, then each new model's verdict in plain words
        (``names`` shortens model names)."""
        lines = []
        if "AC" in self.summary:
            versions = 1 + len(self.verdicts)
            pairs = versions * (versions - 1) // 2
            lines.append(f"Across {versions} versions: {round(self.summary['AC'] * pairs)} of {pairs} newer -> older "
                         f"pairs searchable as is (AC {self.summary['AC']:.3f}); mean {self.metric} over every "
                         f"query x gallery version {self.summary['AM']:.3f} (AM)")
        return lines + [f"{(names or {}).get(rec['new'], rec['new'])}: {rec['explanation']}"
                        for rec in self.verdicts.to_dict("records")]

    def to_frame(self) -> pd.DataFrame:
        """:attr:`table` with each new model's verdict as a column (for CSV / JSON / Parquet)."""
        return self.table.merge(self.verdicts[["new", "verdict"]], on="new", how="left")

    def views(self, names: Mapping[str, str] | None = None) -> list[tuple[str, pd.DataFrame]]:
        """The compact tables a terminal shows (every metric is in :meth:`to_frame`): per setting the
        verdict's metric, Recall@1 and Recall@10 and ``recovered`` (without the ``new``
        column when there is one new model), and the compatibility matrix with several."""
        name = (lambda n: (names or {}).get(n, n))  # noqa: E731
        keep = list(dict.fromkeys([self.metric, "recall@1", "recall@10"]))
        shown = self.table[["new", "setting", "aligner", "pairs", *keep, "recovered"]].copy()
        shown["new"] = shown["new"].map(name)
        one = shown["new"].nunique() == 1
        title = (f"{shown['new'].iloc[0]} against the old index" if one else "Each new model against the old index")
        views = [(title, shown.drop(columns=["new"]) if one else shown)]
        if self.matrix is not None:
            views.append((f"Compatibility matrix ({self.metric}; query version x gallery version)",
                          self.matrix.rename(index=name, columns=name).reset_index()))
        return views

    def store_rows(self, *, target: str, old: str, run: str, versions: dict[str, str] | None = None
                   ) -> list[dict[str, Any]]:
        """Tidy rows for the results store (:class:`~transferscope.workflows.storage.store.ResultStore`):
        ``suite="compat"``, ``kind="compat"``, one row per setting and metric, and one
        ``kind="verdict"`` row per new model (its value: 2 compatible, 1 after alignment, 0 not)."""
        rows = []
        for rec in self.table.to_dict("records"):
            setting = rec["setting"] + (f":{rec['aligner']}@{rec['pairs']}" if rec["aligner"] else "")
            for metric in COMPAT_METRICS:
                rows.append({"run": run, "suite": "compat", "target": target, "candidate": f"{rec['new']} -> {old}",
                             "model": rec["new"], "kind": "compat", "metric": f"{setting}:{metric}",
                             "value": rec[metric], "seed": self.summary["seed"], "settings": self.summary,
                             "versions": versions})
        for rec in self.verdicts.to_dict("records"):
            rows.append({"run": run, "suite": "compat", "target": target, "candidate": f"{rec['new']} -> {old}",
                         "model": rec["new"], "kind": "verdict", "metric": self.metric,
                         "value": {"compatible": 2, "compatible after alignment": 1}.get(rec["verdict"], 0),
                         "seed": self.summary["seed"], "settings": {**rec, **self.summary}, "versions": versions})
        return rows

    def _repr_html_(self) -> str:
        from transferscope.workflows.storage.results import html_view

        lines = [f"{r['new']}: {r['explanation']}" for r in self.verdicts.to_dict("records")]
        return html_view("Compatibility", lines, self.table)


def query_gallery_split(labels: Any, *, query_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-label split into query and gallery indices (module notes, step 1).

    Examples
    --------
    >>> q, g = query_gallery_split([0, 0, 1, 1, 1, 1, 1, 2], query_fraction=0.4, seed=0)
    >>> len(q), len(g), 7 in g  # label 2 has one item: gallery only
    (3, 5, True)
    >>> query_gallery_split(["a"] * 6)
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: every item has the same label: retrieval quality is then the same for any embedding (every gallery item is relevant); give class labels or pair ids that differ
    """
    if isinstance(query_fraction, bool) or not isinstance(query_fraction, (int, float)) or not 0 < query_fraction < 1:
        raise InputError(f"query_fraction must be a number strictly between 0 and 1, got {query_fraction!r}")
    values = np.asarray(labels)
    if values.ndim != 1:
        raise InputError(f"labels must be 1-D (one label or pair id per item), got shape {values.shape}")
    rng = np.random.default_rng(seed)
    queries: list[np.ndarray] = []
    _, inverse = np.unique(values.astype(str) if values.dtype == object else values, return_inverse=True)
    if values.size and inverse.max() == 0:  # one label for everything: every gallery item is relevant to every query
        raise InputError("every item has the same label: retrieval quality is then the same for any embedding "
                         "(every gallery item is relevant); give class labels or pair ids that differ")
    for group in range(int(inverse.max()) + 1):
        members = rng.permutation(np.flatnonzero(inverse == group))
        if members.size < 2:
            continue
        n_query = min(members.size - 1, max(1, int(round(query_fraction * members.size))))
        queries.append(members[:n_query])
    query = np.sort(np.concatenate(queries)) if queries else np.array([], dtype=np.intp)
    if query.size == 0:
        raise InputError("no label has two or more items: nothing can be retrieved (give class labels or pair ids)")
    gallery = np.setdiff1d(np.arange(values.size), query)
    return query, gallery


def _pair_subsets(gallery_size: int, sizes: Sequence[int | str], seed: int) -> list[np.ndarray]:
    """Nested seeded subsets of the gallery positions, one per distinct size (``"all"``: every one)."""
    resolved = []
    for size in sizes:
        if size == "all":
            resolved.append(gallery_size)
        elif isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 2:
            resolved.append(min(int(size), gallery_size))
        else:
            raise InputError(f"pair_sizes must hold integers >= 2 or 'all', got {size!r}")
    order = np.random.default_rng(seed + 1).permutation(gallery_size)
    return [order[:n] for n in sorted(set(resolved))]


def _scores(queries: np.ndarray, gallery: np.ndarray, q_labels: np.ndarray, g_labels: np.ndarray,
            ks: tuple[int, ...]) -> dict[str, float]:
    if queries.shape[1] != gallery.shape[1]:
        return {m: float("nan") for m in COMPAT_METRICS}
    got = retrieval_scores(queries, gallery, q_labels, g_labels, ks=ks)
    return {m: float(got[m]) for m in COMPAT_METRICS}


def check_index_file(path: Any, *, seed: int = 0) -> Any:
    """Does the index of vectors in ``path`` (a feature file) mix two spaces, as an index half
    re-embedded by a new model does? :func:`~transferscope.metrics.mixed_spaces.mixed_space_check`
    on the file's vectors."""
    from transferscope.datasets.loaders import load_feature_file
    from transferscope.metrics.mixed_spaces import mixed_space_check

    return mixed_space_check(load_feature_file(path), seed=seed)


def compat_features(old: Any, new: Any | Sequence[Any], labels: Any, *, names: Sequence[str] | None = None,
                    metric: str = "map", query_fraction: float = 0.2,
                    pair_sizes: Sequence[int | str] = DEFAULT_PAIR_SIZES, aligners: Sequence[str] = ALIGNERS,
                    seed: int = 0, progress: Callable[[str], None] | None = None) -> CompatResult:
    """Compatibility of precomputed embeddings (module notes).

    Parameters
    ----------
    old : array-like of shape (n_items, d_old)
        The old model's embeddings (what the index holds).
    new : array-like of shape (n_items, d_new), or a list / tuple of them (versions, oldest first)
        The new model's embeddings of the same items, row for row.
    labels : array-like of shape (n_items,)
        Class labels, or pair ids for paired data (relevance = equal labels).
    names : sequence of str, optional
        Names of ``old`` and each ``new`` (default ``old``, ``new``, ``new2``, ...).
    metric : {"map", "recall@1", "recall@5", "recall@10", "ndcg@10"}, default="map"
        The metric the verdict is taken on.
    query_fraction : float, default=0.2
    pair_sizes : sequence of int or "all", default=(100, 1000, "all")
        Paired gallery items each aligner is fitted on.
    aligners : sequence of str, default=all of :data:`~transferscope.probes.aligners.ALIGNERS`
        Empty for no alignment.
    seed : int, default=0
        Seeds the split, the paired subsets and the MLP.
    progress : callable, optional
        Called with a line per finished step.

    Returns
    -------
    CompatResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(np.arange(20), 10)
    >>> old = rng.normal(size=(20, 16))[labels] + 0.5 * rng.normal(size=(200, 16))
    >>> rotation, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    >>> result = compat_features(old, 2.0 * old @ rotation, labels, aligners=["procrustes"], pair_sizes=["all"])
    >>> result.verdict, round(float(result.verdicts["recovered"].iloc[0]), 3)
    ('compatible after alignment', 1.0)
    """
    from transferscope.metrics import check_features

    if metric not in COMPAT_METRICS:
        raise InputError(f"metric must be one of {', '.join(COMPAT_METRICS)}, got {metric!r}")
    unknown = [a for a in aligners if a not in ALIGNERS]
    if unknown:
        raise InputError(f"aligners must be among {', '.join(ALIGNERS)}, got {', '.join(map(str, unknown))}")
    old_x = check_features(old, name="old")
    news = list(new) if isinstance(new, (list, tuple)) else [new]
    if not news:
        raise InputError("new must be an array of embeddings or a non-empty sequence of them")
    new_xs = [check_features(x, name="new" if len(news) == 1 else f"new[{i}]") for i, x in enumerate(news)]
    for i, x in enumerate(new_xs):
        if x.shape[0] != old_x.shape[0]:
            raise InputError(f"{'new' if len(news) == 1 else f'new[{i}]'} has {x.shape[0]} rows but old has "
                             f"{old_x.shape[0]}; both must embed the same items in the same order")
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != old_x.shape[0]:
        raise InputError(f"labels must hold one label per item ({old_x.shape[0]}), got shape {y.shape}")
    names = list(names) if names is not None else ["old", *(["new"] if len(news) == 1 else
                                                           [f"new{i + 1}" for i in range(len(news))])]
    if len(names) != 1 + len(news) or len(set(names)) != len(names):
        raise InputError(f"names must give {1 + len(news)} distinct names (old, then each new), got {names}")
    ks = tuple(sorted({*RETRIEVAL_KS, 10}))
    query, gallery = query_gallery_split(y, query_fraction=query_fraction, seed=seed)
    q_labels, g_labels = y[query], y[gallery]
    subsets = _pair_subsets(gallery.size, pair_sizes, seed) if aligners else []
    say = progress or (lambda line: None)
    base = _scores(old_x[query], old_x[gallery], q_labels, g_labels, ks)
    rows: list[dict[str, Any]] = [{"new": names[1], "setting": "old/old", "aligner": "", "pairs": 0, **base}]
    verdicts = []
    for name, new_x in zip(names[1:], new_xs, strict=True):
        began = time.perf_counter()
        own = _scores(new_x[query], new_x[gallery], q_labels, g_labels, ks)
        cross = _scores(new_x[query], old_x[gallery], q_labels, g_labels, ks)
        part = [{"new": name, "setting": "new/new", "aligner": "", "pairs": 0, **own},
                {"new": name, "setting": "new/old", "aligner": "", "pairs": 0, **cross}]
        aligned: dict[tuple[str, int], dict[str, Any]] = {}
        for subset in subsets:  # every aligner on one subset of pairs (the ridge fit shared)
            pairs = gallery[subset]
            for aligner, align in fit_aligners(aligners, new_x[pairs], old_x[pairs], seed=seed).items():
                aligned[aligner, int(subset.size)] = {
                    "new": name, "setting": "aligned", "aligner": aligner, "pairs": int(subset.size),
                    **_scores(align(new_x[query]), old_x[gallery], q_labels, g_labels, ks)}
                say(f"{name}: {aligner} on {subset.size} pairs ({time.perf_counter() - began:.1f} s)")
        part += [aligned[aligner, int(subset.size)] for aligner in aligners for subset in subsets]
        if name != names[1]:
            rows.append({**rows[0], "new": name})
        rows.extend(part)
        verdicts.append(_verdict(name, base, own, cross, part[2:], metric))
        say(f"{name}: {verdicts[-1]['verdict']} ({time.perf_counter() - began:.1f} s)")
    table = pd.DataFrame(rows)
    own_by_new = table[table["setting"] == "new/new"].set_index("new")[metric]
    # A share of the new model's own quality that cross-model search recovers: defined for the rows
    # that search across models (new/old, aligned); old/old and new/new are the references.
    table["recovered"] = (table[metric] / table["new"].map(own_by_new)).where(
        ~table["setting"].isin(["old/old", "new/new"]))
    summary: dict[str, Any] = {"n_queries": int(query.size), "n_gallery": int(gallery.size), "metric": metric,
                               "query_fraction": query_fraction, "seed": seed,
                               "pair_sizes": [int(s.size) for s in subsets], "aligners": list(aligners)}
    matrix = None
    if len(new_xs) > 1:
        matrix, ac, am = compatibility_matrix([old_x, *new_xs], y, names=names, metric=metric, query=query,
                                              gallery=gallery, ks=ks)
        summary.update({"AC": ac, "AM": am})
    return CompatResult(table=table, verdicts=pd.DataFrame(verdicts), metric=metric, matrix=matrix, summary=summary)


def _verdict(name: str, base: dict[str, float], own: dict[str, float], cross: dict[str, float],
             aligned: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """The verdict for one new model (module notes, step 4), in numbers and plain words."""
    old_value, own_value, cross_value = base[metric], own[metric], cross[metric]
    out: dict[str, Any] = {"new": name, "metric": metric, "old_old": old_value, "new_new": own_value,
                           "new_old": cross_value, "aligner": "", "pairs": 0, "aligned": float("nan"),
                           "recovered": cross_value / own_value if own_value > 0 else float("nan")}
    if np.isfinite(cross_value) and cross_value >= old_value:
        out["verdict"] = "compatible"
        out["explanation"] = (f"compatible as is: new queries on the old index reach {metric} {cross_value:.3f}, "
                              f"at least the old model's own {old_value:.3f} (BCT criterion); no re-indexing needed")
        return out
    meeting = [r for r in aligned if r[metric] >= old_value]
    as_is = ("the widths differ, so it cannot search the old index as is" if not np.isfinite(cross_value) else
             f"as is, new queries on the old index reach {metric} {cross_value:.3f} against {old_value:.3f} old/old")
    if meeting:
        best = min(meeting, key=lambda r: (r["pairs"], -r[metric]))
        out.update({"verdict": "compatible after alignment", "aligner": best["aligner"], "pairs": best["pairs"],
                    "aligned": best[metric], "recovered": best[metric] / own_value if own_value > 0 else float("nan")})
        out["explanation"] = (f"compatible after alignment: {as_is}; a {best['aligner']} map fitted on "
                              f"{best['pairs']} items encoded by both models reaches {best[metric]:.3f} "
                              f"(>= {old_value:.3f}), {out['recovered']:.0%} of the new model's own "
                              f"{own_value:.3f}")
        return out
    if aligned:
        best = max(aligned, key=lambda r: (r[metric], -r["pairs"]))
        out.update({"aligner": best["aligner"], "pairs": best["pairs"], "aligned": best[metric],
                    "recovered": best[metric] / own_value if own_value > 0 else float("nan")})
        tail = (f"; the best aligner ({best['aligner']}, {best['pairs']} pairs) reaches only {best[metric]:.3f}")
    else:
        tail = "; no aligner was tried"
    out["verdict"] = "not compatible"
    out["explanation"] = f"not compatible: {as_is}{tail}; re-index the gallery with the new model"
    return out


def compatibility_matrix(versions: Sequence[np.ndarray], labels: np.ndarray, *, names: Sequence[str],
                         metric: str, query: np.ndarray, gallery: np.ndarray,
                         ks: tuple[int, ...] = RETRIEVAL_KS) -> tuple[pd.DataFrame, float, float]:
    """``C[t, k]`` = version ``t``'s queries on version ``k``'s gallery for ``t >= k`` (NaN above the
    diagonal), with the average compatibility ``AC`` and average multi-model accuracy ``AM``."""
    n = len(versions)
    matrix = np.full((n, n), np.nan)
    q_labels, g_labels = labels[query], labels[gallery]
    for t in range(n):
        for k in range(t + 1):
            matrix[t, k] = _scores(versions[t][query], versions[k][gallery], q_labels, g_labels, ks)[metric]
    pairs = [(t, k) for t in range(1, n) for k in range(t)]
    ac = float(np.mean([np.isfinite(matrix[t, k]) and matrix[t, k] >= matrix[k, k] for t, k in pairs]))
    lower = matrix[np.tril_indices(n)]
    am = float(np.nanmean(lower)) if np.isfinite(lower).any() else float("nan")
    frame = pd.DataFrame(matrix, index=pd.Index(list(names), name="query"), columns=list(names))
    return frame, ac, am


def compat(*, old: str, new: str | Sequence[str], dataset: Dataset, layer: str = "last", pooling: str = "mean",
           extraction: ExtractionOptions | None = None, **options: Any) -> CompatResult:
    """Compatibility of two (or more) models on ``dataset`` (module notes): their embeddings of
    the dataset's inputs (``layer`` x ``pooling`` of each model, through the feature cache), then
    :func:`compat_features` with ``options``.

    Examples
    --------
    >>> from transferscope.datasets import load_builtin
    >>> from transferscope.workflows.engine.candidates import ExtractionOptions
    >>> result = compat(old="tfidf", new="hashing", dataset=load_builtin("sentence-polarity"),
    ...                 aligners=["ridge"], pair_sizes=["all"], extraction=ExtractionOptions(use_cache=False))
    >>> result.verdict in ("compatible", "compatible after alignment", "not compatible")
    True
    """
    from transferscope.workflows.engine.candidates import extract_candidates

    if dataset.task != "classification":
        raise InputError(f"compat needs one class label or pair id per item (relevance = equal labels); "
                         f"dataset {dataset.name!r} is {dataset.task}")
    news = [new] if isinstance(new, str) else list(new)
    models = [old, *news]
    if len(set(models)) != len(models):
        raise InputError(f"each model must be given once, got {', '.join(models)}")
    query_gallery_split(dataset.labels, seed=int(options.get("seed", 0)))  # labels that allow retrieval: before any model runs
    extraction = extraction or ExtractionOptions()
    feats = []
    for model in models:
        (cand,) = extract_candidates(dataset, [model], layers=layer, poolings=[pooling], seed=int(options.get("seed", 0)),
                                     extraction=extraction)
        feats.append(np.asarray(cand.features, dtype=np.float64))
    return compat_features(feats[0], feats[1:], dataset.labels,
                           names=models, **options)
