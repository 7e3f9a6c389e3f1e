"""Static text baselines that need no pretrained weights.

``TfidfSvdEncoder``: character n-gram TF-IDF reduced by truncated SVD. It is
fitted, unsupervised, on the inputs it encodes (no labels are seen), which is
the honest "no pretraining" reference point for a text representation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sklearn
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import make_pipeline

from transferscope.errors import InputError
from transferscope.extraction.encoder import ProgressCallback

__all__ = ["TfidfSvdEncoder", "HashingSvdEncoder"]


class TfidfSvdEncoder:
    """Character n-gram TF-IDF + truncated SVD.

    Parameters
    ----------
    n_components : int, default=256
        Output dimensions (capped at the number of n-gram features - 1).
    ngram_range : tuple of int, default=(2, 4)
        Character n-gram lengths, within word boundaries.
    seed : int, default=0
        Seed of the randomised SVD.

    Examples
    --------
    >>> from transferscope.extraction.baselines import TfidfSvdEncoder
    >>> enc = TfidfSvdEncoder(n_components=2)
    >>> enc.encode(["good film", "bad film", "great"], layers=["tfidf-svd"],
    ...            poolings=["none"])[("tfidf-svd", "none")].shape
    (3, 2)
    """

    adapter = "tfidf-svd"
    modality = "text"
    chunkable = False  # fitted on all inputs at once

    def __init__(self, *, n_components: int = 256, ngram_range: tuple[int, int] = (2, 4), seed: int = 0) -> None:
        if n_components < 1:
            raise InputError(f"n_components must be >= 1, got {n_components}")
        self.n_components = n_components
        self.ngram_range = tuple(ngram_range)
        self.seed = seed
        self.name = "tfidf-svd"

    def identity(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "n_components": self.n_components,
            "ngram_range": list(self.ngram_range),
            "seed": self.seed,
            "sklearn": sklearn.__version__,
        }

    layer = "tfidf-svd"

    def _vectorizer(self) -> Any:
        """The unsupervised text -> sparse matrix step, fitted on the encoded inputs."""
        return TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, sublinear_tf=True)

    def layer_names(self) -> list[str]:
        return [self.layer]

    def pooled_layers(self) -> list[str]:
        return []

    def all_layers(self) -> list[str]:
        return self.layer_names()

    def preprocessing(self) -> dict[str, Any]:
        return {"lowercase": True, "analyzer": "char_wb"}

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        return [(self.layer, "none")]

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        texts = [str(x) for x in inputs]
        sparse = self._vectorizer().fit_transform(texts)
        k = max(1, min(self.n_components, sparse.shape[1] - 1, len(texts) - 1))
        dense = TruncatedSVD(n_components=k, random_state=self.seed).fit_transform(sparse)
        if progress is not None:
            progress(len(texts))
        return {(self.layer, "none"): dense.astype(np.float32)}


class HashingSvdEncoder(TfidfSvdEncoder):
    """Character n-grams hashed into 2^18 buckets (no vocabulary), TF-IDF weighted,
    reduced by truncated SVD: the TF-IDF baseline without a fitted vocabulary.

    Examples
    --------
    >>> from transferscope.extraction.baselines import HashingSvdEncoder
    >>> enc = HashingSvdEncoder(n_components=2)
    >>> enc.encode(["good film", "bad film", "great"], layers=["hashing-svd"],
    ...            poolings=["none"])[("hashing-svd", "none")].shape
    (3, 2)
    """

    adapter = "hashing-svd"
    layer = "hashing-svd"

    def __init__(self, *, n_components: int = 256, ngram_range: tuple[int, int] = (2, 4), seed: int = 0,
                 n_features: int = 2**18) -> None:
        super().__init__(n_components=n_components, ngram_range=ngram_range, seed=seed)
        self.n_features = n_features
        self.name = "hashing-svd"

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "n_features": self.n_features}

    def _vectorizer(self) -> Any:
        return make_pipeline(
            HashingVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, n_features=self.n_features,
                              alternate_sign=False, norm=None),
            TfidfTransformer(sublinear_tf=True),
        )
