"""Extract features through the cache: reuse, resume, and write atomically.

:func:`extract_features` is the one way features are produced from an encoder.
Entries already cached are returned without loading the model. Otherwise the
inputs are encoded in chunks; each finished chunk is saved, so an interrupted
run (Ctrl-C, crash) loses at most one chunk and the next run resumes. Final
entries appear only once complete. The result is in the order of
``encoder.output_keys(layers, poolings)`` whatever part of it was cached: callers
build layer-by-layer tables (``cka_prev``) from this order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from transferscope.extraction.cache import FeatureCache
from transferscope.extraction.encoder import Encoder
from transferscope.extraction.progress import progress_bar
from transferscope.extraction.versions import library_versions
from transferscope.hashing import hash_fields, hash_inputs

__all__ = ["extract_features", "cache_fields"]


def cache_fields(encoder: Encoder, layer: str, pooling: str, dataset: str) -> dict[str, Any]:
    """Everything that determines the features of one ``(layer, pooling)`` entry."""
    return {
        "model": encoder.identity(),
        "layer": layer,
        "pooling": pooling,
        "dataset": dataset,
        "preprocessing": encoder.preprocessing(),
        "dtype": "float32",
        "versions": library_versions(),
    }


def extract_features(
    encoder: Encoder,
    inputs: Sequence[Any] | np.ndarray,
    *,
    layers: Sequence[str],
    poolings: Sequence[str],
    cache: FeatureCache | None = None,
    dataset_fingerprint: str | None = None,
    chunk_size: int = 512,
    progress: bool = False,
    encode_missing: Callable[[list[str], list[tuple[str, str]]], dict[tuple[str, str], np.ndarray]] | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """Features for every requested ``(layer, pooling)`` of ``encoder`` on ``inputs``.

    Parameters
    ----------
    encoder : Encoder
    inputs : sequence
        Texts, arrays, or whatever the encoder takes.
    layers, poolings : sequence of str
    cache : FeatureCache, optional
        Without a cache, features are computed and returned in memory.
    dataset_fingerprint : str, optional
        Hash of ``inputs``; computed when omitted.
    chunk_size : int, default=512
        Inputs per resumable chunk.
    progress : bool, default=False
        Show a progress bar on stderr.
    encode_missing : callable, optional
        ``encode_missing(layers, keys)`` computes the entries missing from the cache somewhere
        else than in this process (Ray actors: :mod:`transferscope.extraction.ray_backend`);
        the cache lookup, the atomic writes and the order of the result stay the ones here.

    Returns
    -------
    dict
        ``{(layer, pooling): float32 array (n_inputs, dim)}`` in the order of
        ``encoder.output_keys(layers, poolings)``, cached or not; cached arrays are memory-mapped.

    Examples
    --------
    >>> import tempfile
    >>> from transferscope.extraction.baselines import TfidfSvdEncoder
    >>> from transferscope.extraction.cache import FeatureCache
    >>> out = extract_features(TfidfSvdEncoder(n_components=2), ["a b", "b c", "c d"],
    ...                        layers=["tfidf-svd"], poolings=["none"],
    ...                        cache=FeatureCache(tempfile.mkdtemp()))
    >>> out[("tfidf-svd", "none")].shape
    (3, 2)
    """
    keys = encoder.output_keys(layers, poolings)
    if cache is None:
        return _encode_all(encoder, inputs, layers, poolings, keys, progress)
    fingerprint = dataset_fingerprint or hash_inputs(inputs)
    fields = {key: cache_fields(encoder, key[0], key[1], fingerprint) for key in keys}
    entry_keys = {key: cache.key(f) for key, f in fields.items()}
    result: dict[tuple[str, str], np.ndarray] = {}
    for key in keys:
        hit = cache.get(entry_keys[key], fields[key])
        if hit is not None:
            result[key] = hit
    missing = [key for key in keys if key not in result]
    if not missing:
        return {key: result[key] for key in keys}
    missing_layers = list(dict.fromkeys(layer for layer, _ in missing))
    chunked = encode_missing is None and getattr(encoder, "chunkable", True)
    if encode_missing is not None:
        computed = encode_missing(missing_layers, missing)
    elif not chunked:
        computed = _encode_all(encoder, inputs, missing_layers, poolings, missing, progress)
    else:
        group = hash_fields({"entries": sorted(entry_keys[k] for k in missing), "chunk": chunk_size})
        computed = _encode_chunks(encoder, inputs, missing_layers, poolings, missing, cache, group,
                                  chunk_size, progress)
    for key in missing:
        result[key] = cache.put(entry_keys[key], computed[key], fields[key])
    if chunked:
        cache.clear_partial(group)
    return {key: result[key] for key in keys}  # the encoder's order, never cache hits first


def _encode_all(
    encoder: Encoder,
    inputs: Sequence[Any] | np.ndarray,
    layers: Sequence[str],
    poolings: Sequence[str],
    keys: list[tuple[str, str]],
    progress: bool,
) -> dict[tuple[str, str], np.ndarray]:
    with progress_bar(f"encoding with {encoder.name}", total=len(inputs), enabled=progress) as advance:
        out = encoder.encode(inputs, layers=layers, poolings=poolings, progress=advance)
    return {key: out[key] for key in keys}


def _encode_chunks(
    encoder: Encoder,
    inputs: Sequence[Any] | np.ndarray,
    layers: Sequence[str],
    poolings: Sequence[str],
    keys: list[tuple[str, str]],
    cache: FeatureCache,
    group: str,
    chunk_size: int,
    progress: bool,
) -> dict[tuple[str, str], np.ndarray]:
    n = len(inputs)
    names = [f"k{i}" for i in range(len(keys))]
    parts: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in keys}
    with progress_bar(f"encoding with {encoder.name}", total=n, enabled=progress) as advance:
        for index, start in enumerate(range(0, n, chunk_size)):
            stop = min(start + chunk_size, n)
            done = cache.get_chunk(group, index, names, rows=stop - start)
            if done is None:
                out = encoder.encode(inputs[start:stop], layers=layers, poolings=poolings, progress=advance)
                done = {name: out[key] for name, key in zip(names, keys)}
                cache.put_chunk(group, index, done)
            else:
                advance(stop - start)
            for name, key in zip(names, keys):
                parts[key].append(done[name])
    return {key: np.concatenate(parts[key]) for key in keys}
