"""Similarity matrices between models or layers (``transferscope compare``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.extraction.encoder import Encoder
from transferscope.extraction.specs import check_poolings
from transferscope.metrics import check_features_shape, check_options, check_positive_int, get_metric
from transferscope.metrics.calibration import PermutationTest, similarity_permutation_test
from transferscope.workflows.engine.candidates import Candidate, ExtractionOptions, extract_candidates
from transferscope.workflows.storage.names import short_names
from transferscope.workflows.storage.results import Result

__all__ = ["Comparison", "compare", "similarity_matrix", "write_heatmap", "check_measure"]


def check_measure(measure: str) -> None:
    """Refuse, before any work, a ``measure`` that is not a registered similarity (the message lists them)."""
    get_metric(measure, "similarity")


@dataclass(frozen=True)
class Comparison(Result):
    """Result of :func:`compare`.

    Attributes
    ----------
    measure : str
    measure_kind : {"similarity", "distance"}
    matrix : pandas.DataFrame
        Rows and columns named by representation ("model | layer | pooling", or
        the layer alone when every representation comes from one model).
    pairs : pandas.DataFrame
        Long form: ``row``, ``column``, ``measure``, ``value``, one line per cell
        (plus ``p_value`` and ``null_mean`` with ``n_permutations``).
    """

    kind = "similarity"  # the report's matrix section
    title = "Comparison"

    measure: str
    measure_kind: str
    matrix: pd.DataFrame
    pairs: pd.DataFrame

    def answer(self) -> list[str]:
        """The most alike pair of different representations (the least distant, for a distance),
        beside its chance level where a permutation test ran (a similarity is only read against it)."""
        pairs = self.pairs[(self.pairs["row"] != self.pairs["column"]) & self.pairs["value"].notna()]
        if pairs.empty:
            return []
        best = pairs.loc[pairs["value"].idxmax() if self.measure_kind == "similarity" else pairs["value"].idxmin()]
        word = "most similar" if self.measure_kind == "similarity" else "nearest"
        line = f"The {word} pair: {best['row']} and {best['column']} ({self.measure} {best['value']:.3f}"
        if "p_value" in pairs and pd.notna(best.get("p_value")):
            line += f"; chance level {best['null_mean']:.3f}, permutation p = {best['p_value']:.3g}"
            if best["p_value"] > 0.05:
                line += ": not beyond chance"
        return [line + ")"]

    def to_frame(self) -> pd.DataFrame:
        return self.pairs.copy()

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The matrix a terminal shows (the long form with the permutation test is :meth:`to_frame`)."""
        return [(f"{self.measure} ({self.measure_kind}; rows x columns)", self.matrix.reset_index(names=""))]

    def _repr_html_(self) -> str:
        from transferscope.workflows.storage.results import html_view

        return html_view(f"{self.measure} ({self.measure_kind})", self.answer(), self.matrix.reset_index(names=""))


def similarity_matrix(
    rows: Mapping[str, np.ndarray],
    columns: Mapping[str, np.ndarray] | None = None,
    *,
    measure: str = "cka",
    measure_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """``measure`` between every pair of representations of the same inputs.

    With ``columns`` omitted the matrix is square over ``rows``; a symmetric
    measure is computed once per unordered pair and its diagonal is the
    measure's declared identity value (computed where none is declared).

    Parameters
    ----------
    rows, columns : mapping of str to array of shape (n_samples, d)
    measure : str, default="cka"
        A registered similarity measure.
    measure_options : mapping, optional

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.workflows.compare import similarity_matrix
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(100, 8))
    >>> m = similarity_matrix({"a": a, "2a": 2 * a, "noise": rng.normal(size=(100, 8))})
    >>> float(m.loc["a", "2a"]), bool(m.loc["a", "noise"] < 0.3)
    (1.0, True)
    """
    info = get_metric(measure, "similarity")
    options = dict(measure_options or {})
    check_options(info, options)
    values = _pairwise(rows, columns, lambda a, b: info.func(a, b, **options),
                       symmetric=info.measure.symmetric,
                       diagonal=info.measure.identity)
    return pd.DataFrame(values.astype(float), index=list(rows), columns=list(rows if columns is None else columns))


def _pairwise(
    rows: Mapping[str, np.ndarray],
    columns: Mapping[str, np.ndarray] | None,
    fn: Any,
    *,
    symmetric: bool,
    diagonal: Any = None,
) -> np.ndarray:
    """``fn(row, column)`` for every cell, as an object array.

    Without ``columns`` the matrix is square over ``rows``: a symmetric ``fn`` is
    called once per unordered pair, and the diagonal takes ``diagonal`` where given.
    """
    square = columns is None
    cols = rows if columns is None else columns
    out = np.empty((len(rows), len(cols)), dtype=object)
    for i, a in enumerate(rows):
        for j, b in enumerate(cols):
            if square and symmetric and j < i:
                out[i, j] = out[j, i]
            elif square and i == j and diagonal is not None:
                out[i, j] = diagonal
            else:
                out[i, j] = fn(rows[a], cols[b])
    return out


def compare(
    *,
    inputs: Dataset | Sequence[Any] | None = None,
    models: Sequence[str | Encoder] = (),
    layers: str | Sequence[str | int] = "last",
    pooling: str = "mean",
    features: Mapping[str, Any] | None = None,
    measure: str = "cka",
    measure_options: Mapping[str, Any] | None = None,
    n_permutations: int = 0,
    seed: int = 0,
    extraction: ExtractionOptions | None = None,
) -> Comparison:
    """Similarity between models, or between layers, on the same inputs.

    * several models, ``layers="last"`` (default): model x model;
    * one model, ``layers="all"``: layer x layer of that model;
    * two models and several layers each: a rectangular matrix, the first
      model's layers (rows) x the second's (columns);
    * ``features`` (name -> array): every pair of the given embeddings.

    Parameters
    ----------
    inputs : Dataset or sequence, optional
        Inputs to embed (texts, images, or a Dataset whose labels are not used).
    models : sequence of str or Encoder
    layers : "last", "all", or names / indices
    pooling : str, default="mean"
    features : mapping of str to array, optional
        Precomputed embeddings of the same inputs, instead of ``inputs`` + ``models``.
    measure : str, default="cka"
    measure_options : mapping, optional
    n_permutations : int, default=0
        With a positive number, every off-diagonal pair also gets a permutation-test
        ``p_value`` and the ``null_mean`` (chance level) in ``pairs``
        (:func:`~transferscope.metrics.calibration.similarity_permutation_test`).
    seed, extraction
        As for :func:`transferscope.rank`; ``seed`` also seeds the permutations.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.workflows.compare import compare
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, 5))
    >>> result = compare(features={"x": x, "rotated": x @ np.linalg.qr(rng.normal(size=(5, 5)))[0]})
    >>> round(float(result.matrix.loc["x", "rotated"]), 6)
    1.0
    """
    info = get_metric(measure, "similarity")
    n_permutations = check_positive_int(n_permutations, name="n_permutations", minimum=0)
    if features is not None:
        if inputs is not None or models:
            raise InputError("give either features, or inputs + models, not both")
        scale = "rescale" if info.measure.invariant.isotropic_scaling else "refuse"
        # checked here (the messages name the arrays), not copied: the measure takes its own copy
        shapes = {str(k): check_features_shape(v, name=f"features '{k}'", scale=scale) for k, v in features.items()}
        arrays = dict(zip(shapes, features.values()))
        if len(arrays) < 2:
            raise InputError("features must hold at least two arrays to compare")
        sizes = {shape[0] for shape in shapes.values()}
        if len(sizes) > 1:
            raise InputError(f"features must all have the same number of rows (the same inputs), got {sorted(sizes)}")
        rows_map, cols_map = arrays, None
    else:
        if inputs is None or not models:
            raise InputError("give inputs and at least one model, or features")
        pools = check_poolings(pooling)
        candidates = extract_candidates(inputs, models, layers=layers, poolings=pools, seed=seed,
                                        extraction=extraction)
        model_names = list(dict.fromkeys(c.model for c in candidates))
        short = short_names(model_names)

        def label(c: Candidate) -> str:
            parts = [] if len(model_names) == 1 else [short[c.model]]
            if c.layer != c.model and c.layer not in short[c.model]:
                parts.append(c.layer)
            if len(pools) > 1:
                parts.append(c.pooling)
            return " | ".join(parts) or c.layer

        by_model = {m: {label(c): c.features for c in candidates if c.model == m} for m in model_names}
        if len(candidates) < 2:
            raise InputError("nothing to compare: give several models, or layers='all' for one model")
        if len(model_names) == 2 and all(len(v) > 1 for v in by_model.values()):
            rows_map, cols_map = by_model.values()
        else:
            rows_map, cols_map = {label(c): c.features for c in candidates}, None
    matrix = similarity_matrix(rows_map, cols_map, measure=info.name, measure_options=measure_options)
    pairs = pd.DataFrame({  # row-major, every cell kept (NaN included)
        "row": np.repeat(matrix.index.to_numpy(), matrix.shape[1]),
        "column": np.tile(matrix.columns.to_numpy(), matrix.shape[0]),
        "measure": info.name,
        "value": matrix.to_numpy().ravel(),
    })
    if n_permutations:
        untested = PermutationTest(value=np.nan, p_value=np.nan, null=np.array([np.nan]))
        tests = _pairwise(rows_map, cols_map,
                          lambda a, b: similarity_permutation_test(info.name, a, b, n_permutations=n_permutations,
                                                                   seed=seed, **dict(measure_options or {})),
                          symmetric=info.measure.symmetric, diagonal=untested).ravel()
        pairs["p_value"] = [t.p_value for t in tests]
        pairs["null_mean"] = [t.null_mean for t in tests]
    return Comparison(measure=info.name, measure_kind=info.measure.kind, matrix=matrix, pairs=pairs)


def write_heatmap(comparison: Comparison, path: Any, *, title: str | None = None) -> str:
    """Save the matrix as a heatmap (PNG, SVG or PDF by the suffix); returns the path written."""
    from pathlib import Path

    from matplotlib.figure import Figure  # an object of its own: the user's pyplot backend is never touched

    target = Path(path).expanduser()
    if target.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"heatmap must end in .png, .svg or .pdf, got '{path}'")
    m = comparison.matrix
    width = max(4.0, 0.55 * m.shape[1] + 2.5)
    height = max(3.0, 0.45 * m.shape[0] + 1.5)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    cmap = "viridis" if comparison.measure_kind == "similarity" else "viridis_r"
    image = ax.imshow(m.to_numpy(dtype=float), cmap=cmap, aspect="auto")
    ax.set_xticks(range(m.shape[1]), [str(c) for c in m.columns], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(m.shape[0]), [str(r) for r in m.index], fontsize=8)
    if m.size <= 400:
        low, high = image.get_clim()
        for (i, j), v in np.ndenumerate(m.to_numpy(dtype=float)):
            light = high > low and (v - low) / (high - low) > 0.6
            if comparison.measure_kind == "distance":
                light = not light
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="black" if light else "white")
    fig.colorbar(image, ax=ax, label=comparison.measure)
    ax.set_title(title or f"{comparison.measure} ({comparison.measure_kind})", fontsize=10)
    tmp = target.with_name(f".{target.name}.tmp{target.suffix}")
    fig.savefig(tmp)
    tmp.replace(target)  # atomic: a reader never sees half a file
    return str(target)
