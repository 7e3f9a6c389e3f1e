"""Lazy torch import, device choice and seeding shared by the torch adapters and probes.

A leaf module: it imports NumPy and :mod:`transferscope.errors` only, and torch
only when one of its functions is called, so ``extraction`` and ``probes`` can
both use it without importing torch at import time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from transferscope.errors import MissingExtraError

__all__ = ["require_torch", "pick_device", "seed_everything", "quiet_transformers"]


def require_torch() -> Any:
    """Import torch, or raise an error that names the extra to install.

    Returns
    -------
    module
        The ``torch`` module.

    Raises
    ------
    MissingExtraError
        torch is not installed; the message gives the ``pip install`` line.

    Examples
    --------
    >>> require_torch().__name__
    'torch'
    """
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "text") from None
    return torch


def pick_device(device: str | None) -> str:
    """``device`` if given, else CUDA, else Apple MPS, else CPU.

    Examples
    --------
    >>> pick_device("cpu")
    'cpu'
    >>> pick_device(None) in {"cuda", "mps", "cpu"}
    True
    """
    torch = require_torch()
    if device:
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch.

    Examples
    --------
    >>> import torch
    >>> seed_everything(0)
    >>> first = torch.rand(2)
    >>> seed_everything(0)
    >>> bool((torch.rand(2) == first).all())
    True
    """
    torch = require_torch()
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' own progress bars ("Loading weights", "Writing model shards") off inside the
    block and restored after it: our progress is ours to draw, and those bars leak into logs.

    Examples
    --------
    >>> with quiet_transformers():
    ...     pass
    """
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
