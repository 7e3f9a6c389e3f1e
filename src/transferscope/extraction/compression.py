"""Compressed embeddings: truncation and quantisation, as a vector index would store them.

A compression is a ``+``-joined chain of steps, applied left to right:

* ``prefix{D}``: the first ``D`` dimensions (Matryoshka truncation, as sentence-transformers'
  ``truncate_dim``);
* ``pca{D}``: the top ``D`` principal components (scikit-learn's PCA, fitted on the ``fit`` rows);
* ``float16``: half precision, read back as float32;
* ``int8``: each dimension's calibrated ``[min, max]`` (over the ``fit`` rows) cut into 256 equal
  buckets, a value stored as its bucket ``floor((x - min) / step)`` shifted to -128..127 (values
  outside the range clipped), in float32 arithmetic: exactly sentence-transformers'
  ``quantize_embeddings(precision="int8")`` with the ``fit`` rows as calibration embeddings (tested
  code for code);
* ``binary``: one bit per dimension, ``x > 0``, packed 8 to a byte (``np.packbits``, the first
  dimension in the high bit): exactly sentence-transformers' ``ubinary``, and what FAISS's binary
  index stores.

:func:`compress` returns the codes as an index stores them: ``int8`` codes as int8, ``binary`` as
packed uint8 (``ceil(D / 8)`` bytes a row), ``float16`` as float16, the rest as float32, so that
their memory is their size (:func:`bytes_per_vector`). :func:`decode` gives the float32 view a
probe or an estimator fitted on the compressed index sees (int8 codes as numbers, bits as 0 / 1).
``fit`` selects the rows that PCA and the int8 ranges are fitted on (a training split); by default
every row (unsupervised, no labels).

Examples
--------
>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(100, 32)).astype(np.float32)
>>> codes = compress(x, "pca8+int8")
>>> codes.dtype, codes.shape, bytes_per_vector(32, "pca8+int8"), compress(x, "binary").shape
(dtype('int8'), (100, 8), 8, (100, 4))
>>> decode(compress(x, "binary"), "binary", dim=32).shape
(100, 32)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics import all_finite

__all__ = ["compress", "decode", "parse_compression", "bytes_per_vector", "compressed_dim"]

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


def compressed_dim(dim: int, spec: str, *, fit_rows: int | None = None) -> int:
    """Dimensions left after ``spec`` on ``dim``-dimensional vectors (PCA keeps at most as many
    components as it has ``fit_rows``, when given)."""
    for name, size in parse_compression(spec):
        if name in ("prefix", "pca"):
            dim = min(dim, int(size))  # type: ignore[arg-type]
        if name == "pca" and fit_rows is not None:
            dim = min(dim, int(fit_rows))
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
    """``x`` after the compression ``spec`` (module docs): the codes as an index stores them.

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
    numpy.ndarray
        int8 codes (``int8``), packed bits as uint8 of shape (n_samples, ceil(dim / 8))
        (``binary``), float16 (``float16``), else float32 of shape (n_samples, compressed_dim).
    """
    steps = parse_compression(spec)
    out = np.asarray(x)
    if out.dtype.kind not in "fiub" or out.ndim != 2 or out.shape[0] == 0:
        raise InputError("features to compress must be a non-empty finite 2-D numeric array")
    if out.dtype.kind != "f":
        out = out.astype(np.float32)
    if not all_finite(out):  # a NaN would pack silently as a 0 bit
        raise InputError("features to compress must be a non-empty finite 2-D numeric array")
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
            out = np.asarray(out, dtype=np.float64)  # fitted in double precision, as scikit-learn's own default
            out = PCA(n_components=k, random_state=seed).fit(out[rows]).transform(out)
        elif name == "float16":
            return np.ascontiguousarray(out, dtype=np.float16)
        elif name == "int8":
            return _int8_codes(out, None if fit is None else rows)
        else:  # binary
            return np.packbits(out > 0, axis=1)
    return np.ascontiguousarray(out, dtype=np.float32)


def decode(codes: Any, spec: str, *, dim: int) -> np.ndarray:
    """The float32 view of :func:`compress` ``(x, spec)`` codes of ``dim`` dimensions
    (:func:`compressed_dim`): int8 codes as the numbers -128..127, bits as 0 / 1.

    Examples
    --------
    >>> decode(np.array([[0b10100000]], dtype=np.uint8), "binary", dim=3).tolist()
    [[1.0, 0.0, 1.0]]
    """
    last = parse_compression(spec)[-1][0]
    array = np.asarray(codes)
    if last == "binary":
        if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != (dim + 7) // 8:
            raise InputError(f"binary codes of {dim} dimensions are packed uint8 rows of {(dim + 7) // 8} bytes, "
                             f"got {array.dtype} of shape {array.shape}")
        return np.unpackbits(array, axis=1, count=dim).astype(np.float32)
    if array.ndim != 2 or array.shape[1] != dim:
        raise InputError(f"codes of {spec!r} must be a 2-D array of {dim} columns, got shape {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float32)


def _int8_codes(x: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Bucket ``floor((x - min) / step)`` of 256 per dimension over the ``rows``' range (every row
    when None), -128..127 (module docs); a constant dimension (no range) has step 1."""
    calibration = x if rows is None else x[rows]
    starts = calibration.min(axis=0).astype(np.float32)
    steps = (calibration.max(axis=0).astype(np.float32) - starts) / np.float32(255)
    steps = np.where(steps == 0, np.float32(1), steps)
    buckets = np.floor((x - starts) / steps)
    np.clip(buckets, 0, 255, out=buckets)
    return (buckets - 128).astype(np.int8)
