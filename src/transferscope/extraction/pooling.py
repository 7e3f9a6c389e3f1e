"""Attention-mask-aware pooling of token representations (torch)."""

from __future__ import annotations

import torch

__all__ = ["pool_tokens"]


def pool_tokens(hidden: torch.Tensor, mask: torch.Tensor | None, method: str) -> torch.Tensor:
    """Pool ``hidden`` of shape (B, T, H) over tokens into (B, H).

    ``mask`` (B, T) marks real tokens with 1 and padding with 0; padding never
    contributes. ``last`` takes the last real token, whichever side is padded.
    """
    if mask is None:
        mask = torch.ones(hidden.shape[:2], dtype=torch.long, device=hidden.device)
    m = mask.to(hidden.dtype).unsqueeze(-1)
    if method == "mean":
        return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
    if method == "max":
        filled = hidden.masked_fill(m == 0, torch.finfo(hidden.dtype).min)
        return filled.max(dim=1).values
    if method == "cls":
        return hidden[:, 0]
    if method == "last":
        t = mask.shape[1]
        positions = torch.arange(t, device=mask.device).expand_as(mask)
        last = torch.where(mask.bool(), positions, torch.full_like(positions, -1)).max(dim=1).values
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last.clamp(min=0)]
    raise ValueError(f"unknown pooling {method!r}")
