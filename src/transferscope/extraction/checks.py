"""Checks of a run's model and device, made before any work (and also when every result is cached)."""

from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path

from transferscope.errors import InputError
from transferscope.extraction.encoder import Encoder

__all__ = ["check_device", "check_model"]


_DEVICE = re.compile(r"^(cpu|cuda|mps)(?::(\d+))?$")


def check_device(device: str | None, *, name: str = "device") -> str | None:
    """A torch device string checked without importing torch: ``None`` (auto), ``cpu``,
    ``cuda``, ``cuda:N`` or ``mps``.

    CUDA is asked of the NVIDIA driver directly (``cuInit`` / ``cuDeviceGetCount``, a few
    milliseconds), so ``cuda`` on a machine without a GPU, or ``cuda:3`` with one GPU, is
    rejected before any work, also when every result would come from the cache.

    Examples
    --------
    >>> check_device("CPU"), check_device(None)
    ('cpu', None)
    >>> check_device("tpu")
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: device must be cpu, cuda, cuda:N or mps (omit it to choose automatically), got 'tpu'
    """
    if device is None:
        return None
    if not isinstance(device, str):
        raise InputError(f"{name} must be a string such as 'cpu' or 'cuda:0', got {device!r}")
    text = device.strip().lower()
    if text in ("", "auto"):
        return None
    match = _DEVICE.match(text)
    if match is None:
        raise InputError(f"{name} must be cpu, cuda, cuda:N or mps (omit it to choose automatically), got {device!r}")
    kind, index = match.group(1), match.group(2)
    if kind == "cuda":
        count = _cuda_device_count()
        if count == 0:
            raise InputError(f"{name} {device!r}: no CUDA GPU is available on this machine (no NVIDIA driver or "
                             "no device); use cpu")
        if index is not None and int(index) >= count:
            raise InputError(f"{name} {device!r}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}")
    if kind == "mps" and sys.platform != "darwin":
        raise InputError(f"{name} {device!r}: MPS exists on Apple computers only; use cpu")
    return text


@lru_cache(maxsize=1)
def _cuda_device_count() -> int:
    """GPUs the NVIDIA driver reports (0 without a driver), without importing torch."""
    import ctypes

    names = ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so", "libcuda.dylib")
    for lib in names:
        try:
            cuda = ctypes.CDLL(lib)
        except OSError:
            continue
        count = ctypes.c_int(0)
        if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return int(count.value)
    return 0


#: Model types whose position ids start after the padding index (RoBERTa's scheme).
_PADDING_OFFSET_MODELS = ("roberta", "xlm-roberta", "camembert", "longformer", "mpnet", "data2vec-text", "ibert")


def check_model(encoder: Encoder, max_length: int) -> None:
    """Before any work: ``max_length`` fits the model's position embeddings, and its
    safetensors weights are whole (a truncated download fails here, in one line). A compressed
    encoder (``MODEL#pca128``) is checked through the encoder it compresses."""
    encoder = getattr(encoder, "inner", encoder)
    path = getattr(encoder, "path", None)
    if getattr(encoder, "adapter", "") not in ("hf", "sentence-transformers") or path is None:
        return
    path = Path(path)
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = None
    if isinstance(config, dict):
        positions = config.get("max_position_embeddings", config.get("n_positions"))
        absolute = config.get("position_embedding_type", "absolute") == "absolute"
        if isinstance(positions, int) and not isinstance(positions, bool) and absolute:
            pad = config.get("pad_token_id")
            if config.get("model_type") in _PADDING_OFFSET_MODELS and isinstance(pad, int):
                positions -= pad + 1
            if max_length > positions:
                raise InputError(f"max_length (--max-length) {max_length} is more than the {positions} token "
                                 f"positions of {encoder.name} (max_position_embeddings in its config.json); "
                                 f"use {positions} or less")
    if not getattr(encoder, "random_init", False):
        for weights in sorted(path.rglob("*.safetensors")):
            problem = _safetensors_problem(weights)
            if problem is not None:
                raise InputError(f"the weights file '{weights}' of {encoder.name} is damaged ({problem}); "
                                 "download or save the model again")


def _safetensors_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole safetensors file (its header and size), or None."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"{size} bytes, shorter than a safetensors header"
        length = int.from_bytes(head, "little")
        if length > size - 8:
            return f"the header says {length} bytes of metadata, the file has {size - 8}"
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, ValueError):
            return "the header is not JSON"
    if not isinstance(header, dict):
        return "the header is not a JSON object"
    try:
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except (TypeError, KeyError, IndexError, ValueError):
        return "the header has no data offsets"
    if 8 + length + end != size:
        return f"truncated: the header describes {8 + length + end} bytes, the file has {size}"
    return None
