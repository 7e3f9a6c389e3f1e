"""Extraction on a Ray cluster: Ray Data ``map_batches`` with a pool of encoder actors.

Each actor builds the encoder once (model weights loaded once per actor, on a
GPU when ``num_gpus`` is given) and encodes batches of inputs for every
requested layer and pooling. The driver reassembles rows by index and writes
each ``(layer, pooling)`` entry to the feature cache atomically, exactly as
local extraction does, so the cache keys and contents are the same.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from transferscope.errors import MissingExtraError
from transferscope.extraction.cache import FeatureCache
from transferscope.extraction.features import extract_features
from transferscope.extraction.specs import build_encoder

__all__ = ["extract_features_ray", "start_ray"]


#: Environment of a Ray this process starts: no usage reporting, which is what probes cloud
#: metadata endpoints (169.254.169.254, metadata.google.internal) to guess a provider: a local run
#: stays on the machine. A user's own setting wins.
RAY_LOCAL_ENVIRONMENT = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_USAGE_STATS_PROMPT_ENABLED": "0"}


def start_ray() -> Any:
    """The ``ray`` module, connected to ``RAY_ADDRESS`` or else a local instance (started once,
    with :data:`RAY_LOCAL_ENVIRONMENT`); the one start-up of Ray for extraction and scoring alike."""
    for key, value in RAY_LOCAL_ENVIRONMENT.items():  # read by Ray when it starts: set before the import
        os.environ.setdefault(key, value)
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingExtraError("ray", "scale") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    return ray


class _EncoderActor:
    """Builds the encoder once; encodes one batch per call."""

    def __init__(self, spec: str, options: dict[str, Any], layers: list[str], poolings: list[str],
                 keys: list[tuple[str, str]]) -> None:
        self.encoder = build_encoder(spec, **options)
        self.layers, self.poolings, self.keys = layers, poolings, keys

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        inputs = batch["input"]
        inputs = [str(x) for x in inputs] if inputs.dtype.kind in "OUS" else inputs
        out = self.encoder.encode(inputs, layers=self.layers, poolings=self.poolings)
        result = {"idx": batch["idx"]}
        for i, key in enumerate(self.keys):
            result[f"k{i}"] = out[key]
        return result


def extract_features_ray(
    spec: str,
    inputs: Sequence[Any] | np.ndarray,
    *,
    layers: Sequence[str],
    poolings: Sequence[str],
    cache: FeatureCache,
    dataset_fingerprint: str | None = None,
    seed: int = 0,
    batch_size: int = 64,
    actors: int = 1,
    num_gpus: float = 0.0,
    build_options: dict[str, Any] | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """Features of model ``spec`` for every ``(layer, pooling)``, computed by Ray actors.

    :func:`~transferscope.extraction.features.extract_features` with the missing entries
    encoded on Ray: cached entries are returned without starting any actor, and the entries are
    written and ordered exactly as locally. Encoders that must see all inputs at once
    (``chunkable = False``, e.g. TF-IDF) run locally. ``build_options`` (``max_length``,
    ``batch_size``, ``device``, ``trust_remote_code``) build the encoder here and on every actor
    alike, so the features are those the cache key says.
    """
    options = {**(build_options or {}), "seed": seed, "cache_dir": str(cache.root)}
    encoder = build_encoder(spec, **options)

    def on_ray(missing_layers: list[str], missing: list[tuple[str, str]]) -> dict[tuple[str, str], np.ndarray]:
        ray = start_ray()
        items = np.asarray(inputs) if isinstance(inputs, np.ndarray) else np.asarray(list(inputs), dtype=object)
        blocks = max(1, min(len(items) // batch_size + 1, 4 * max(1, actors)))
        dataset = ray.data.from_numpy(np.array_split(np.arange(len(items)), blocks)).map_batches(
            lambda b: {"idx": b["data"], "input": items[b["data"]]}, batch_size=batch_size)
        encoded = dataset.map_batches(
            _EncoderActor, batch_size=batch_size, concurrency=max(1, actors), num_gpus=num_gpus,
            fn_constructor_kwargs={"spec": spec, "options": options,
                                   "layers": missing_layers, "poolings": list(poolings), "keys": missing})
        parts = {key: np.empty((len(items), 0), dtype=np.float32) for key in missing}
        filled = np.zeros(len(items), dtype=bool)
        for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
            idx = batch["idx"]
            for i, key in enumerate(missing):
                values = np.asarray(batch[f"k{i}"], dtype=np.float32)
                if parts[key].shape[1] == 0:
                    parts[key] = np.empty((len(items), values.shape[1]), dtype=np.float32)
                parts[key][idx] = values
            filled[idx] = True
        if not filled.all():
            raise RuntimeError(f"Ray extraction returned {int(filled.sum())} of {len(items)} rows")
        return parts

    local = not getattr(encoder, "chunkable", True)
    return extract_features(encoder, inputs, layers=layers, poolings=poolings, cache=cache,
                            dataset_fingerprint=dataset_fingerprint, encode_missing=None if local else on_ray)
