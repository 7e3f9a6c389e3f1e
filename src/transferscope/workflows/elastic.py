"""How small can the embeddings be (``transferscope elastic``)? Quality against bytes per vector.

For each layer of a model and each compression of :mod:`transferscope.extraction.compression`
(prefix / PCA truncation, float16, int8, binary, and their chains), the user's task is
measured on the compressed vectors, beside float32:

* a labelled dataset (``quality="probe"``): the linear probe's test accuracy (or R^2) on
  ``splits`` seeded 60/20/20 splits (:func:`~transferscope.probes.linear.linear_probe`); PCA and
  the int8 ranges are fitted on each split's training rows only;
* retrieval (``quality="retrieval"``): ``splits`` seeded query / gallery splits of
  :func:`~transferscope.workflows.compat.query_gallery_split` and nDCG@10 (with Recall@1,
  Recall@10 and mAP in the table) of :func:`~transferscope.metrics.retrieval.retrieval_scores`,
  the measure of sentence-transformers' quantisation report; PCA and
  the int8 ranges are fitted on the gallery; binary codes are searched by Hamming distance, and
  ``binary+rescore`` re-ranks the 4 x 10 nearest codes by the float32 query (the
  sentence-transformers recipe: the index stores bits only);
* a word-similarity set (``quality="similarity"``, ``wordsim353`` / ``simlex999``): Spearman of
  the pair cosines (binary codes read as +-1, so the cosine is ``1 - 2 hamming / d``); PCA and
  the int8 ranges are fitted on the words (no ratings are used).

``quality`` is the mean over the splits and ``quality_se`` its standard error; ``delta`` is the
mean of the per-split differences from the best float32 configuration (paired: the same splits)
and ``delta_se`` its standard error, both with Nadeau and Bengio's correction for overlapping
resamples (:func:`~transferscope.probes.corrected_standard_error`). The Pareto front holds the
configurations that no other beats on both bytes and quality; the smallest configuration whose
mean ``delta`` is within ``tolerance`` (absolute, in the quality's units) is the
recommendation, and the answer says when the tolerance is below twice the standard error of the
differences (a finding inside its own noise). A word-similarity set is one fixed set of pairs:
no splits, no standard error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.extraction.compression import bytes_per_vector, compress, compressed_dim, decode, parse_compression
from transferscope.workflows.engine.options import ExtractionOptions
from transferscope.workflows.storage.results import Result

__all__ = ["ElasticResult", "elastic", "elastic_features", "default_compressions", "pareto_front",
           "ELASTIC_QUALITIES", "FLOAT32", "DEFAULT_SPLITS"]

ELASTIC_QUALITIES = ("probe", "retrieval", "similarity")
DEFAULT_SPLITS = 5
FLOAT32 = "float32"
RESCORE = "binary+rescore"
_RESCORE_MULTIPLIER = 4
_RETRIEVAL_METRICS = ("ndcg@10", "recall@1", "recall@10", "map")


def default_compressions(dim: int) -> list[str]:
    """float32, float16, int8, binary, and prefix / PCA truncation to 64, 128 and 256 dimensions
    (those below ``dim``), alone and with int8 or binary.

    Examples
    --------
    >>> default_compressions(100)[:6]
    ['float32', 'float16', 'int8', 'binary', 'prefix64', 'prefix64+int8']
    """
    out = [FLOAT32, "float16", "int8", "binary"]
    for size in (64, 128, 256):
        if size < dim:
            for kind in ("prefix", "pca"):
                out += [f"{kind}{size}", f"{kind}{size}+int8", f"{kind}{size}+binary"]
    return out


def pareto_front(bytes_: Sequence[float], quality: Sequence[float]) -> np.ndarray:
    """Mask of the points that no other point beats on both (fewer or equal bytes and higher or
    equal quality, one of them strictly).

    Examples
    --------
    >>> pareto_front([4, 2, 2, 1], [0.9, 0.8, 0.7, 0.5]).tolist()
    [True, True, False, True]
    """
    b, q = np.asarray(bytes_, dtype=float), np.asarray(quality, dtype=float)
    keep = np.isfinite(q)
    for i in np.flatnonzero(keep):
        others = keep & (b <= b[i]) & (q >= q[i]) & ((b < b[i]) | (q > q[i]))
        if others.any():
            keep[i] = False
    return keep


@dataclass
class ElasticResult(Result):
    """Result of :func:`elastic` / :func:`elastic_features`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per layer x compression: ``layer``, ``compression``, ``dim``, ``bytes``,
        ``quality`` (the ``metric``, mean over the splits) and ``quality_se``, ``delta`` (paired,
        against the best float32 configuration) and ``delta_se``, ``ratio``
        (float32 bytes of the layer / bytes), ``pareto`` (on the front), and for retrieval every
        metric of the search.
    metric : str
        ``accuracy``, ``r2``, ``ndcg@10`` or ``spearman``.
    tolerance : float
    reference : dict
        The best float32 row.
    recommended : dict
        The smallest configuration within ``tolerance`` of the reference.
    """

    kind = "elastic"
    title = "Quality against bytes per vector"

    table: pd.DataFrame
    metric: str
    tolerance: float
    reference: dict[str, Any]
    recommended: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def answer(self) -> list[str]:
        """The recommendation in plain words, and whether the measurement can tell it apart: when
        the tolerance is below twice the standard error of a difference from the best (over the
        splits; with one split, the binomial standard error of its test accuracy)."""
        ref, rec = self.reference, self.recommended
        spread = (f"; means of {self.settings['splits']} splits, the difference {rec['delta']:+.4f} +- "
                  f"{rec['delta_se']:.4f}" if self.settings.get("splits", 1) > 1 and pd.notna(rec.get("delta_se"))
                  else "")
        lines = [f"Smallest within {self.tolerance:g}: {rec['layer']} {rec['compression']}: {rec['bytes']} bytes per "
                 f"vector ({ref['bytes'] / rec['bytes']:.0f}x smaller than {ref['layer']} float32), {self.metric} "
                 f"{rec['quality']:.4f} against {ref['quality']:.4f} (within the tolerance {self.tolerance:g}{spread})"]
        se = self.settings.get("standard_error")
        if se is not None and self.tolerance < 2 * se:
            close = self.table[self.table["delta"].abs() <= 2 * se]
            where = (f"on {self.settings['splits']} splits a difference from the best has a standard error of "
                     f"about {se:.3f}" if self.settings.get("splits", 1) > 1 else
                     f"one test split of {self.settings['test_items']} items gives an {self.metric} a standard "
                     f"error of about {se:.3f}")
            lines.append(f"  within the noise: {where}, so differences under {2 * se:.3f} (the tolerance "
                         f"{self.tolerance:g} is one) cannot be told apart; {len(close)} of {len(self.table)} "
                         f"configurations are that close to the best; give more data or a tolerance of at least "
                         f"{2 * se:.3f}")
        return lines

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The compact table a terminal shows (every column is in :meth:`to_frame`): per
        configuration its bytes, the quality and its difference from the best float32 one as
        ``mean ± standard error``, the size ratio, and marks for the Pareto front and the pick."""
        from transferscope.workflows.storage.results import se_text

        t = self.table
        shown = pd.DataFrame({"layer": t["layer"], "compression": t["compression"], "bytes": t["bytes"],
                              self.metric: [se_text(q, e, digits=3) for q, e in zip(t["quality"], t["quality_se"])],
                              "delta": [se_text(d, e, digits=3) for d, e in zip(t["delta"], t["delta_se"])],
                              "smaller": [f"{r:.3g}x" for r in t["ratio"]]})
        shown["note"] = ["pick" if (r.layer, r.compression) == (self.recommended["layer"],
                                                                self.recommended["compression"])
                         else "front" if r.pareto else "" for r in t.itertuples()]
        if t["layer"].nunique() == 1:
            shown = shown.drop(columns=["layer"])
        splits = self.settings.get("splits", 1)
        return [(f"{self.metric} against bytes per vector" + (f", means of {splits} splits" if splits > 1 else ""),
                 shown)]

    def plot(self, path: str | Path) -> Path:
        """Quality against bytes per vector (log scale), the Pareto front joined, to PNG or SVG."""
        from matplotlib.figure import Figure

        target = Path(path)
        if target.suffix.lower() not in (".png", ".svg"):
            raise InputError(f"plot path must end in .png or .svg, got '{path}'")
        figure = Figure(figsize=(7.5, 4.8), layout="constrained")
        ax = figure.subplots()
        for layer, part in self.table.groupby("layer", sort=False):
            ax.scatter(part["bytes"], part["quality"], s=18, label=str(layer), alpha=0.8)
        front = self.table[self.table["pareto"]].sort_values("bytes")
        ax.plot(front["bytes"], front["quality"], color="black", linewidth=1, label="Pareto front")
        for row in front.itertuples():
            ax.annotate(f"{row.compression}", (row.bytes, row.quality), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        rec = self.recommended
        ax.scatter([rec["bytes"]], [rec["quality"]], s=90, facecolors="none", edgecolors="red",
                   label=f"smallest within {self.tolerance:g}")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("bytes per vector")
        ax.set_ylabel(self.metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        figure.savefig(target, dpi=120)
        return target


@dataclass(frozen=True)
class _Part:
    """One split of the quality measurement: the rows compressions are fitted on, the train and test
    sizes (for the corrected standard error; 0 where there is no split), and
    ``score(codes, spec, float32 features)``."""

    fit_rows: np.ndarray
    n_train: int
    n_test: int
    score: Callable[[np.ndarray, str, np.ndarray], dict[str, float]]


def _quality_parts(quality: str, labels: np.ndarray, task: str, seed: int, pairs: Any,
                   splits: int) -> tuple[list[_Part], str]:
    """The splits of the measurement (module notes) and its metric."""
    if quality == "probe":
        from transferscope.probes.linear import linear_probe

        data = Dataset.of_features(labels, task=task, name="elastic")
        parts = []
        for number in range(splits):
            split = data.split(seed=seed + 2 * number)  # a split uses seed and seed + 1

            def probe(x: np.ndarray, spec: str, floats: np.ndarray, split: Any = split) -> dict[str, float]:
                return {"quality": float(linear_probe(x, labels, splits=split, task=task).score)}

            parts.append(_Part(split.train, len(split.train), len(split.test), probe))
        return parts, "accuracy" if task == "classification" else "r2"
    if quality == "retrieval":
        from transferscope.metrics.retrieval import retrieval_scores
        from transferscope.workflows.compat import query_gallery_split

        parts = []
        for number in range(splits):
            query, gallery = query_gallery_split(labels, seed=seed + number)

            def search(x: np.ndarray, spec: str, floats: np.ndarray, query: Any = query, gallery: Any = gallery
                       ) -> dict[str, float]:
                rescore = spec == RESCORE  # the index holds bits; the float32 queries re-rank their nearest codes
                got = retrieval_scores((floats if rescore else x)[query], x[gallery], labels[query], labels[gallery],
                                       ks=(1, 10), metric="hamming" if rescore or spec.endswith("binary") else "cosine",
                                       rescore=_RESCORE_MULTIPLIER if rescore else None)
                return {"quality": got["ndcg@10"], **{m: got[m] for m in _RETRIEVAL_METRICS}}

            parts.append(_Part(gallery, len(gallery), len(query), search))
        return parts, "ndcg@10"
    from transferscope.probes.similarity import similarity_spearman

    def spearman(x: np.ndarray, spec: str, floats: np.ndarray) -> dict[str, float]:
        codes = 2.0 * x - 1.0 if spec.endswith("binary") else x
        return {"quality": similarity_spearman(codes[pairs.first], codes[pairs.second], pairs.pairs.labels).score}

    return [_Part(np.arange(labels.shape[0]), 0, 0, spearman)], "spearman"


def _encoded(x: np.ndarray, spec: str, fit_rows: np.ndarray, *, quality: str, seed: int) -> tuple[np.ndarray, int, int]:
    """``x`` under the compression ``spec`` (fitted on ``fit_rows``), read as numbers for the
    quality (a binary index is searched as it is stored), its dimension and its bytes per vector."""
    if spec == FLOAT32:
        return x, x.shape[1], bytes_per_vector(x.shape[1], None)
    stored = "binary" if spec == RESCORE else spec
    dim = compressed_dim(x.shape[1], stored, fit_rows=len(fit_rows))
    codes, size = compress(x, stored, fit=fit_rows, seed=seed), bytes_per_vector(dim, stored)
    if not (quality == "retrieval" and stored == "binary"):
        codes = decode(codes, stored, dim=dim).astype(np.float64)
    return codes, dim, size


def elastic_features(features: dict[str, Any], labels: Any = None, *, quality: str = "probe",
                     task: str = "classification", compressions: Sequence[str] | None = None,
                     tolerance: float = 0.01, seed: int = 0, pairs: Any = None, splits: int = DEFAULT_SPLITS,
                     progress: Callable[[str], None] | None = None) -> ElasticResult:
    """Quality against bytes for precomputed features (module notes).

    Parameters
    ----------
    features : dict
        Layer name -> features (n_items x dim), one row per item (per word for ``similarity``).
    labels : array-like, optional
        Labels (probe), classes or pair ids (retrieval); unused for ``similarity``.
    quality : {"probe", "retrieval", "similarity"}, default="probe"
    task : {"classification", "regression"}
        For ``probe``.
    compressions : sequence of str, optional
        Compression specs (``float32`` = none); :func:`default_compressions` of the widest layer
        by default. ``binary+rescore`` is added for retrieval when ``binary`` is tried.
    tolerance : float, default=0.01
    seed : int, default=0
        Seed of the first split (split ``i`` has its own seed) and of PCA.
    pairs : PairTarget, optional
        The word pairs, for ``similarity`` (:func:`~transferscope.workflows.pair_targets.load_pair_target`).
    splits : int, default=5
        Seeded splits the probe or the retrieval is measured on (ignored for ``similarity``).
    progress : callable, optional

    Returns
    -------
    ElasticResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(np.arange(4), 50)
    >>> x = rng.normal(size=(4, 96))[y] + rng.normal(size=(200, 96))
    >>> result = elastic_features({"output": x}, y, compressions=["float32", "int8", "binary", "pca64"])
    >>> result.table["bytes"].tolist()
    [384, 96, 12, 256]
    >>> result.settings["splits"], bool(result.table["quality_se"].notna().all())
    (5, True)
    """
    if quality not in ELASTIC_QUALITIES:
        raise InputError(f"quality must be one of {', '.join(ELASTIC_QUALITIES)}, got {quality!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not np.isfinite(tolerance) \
            or tolerance < 0:
        raise InputError(f"tolerance must be a number >= 0, got {tolerance!r}")
    if isinstance(splits, bool) or not isinstance(splits, (int, np.integer)) or not 1 <= splits <= 100:
        raise InputError(f"splits must be a whole number from 1 to 100, got {splits!r}")
    arrays, y = _checked_layers(features, labels, quality=quality, task=task, pairs=pairs)
    specs = _checked_compressions(compressions, widest=max(a.shape[1] for a in arrays.values()), quality=quality)
    parts, metric = _quality_parts(quality, y, task, seed, pairs, 1 if quality == "similarity" else int(splits))
    rows, per_split = _measured(arrays, specs, parts, quality=quality, seed=seed, metric=metric, progress=progress)
    table = pd.DataFrame(rows)
    floats = table[table["compression"] == FLOAT32]
    reference = (floats if not floats.empty else table).sort_values("quality", ascending=False).iloc[0].to_dict()
    baseline = per_split[(reference["layer"], reference["compression"])]

    def se(values: np.ndarray) -> float:  # the corrected standard error of a mean over the splits
        from transferscope.probes.repeated import corrected_standard_error

        return corrected_standard_error(values, n_train=parts[0].n_train, n_test=parts[0].n_test) \
            if parts[0].n_test else float("nan")

    keys = list(zip(table["layer"], table["compression"]))
    table.insert(table.columns.get_loc("quality") + 1, "quality_se", [se(per_split[k]) for k in keys])
    table["delta"] = [float(np.mean(per_split[k] - baseline)) for k in keys]
    table["delta_se"] = [se(per_split[k] - baseline) for k in keys]
    table["ratio"] = table["layer"].map({k: 4 * a.shape[1] for k, a in arrays.items()}) / table["bytes"]
    table["pareto"] = pareto_front(table["bytes"], table["quality"])
    within = table[table["delta"] >= -tolerance]
    recommended = within.sort_values(["bytes", "quality"], ascending=[True, False], kind="stable").iloc[0].to_dict()
    settings: dict[str, Any] = {"quality": quality, "seed": seed, "task": task, "splits": len(parts)}
    if len(parts) > 1:  # the noise of a difference: the typical standard error of the paired differences
        noise = table.loc[table["delta_se"] > 0, "delta_se"]
        if not noise.empty:
            settings["standard_error"] = float(noise.median())
    elif quality == "probe" and task == "classification":  # one test split: the binomial standard error
        p, n_test = float(reference["quality"]), parts[0].n_test
        settings |= {"test_items": n_test, "standard_error": float(np.sqrt(max(p * (1 - p), 1e-12) / n_test))}
    return ElasticResult(table=table, metric=metric, tolerance=float(tolerance), reference=reference,
                         recommended=recommended, settings=settings)


def _checked_layers(features: dict[str, Any], labels: Any, *, quality: str, task: str,
                    pairs: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The checked layer arrays (equal rows) and the labels the quality needs (zeros for ``similarity``)."""
    from transferscope.metrics import check_features

    if not features:
        raise InputError("features must hold at least one layer")
    arrays = {str(k): check_features(v, name=f"features[{k!r}]") for k, v in features.items()}
    n = {a.shape[0] for a in arrays.values()}
    if len(n) != 1:
        raise InputError(f"every layer must have the same rows, got {sorted(n)}")
    if quality == "similarity":
        if pairs is None:
            raise InputError("quality='similarity' needs pairs (a word-similarity target)")
        return arrays, np.zeros(n.pop())
    if labels is None:
        raise InputError(f"quality={quality!r} needs labels")
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != next(iter(arrays.values())).shape[0]:
        raise InputError(f"labels must hold one label per row ({next(iter(arrays.values())).shape[0]}), "
                         f"got shape {y.shape}")
    if quality == "retrieval" and task == "regression":
        raise InputError("retrieval needs class labels or pair ids, not regression targets")
    return arrays, y


def _checked_compressions(compressions: Sequence[str] | None, *, widest: int, quality: str) -> list[str]:
    """The compression specs, parsed (the default grid of the widest layer when None), with
    ``binary+rescore`` added for retrieval when ``binary`` is tried."""
    specs = list(compressions) if compressions is not None else default_compressions(widest)
    for spec in specs:
        if spec not in (FLOAT32, RESCORE):
            parse_compression(spec)
    if quality == "retrieval" and "binary" in specs and RESCORE not in specs:
        specs.append(RESCORE)
    if quality != "retrieval" and RESCORE in specs:
        raise InputError(f"{RESCORE} applies to quality='retrieval' only")
    if len(set(specs)) != len(specs):
        raise InputError("compressions must not repeat a spec")
    return specs


def _measured(arrays: dict[str, np.ndarray], specs: list[str], parts: list[Any], *, quality: str, seed: int,
              metric: str, progress: Callable[[str], None] | None
              ) -> tuple[list[dict[str, Any]], dict[tuple[str, str], np.ndarray]]:
    """Each layer x compression measured on every split: a row of means, and the per-split qualities."""
    from transferscope.extraction.progress import progress_bar

    say = progress or (lambda line: None)
    rows, per_split = [], {}
    with progress_bar("elastic: configurations measured", total=len(arrays) * len(specs),
                      enabled=progress is not None) as advance:
        for layer, x in arrays.items():
            for spec in specs:
                got = []
                for part in parts:
                    codes, dim, size = _encoded(x, spec, part.fit_rows, quality=quality, seed=seed)
                    got.append(part.score(codes, spec, x))
                per_split[(layer, spec)] = np.array([g["quality"] for g in got])
                rows.append({"layer": layer, "compression": spec, "dim": int(dim), "bytes": int(size),
                             **{k: float(np.mean([g[k] for g in got])) for k in got[0]}})
                say(f"{layer} {spec}: {metric} {rows[-1]['quality']:.4f} at {size} bytes")
                advance(1)
    return rows, per_split


def elastic(*, model: str, dataset: Dataset | str, layers: str | Sequence[str | int] = "last", pooling: str = "mean",
            quality: str | None = None, extraction: ExtractionOptions | None = None, **options: Any) -> ElasticResult:
    """Quality against bytes per vector of ``model`` on ``dataset`` (module notes).

    ``dataset`` is a :class:`Dataset` (``quality`` ``probe`` by default, or ``retrieval``) or the
    name of a word-similarity set (``wordsim353``, ``simlex999``: ``similarity``). ``layers``
    (``"last"``, ``"all"`` for the layers x dimensions grid, or names) x ``pooling`` are extracted
    through the feature cache; ``options`` go to :func:`elastic_features`.

    Examples
    --------
    >>> from transferscope.datasets import load_builtin
    >>> from transferscope.workflows.engine.candidates import ExtractionOptions
    >>> result = elastic(model="tfidf", dataset=load_builtin("sentence-polarity"),
    ...                  compressions=["float32", "int8"], extraction=ExtractionOptions(use_cache=False))
    >>> list(result.table["compression"])
    ['float32', 'int8']
    """
    from transferscope.workflows.engine.candidates import extract_candidates
    from transferscope.workflows.pair_targets import is_pair_target, load_pair_target

    extraction = extraction or ExtractionOptions()
    pairs = None
    if isinstance(dataset, str):
        if not is_pair_target(dataset):
            raise InputError(f"dataset {dataset!r} is not a word-similarity set; pass a Dataset for other data")
        pairs = load_pair_target(dataset)
        inputs: Any = pairs.words
        quality = quality or "similarity"
        labels, task = None, "regression"
    else:
        inputs, labels, task = dataset, dataset.labels, dataset.task
        quality = quality or "probe"
        if task == "multilabel":
            raise InputError("elastic needs a classification or regression dataset (or a word-similarity set)")
    if (quality == "similarity") != (pairs is not None):
        raise InputError("quality 'similarity' goes with a word-similarity set (wordsim353, simlex999), and only there")
    cands = extract_candidates(inputs, [model], layers=layers, poolings=[pooling],
                               seed=int(options.get("seed", 0)), extraction=extraction)
    features = {c.layer: np.asarray(c.features, dtype=np.float64) for c in cands}
    return elastic_features(features, labels, quality=quality, task=task, pairs=pairs, **options)
