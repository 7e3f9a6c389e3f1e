"""Candidates: the representations every command scores, compares or profiles.

A :class:`Candidate` is one representation of a dataset's inputs: a model spec, a layer and
a pooling (or a named feature array the user gave), with its features. Every command gets its
candidates from :func:`extract_candidates` (models, through the feature cache),
:func:`encoder_candidates` (one built encoder, for callers that pick the layers per cell) or
:func:`feature_candidates` (precomputed arrays), and every extraction option travels in one
:class:`~transferscope.workflows.engine.options.ExtractionOptions`, built once by the CLI or the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError
from transferscope.extraction.cache import FeatureCache
from transferscope.extraction.checks import check_model
from transferscope.extraction.encoder import HEAD_LAYER, HEAD_POOLING, Encoder
from transferscope.extraction.features import extract_features
from transferscope.extraction.specs import check_poolings, select_layers
from transferscope.hashing import hash_inputs
from transferscope.metrics import check_features_shape
from transferscope.workflows.engine.options import ExtractionOptions

LOGGER = logging.getLogger("transferscope.extraction")

__all__ = ["Candidate", "ExtractionOptions", "extract_candidates", "check_modality", "encoder_candidates", "feature_candidates",
           "same_features_notes"]


@dataclass(frozen=True, eq=False)
class Candidate:
    """One representation of the inputs and its features.

    Attributes
    ----------
    name : str
        ``"model | layer | pooling"``, or the key of a precomputed feature array.
    model : str
        The encoder's display name (``tfidf-svd`` for the spec ``tfidf``; the key for arrays).
    layer, pooling : str
        Empty for precomputed arrays.
    features : numpy.ndarray of shape (n_samples, dim)
        Memory-mapped from the feature cache when it came from there.
    source_probs : numpy.ndarray, optional
        The softmax of the model's classification head, where it has one and it was asked for.
    spec : str
        The model as the caller wrote it (``tfidf``); suites key their priors by it.
    notes : tuple of str
        What the user should know about these features (a static table's unknown tokens,
        :meth:`~transferscope.extraction.static_embeddings.StaticEmbeddingEncoder.coverage`);
        scoring reports them with its warnings.
    """

    name: str
    model: str
    layer: str
    pooling: str
    features: np.ndarray = field(repr=False)
    source_probs: np.ndarray | None = field(default=None, repr=False)
    spec: str = ""
    notes: tuple[str, ...] = ()

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def describe(self) -> dict[str, str]:
        """The descriptive columns of a result table: candidate, model, layer, pooling."""
        return {"candidate": self.name, "model": self.model, "layer": self.layer, "pooling": self.pooling}


def _inputs_of(inputs: Dataset | Sequence[Any]) -> tuple[Sequence[Any], str]:
    if isinstance(inputs, Dataset):
        return inputs.inputs, inputs.fingerprint()
    if len(inputs) == 0:
        raise InputError("inputs must not be empty")
    return inputs, hash_inputs(inputs)


def check_modality(encoder: Any, dataset: Any) -> None:
    """Refuse a model that reads text for a dataset of images, or the reverse: a text model would
    tokenise each image's printed array and be ranked (silently wrong), an image model fail
    deep inside its preprocessing. Encoders or datasets that declare no such kind pass."""
    reads, holds = getattr(encoder, "modality", None), getattr(dataset, "modality", None)
    if reads in ("text", "image") and holds in ("text", "image") and reads != holds:
        raise InputError(f"model {getattr(encoder, 'name', encoder)!r} reads {reads} and dataset "
                         f"{getattr(dataset, 'name', '')!r} holds {holds} inputs: give {'an image' if holds == 'image' else 'a text'} "
                         "model (see `transferscope models`)")


def extract_candidates(
    inputs: Dataset | Sequence[Any],
    models: Sequence[str | Encoder],
    *,
    layers: str | Sequence[str | int] = "all",
    poolings: str | Sequence[str] = ("mean",),
    with_head: bool = False,
    seed: int = 0,
    extraction: ExtractionOptions | None = None,
) -> list[Candidate]:
    """Every model x layer x pooling of ``inputs`` as candidates, features through the cache.

    Every model is built and checked (damaged weights, ``max_length`` beyond its positions)
    before the first one runs. ``inputs`` is a :class:`Dataset` (its labels are not used) or a
    sequence of inputs. With ``with_head``, a model with a classification head also gives each
    of its candidates ``source_probs``.

    Examples
    --------
    >>> cands = extract_candidates(["a b", "b c", "c d", "d e"], ["tfidf"],
    ...                            extraction=ExtractionOptions(use_cache=False))
    >>> [(c.name, c.spec, c.dim) for c in cands]
    [('tfidf-svd | tfidf-svd | none', 'tfidf', 3)]
    """
    options = extraction or ExtractionOptions()
    pools = check_poolings(poolings)
    items, fingerprint = _inputs_of(inputs)
    cache = options.feature_cache()
    encoders = []
    for spec in models:
        encoder = options.encoder(spec, seed=seed)
        check_modality(encoder, inputs)
        check_model(encoder, options.max_length)
        encoders.append((spec, encoder, select_layers(encoder, layers)))
    candidates = []
    for spec, encoder, chosen in encoders:
        LOGGER.info("%s: %d layer(s) x %d pooling(s) on %d inputs", encoder.name, len(chosen), len(pools), len(items))
        candidates.extend(encoder_candidates(encoder, items, fingerprint, layers=chosen, poolings=pools,
                                             with_head=with_head, cache=cache, progress=options.progress,
                                             device=options.device, spec=spec if isinstance(spec, str) else ""))
    return candidates


def encoder_candidates(
    encoder: Encoder,
    items: Sequence[Any],
    fingerprint: str,
    *,
    layers: Sequence[str],
    poolings: Sequence[str],
    with_head: bool = False,
    cache: FeatureCache | None = None,
    progress: bool = False,
    device: str | None = None,
    spec: str = "",
    backend: str = "local",
    seed: int = 0,
    build_options: dict[str, Any] | None = None,
) -> list[Candidate]:
    """The candidates of one built ``encoder`` for ``layers`` x ``poolings``, in the encoder's order.

    ``backend="ray"`` encodes on Ray actors (:mod:`transferscope.extraction.ray_backend`),
    through the same cache, each building the encoder from ``spec`` with ``build_options`` (those
    ``encoder`` was built with). ``fingerprint`` is the hash of ``items``.
    """
    head = with_head and HEAD_LAYER in encoder.all_layers() and HEAD_LAYER not in layers
    wanted = list(layers) + ([HEAD_LAYER] if head else [])
    try:
        if backend == "ray":
            from transferscope.extraction.ray_backend import extract_features_ray

            if cache is None:
                raise InputError("the ray backend needs the feature cache (use_cache=True)")
            feats = extract_features_ray(spec or encoder.name, items, layers=wanted, poolings=poolings,
                                         cache=cache, seed=seed, dataset_fingerprint=fingerprint,
                                         build_options=build_options)
        else:
            feats = extract_features(encoder, items, layers=wanted, poolings=poolings, cache=cache,
                                     dataset_fingerprint=fingerprint, progress=progress)
    except AssertionError as exc:  # torch's "Torch not compiled with CUDA enabled"
        if device is None or "CUDA" not in str(exc):
            raise
        raise InputError(f"device {device!r}: {exc}; use cpu") from None
    probs = feats.pop((HEAD_LAYER, HEAD_POOLING)) if head else feats.get((HEAD_LAYER, HEAD_POOLING))
    notes = _coverage_notes(encoder, items)
    return [Candidate(name=f"{encoder.name} | {layer} | {pooling}", model=encoder.name, layer=layer,
                      pooling=pooling, features=array, source_probs=probs, spec=spec or encoder.name, notes=notes)
            for (layer, pooling), array in feats.items()]


def _coverage_notes(encoder: Encoder, items: Sequence[Any]) -> tuple[str, ...]:
    """The unknown-token note of an encoder with a vocabulary (tokenisation only: cheap, and computed
    whether or not the features came from the cache)."""
    coverage = getattr(encoder, "coverage", None)
    if coverage is None:
        return ()
    note = coverage(items).note(encoder.name)
    if note is not None:
        LOGGER.info("%s", note)
    return () if note is None else (note,)


def same_features_notes(candidates: Sequence[Candidate]) -> list[str]:
    """One note per candidate whose features are byte for byte those of an earlier one (a static
    model's ``output`` is its ``tokens | mean`` when it does not normalise), so that two rows of
    a table with equal numbers are explained, not mistaken for agreement.

    Examples
    --------
    >>> a = Candidate("a", "m", "", "", np.eye(2, dtype=np.float32))
    >>> b = Candidate("b", "m", "", "", np.eye(2, dtype=np.float32))
    >>> same_features_notes([a, b])
    ['b has the same features as a']
    """
    from transferscope.hashing import hash_array

    first: dict[str, str] = {}
    notes = []
    for cand in candidates:
        digest = hash_array(np.asarray(cand.features))
        if digest in first:
            notes.append(f"{cand.name} has the same features as {first[digest]}")
        else:
            first[digest] = cand.name
    return notes


def feature_candidates(
    features: Mapping[str, Any],
    *,
    n_samples: int | None = None,
    source_probs: Mapping[str, Any] | None = None,
) -> list[Candidate]:
    """Precomputed arrays as candidates, each checked (numeric, 2-D, finite) and named by its key.

    ``n_samples`` (the number of labels) is checked against every array's rows.

    Examples
    --------
    >>> import numpy as np
    >>> [c.name for c in feature_candidates({"a": np.ones((3, 2)), "b": np.eye(3)}, n_samples=3)]
    ['a', 'b']
    """
    candidates = []
    for name, array in features.items():
        arr = np.asarray(array)
        # Validation only, without a float64 copy: each estimator then rescales extreme
        # magnitudes or refuses them itself.
        check_features_shape(arr, name=f"features '{name}'")
        if n_samples is not None and arr.shape[0] != n_samples:
            raise InputError(f"labels has {n_samples} entries but features '{name}' has {arr.shape[0]} rows")
        probs = None if source_probs is None or name not in source_probs else np.asarray(source_probs[name])
        candidates.append(Candidate(name=str(name), model=str(name), layer="", pooling="", features=arr,
                                    source_probs=probs, spec=str(name)))
    if not candidates:
        raise InputError("features must hold at least one array")
    return candidates
