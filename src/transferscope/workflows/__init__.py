"""Orchestration: extraction through the cache, scoring, probing, result tables."""

from __future__ import annotations

from typing import Any

__all__ = ["rank"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing one light module (labels, results) does not load the engine.
    if name == "rank":
        from transferscope.workflows.rank import rank

        return rank
    raise AttributeError(f"module 'transferscope.workflows' has no attribute {name!r}")
