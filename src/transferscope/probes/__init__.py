"""Ground-truth protocols: fit on frozen features, report measured transfer."""

from __future__ import annotations

from transferscope.probes.linear import ProbeResult, linear_probe

__all__ = ["ProbeResult", "linear_probe"]
