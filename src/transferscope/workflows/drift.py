"""What did fine-tuning change (``transferscope drift``)? Per-layer drift of fine-tuned models from
their base, and fingerprints that group models fine-tuned on similar tasks.

**Per layer**, on the same inputs (a seeded subsample of ``max_samples``), base against tuned:
linear and debiased CKA, the orthogonal Procrustes distance, the angular shape metric, mutual
10-NN overlap, and the change of RankMe (effective rank) and of anisotropy (mean cosine between
inputs). ``drift`` is ``1 - linear CKA``; the change is *largest* at the layer of maximal drift and
*starts* at the first layer whose drift reaches :data:`ONSET_SHARE` of that maximum.

**Against a null.** A drift is a finding about the task only where it exceeds what the fine-tune's
own randomness moves: given a re-seeded twin of a tuned model (the same fine-tune trained with
another seed, e.g. ``finetuned:TARGET@1:BASE``), each layer also gets ``null_drift`` (1 - linear
CKA between the tuned model and its twin) and ``beyond_null`` (drift above it). Onset and peak
are then read among the layers beyond the null only, and a model with none is reported as "no
drift beyond a re-seed". Without a twin no null is compared, and the answer says so.

**Delta-activation fingerprints** (after Delta Activations, Xu et al. 2025): each tuned model's
mean shift from the base, ``mean_x (h_tuned(x) - h_base(x))``, on a fixed generic input set (the
:data:`GENERIC_WORDS` most frequent English words of ``wordfreq``, the same for every model and
every dataset), per layer divided by the base layer's root-mean-square norm and concatenated over
the layers (for image models the first :data:`GENERIC_WORDS` plain digits of the MNIST held-out
pool). Fingerprints are compared by cosine distance and grouped by average-linkage
hierarchical clustering (:mod:`scipy.cluster.hierarchy`), the number of groups chosen by the
silhouette (:func:`sklearn.metrics.silhouette_score`) when there are at least three models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.workflows.engine.options import ExtractionOptions
from transferscope.workflows.storage.results import Result

__all__ = ["DriftResult", "drift", "drift_features", "fingerprints", "cluster_fingerprints", "fingerprint_agreement",
           "null_twins", "ONSET_SHARE",
           "GENERIC_WORDS", "generic_inputs"]

ONSET_SHARE = 0.1
GENERIC_WORDS = 500
_MEASURES = ("cka_linear", "cka_debiased", "procrustes", "shape_metric", "mutual_knn")


@dataclass
class DriftResult(Result):
    """Result of :func:`drift` / :func:`drift_features`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per tuned model x layer: ``tuned``, ``layer``, ``drift`` and every measure
        (module notes), ``rankme_base`` / ``rankme_tuned`` / ``rankme_change``,
        ``anisotropy_base`` / ``anisotropy_tuned`` / ``anisotropy_change``.
    summary : pandas.DataFrame
        Per tuned model: ``onset_layer``, ``peak_layer``, ``peak_drift``, with a null ``null_twin``
        and ``peak_null`` (the twin's drift at the peak, or the largest where nothing is beyond
        it), and with fingerprints ``group``.
    distances : pandas.DataFrame or None
        Cosine distances between the fingerprints.
    """

    kind = "drift"
    title = "Drift from the base"

    table: pd.DataFrame
    summary: pd.DataFrame
    distances: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table.merge(self.summary, on="tuned", how="left")

    def answer(self, names: Mapping[str, str] | None = None) -> list[str]:
        """Per tuned model: where the change starts and where it is largest (or that it is the base
        itself, up to rounding), and the layers it could not be compared on; ``names`` shortens
        model names."""
        name = (lambda n: (names or {}).get(n, n))  # noqa: E731
        lines = [_drift_line(name(r.tuned), r.onset_layer, r.peak_layer, r.peak_drift,
                             getattr(r, "peak_null", float("nan")), getattr(r, "null_twin", None))
                 for r in self.summary.itertuples()]
        if "null_twin" not in self.summary or self.summary["null_twin"].isna().any():
            lines.append("Note: not compared with a null; a re-seeded fine-tune (--null reseed, or --null SPEC) "
                         "shows which of these changes are beyond the fine-tune's own randomness")
        return lines + [f"Note: {note}" for note in self.settings.get("notes", [])]

    def views(self, names: Mapping[str, str] | None = None) -> list[tuple[str, pd.DataFrame]]:
        """The compact tables a terminal shows (every measure is in :meth:`to_frame`): the drift per
        layer and tuned model (with a null, the twin's in brackets and ``*`` where the drift is
        beyond it), where the change starts and peaks, and each model's nearest fingerprint (the
        whole distance matrix is :attr:`distances`); ``names`` shortens model names."""
        from transferscope.workflows.storage.names import distinct_labels
        from transferscope.workflows.storage.results import TABLE_WIDTH, table_width

        name = (lambda n: (names or {}).get(n, n))  # noqa: E731
        label = distinct_labels([name(t) for t in self.summary["tuned"]])
        column = {t: label[name(t)] for t in self.summary["tuned"]}
        has_null = "null_drift" in self.table
        cells = self.table.assign(cell=[
            f"{r['drift']:.3f}" + (f" [{r['null_drift']:.3f}]{'*' if r['beyond_null'] else ''}"
                                   if has_null and pd.notna(r.get("null_drift")) else "")
            for r in self.table.to_dict("records")])
        layers = list(dict.fromkeys(self.table["layer"]))
        per_layer = (cells.pivot(index="layer", columns="tuned", values="cell").reindex(layers)[list(column)]
                     .fillna("").reset_index())
        header = column if table_width(per_layer.rename(columns=column)) <= TABLE_WIDTH else {
            t: f"#{i}" for i, t in enumerate(column, 1)}  # models numbered where their names do not fit
        per_layer = per_layer.rename(columns=header)
        title = "Drift (1 - linear CKA)" + ("; [a re-seeded twin's], * beyond it" if has_null else "")
        summary = self.summary.assign(tuned=self.summary["tuned"].map(column))
        if header is not column:  # the per-layer table numbers the models: say which is which
            summary.insert(0, "#", range(1, len(summary) + 1))
        summary = summary.drop(columns=[c for c in ("null_twin",) if c in summary])
        for where in ("onset_layer", "peak_layer"):  # none: no drift, or none beyond the null (the answer says which)
            summary[where] = summary[where].astype(object).where(summary[where].notna(), "-")
        views = [(title, per_layer), ("Where the change starts and where it is largest", summary)]
        if self.distances is not None and len(self.distances) > 1:  # each model's nearest (the matrix: --output)
            d = self.distances.rename(index=column, columns=column)
            off = d.where(~np.eye(len(d), dtype=bool))
            nearest = [(n, off.loc[n].idxmin(), float(off.loc[n].min())) if off.loc[n].notna().any() else (n, "-", np.nan)
                       for n in d.index]
            views.append(("Nearest fingerprint (cosine distance)",
                          pd.DataFrame(nearest, columns=["tuned", "nearest", "distance"])))
        return views

    def plot(self, path: str | Path) -> Path:
        """The per-layer drift curves (1 - linear CKA, and mutual k-NN overlap) to PNG or SVG."""
        from matplotlib.figure import Figure

        target = Path(path)
        if target.suffix.lower() not in (".png", ".svg"):
            raise InputError(f"plot path must end in .png or .svg, got '{path}'")
        figure = Figure(figsize=(9, 4), layout="constrained")
        left, right = figure.subplots(1, 2)
        for name, part in self.table.groupby("tuned", sort=False):
            left.plot(part["layer"], part["drift"], marker="o", label=str(name))
            right.plot(part["layer"], part["mutual_knn"], marker="o", label=str(name))
        left.set_ylabel("drift (1 - linear CKA)")
        right.set_ylabel("mutual 10-NN overlap with the base")
        for ax in (left, right):
            ax.tick_params(axis="x", rotation=45, labelsize=7)
            ax.grid(alpha=0.3)
        handles, labels = left.get_legend_handles_labels()  # below the plots: it covers no curve or label
        figure.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), fontsize=7, frameon=False)
        figure.savefig(target, dpi=120)
        return target


def _layer_rows(base: np.ndarray, tuned: np.ndarray) -> dict[str, float]:
    from transferscope.metrics.measures import geometry, similarity

    row = {"cka_linear": similarity("cka", base, tuned), "cka_debiased": similarity("cka", base, tuned,
                                                                                   estimator="debiased"),
           "procrustes": similarity("procrustes", base, tuned), "shape_metric": similarity("shape_metric", base, tuned),
           "mutual_knn": similarity("mutual_knn", base, tuned, k=10)}
    for name in ("rankme", "anisotropy"):
        before, after = geometry(name, base), geometry(name, tuned)
        row.update({f"{name}_base": before, f"{name}_tuned": after, f"{name}_change": after - before})
    row["drift"] = 1.0 - row["cka_linear"]
    return row


#: A largest drift at or below this (1 - linear CKA) is a model equal to its base up to rounding,
#: a rotation and a scale (what linear CKA ignores): no onset and no peak are reported.
NO_DRIFT = 1e-9


def _onset_and_peak(layers: list[str], drift_values: np.ndarray,
                    beyond: np.ndarray | None = None) -> tuple[str | None, str | None, float]:
    """Onset and peak layers and the peak's drift, among the layers ``beyond`` the null when given
    (None, None and the largest drift where no layer drifts, or none is beyond the null)."""
    eligible = np.ones(len(layers), dtype=bool) if beyond is None else np.asarray(beyond, dtype=bool)
    largest = float(np.nanmax(drift_values))
    if not eligible.any() or not largest > NO_DRIFT:  # identical to the base, or within the null
        return None, None, largest
    masked = np.where(eligible, drift_values, -np.inf)
    peak = int(np.argmax(masked))
    onset = int(np.flatnonzero(masked >= ONSET_SHARE * drift_values[peak])[0])
    return layers[onset], layers[peak], float(drift_values[peak])


def _check_groups(n_groups: int | None, tuned: int) -> None:
    if n_groups is not None and not (isinstance(n_groups, (int, np.integer)) and not isinstance(n_groups, bool)
                                     and 1 <= n_groups <= tuned):
        raise InputError(f"n_groups (--groups) must be between 1 and the number of tuned models ({tuned}), "
                         f"got {n_groups!r}")


def _drift_line(name: str, onset: str | None, peak: str | None, height: float, null: float = float("nan"),
                twin: str | None = None) -> str:
    compared = twin is not None and not pd.isna(twin)
    if onset is None or pd.isna(onset):  # a table keeps None as a missing value
        if compared and height > NO_DRIFT:
            return (f"{name}: no drift beyond a re-seed: at every layer its re-seeded twin differs from it at least "
                    f"as much as it differs from the base (largest drift {height:.3f}, the twin {null:.3f} there); "
                    "where the change starts is not a finding")
        return (f"{name}: no drift: 1 - linear CKA is zero at every layer compared (largest {height:.1e}); its "
                "features are the base's up to a rotation and a scale")
    line = f"{name}: drift starts at {onset}, largest at {peak} ({height:.3f}"
    return line + (f"; a re-seeded twin differs by {null:.3f} there)" if compared else ")")


def _some(layers: list[str]) -> str:
    """``'output'`` / ``'a', 'b' and 3 more`` / ``none``."""
    if not layers:
        return "none"
    shown = ", ".join(repr(layer) for layer in layers[:3])
    return shown + (f" and {len(layers) - 3} more" if len(layers) > 3 else "")


def _guess(missing: list[str], extra: list[str]) -> str:
    """Why two models' layers differ, where their names say: a block of the network (``layer_N``,
    ``block...``) is another depth or architecture; the base's ``output`` alone is its pipeline's
    pooled output, which a fine-tune read as a transformers model does not have."""
    if missing == ["output"] and not extra:
        return ": the base's pipeline output (pooled and normalised), not a block of the network"
    return ": another architecture or depth?"


def fingerprints(base: Mapping[str, Any], tuned: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Delta-activation fingerprints (module notes): one row per tuned model.

    ``base`` maps layer -> the base model's features of the generic inputs, ``tuned`` maps each
    tuned model -> its features of the same inputs; the layers every model has are used.

    Examples
    --------
    >>> import numpy as np
    >>> base = {"l1": np.ones((4, 2))}
    >>> fingerprints(base, {"a": {"l1": np.ones((4, 2)) + [1.0, 0.0]}}).round(3).values.tolist()
    [[0.707, 0.0]]
    """
    from transferscope.metrics import check_features

    shared = [layer for layer in base if all(layer in layers for layers in tuned.values())]
    if not shared:
        raise InputError("the tuned models share no layer with the base (a different architecture?)")
    rows = {}
    for name, layers in tuned.items():
        parts = []
        for layer in shared:
            b = base[layer]
            b64 = check_features(b, name=f"base[{layer!r}]")
            t64 = check_features(layers[layer], name=f"tuned[{name!r}][{layer!r}]")
            if t64.shape != b64.shape:
                raise InputError(f"tuned model {name!r} layer {layer!r} has shape {t64.shape}, the base {b64.shape}")
            scale = float(np.sqrt(np.mean(np.sum(b64 ** 2, axis=1))))
            parts.append((t64 - b64).mean(axis=0) / (scale if scale > 0 else 1.0))
        rows[name] = np.concatenate(parts)
    return pd.DataFrame.from_dict(rows, orient="index")


def cluster_fingerprints(prints: pd.DataFrame, *, n_groups: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Cosine distances between fingerprints and their groups (average linkage; the number of
    groups by the silhouette unless ``n_groups`` is given; one group for fewer than 3 models).

    A model whose fingerprint is zero (it equals the base on the generic inputs) has no direction:
    its distance to the others is undefined (NaN; 0 between two such models), and those models
    form group 0 of their own while the others are grouped as usual.

    Examples
    --------
    >>> prints = pd.DataFrame([[1.0, 0.0], [0.0, 0.0]], index=["tuned", "same"])
    >>> distances, groups = cluster_fingerprints(prints)
    >>> groups.tolist(), bool(np.isnan(distances.loc["tuned", "same"]))
    ([1, 0], True)
    """
    from scipy.spatial.distance import pdist, squareform

    names = list(prints.index)
    values = prints.to_numpy(dtype=float)
    zero = np.linalg.norm(values, axis=1) <= 1e-12
    distances = pd.DataFrame(np.nan, index=names, columns=names)
    moved = [n for n, z in zip(names, zero) if not z]
    if moved:
        distances.loc[moved, moved] = squareform(pdist(values[~zero], metric="cosine"))
    still = [n for n, z in zip(names, zero) if z]
    distances.loc[still, still] = 0.0
    labels = np.zeros(len(names), dtype=int)
    labels[~zero] = _groups(distances.loc[moved, moved], n_groups=None if n_groups is None else
                            max(1, min(int(n_groups) - int(zero.any()), len(moved))))
    return distances, labels


def _groups(distances: pd.DataFrame, *, n_groups: int | None) -> np.ndarray:
    """Groups (from 1) of the models of a finite cosine ``distances`` matrix (see :func:`cluster_fingerprints`)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(distances) < 3:
        return np.ones(len(distances), dtype=int)
    condensed = squareform(distances.to_numpy(), checks=False)
    tree = linkage(condensed, method="average")
    if n_groups is not None:
        return fcluster(tree, t=int(n_groups), criterion="maxclust")
    from sklearn.metrics import silhouette_score

    best, labels = -np.inf, np.ones(len(distances), dtype=int)
    for k in range(2, len(distances)):
        candidate = fcluster(tree, t=k, criterion="maxclust")
        if len(set(candidate)) < 2:
            continue
        score = silhouette_score(distances.to_numpy(), candidate, metric="precomputed")
        if score > best:
            best, labels = score, candidate
    return labels


def fingerprint_agreement(distances: Mapping[str, pd.DataFrame], *, permutations: int = 9999,
                          seed: int = 0) -> pd.DataFrame:
    """Do fingerprints relate the same tasks in different architectures?

    Fingerprints of two architectures live in different spaces and cannot be compared directly;
    their task x task distance matrices can. For each pair of architectures: the Mantel
    correlation of the two matrices (:func:`~transferscope.metrics.ranking.mantel_test`, Spearman,
    with its permutation p-value) and the share of tasks whose nearest other task is the same in
    both.

    Parameters
    ----------
    distances : mapping of str to DataFrame
        Architecture -> its fine-tunes' fingerprint distances (:func:`cluster_fingerprints`), rows
        and columns named by task; the same tasks for every architecture.
    permutations : int, default=9999
    seed : int, default=0

    Returns
    -------
    DataFrame
        ``a``, ``b``, ``tasks``, ``mantel_r``, ``p_value``, ``same_nearest`` (a share).

    Examples
    --------
    >>> import numpy as np
    >>> tasks = list("pqrst")
    >>> d = pd.DataFrame(np.abs(np.subtract.outer([0, 1, 3, 7, 15], [0, 1, 3, 7, 15])), tasks, tasks)
    >>> row = fingerprint_agreement({"a": d, "b": d * 2}).iloc[0]
    >>> round(float(row["mantel_r"]), 6), float(row["same_nearest"])
    (1.0, 1.0)
    """
    from transferscope.metrics.ranking import mantel_test

    names = list(distances)
    if len(names) < 2:
        raise InputError("give the fingerprint distances of at least two architectures")
    tasks = list(distances[names[0]].index)
    for name in names:
        frame = distances[name]
        if sorted(frame.index) != sorted(tasks) or sorted(frame.columns) != sorted(tasks):
            raise InputError(f"architecture {name!r} has fingerprints of other tasks than {names[0]!r}")
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x = distances[a].loc[tasks, tasks].to_numpy(dtype=float)
            y = distances[b].loc[tasks, tasks].to_numpy(dtype=float)
            r, p = mantel_test(x, y, permutations=permutations, seed=seed)
            nearest = [np.argmin(np.where(np.eye(len(tasks), dtype=bool), np.inf, m), axis=1) for m in (x, y)]
            rows.append({"a": a, "b": b, "tasks": len(tasks), "mantel_r": r, "p_value": p,
                         "same_nearest": float(np.mean(nearest[0] == nearest[1]))})
    return pd.DataFrame(rows)


def drift_features(base: Mapping[str, Any], tuned: Mapping[str, Mapping[str, Any]], *,
                   generic_base: Mapping[str, Any] | None = None,
                   generic_tuned: Mapping[str, Mapping[str, Any]] | None = None, n_groups: int | None = None,
                   null: Mapping[str, Mapping[str, Any]] | None = None,
                   null_names: Mapping[str, str] | None = None,
                   progress: Callable[[str], None] | None = None) -> DriftResult:
    """Per-layer drift of precomputed features (module notes); fingerprints when the features of
    the generic inputs are given too, and the null when ``null`` maps a tuned model to the features
    of its re-seeded twin (the same layers, the same inputs; ``null_names`` names the twins).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> base = {f"l{i}": rng.normal(size=(60, 8)) for i in range(3)}
    >>> tuned = {"t": {"l0": base["l0"], "l1": base["l1"] + 0.3 * rng.normal(size=(60, 8)),
    ...                "l2": rng.normal(size=(60, 8))}}
    >>> result = drift_features(base, tuned)
    >>> result.summary[["onset_layer", "peak_layer"]].values.tolist()
    [['l1', 'l2']]
    """
    from transferscope.extraction.progress import progress_bar

    if not tuned:
        raise InputError("give at least one tuned model")
    say = progress or (lambda line: None)
    _check_groups(n_groups, len(tuned))
    null = dict(null or {})
    unknown = [name for name in null if name not in tuned]
    if unknown:
        raise InputError(f"null names {unknown[0]!r}, which is not one of the tuned models")
    total = sum(1 for layers in tuned.values() for layer in base if layer in layers)
    with progress_bar("drift: layers compared", total=total, enabled=progress is not None) as advance:
        rows, summary, notes = _compare_layers(base, tuned, null, null_names, say, advance)
    distances = None
    result_summary = pd.DataFrame(summary)
    if generic_base is not None and generic_tuned is not None:
        prints = fingerprints(generic_base, generic_tuned)
        distances, groups = cluster_fingerprints(prints, n_groups=n_groups)
        result_summary["group"] = result_summary["tuned"].map(dict(zip(prints.index, groups.tolist())))
    return DriftResult(table=pd.DataFrame(rows), summary=result_summary, distances=distances,
                       settings={"notes": notes} if notes else {})


def _compare_layers(base: Mapping[str, Any], tuned: Mapping[str, Mapping[str, Any]],
                    null: Mapping[str, Mapping[str, Any]], null_names: Mapping[str, str] | None,
                    say: Callable[[str], None], advance: Callable[[int], None]) -> tuple[list, list, list]:
    """The per-layer rows, the onset and peak of each tuned model, and the notes (see :func:`drift_features`)."""
    from transferscope.metrics import check_features
    from transferscope.metrics.measures import similarity

    rows: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    notes: list[str] = []
    differ: dict[tuple[tuple[str, ...], tuple[str, ...], int], list[str]] = {}
    for name, layers in tuned.items():
        order = [layer for layer in base if layer in layers]
        if not order:
            raise InputError(f"tuned model {name!r} shares no layer with the base (a different architecture?)")
        twin = null.get(name)
        if twin is not None and any(layer not in twin for layer in order):
            missing = next(layer for layer in order if layer not in twin)
            raise InputError(f"the re-seeded twin of {name!r} has no layer {missing!r}: a twin is the same fine-tune "
                             "trained with another seed, so it has the tuned model's layers")
        part = []
        for layer in order:
            b = check_features(base[layer], name=f"base[{layer!r}]")
            t = check_features(layers[layer], name=f"tuned[{name!r}][{layer!r}]")
            if b.shape[0] != t.shape[0]:
                raise InputError(f"tuned model {name!r} layer {layer!r} has {t.shape[0]} rows, the base {b.shape[0]}")
            row = {"tuned": name, "layer": layer, **_layer_rows(b, t)}
            if twin is not None:
                w = check_features(twin[layer], name=f"null[{name!r}][{layer!r}]")
                if w.shape[0] != t.shape[0]:
                    raise InputError(f"the re-seeded twin of {name!r} has {w.shape[0]} rows at layer {layer!r}, the "
                                     f"tuned model {t.shape[0]}")
                row["null_drift"] = 1.0 - similarity("cka", t, w)
                row["beyond_null"] = bool(row["drift"] > row["null_drift"])
            part.append(row)
            advance(1)
        rows += part
        drifts = np.array([r["drift"] for r in part])
        beyond = np.array([r["beyond_null"] for r in part]) if twin is not None else None
        onset, peak, height = _onset_and_peak(order, drifts, beyond)
        entry = {"tuned": name, "onset_layer": onset, "peak_layer": peak, "peak_drift": height}
        if twin is not None:
            at = order.index(peak) if peak is not None else int(np.nanargmax(drifts))
            entry.update({"null_twin": (null_names or {}).get(name, f"{name} (re-seeded)"),
                          "peak_null": part[at]["null_drift"]})
        summary.append(entry)
        say(_drift_line(name, onset, peak, height, entry.get("peak_null", float("nan")), entry.get("null_twin")))
        missing = tuple(layer for layer in base if layer not in layers)
        extra = tuple(layer for layer in layers if layer not in base)
        if missing or extra:
            differ.setdefault((missing, extra, len(order)), []).append(name)
    for (missing, extra, shared), models in differ.items():
        who = models[0] if len(models) == 1 else f"{len(models)} tuned models ({_some(models)})"
        notes.append(f"{who} and the base differ in their layers ({_some(list(missing))} of the base's not in "
                     f"{'it' if len(models) == 1 else 'them'}, {_some(list(extra))} of "
                     f"{'its' if len(models) == 1 else 'theirs'} not in the base{_guess(list(missing), list(extra))}); "
                     f"compared on the {shared} they share, by name")
    return rows, summary, notes


def null_twins(tuned: Sequence[str], null: str | Mapping[str, str] | None) -> dict[str, str]:
    """Each tuned model's re-seeded twin (see :func:`drift`); checked before any model is run.

    Examples
    --------
    >>> null_twins(["finetuned:vader-polarity:minilm"], "reseed")
    {'finetuned:vader-polarity:minilm': 'finetuned:vader-polarity@1:minilm'}
    """
    from transferscope.extraction.finetuned import reseeded

    if null is None:
        return {}
    if isinstance(null, str):
        if null != "reseed":
            raise InputError(f"null must be 'reseed' or a mapping of each tuned model to its re-seeded twin, got {null!r}")
        return {name: reseeded(name) for name in tuned}
    twins = {str(k): str(v) for k, v in dict(null).items()}
    for name, twin in twins.items():
        if name not in tuned:
            raise InputError(f"null names {name!r}, which is not one of the tuned models")
        if twin == name or twin in tuned:
            raise InputError(f"the re-seeded twin of {name!r} must be another model than the tuned ones, got {twin!r}")
    return twins


def generic_inputs(modality: str = "text") -> Any:
    """The fixed generic inputs of the fingerprints: for text the :data:`GENERIC_WORDS` most frequent
    English words (wordfreq); for images the first :data:`GENERIC_WORDS` images of the MNIST
    held-out pool (plain digits, never a zoo source; :func:`~transferscope.datasets.digits.mnist_heldout_pool`)."""
    if modality == "image":
        from transferscope.datasets.digits import mnist_heldout_pool

        pool = mnist_heldout_pool()
        return Dataset("generic-digits", pool.inputs[:GENERIC_WORDS], pool.labels[:GENERIC_WORDS], pool.task,
                       pool.modality, pool.source, pool.licence, "fingerprint inputs: plain held-out MNIST digits")
    if modality != "text":
        raise InputError(f"fingerprints have generic inputs for text and image models, not {modality!r}")
    try:
        import wordfreq
    except ImportError:
        from transferscope.errors import MissingExtraError

        raise MissingExtraError("wordfreq", "demo") from None
    return list(wordfreq.top_n_list("en", GENERIC_WORDS))


def drift(*, base: str, tuned: str | Sequence[str], dataset: Dataset, layers: str | Sequence[str | int] = "all",
          pooling: str = "mean", max_samples: int = 2000, seed: int = 0, fingerprint: bool = True,
          n_groups: int | None = None, null: str | Mapping[str, str] | None = None, extraction: ExtractionOptions | None = None,
          progress: Callable[[str], None] | None = None) -> DriftResult:
    """Per-layer drift of fine-tuned models from ``base`` on ``dataset``'s inputs, and their
    fingerprints on the generic inputs (module notes).

    ``null`` compares each change with the fine-tune's own randomness: ``"reseed"`` trains each
    ``finetuned:`` model again with the next seed (:func:`~transferscope.extraction.finetuned.reseeded`;
    minutes for a text model), a mapping gives each tuned model's re-seeded twin as a model spec.

    Examples
    --------
    >>> from transferscope.datasets import load_builtin
    >>> result = drift(base="st:path/to/minilm", tuned=["finetuned:sentence-polarity:st:path/to/minilm"],
    ...                dataset=load_builtin("vader-polarity"))  # doctest: +SKIP
    >>> result.summary  # doctest: +SKIP
    """
    from transferscope.workflows.engine.candidates import extract_candidates

    extraction = extraction or ExtractionOptions()
    names = [tuned] if isinstance(tuned, str) else list(tuned)
    if not names or base in names or len(set(names)) != len(names):
        raise InputError("give each tuned model once, and none equal to the base")
    _check_groups(n_groups, len(names))  # before any model is run
    twins = null_twins(names, null)
    data = dataset.subsample(int(max_samples), seed=seed) if len(dataset) > max_samples else dataset

    def features(model: str, inputs: Any) -> dict[str, np.ndarray]:
        cands = extract_candidates(inputs, [model], layers=layers, poolings=[pooling], seed=seed, extraction=extraction)
        return {c.layer: np.asarray(c.features, dtype=np.float64) for c in cands}

    base_feats = features(base, data)
    tuned_feats = {name: features(name, data) for name in names}
    null_feats = {name: features(twin, data) for name, twin in twins.items()}
    generic_base = generic_tuned = None
    if fingerprint:
        generic = generic_inputs(dataset.modality)
        generic_base = features(base, generic)
        generic_tuned = {name: features(name, generic) for name in names}
    result = drift_features(base_feats, tuned_feats, generic_base=generic_base, generic_tuned=generic_tuned,
                            n_groups=n_groups, null=null_feats, null_names=twins, progress=progress)
    result.settings = {**result.settings, "base": base, "dataset": dataset.name, "samples": len(data), "seed": seed,
                       "pooling": pooling, "generic_inputs": GENERIC_WORDS if fingerprint else 0,
                       "null": twins or None}
    return result
