"""An encoder whose outputs are compressed (``MODEL#pca128``, ``MODEL#prefix64+int8``, ...).

The spec ``SPEC#COMPRESSION`` is the encoder of ``SPEC`` with every output passed through
:func:`~transferscope.extraction.compression.compress`: what a vector index holding truncated or
quantised embeddings gives a probe. PCA and int8 ranges are fitted on all the inputs encoded
together (unsupervised; no labels), so the encoder sees all inputs at once. The uncompressed
features come through the feature cache, so five compressions of one model encode it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from transferscope.extraction.compression import compress, compressed_dim, decode, parse_compression
from transferscope.extraction.encoder import HEAD_LAYER, Encoder, ProgressCallback

__all__ = ["CompressedEncoder", "COMPRESSION_SEPARATOR"]

COMPRESSION_SEPARATOR = "#"


class CompressedEncoder:
    """``inner`` with its outputs compressed by ``compression``.

    Parameters
    ----------
    inner : Encoder
    compression : str
        ``+``-joined steps (:mod:`transferscope.extraction.compression`).
    cache_dir : str, optional
        Feature cache folder (default: ``$TRANSFERSCOPE_CACHE_DIR`` or the user cache).
    use_cache : bool, default=False
        Read / write the uncompressed features through that cache (else compute them).
    name : str, optional
        Shown in tables (default: the inner name, ``#``, the compression).

    Examples
    --------
    >>> from transferscope.extraction.baselines import TfidfSvdEncoder
    >>> enc = CompressedEncoder(TfidfSvdEncoder(n_components=4), "prefix2+binary")
    >>> out = enc.encode(["good film", "bad film", "great", "fine"], layers=["tfidf-svd"], poolings=["none"])
    >>> enc.name, out[("tfidf-svd", "none")].shape
    ('tfidf-svd#prefix2+binary', (4, 2))
    """

    adapter = "compressed"
    chunkable = False  # PCA and int8 ranges are fitted on all inputs at once

    def __init__(self, inner: Encoder, compression: str, *, cache_dir: str | None = None, use_cache: bool = False,
                 name: str | None = None) -> None:
        parse_compression(compression)
        self.inner = inner
        self.compression = compression.strip()
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.name = name or f"{inner.name}{COMPRESSION_SEPARATOR}{self.compression}"
        self.modality = getattr(inner, "modality", None)  # what the compressed model reads

    def identity(self) -> dict[str, Any]:
        import sklearn

        return {"adapter": "compressed", "inner": self.inner.identity(), "compression": self.compression,
                "sklearn": sklearn.__version__}

    def layer_names(self) -> list[str]:
        return self.inner.layer_names()

    def pooled_layers(self) -> list[str]:
        return self.inner.pooled_layers()

    def all_layers(self) -> list[str]:
        return self.inner.all_layers()

    def preprocessing(self) -> dict[str, Any]:
        return {**self.inner.preprocessing(), "compression": self.compression}

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        return self.inner.output_keys(layers, poolings)

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        from transferscope.extraction.cache import FeatureCache
        from transferscope.extraction.features import extract_features

        cache = FeatureCache(self.cache_dir) if self.use_cache else None
        raw = extract_features(self.inner, inputs, layers=layers, poolings=poolings, cache=cache)
        if progress is not None:
            progress(len(inputs))
        # a source head's softmax is a distribution, not an embedding: it is passed through
        return {key: value if key[0] == HEAD_LAYER else decode(
            compress(value, self.compression), self.compression,
            dim=compressed_dim(value.shape[1], self.compression, fit_rows=value.shape[0]))
            for key, value in raw.items()}
