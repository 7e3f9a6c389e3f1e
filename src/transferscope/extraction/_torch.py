"""Lazy torch import, device choice and seeding shared by the torch adapters."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from transferscope.errors import MissingExtraError

__all__ = ["require_torch", "pick_device", "seed_everything"]


def require_torch() -> Any:
    """Import torch, or raise an error that names the extra to install."""
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "text") from None
    return torch


def pick_device(device: str | None) -> str:
    """``device`` if given, else CUDA, else Apple MPS, else CPU."""
    torch = require_torch()
    if device:
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    torch = require_torch()
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
