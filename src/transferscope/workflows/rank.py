"""Rank candidate representations (model x layer x pooling, or feature files) on a dataset."""

from __future__ import annotations

import inspect
import json
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import TASKS, Dataset, infer_task
from transferscope.errors import InputError
from transferscope.extraction.cache import FeatureCache
from transferscope.extraction.encoder import HEAD_LAYER, HEAD_POOLING, POOLINGS, Encoder
from transferscope.extraction.features import extract_features
from transferscope.extraction.fingerprint import hash_array, hash_fields, hash_inputs
from transferscope.metrics import check_options, get_metric
from transferscope.metrics._validation import check_features
from transferscope.workflows.encoders import build_encoder
from transferscope.workflows.folders import check_cache_folder
from transferscope.workflows.score_cache import ScoreCache, labels_fingerprint, result_problem

__all__ = ["rank", "select_layers", "check_poolings", "check_device", "extract_candidates", "score_candidates",
           "DEFAULT_METRICS"]

DEFAULT_METRICS = ("logme", "hscore", "knn")


def select_layers(encoder: Encoder, layers: str | Sequence[str | int]) -> list[str]:
    """Resolve ``"all"``, ``"last"``, names or integer indices into ``encoder``'s layer names."""
    available = encoder.all_layers()
    if isinstance(layers, int) and not isinstance(layers, bool):
        layers = [layers]
    if not isinstance(layers, (str, Sequence, np.ndarray)):
        raise InputError(f"layers must be 'all', 'last', a layer name or index, or a list of them, got {layers!r}")
    if isinstance(layers, str):
        if layers == "all":
            return [layer for layer in available if layer != HEAD_LAYER]
        if layers == "last":
            return [encoder.layer_names()[-1]]
        layers = [part.strip() for part in layers.split(",") if part.strip()]
    chosen: list[str] = []
    names = encoder.layer_names()
    for item in layers:
        if isinstance(item, int) or (isinstance(item, str) and item.lstrip("-").isdigit()):
            i = int(item)
            if not -len(names) <= i < len(names):
                raise InputError(f"layer index {i} is out of range for {encoder.name} ({len(names)} layers)")
            chosen.append(names[i])
        elif item in available:
            chosen.append(str(item))
        else:
            raise InputError(f"unknown layer {item!r} for {encoder.name}; layers: {', '.join(available)}")
    if not chosen:
        raise InputError("layers must name at least one layer")
    return list(dict.fromkeys(chosen))


def check_poolings(poolings: str | Sequence[str]) -> list[str]:
    """``"mean,cls"`` or a sequence -> a checked list of token poolings."""
    if not isinstance(poolings, (str, Sequence)):
        raise InputError(f"pooling must be a name or a list of names among {', '.join(POOLINGS)}, got {poolings!r}")
    pools = [p.strip() if isinstance(p, str) else p for p in
             (poolings.split(",") if isinstance(poolings, str) else list(poolings))]
    if not pools:
        raise InputError("pooling must name at least one pooling")
    for pooling in pools:
        if pooling not in POOLINGS:
            raise InputError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    return pools


_DEVICE = re.compile(r"^(cpu|cuda|mps)(?::(\d+))?$")


def check_device(device: str | None, *, name: str = "device") -> str | None:
    """A torch device string checked without importing torch: ``None`` (auto), ``cpu``,
    ``cuda``, ``cuda:N`` or ``mps``.

    CUDA is asked of the NVIDIA driver directly (``cuInit`` / ``cuDeviceGetCount``, a few
    milliseconds), so ``cuda`` on a machine without a GPU, or ``cuda:3`` with one GPU, is
    rejected before any work, also when every result would come from the cache.

    Examples
    --------
    >>> check_device("CPU"), check_device(None)
    ('cpu', None)
    >>> check_device("tpu")
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: device must be cpu, cuda, cuda:N or mps (omit it to choose automatically), got 'tpu'
    """
    if device is None:
        return None
    if not isinstance(device, str):
        raise InputError(f"{name} must be a string such as 'cpu' or 'cuda:0', got {device!r}")
    text = device.strip().lower()
    if text in ("", "auto"):
        return None
    match = _DEVICE.match(text)
    if match is None:
        raise InputError(f"{name} must be cpu, cuda, cuda:N or mps (omit it to choose automatically), got {device!r}")
    kind, index = match.group(1), match.group(2)
    if kind == "cuda":
        count = _cuda_device_count()
        if count == 0:
            raise InputError(f"{name} {device!r}: no CUDA GPU is available on this machine (no NVIDIA driver or "
                             "no device); use cpu")
        if index is not None and int(index) >= count:
            raise InputError(f"{name} {device!r}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}")
    if kind == "mps" and sys.platform != "darwin":
        raise InputError(f"{name} {device!r}: MPS exists on Apple computers only; use cpu")
    return text


@lru_cache(maxsize=1)
def _cuda_device_count() -> int:
    """GPUs the NVIDIA driver reports (0 without a driver), without importing torch."""
    import ctypes

    names = ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so", "libcuda.dylib")
    for lib in names:
        try:
            cuda = ctypes.CDLL(lib)
        except OSError:
            continue
        count = ctypes.c_int(0)
        if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return int(count.value)
    return 0


#: Model types whose position ids start after the padding index (RoBERTa's scheme).
_PADDING_OFFSET_MODELS = ("roberta", "xlm-roberta", "camembert", "longformer", "mpnet", "data2vec-text", "ibert")


def check_model(encoder: Encoder, max_length: int) -> None:
    """Before any work: ``max_length`` fits the model's position embeddings, and its
    safetensors weights are whole (a truncated download fails here, in one line)."""
    path = getattr(encoder, "path", None)
    if getattr(encoder, "adapter", "") not in ("hf", "sentence-transformers") or path is None:
        return
    path = Path(path)
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = None
    if isinstance(config, dict):
        positions = config.get("max_position_embeddings", config.get("n_positions"))
        absolute = config.get("position_embedding_type", "absolute") == "absolute"
        if isinstance(positions, int) and not isinstance(positions, bool) and absolute:
            pad = config.get("pad_token_id")
            if config.get("model_type") in _PADDING_OFFSET_MODELS and isinstance(pad, int):
                positions -= pad + 1
            if max_length > positions:
                raise InputError(f"max_length (--max-length) {max_length} is more than the {positions} token "
                                 f"positions of {encoder.name} (max_position_embeddings in its config.json); "
                                 f"use {positions} or less")
    if not getattr(encoder, "random_init", False):
        for weights in sorted(path.rglob("*.safetensors")):
            problem = _safetensors_problem(weights)
            if problem is not None:
                raise InputError(f"the weights file '{weights}' of {encoder.name} is damaged ({problem}); "
                                 "download or save the model again")


def _safetensors_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole safetensors file (its header and size), or None."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"{size} bytes, shorter than a safetensors header"
        length = int.from_bytes(head, "little")
        if length > size - 8:
            return f"the header says {length} bytes of metadata, the file has {size - 8}"
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, ValueError):
            return "the header is not JSON"
    if not isinstance(header, dict):
        return "the header is not a JSON object"
    try:
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except (TypeError, KeyError, IndexError, ValueError):
        return "the header has no data offsets"
    if 8 + length + end != size:
        return f"truncated: the header describes {8 + length + end} bytes, the file has {size}"
    return None


def extract_candidates(
    inputs: Dataset | Sequence[Any],
    models: Sequence[str | Encoder],
    *,
    layers: str | Sequence[str | int] = "all",
    poolings: Sequence[str] = ("mean",),
    with_head: bool = False,
    seed: int = 0,
    cache_dir: str | None = None,
    use_cache: bool = True,
    batch_size: int = 32,
    max_length: int = 128,
    device: str | None = None,
    progress: bool = False,
    trust_remote_code: bool = False,
) -> list[dict[str, Any]]:
    """Features of every model x layer x pooling of ``inputs`` (cached), as candidate dicts.

    ``inputs`` is a :class:`Dataset` (its labels are not used) or a sequence of inputs.

    Each dict holds ``candidate`` ("model | layer | pooling"), ``model``, ``layer``,
    ``pooling``, ``features`` and, with ``with_head`` for a model that has a
    classification head, ``source_probs`` (its softmax).
    """
    device = check_device(device)
    cache = FeatureCache(cache_dir) if use_cache else None
    if isinstance(inputs, Dataset):
        items, fingerprint = inputs.inputs, inputs.fingerprint()
    else:
        if len(inputs) == 0:
            raise InputError("inputs must not be empty")
        items, fingerprint = inputs, hash_inputs(inputs)
    # Every model is described and checked before the first one is run.
    encoders = []
    for spec in models:
        encoder = build_encoder(spec, seed=seed, max_length=max_length, batch_size=batch_size,
                                device=device, trust_remote_code=trust_remote_code, cache_dir=cache_dir)
        check_model(encoder, max_length)
        encoders.append((encoder, select_layers(encoder, layers)))
    candidates = []
    for encoder, chosen in encoders:
        head = (with_head and HEAD_LAYER in encoder.all_layers() and HEAD_LAYER not in chosen)
        try:
            feats = extract_features(encoder, items, layers=chosen + ([HEAD_LAYER] if head else []),
                                     poolings=list(poolings), cache=cache, dataset_fingerprint=fingerprint,
                                     progress=progress)
        except AssertionError as exc:  # torch's "Torch not compiled with CUDA enabled"
            if device is None or "CUDA" not in str(exc):
                raise
            raise InputError(f"device {device!r}: {exc}; use cpu") from None
        probs = feats.pop((HEAD_LAYER, HEAD_POOLING)) if head else feats.get((HEAD_LAYER, HEAD_POOLING))
        for (layer, pooling), array in feats.items():
            cand = {"candidate": f"{encoder.name} | {layer} | {pooling}", "model": encoder.name,
                    "layer": layer, "pooling": pooling, "features": array}
            if probs is not None:
                cand["source_probs"] = probs
            candidates.append(cand)
    return candidates


def _check_metrics(metrics: Sequence[str], task: str) -> list[str]:
    names = [str(m).strip().lower() for m in metrics if str(m).strip()]
    if not names:
        raise InputError("metric must name at least one estimator")
    for name in names:
        info = get_metric(name, "transferability")
        if task not in info.task_types:
            raise InputError(f"metric '{name}' does not support {task} targets "
                             f"(it supports: {', '.join(info.task_types)})")
    return names


def score_candidates(
    candidates: Sequence[dict[str, Any]],
    labels: np.ndarray,
    *,
    task: str,
    metrics: Sequence[str],
    metric_options: Mapping[str, Mapping[str, Any]] | None = None,
    probe_splits: Any = None,
    score_cache: ScoreCache | None = None,
    n_jobs: int | None = None,
    backend: str = "local",
    probe: str = "linear",
    on_error: str = "raise",
) -> pd.DataFrame:
    """Score each candidate (a dict with ``features`` and descriptive fields).

    Returns one row per candidate: the descriptive fields, ``dim``, one column
    per metric and, with ``probe_splits``, the probe's test score and settings.
    Warnings raised by estimators (e.g. H-score with N <= D) are collected once
    each in ``table.attrs["warnings"]``. With ``score_cache``, results already
    computed for the same feature values, labels and settings are reused: a
    candidate whose every result is cached is read in this process, and only
    the others go to workers (none start when nothing needs computing).
    Candidates are scored in parallel processes (joblib) when ``n_jobs`` is not 1;
    results agree across ``n_jobs`` up to floating-point rounding. With
    ``backend="ray"`` every candidate is a Ray task (on the cluster named by
    ``RAY_ADDRESS``, else a local Ray instance); the cells are the same pure
    functions, so the table is the same. With ``on_error="nan"`` an estimator
    that rejects a candidate's data (an :class:`InputError`, e.g. a degenerate
    class structure) gives NaN and a warning instead of stopping every other
    cell: what a benchmark over many candidates x targets wants.
    """
    options = {k.lower(): dict(v) for k, v in (metric_options or {}).items()}
    plans = []
    for name in metrics:
        info = get_metric(name, "transferability")
        opts = dict(options.get(name, {}))
        if "task" in inspect.signature(info.func).parameters:
            opts.setdefault("task", task)
        supplied = {"source_probs": None} if info.needs_source_probs else {}
        check_options(info, {**supplied, **opts})  # source_probs come per candidate
        plans.append((name, opts))
    labels_id = labels_fingerprint(labels) if score_cache is not None else ""
    splits_id = (hash_fields({"splits": [np.asarray(s).tolist() for s in probe_splits]})
                 if probe_splits is not None else "")
    cache_root = None if score_cache is None else str(score_cache.root.parent)
    from transferscope.probes import FEATURE_PROBE_NAMES

    if probe not in FEATURE_PROBE_NAMES:
        raise InputError(f"probe must be one of {', '.join(FEATURE_PROBE_NAMES)}, got {probe!r}")
    if on_error not in ("raise", "nan"):
        raise InputError(f"on_error must be 'raise' or 'nan', got {on_error!r}")
    if backend not in ("local", "ray"):
        raise InputError(f"backend must be 'local' or 'ray', got {backend!r}")
    args = [(cand["features"], labels, task, plans, probe_splits, cache_root, labels_id, splits_id,
             cand.get("source_probs"), probe, on_error,
             hash_array(np.asarray(cand["features"])) if score_cache is not None else "")
            for cand in candidates]
    # Cells whose every result is cached are read here: no worker starts for them.
    results: list[Any] = [None] * len(args)
    if score_cache is not None:
        for i, a in enumerate(args):
            try:
                results[i] = _score_cell(*a, cached_only=True)
            except _CacheMiss:
                pass
    todo = [i for i, r in enumerate(results) if r is None]
    computed: list[Any] = []
    if todo and backend == "ray":
        computed = _run_on_ray([args[i] for i in todo])
    elif todo:
        jobs = n_jobs if n_jobs is not None else (-1 if len(todo) >= 4 else 1)
        if jobs == 1:
            computed = [_score_cell(*args[i]) for i in todo]
        else:
            from joblib import Parallel, delayed, parallel_config

            with parallel_config(backend="loky", inner_max_num_threads=1):
                computed = Parallel(n_jobs=jobs)(delayed(_score_cell)(*args[i]) for i in todo)
    for i, result in zip(todo, computed, strict=True):
        results[i] = result
    rows = []
    notes: dict[str, None] = {}
    for cand, (values, probe, messages) in zip(candidates, results, strict=True):
        row = {k: v for k, v in cand.items() if k not in ("features", "source_probs")}
        row["dim"] = int(cand["features"].shape[1])
        row.update(values)
        for message in messages:
            notes.setdefault(message, None)
        if probe is not None:
            row[f"probe_{probe['metric']}"] = probe["score"]
            for key, value in probe["metrics"].items():
                row.setdefault(f"probe_{key}", value)
            settings = probe["settings"]
            chosen = [f"{k}={settings[k]:g}" for k in ("C", "alpha", "k") if isinstance(settings.get(k), (int, float))]
            row["probe_setting"] = ", ".join(chosen)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["warnings"] = list(notes)
    return table


def _score_cell(
    feats: np.ndarray,
    labels: np.ndarray,
    task: str,
    plans: list[tuple[str, dict[str, Any]]],
    probe_splits: Any,
    cache_root: str | None,
    labels_id: str,
    splits_id: str,
    source_probs: np.ndarray | None = None,
    probe_name: str = "linear",
    on_error: str = "raise",
    feats_id: str = "",
    *,
    cached_only: bool = False,
) -> tuple[dict[str, float], dict[str, Any] | None, list[str]]:
    """One candidate: every estimator and the probe (a pure, idempotent cell).

    Estimators that need ``source_probs`` get NaN, with a message, for a
    candidate whose model has no classification head. ``feats_id`` is the
    features' :func:`hash_array` (computed when empty). With ``cached_only``,
    results are only read from the cache and a missing one raises
    :class:`_CacheMiss` instead of being computed.
    """
    cache = None if cache_root is None else ScoreCache(cache_root)
    if cache is not None and not feats_id:
        feats_id = hash_array(np.asarray(feats))
    values: dict[str, float] = {}
    messages: list[str] = []
    for name, opts in plans:
        info = get_metric(name, "transferability")
        key_opts = dict(opts)
        if info.needs_source_probs and "source_probs" not in opts:
            if source_probs is None:
                values[name] = float("nan")
                messages.append(f"{name}: needs source_probs; candidates without a classification head get NaN")
                continue
            opts = {**opts, "source_probs": source_probs}
            key_opts["source_probs"] = "array:" + (hash_array(np.asarray(source_probs)) if cache else "")

        def compute(info: Any = info, opts: dict[str, Any] = opts) -> dict[str, Any]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = info.func(feats, labels, **opts)
            return {"value": value, "warnings": [str(w.message) for w in caught]}

        for key, value in key_opts.items():  # arrays are keyed by content, never by repr
            if isinstance(value, np.ndarray):
                key_opts[key] = "array:" + hash_array(value)
        try:
            result = _cached(cache, compute, features=feats_id, labels=labels_id, metric=name, options=key_opts,
                             cached_only=cached_only, required=("value", "warnings"))
        except InputError as exc:  # not cached: a later on_error="raise" call must still raise
            if on_error == "raise":
                raise InputError(f"{name}: {exc}") from None
            result = {"value": float("nan"), "warnings": [f"gave NaN on a candidate: {exc}"]}
        values[name] = result["value"]
        messages.extend(f"{name}: {m}" for m in result["warnings"])
    probe = None
    if probe_splits is not None:

        def run_probe() -> dict[str, Any]:
            from transferscope.probes import FEATURE_PROBES  # only when the result is not cached

            fn = FEATURE_PROBES[probe_name]
            kwargs = {"task": task} if "task" in inspect.signature(fn).parameters else {}
            if task != "classification" and not kwargs:
                raise InputError(f"probe '{probe_name}' supports classification only")
            res = fn(feats, labels, splits=probe_splits, **kwargs)
            return {"score": res.score, "metric": res.metric, "metrics": res.metrics,
                    "settings": {"probe": probe_name, **res.settings}}

        probe = _cached(cache, run_probe, features=feats_id, labels=labels_id,
                        metric="linear_probe" if probe_name == "linear" else f"{probe_name}_probe",
                        options={"task": task, "splits": splits_id}, cached_only=cached_only,
                        required=("score", "metric", "metrics", "settings"))
    return values, probe, messages


def _run_on_ray(args: list[tuple[Any, ...]]) -> list[Any]:
    """Run cells as Ray tasks; arrays go through the object store once each."""
    import os

    try:
        import ray
    except ImportError:
        from transferscope.errors import MissingExtraError

        raise MissingExtraError("ray", "scale") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    remote = ray.remote(_score_cell)
    labels_ref = ray.put(args[0][1]) if args else None
    futures = [remote.remote(ray.put(np.asarray(a[0])), labels_ref, *a[2:]) for a in args]
    return ray.get(futures)


class _CacheMiss(Exception):
    """A result asked for with ``cached_only`` is not in the score cache."""


def _cached(cache: ScoreCache | None, compute: Any, *, cached_only: bool = False,
            required: Sequence[str] = (), **fields: Any) -> dict[str, Any]:
    """``compute()`` through ``cache``: a valid stored result (with the fields ``required``) is
    reused, a damaged one is recomputed, and a computed one that would not validate is not stored."""
    if cache is None:
        if cached_only:
            raise _CacheMiss
        return compute()
    key = cache.key(**fields)
    hit = cache.get(key, required)
    if hit is None:
        if cached_only:
            raise _CacheMiss
        hit = compute()
        if result_problem(hit, required) is None:
            cache.put(key, hit)
    return hit


def _order(table: pd.DataFrame, by: str) -> pd.DataFrame:
    notes = table.attrs.get("warnings", [])
    table = table.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    table.attrs["warnings"] = notes
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def rank(
    *,
    dataset: Dataset | None = None,
    models: Sequence[str | Encoder] = (),
    layers: str | Sequence[str | int] = "all",
    poolings: str | Sequence[str] = ("mean",),
    features: Mapping[str, Any] | None = None,
    labels: Any = None,
    source_probs: Mapping[str, Any] | None = None,
    task: str | None = None,
    metrics: str | Sequence[str] = DEFAULT_METRICS,
    metric_options: Mapping[str, Mapping[str, Any]] | None = None,
    probe: bool = False,
    seed: int = 0,
    cache_dir: str | None = None,
    use_cache: bool = True,
    batch_size: int = 32,
    max_length: int = 128,
    device: str | None = None,
    progress: bool = False,
    n_jobs: int | None = None,
    trust_remote_code: bool = False,
) -> pd.DataFrame:
    """Score and rank candidate representations for one labelled dataset.

    Give either ``dataset`` and ``models`` (features are extracted, cached, for
    every model x layer x pooling), or ``features`` (name -> array) and ``labels``.

    Parameters
    ----------
    dataset : Dataset, optional
    models : sequence of str or Encoder
        Model specifications (see :func:`~transferscope.workflows.encoders.build_encoder`).
    layers : "all", "last", or names / indices
    poolings : str or sequence of str
        Token poolings among ``mean``, ``cls``, ``max``, ``last``.
    features : mapping of str to array, optional
        Precomputed embeddings, one candidate each.
    labels : array-like, optional
        Labels for ``features``.
    source_probs : mapping of str to array, optional
        Source-classifier probabilities per feature candidate (same keys as
        ``features``), for estimators such as ``leep`` and ``nce``. With models,
        they come from the classification head of checkpoints that have one.
    task : {"classification", "regression"}, optional
        Defaults to the dataset's task, or is inferred from ``labels``.
    metrics : str or sequence of str
        Registered estimators; the table is sorted by the first.
    metric_options : mapping, optional
        ``{"knn": {"k": 10}}``.
    probe : bool, default=False
        Also measure a linear probe (seeded split) next to the estimates.
    seed : int, default=0
    cache_dir : str, optional
        Feature cache location (else ``$TRANSFERSCOPE_CACHE_DIR``, else the user cache dir).
    use_cache : bool, default=True
        Reuse cached features and per-candidate results (scores, probes).
    batch_size, max_length : int
    device : str, optional
    progress : bool, default=False
    n_jobs : int, optional
        Processes scoring candidates in parallel (joblib; all cores when omitted).
    trust_remote_code : bool, default=False
        Allow models to run code shipped with their checkpoint (off unless asked for).

    Returns
    -------
    pandas.DataFrame
        One row per candidate, best first: ``rank, candidate, model, layer,
        pooling, dim``, one column per metric, and probe columns if asked.

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> table = ts.rank(features={"good": rng.normal(size=(80, 4)) + 3 * y[:, None],
    ...                           "noise": rng.normal(size=(80, 4))},
    ...                 labels=y, metrics=["logme", "knn"])
    >>> list(table["candidate"])
    ['good', 'noise']
    """
    metric_list, models, device = _check_rank_arguments(
        dataset=dataset, models=models, features=features, labels=labels, source_probs=source_probs, task=task,
        metrics=metrics, metric_options=metric_options, seed=seed, batch_size=batch_size, max_length=max_length,
        device=device)
    if features is not None:
        if dataset is not None or models:
            raise InputError("give either features + labels, or dataset + models, not both")
        if labels is None:
            raise InputError("labels are required with features")
        y = np.asarray(labels)
        task = task or infer_task(y)
        names = _check_metrics(metric_list, task)
        candidates = []
        for name, array in features.items():
            arr = np.asarray(array)
            # Validation only: each estimator then rescales extreme magnitudes or refuses them itself.
            check_features(arr, name=f"features '{name}'", scale="rescale")
            if arr.shape[0] != y.shape[0]:
                raise InputError(f"labels has {y.shape[0]} entries but features '{name}' has {arr.shape[0]} rows")
            cand = {"candidate": str(name), "model": str(name), "layer": "", "pooling": "", "features": arr}
            if source_probs is not None and name in source_probs:
                cand["source_probs"] = np.asarray(source_probs[name])
            candidates.append(cand)
        if not candidates:
            raise InputError("features must hold at least one array")
        splits = _probe_splits(Dataset("features", np.arange(y.shape[0]), y, task, "features"), seed) if probe else None
        return _order(score_candidates(candidates, y, task=task, metrics=names,
                                       metric_options=metric_options, probe_splits=splits, n_jobs=n_jobs), names[0])
    if dataset is None or not models:
        raise InputError("give a dataset and at least one model, or features and labels")
    task = task or dataset.task
    names = _check_metrics(metric_list, task)
    pools = check_poolings(poolings)
    if use_cache:
        check_cache_folder(cache_dir)  # a read-only cache fails here, not after the extraction
    needs_probs = any(get_metric(n, "transferability").needs_source_probs for n in names)
    candidates = extract_candidates(dataset, models, layers=layers, poolings=pools, with_head=needs_probs,
                                    seed=seed, cache_dir=cache_dir, use_cache=use_cache,
                                    batch_size=batch_size, max_length=max_length, device=device,
                                    progress=progress, trust_remote_code=trust_remote_code)
    splits = _probe_splits(dataset, seed) if probe else None
    table = score_candidates(candidates, dataset.labels, task=task, metrics=names,
                             metric_options=metric_options, probe_splits=splits,
                             score_cache=ScoreCache(cache_dir) if use_cache else None, n_jobs=n_jobs)
    return _order(table, names[0])


def _check_rank_arguments(*, dataset: Any, models: Any, features: Any, labels: Any, source_probs: Any, task: Any,
                          metrics: Any, metric_options: Any, seed: Any, batch_size: Any, max_length: Any,
                          device: Any) -> tuple[list[str], list[Any], str | None]:
    """The arguments of :func:`rank` checked before any work: one InputError naming the argument.

    Returns the metric names, the models as a list (one string is one model) and the device."""
    if features is not None and not isinstance(features, Mapping):
        raise InputError("features must be a mapping of candidate name to array, e.g. {'a': X, 'b': Y}, "
                         f"got {type(features).__name__}")
    if labels is not None and isinstance(labels, (Mapping, str, bytes)):
        raise InputError(f"labels must be an array of one label per sample, got {type(labels).__name__}")
    if labels is not None and features is not None:
        ndim = np.ndim(labels)
        if ndim != 1 and not (ndim == 2 and task == "multilabel"):
            raise InputError(f"labels must be 1-D (one label per sample), got {ndim}-D")
    if source_probs is not None:
        if not isinstance(source_probs, Mapping):
            raise InputError("source_probs must be a mapping of candidate name to probabilities (same keys as "
                             f"features), got {type(source_probs).__name__}")
        unknown = [str(k) for k in source_probs if features is None or k not in features]
        if unknown:
            raise InputError(f"source_probs has key(s) {', '.join(unknown)} that name no features candidate")
    if dataset is not None and not isinstance(dataset, Dataset):
        raise InputError("dataset must be a transferscope Dataset (e.g. transferscope.datasets.load_builtin(name) "
                         f"or load_text_dataset(path, ...)), got {type(dataset).__name__}")
    if isinstance(models, str):
        models = [models]
    elif not isinstance(models, Sequence):
        raise InputError(f"models must be a model spec or a list of them, got {type(models).__name__}")
    if task is not None and task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if isinstance(metrics, str):
        metric_list = metrics.split(",")
    elif isinstance(metrics, Sequence) and all(isinstance(m, str) for m in metrics):
        metric_list = list(metrics)
    else:
        raise InputError(f"metrics must be an estimator name, comma-separated names or a list of names, got {metrics!r}")
    if metric_options is not None and not (isinstance(metric_options, Mapping)
                                           and all(isinstance(v, Mapping) for v in metric_options.values())):
        raise InputError("metric_options must map estimator names to option mappings, e.g. {'knn': {'k': 10}}, "
                         f"got {metric_options!r}")
    for value, name in ((seed, "seed"), (batch_size, "batch_size"), (max_length, "max_length")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InputError(f"{name} must be an integer, got {value!r}")
        if name != "seed" and value < 1:
            raise InputError(f"{name} must be >= 1, got {value}")
    return metric_list, list(models), check_device(device)


def _probe_splits(dataset: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The probe's seeded 60/20/20 split, or one InputError where the data are too few for it."""
    too_few = (f"dataset '{dataset.name}' has {len(dataset)} samples: too few for the probe's seeded 60/20/20 "
               "split (each part needs samples, the training part two classes); give more data or turn the "
               "probe off (probe=False, --no-probe)")
    try:
        s = dataset.split(seed=seed)
    except ValueError:
        raise InputError(too_few) from None
    if min(len(s.train), len(s.val), len(s.test)) == 0 or (
            dataset.task == "classification" and np.unique(dataset.labels[s.train]).shape[0] < 2):
        raise InputError(too_few)
    return s.train, s.val, s.test
