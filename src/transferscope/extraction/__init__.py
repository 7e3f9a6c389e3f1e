"""Representations in: encoders (adapters), the feature cache, and extraction."""

from __future__ import annotations

from transferscope.extraction.cache import FeatureCache, default_cache_dir
from transferscope.extraction.encoder import POOLINGS, Encoder
from transferscope.extraction.features import extract_features

__all__ = ["Encoder", "FeatureCache", "POOLINGS", "default_cache_dir", "extract_features"]
