"""What every probe returns: the measured transfer of one representation (no fitting here, so that
reading a cached result loads no learning library)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ProbeResult"]


@dataclass(frozen=True)
class ProbeResult:
    """Measured transfer of one representation: the headline ``score`` and all settings."""

    score: float
    metric: str
    metrics: dict[str, float]
    settings: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The result as table columns: ``probe_<metric>`` for the headline and every other
        metric, and ``probe_setting`` (the chosen C / alpha / k).

        Examples
        --------
        >>> ProbeResult(0.8, "accuracy", {"accuracy": 0.8, "f1": 0.7}, {"C": 0.1}).columns()
        {'probe_accuracy': 0.8, 'probe_f1': 0.7, 'probe_setting': 'C=0.1'}
        """
        out: dict[str, Any] = {f"probe_{self.metric}": self.score}
        for key, value in self.metrics.items():
            out.setdefault(f"probe_{key}", value)
        chosen = [f"{k}={self.settings[k]:g}" for k in ("C", "alpha", "k")
                  if isinstance(self.settings.get(k), (int, float))]
        out["probe_setting"] = ", ".join(chosen)
        return out
