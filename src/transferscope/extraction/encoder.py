"""The Encoder protocol: what every representation source provides.

An encoder turns a sequence of inputs into features for several layers and
poolings in one pass. Its :meth:`identity` must change whenever its outputs can
change (weights, revision, random seed, library version), because the feature
cache is keyed on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Encoder", "HEAD_LAYER", "HEAD_POOLING", "LAYERS_MEAN", "POOLINGS", "ProgressCallback", "check_request",
           "check_texts"]

#: Poolings over tokens. Layers without a token axis ignore the pooling.
POOLINGS = ("mean", "cls", "max", "last")

#: Pseudo-layer of a classifier checkpoint: the softmax of its head, the
#: ``source_probs`` of LEEP, NCE and similar estimators. Not a candidate layer.
HEAD_LAYER = "head"
HEAD_POOLING = "softmax"

#: Pseudo-layer of a transformer: the mean of its blocks' pooled outputs (``layer_1`` .. ``layer_L``,
#: each pooled the same way; the embedding output is left out). Layer aggregation as a candidate of
#: its own (transformer-ranker, Garbas et al., ACL Findings 2024). Not part of ``layers="all"``;
#: ``layers="mean"`` asks for it.
LAYERS_MEAN = "layers-mean"

ProgressCallback = Callable[[int], None]


@runtime_checkable
class Encoder(Protocol):
    """A source of representations.

    ``name`` is what users see in tables. ``identity()`` returns JSON-able fields
    that determine the outputs (it must not need the weights in memory).
    ``layer_names()`` lists the layers in model order. ``pooled_layers()`` are
    those with a token axis, to which ``POOLINGS`` apply. ``preprocessing()``
    lists input handling that changes the numbers (max length, ...).
    ``all_layers()`` is every layer ``encode`` accepts (``layer_names()`` plus
    model outputs such as a sentence embedding); ``output_keys`` gives the
    ``(layer, pooling)`` pairs that ``encode`` returns for a request (layers
    without a token axis get pooling ``none`` or ``native``). An encoder with
    ``chunkable = False`` must see all inputs at once (it is fitted on them).
    ``encode`` returns float32 arrays keyed by ``(layer, pooling)``; it must
    call ``progress(n)`` after each batch of ``n`` inputs when given. An encoder
    that reads one kind of input declares it as ``modality`` (``"text"`` or
    ``"image"``): a dataset of the other kind is then refused before any work.
    """

    name: str

    def identity(self) -> dict[str, Any]: ...

    def layer_names(self) -> list[str]: ...

    def pooled_layers(self) -> list[str]: ...

    def preprocessing(self) -> dict[str, Any]: ...

    def all_layers(self) -> list[str]: ...

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]: ...

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]: ...


def check_request(encoder: Encoder, layers: Sequence[str], poolings: Sequence[str]) -> None:
    """One InputError for a layer ``encoder`` does not have or a pooling that is not a token pooling.

    Examples
    --------
    >>> from transferscope.extraction.baselines import TfidfSvdEncoder
    >>> check_request(TfidfSvdEncoder(), ["nope"], ["mean"])
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: unknown layer 'nope'; tfidf-svd has: tfidf-svd
    """
    from transferscope.errors import InputError

    available = encoder.all_layers()
    for layer in layers:
        if layer not in available:
            raise InputError(f"unknown layer {layer!r}; {encoder.name} has: {', '.join(available)}")
    for pooling in poolings:
        if pooling not in POOLINGS:
            raise InputError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")


def check_texts(encoder: Encoder, inputs: Sequence[object]) -> list[str]:
    """``inputs`` as strings, or one InputError when they are not text (an image array given to a
    text model would otherwise be tokenised as its printed form).

    Examples
    --------
    >>> from transferscope.extraction.baselines import TfidfSvdEncoder
    >>> check_texts(TfidfSvdEncoder(), ["a", "b"])
    ['a', 'b']
    """
    from transferscope.errors import InputError

    for i, item in enumerate(inputs):
        if not isinstance(item, str):
            raise InputError(f"{encoder.name} is a text model; input {i} is {type(item).__name__}, not text")
    return list(inputs)  # type: ignore[arg-type]
