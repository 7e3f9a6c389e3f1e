"""Where a command's inputs come from, as one dataclass checked once, where it is built.

:class:`DataSource` holds a command line's ``--data`` / ``--dataset`` / ``--features`` +
``--labels`` and their columns; its fields generate those options for every command that reads
labelled inputs (:mod:`transferscope.cli.options`), with their help from the docstring below.
The files themselves are read by :mod:`transferscope.workflows.inputs`, on demand. This module
imports nothing heavy, so the command line can read it when it starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transferscope.errors import InputError

if TYPE_CHECKING:
    from transferscope.datasets import Dataset

__all__ = ["DataSource"]


@dataclass(frozen=True)
class DataSource:
    """Where a command's inputs come from: a file, a built-in dataset, or precomputed features
    with their labels; checked once, when built.

    Parameters
    ----------
    data : path, optional
        CSV/TSV/JSONL/Parquet file with a text column (and a label column where the command uses labels).
    dataset : str, optional
        A built-in dataset (see `transferscope datasets`).
    text_column : str, default="text"
        Column of --data holding the inputs.
    label_column : str, optional
        Column of --data holding the labels (default: label); with --labels, the column or .npz
        array of the labels file.
    task : str, optional
        classification or regression (inferred when omitted).
    features : list of path, optional
        Precomputed embeddings (.npy, .npz, .parquet, .csv) instead of models: one candidate per
        file, named by its stem. Repeat for several.
    features_key : str, optional
        The array of each .npz --features file (or list column of a Parquet one) holding the features.
    feature_columns : str, optional
        Comma-separated feature columns of CSV/Parquet --features files: names or patterns such as 'f*'.
    labels : path, optional
        Labels for --features (.npy, .txt, .csv, ...).
    names : mapping, optional
        How the caller calls each field in its messages (the command line: ``{"data": "--data",
        ...}``); kept for the messages of :meth:`read` and :meth:`check_models`.

    Examples
    --------
    >>> DataSource(dataset="digits10").read().task
    'classification'
    >>> DataSource(dataset="digits10", labels="y.npy", names={"labels": "--labels", "features": "--features"})
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: --labels goes with --features; with data use label_column
    """

    data: Path | None = None
    dataset: str | None = None
    text_column: str = "text"
    label_column: str | None = None
    task: str | None = None
    features: list[Path] | None = None
    features_key: str | None = None
    feature_columns: str | None = None
    labels: Path | None = None
    names: InitVar[Mapping[str, str] | None] = None
    called: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self, names: Mapping[str, str] | None) -> None:
        object.__setattr__(self, "called", {f.name: f.name for f in fields(self) if f.init} | dict(names or {}))
        n = self.called
        if self.task is not None and self.task not in ("classification", "regression"):
            raise InputError(f"{n['task']} must be classification or regression, got '{self.task}'")
        if not self.features and (self.features_key or self.feature_columns):
            raise InputError(f"{n['features_key']} and {n['feature_columns']} go with {n['features']}")
        if self.features:
            if self.data is not None or self.dataset is not None:
                raise InputError(f"{n['features']} cannot be combined with {n['data']} or {n['dataset']}")
        elif self.labels is not None:
            raise InputError(f"{n['labels']} goes with {n['features']}; with {n['data']} use {n['label_column']}")

    def replace(self, **changes: Any) -> DataSource:
        """A copy with ``changes`` (a command's fixed task), keeping the names its messages use."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        return DataSource(**(values | changes), names=self.called)

    def check_models(self, models: Sequence[str], *, option: str = "--model") -> None:
        """Models with a dataset, none with features: the message names ``option``."""
        n = self.called
        if self.features and models:
            raise InputError(f"{n['features']} cannot be combined with {option}")
        if not self.features and not models:
            labels = f" with {n['labels']}" if n["labels"] != "labels" else ""  # a command that takes labels
            raise InputError(f"{option} is required, or {n['features']}{labels}")

    def read(self, *, alternative: str = "") -> Dataset:
        """The labelled dataset of the file or the built-in name (exactly one of them)."""
        from transferscope.workflows.inputs import read_labelled_dataset

        n = self.called
        return read_labelled_dataset(self.data, self.dataset, text_column=self.text_column,
                                     label_column=self.label_column or "label", task=self.task,
                                     alternative=alternative, options=(n["data"], n["dataset"]))

    def read_inputs(self, *, alternative: str = "") -> list[Any]:
        """The inputs alone (no label column needed) of the file or the built-in dataset (exactly one)."""
        from transferscope.workflows.inputs import read_inputs

        n = self.called
        return read_inputs(self.data, self.dataset, text_column=self.text_column, alternative=alternative,
                           options=(n["data"], n["dataset"]))

    def read_features(self, *, labelled: bool = True, source_probs: Sequence[Path] | None = None
                      ) -> tuple[dict[str, Any], Any, dict[str, Any]]:
        """The features files as candidate name (each file's stem, its path where stems repeat) ->
        array, their labels (required when ``labelled``; None without), and each file's source
        probabilities (empty without ``source_probs``)."""
        from transferscope.workflows.inputs import read_feature_files

        n = self.called
        if not self.features:
            raise InputError(f"{n['features']} is needed here")
        if labelled and self.labels is None:
            raise InputError(f"{n['labels']} is required with {n['features']}")
        paths = list(self.features)
        names: list[str] = []
        for path in paths:
            names.append(path.stem if path.stem not in names else str(path))
        columns = [c.strip() for c in self.feature_columns.split(",") if c.strip()] if self.feature_columns else None
        return read_feature_files(paths, names, self.labels, label_column=self.label_column,
                                  features_key=self.features_key, feature_columns=columns,
                                  source_probs=source_probs)
