"""Representations in: encoders (adapters), the feature cache, and extraction.

Layering: extraction imports :mod:`transferscope.datasets` (the model zoo trains
its source models on the built-in digit tasks), :mod:`transferscope.metrics` and
the leaves :mod:`transferscope.hashing` and :mod:`transferscope.torch_support`;
never workflows or cli. Datasets never import extraction (tests/test_layering.py).
"""

from __future__ import annotations

from transferscope.extraction.cache import FeatureCache, default_cache_dir
from transferscope.extraction.encoder import POOLINGS, Encoder
from transferscope.extraction.features import extract_features

__all__ = ["Encoder", "FeatureCache", "POOLINGS", "default_cache_dir", "extract_features"]
