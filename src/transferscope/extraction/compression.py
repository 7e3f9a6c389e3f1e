"""Compressed embeddings: truncation and quantisation, as a vector index would store them.

A compression is a ``+``-joined chain of steps, applied left to right:

* ``prefix{D}``: the first ``D`` dimensions (Matryoshka truncation, as sentence-transformers'
  ``truncate_dim``);
* ``pca{D}``: the top ``D`` principal components (scikit-learn's PCA, fitted on the ``fit`` rows);
* ``float16``: half precision, read back as float32;
* ``int8``: each dimension mapped linearly from its calibrated ``[min, max]`` (over the ``fit``
  rows) onto the 256 integers -128..127, as sentence-transformers' ``quantize_embeddings`` with
  calibration embeddings; values outside the range are clipped;
* ``binary``: one bit per dimension, ``x > 0`` (sentence-transformers' ``binary`` / ``ubinary``).

The returned arrays hold the stored codes as float32 (int8 codes, bits as 0 / 1), which is what
a probe or an estimator fitted on the compressed index sees. ``fit`` selects the rows that PCA and
the int8 ranges are fitted on (a training split); by default every row (unsupervised, no labels).

Examples
--------
>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(100, 32)).astype(np.float32)
>>> compress(x, "pca8+int8").shape, bytes_per_vector(32, "pca8+int8"), bytes_per_vector(32, "binary")
((100, 8), 8, 4)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from transferscope.errors import InputError

__all__ = ["compress", "parse_compression", "bytes_per_vector", "compressed_dim"]

_STEP = re.compile(r"^(prefix|pca)(\d+)$|^(float16|int8|binary)$")


def parse_compression(spec: str) -> list[tuple[str, int | None]]:
    """``"pca128+int8"`` -> ``[("pca", 128), ("int8", None)]``; one InputError for anything else.

    Examples
    --------
    >>> parse_compression("prefix64+binary")
    [('prefix', 64), ('binary', None)]
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError("compression must be a step such as prefix64, pca128, float16, int8 or binary")
    steps: list[tuple[str, int | None]] = []
    for part in spec.strip().split("+"):
        match = _STEP.match(part.strip())
        if match is None:
            raise InputError(f"compression step {part!r} is not one of prefix<D>, pca<D>, float16, int8, binary")
        if match.group(1):
            dim = int(match.group(2))
            if dim < 1:
                raise InputError(f"compression step {part!r} needs a dimension >= 1")
            steps.append((match.group(1), dim))
        else:
            steps.append((match.group(3), None))
    quantised = [i for i, (name, _) in enumerate(steps) if name in ("float16", "int8", "binary")]
    if len(quantised) > 1 or (quantised and quantised[0] != len(steps) - 1):
        raise InputError(f"compression {spec!r}: a quantisation (float16, int8, binary) can only be the last step")
    return steps


def compressed_dim(dim: int, spec: str) -> int:
    """Dimensions left after ``spec`` on ``dim``-dimensional vectors."""
    for name, size in parse_compression(spec):
        if name in ("prefix", "pca"):
            dim = min(dim, int(size))  # type: ignore[arg-type]
    return dim


def bytes_per_vector(dim: int, spec: str | None) -> int:
    """Storage of one vector after ``spec`` (float32 = 4 bytes a dimension; binary packs 8 to a byte)."""
    if spec is None:
        return 4 * dim
    steps = parse_compression(spec)
    out = compressed_dim(dim, spec)
    last = steps[-1][0]
    return {"float16": 2 * out, "int8": out, "binary": (out + 7) // 8}.get(last, 4 * out)


def compress(x: Any, spec: str, *, fit: Any = None, seed: int = 0) -> np.ndarray:
    """``x`` after the compression ``spec`` (module docs), as float32 codes.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
    spec : str
        ``+``-joined steps, e.g. ``"pca128+int8"``.
    fit : array-like of int or bool, optional
        Rows that PCA and the int8 ranges are fitted on (default: every row).
    seed : int, default=0
        Seeds PCA's randomised solver where scikit-learn picks it.

    Returns
    -------
    numpy.ndarray of float32, shape (n_samples, compressed_dim)
    """
    steps = parse_compression(spec)
    out = np.asarray(x, dtype=np.float64)
    if out.ndim != 2 or out.shape[0] == 0 or not np.all(np.isfinite(out)):
        raise InputError("features to compress must be a non-empty finite 2-D array")
    rows = np.arange(out.shape[0]) if fit is None else np.asarray(fit)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    if rows.size == 0:
        raise InputError("fit selects no rows to fit the compression on")
    for name, size in steps:
        if name == "prefix":
            out = out[:, : int(size)]  # type: ignore[misc]
        elif name == "pca":
            from sklearn.decomposition import PCA

            k = min(int(size), out.shape[1], rows.size)  # type: ignore[arg-type]
            out = PCA(n_components=k, random_state=seed).fit(out[rows]).transform(out)
        elif name == "float16":
            out = out.astype(np.float16).astype(np.float64)
        elif name == "int8":
            low, high = out[rows].min(axis=0), out[rows].max(axis=0)
            width = np.where(high > low, high - low, 1.0)
            out = np.clip(np.round((out - low) / width * 255.0) - 128.0, -128, 127)
        else:  # binary
            out = (out > 0).astype(np.float64)
    return np.ascontiguousarray(out, dtype=np.float32)
