"""Datasets: the Dataset type, loaders for user files, and built-in offline sets."""

from __future__ import annotations

from transferscope.datasets.builtin import BUILTIN_DATASETS, list_builtin, load_builtin
from transferscope.datasets.dataset import Dataset, Splits, infer_task
from transferscope.datasets.loaders import (
    load_feature_file,
    load_image_folder,
    load_labels,
    load_table,
    load_text_dataset,
)

__all__ = [
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
]
