"""Datasets: the Dataset type, loaders for user files, and built-in offline sets.

Layering: datasets import :mod:`transferscope.metrics` and the leaves
(:mod:`transferscope.hashing` keys their inputs) only; extraction may import
datasets, never the reverse (tests/test_layering.py).
"""

from __future__ import annotations

from transferscope.datasets.builtin import BUILTIN_DATASETS, list_builtin, load_builtin
from transferscope.datasets.dataset import Dataset, Splits, infer_task
from transferscope.datasets.loaders import (
    load_feature_file,
    load_image_folder,
    load_labels,
    load_table,
    load_text_dataset,
    load_texts,
)
from transferscope.datasets.similarity_sets import (
    WORD_SIMILARITY_SETS,
    load_simlex999,
    load_word_similarity,
    load_wordsim353,
)
from transferscope.datasets.vision_targets import (
    VISION_TARGET_DIRS,
    VISION_TARGETS,
    load_vision_target,
    missing_target_files,
)

__all__ = [
    "VISION_TARGETS",
    "VISION_TARGET_DIRS",
    "load_vision_target",
    "missing_target_files",
    "WORD_SIMILARITY_SETS",
    "load_simlex999",
    "load_word_similarity",
    "load_wordsim353",
    "BUILTIN_DATASETS",
    "Dataset",
    "Splits",
    "infer_task",
    "list_builtin",
    "load_builtin",
    "load_feature_file",
    "load_image_folder",
    "load_labels",
    "load_table",
    "load_text_dataset",
    "load_texts",
]
