"""Orchestration: extraction through the cache, scoring, probing, result tables."""

from __future__ import annotations

from transferscope.workflows.rank import rank

__all__ = ["rank"]
