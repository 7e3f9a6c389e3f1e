"""Static embeddings: a token table, a tokenizer and a pooling (WordLlama, GloVe, model2vec).

A static model maps each token to one fixed vector; a text is the pooling of its tokens'
vectors. :class:`StaticEmbeddingEncoder` is one adapter for all of them:

* ``tokens``: the token vectors of an input, pooled by ``mean``, ``max``, ``cls`` (the first
  token) or ``last``;
* ``output``: the model's own sentence embedding (pooling ``native``): the mean of the token
  vectors, L2-normalised where the model's configuration says so (model2vec), as its own
  library computes it.

Tokens the vocabulary does not hold are left out of the pooling (word-level tables such as
GloVe; model2vec does the same with its unknown token), and they are *counted*:
:meth:`StaticEmbeddingEncoder.coverage` says how many tokens of the inputs were unknown and how
many inputs had no known token at all (those get a zero vector). Callers report it
(:func:`~transferscope.workflows.engine.candidates.encoder_candidates` puts it in the candidates'
notes, and ``rank`` prints it), so a table that covers a third of a dataset's words cannot pass
for a good representation unnoticed.

Two tokenizers: :class:`SubwordTokenizer` (a Hugging Face ``tokenizer.json``, special tokens
not added, as WordLlama and model2vec encode) and :class:`WordTokenizer` (lower-cased words and
punctuation split as the Stanford tokenizer that built GloVe's vocabulary: ``don't`` ->
``do n't``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.encoder import ProgressCallback, check_request, check_texts
from transferscope.hashing import hash_files

__all__ = ["StaticEmbeddingEncoder", "SubwordTokenizer", "WordTokenizer", "Coverage", "TOKENS_LAYER", "OUTPUT_LAYER"]

TOKENS_LAYER = "tokens"
OUTPUT_LAYER = "output"


@dataclass(frozen=True)
class Coverage:
    """How much of the inputs a vocabulary covers.

    Attributes
    ----------
    tokens : int
        Tokens of all inputs, known or not.
    unknown : int
        Tokens the table has no vector for (left out of the pooling).
    empty : int
        Inputs with no known token (their features are zeros).
    inputs : int
    """

    tokens: int
    unknown: int
    empty: int
    inputs: int

    def note(self, name: str) -> str | None:
        """One sentence for the user, or None when every token is known.

        Examples
        --------
        >>> Coverage(tokens=200, unknown=10, empty=1, inputs=50).note("glove")
        'glove: 10 of 200 tokens (5.0%) are not in its vocabulary and were left out; 1 of 50 inputs has no known token (a zero vector)'
        """
        if self.unknown == 0 and self.empty == 0:
            return None
        share = 100.0 * self.unknown / max(self.tokens, 1)
        text = f"{name}: {self.unknown} of {self.tokens} tokens ({share:.1f}%) are not in its vocabulary and were left out"
        if self.empty:
            verb = "has" if self.empty == 1 else "have"
            text += f"; {self.empty} of {self.inputs} inputs {verb} no known token (a zero vector)"
        return text


class SubwordTokenizer:
    """A Hugging Face ``tokenizer.json`` (the ``tokenizers`` library), without special tokens.

    ``unknown`` tokens are those equal to the tokenizer's own unknown token (a WordPiece
    ``[UNK]``; a byte-fallback BPE never emits one). ``max_tokens`` truncates each input.
    """

    kind = "subword"

    def __init__(self, path: str | Path, *, max_tokens: int | None = None) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise MissingExtraError("tokenizers", "text") from None
        self.path = Path(path)
        self._tokenizer = Tokenizer.from_file(str(self.path))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        spec = json.loads(self.path.read_text(encoding="utf-8"))
        unk = (spec.get("model") or {}).get("unk_token")
        self.unk_id = self._tokenizer.token_to_id(unk) if isinstance(unk, str) else None
        self.max_tokens = max_tokens

    def describe(self) -> dict[str, Any]:
        return {"tokenizer": self.kind, "special_tokens": False, "max_tokens": self.max_tokens}

    def split(self, texts: Sequence[str]) -> tuple[list[np.ndarray], list[int]]:
        """Known token rows of each text and the number of unknown tokens of each."""
        ids, unknown = [], []
        for encoding in self._tokenizer.encode_batch(list(texts), add_special_tokens=False):
            row = np.asarray(encoding.ids, dtype=np.int64)
            if self.max_tokens is not None:
                row = row[: self.max_tokens]
            known = row != self.unk_id if self.unk_id is not None else np.ones(row.shape, dtype=bool)
            ids.append(row[known])
            unknown.append(int((~known).sum()))
        return ids, unknown


_WORDS = re.compile(r"\w+(?=n't\b)|n't\b|'\w+|\w+(?:[-.]\w+)*|[^\w\s]")


class WordTokenizer:
    """Lower-cased words and punctuation looked up in a word list (GloVe).

    Examples
    --------
    >>> tok = WordTokenizer(["do", "n't", "stop", "!"])
    >>> ids, unknown = tok.split(["Don't stop!!", "zzyzx"])
    >>> [list(map(int, i)) for i in ids], unknown
    ([[0, 1, 2, 3, 3], []], [0, 1])
    """

    kind = "words"

    def __init__(self, words: Sequence[str]) -> None:
        self.index = {str(w): i for i, w in enumerate(words)}

    def describe(self) -> dict[str, Any]:
        return {"tokenizer": self.kind, "lowercase": True, "pattern": _WORDS.pattern}

    def split(self, texts: Sequence[str]) -> tuple[list[np.ndarray], list[int]]:
        ids, unknown = [], []
        for text in texts:
            found = [self.index.get(w) for w in _WORDS.findall(str(text).lower())]
            known = [i for i in found if i is not None]
            ids.append(np.asarray(known, dtype=np.int64))
            unknown.append(len(found) - len(known))
        return ids, unknown


class StaticEmbeddingEncoder:
    """A token table with its tokenizer: layers ``tokens`` (pooled) and ``output`` (native).

    Parameters
    ----------
    name : str
        Display name.
    vectors : callable
        Returns the token table, shape (vocabulary, dim); called once, on first use.
    tokenizer : SubwordTokenizer or WordTokenizer, or a callable returning one
        Built on first use when given as a callable (GloVe's word list takes a second to read).
    files : sequence of path
        The files the table and tokenizer come from; their content hash is the cache identity.
    normalize : bool, default=False
        Whether the native ``output`` is L2-normalised (model2vec's ``normalize`` setting).
    cache_dir : str, optional
        Where the files' content hash is remembered.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.extraction.static_embeddings import StaticEmbeddingEncoder, WordTokenizer
    >>> enc = StaticEmbeddingEncoder("toy", vectors=lambda: np.eye(3, dtype=np.float32),
    ...                              tokenizer=WordTokenizer(["good", "bad", "film"]), files=[])
    >>> out = enc.encode(["good film", "bad"], layers=["output"], poolings=["mean"])
    >>> out[("output", "native")].tolist()
    [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]
    """

    adapter = "static"
    modality = "text"
    chunkable = True

    def __init__(
        self,
        name: str,
        *,
        vectors: Callable[[], np.ndarray],
        tokenizer: SubwordTokenizer | WordTokenizer | Callable[[], SubwordTokenizer | WordTokenizer],
        files: Sequence[str | Path],
        normalize: bool = False,
        cache_dir: str | None = None,
        identity: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self._vectors_loader = vectors
        self._tokenizer_source = tokenizer
        self.files = [Path(f) for f in files]
        self.normalize = normalize
        self.cache_dir = cache_dir
        self._extra_identity = dict(identity or {})
        self._vectors: np.ndarray | None = None
        self._tokenizer: SubwordTokenizer | WordTokenizer | None = None
        self._identity: dict[str, Any] | None = None

    # -- description ---------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            from transferscope.extraction.cache import default_cache_dir

            self._identity = {"adapter": self.adapter, "normalize": self.normalize, **self._extra_identity,
                              "files": hash_files(self.files, memo_dir=default_cache_dir(self.cache_dir))}
        return dict(self._identity)

    def layer_names(self) -> list[str]:
        return [TOKENS_LAYER]

    def pooled_layers(self) -> list[str]:
        return [TOKENS_LAYER]

    def all_layers(self) -> list[str]:
        return [TOKENS_LAYER, OUTPUT_LAYER]

    def preprocessing(self) -> dict[str, Any]:
        return {**self.tokenizer().describe(), "unknown_tokens": "left out"}

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        keys = [(TOKENS_LAYER, p) for p in poolings] if TOKENS_LAYER in layers else []
        return keys + ([(OUTPUT_LAYER, "native")] if OUTPUT_LAYER in layers else [])

    # -- computation ---------------------------------------------------------

    def tokenizer(self) -> SubwordTokenizer | WordTokenizer:
        if self._tokenizer is None:
            source = self._tokenizer_source
            self._tokenizer = source if isinstance(source, (SubwordTokenizer, WordTokenizer)) else source()
        return self._tokenizer

    def vectors(self) -> np.ndarray:
        """The token table as float32 (read on first use)."""
        if self._vectors is None:
            self._vectors = np.asarray(self._vectors_loader(), dtype=np.float32)
            if self._vectors.ndim != 2:
                raise InputError(f"the token table of {self.name} must be 2-D, got shape {self._vectors.shape}")
        return self._vectors

    def coverage(self, inputs: Sequence[Any]) -> Coverage:
        """How many tokens of ``inputs`` the vocabulary holds (tokenisation only, no vectors read)."""
        ids, unknown = self.tokenizer().split(check_texts(self, inputs))
        known = sum(i.size for i in ids)
        return Coverage(tokens=known + sum(unknown), unknown=sum(unknown), empty=sum(i.size == 0 for i in ids),
                        inputs=len(ids))

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        """Pooled token vectors of ``inputs`` (strings) for each requested ``(layer, pooling)``."""
        check_request(self, layers, poolings)
        texts = check_texts(self, inputs)
        table = self.vectors()
        ids, _ = self.tokenizer().split(texts)
        lengths = np.array([i.size for i in ids])
        nonempty = lengths > 0
        flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        if flat.size and (flat.min() < 0 or flat.max() >= table.shape[0]):
            raise InputError(f"the tokenizer of {self.name} gives token ids beyond its table of {table.shape[0]} rows")
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        out: dict[tuple[str, str], np.ndarray] = {}
        rows: np.ndarray | None = None  # the gathered token vectors, only for max / cls / last
        mean: np.ndarray | None = None
        for layer, pooling in self.output_keys(layers, poolings):
            pooled = np.zeros((len(ids), table.shape[1]), dtype=np.float32)
            if pooling in ("mean", "native"):
                if mean is None:  # a sparse (texts x vocabulary) matrix of 1 / length, times the table
                    from scipy import sparse

                    weights = np.repeat(1.0 / np.maximum(lengths, 1), lengths).astype(np.float32)
                    indptr = np.concatenate([starts, [flat.size]])
                    mean = np.asarray(sparse.csr_matrix((weights, flat, indptr), shape=(len(ids), table.shape[0]))
                                      @ table, dtype=np.float32)
                pooled = mean.copy()
            elif nonempty.any():
                rows = table[flat] if rows is None else rows
                first = starts[nonempty]
                if pooling == "max":
                    pooled[nonempty] = np.maximum.reduceat(rows, first, axis=0)
                elif pooling == "cls":
                    pooled[nonempty] = rows[first]
                else:  # last
                    pooled[nonempty] = rows[first + lengths[nonempty] - 1]
            if pooling == "native" and self.normalize:
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                pooled = np.divide(pooled, norms, out=np.zeros_like(pooled), where=norms > 0)
            out[(layer, pooling)] = pooled
        if progress is not None:
            progress(len(ids))
        return out
