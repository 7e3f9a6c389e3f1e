"""What a command reads from its user: a labelled dataset (a file or a built-in name), feature files
with their labels, texts, the device to run on, and the catalogues of built-in datasets and models.

The command line reads its inputs through this module only, never from the packages below
workflows (``tests/test_layering.py``): one place where a user's file or name becomes a checked
:class:`~transferscope.datasets.Dataset` or array, with messages that name the option.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transferscope.datasets import Dataset, load_builtin, load_text_dataset
from transferscope.datasets.builtin import list_builtin
from transferscope.datasets.loaders import load_feature_file, load_labels, load_texts
from transferscope.errors import InputError
from transferscope.extraction.checks import check_device
from transferscope.extraction.model_zoo import zoo_requirements, zoo_table

__all__ = ["read_labelled_dataset", "read_inputs", "read_feature_files", "metric_rows", "Dataset", "load_builtin", "list_builtin",
           "load_feature_file", "load_labels", "load_texts", "check_device", "zoo_requirements", "zoo_table"]


def metric_rows(family: str | None = None) -> list[dict[str, Any]]:
    """The registered metrics of ``family`` (transferability, similarity, geometry; all without
    one), each as a dictionary of its declared properties.

    Examples
    --------
    >>> "logme" in [m["name"] for m in metric_rows("transferability")]
    True
    """
    from transferscope.metrics import list_metrics

    return [info.as_row() for info in list_metrics(family)]


def read_labelled_dataset(data: Path | None, dataset: str | None, *, text_column: str = "text",
                          label_column: str = "label", task: str | None = None, alternative: str = "",
                          options: tuple[str, str] = ("--data", "--dataset")) -> Dataset:
    """The labelled dataset of a file ``data`` or the built-in ``dataset`` (exactly one of them;
    ``options`` name the two as the command does, ``alternative`` another way in, for the message).

    Examples
    --------
    >>> read_labelled_dataset(None, "digits10").task
    'classification'
    """
    _exactly_one(data, dataset, options=options, alternative=alternative)
    if data is not None:
        return load_text_dataset(data, text_column=text_column, label_column=label_column, task=task)
    ds = load_builtin(dataset)
    if task is not None and task != ds.task:  # a built-in target's task is part of it
        raise InputError(f"--task {task} does not apply to {options[1]} {dataset}, a {ds.task} target; --task is "
                         f"for a {options[0]} file")
    return ds


def read_inputs(data: Path | None, dataset: str | None, *, text_column: str = "text", alternative: str = "",
                options: tuple[str, str] = ("--data", "--dataset")) -> list[Any]:
    """The inputs alone (no label column needed) of a file ``data`` or the built-in ``dataset``
    (exactly one of them, named as in :func:`read_labelled_dataset`).

    Examples
    --------
    >>> len(read_inputs(None, "digits10")) > 0
    True
    """
    _exactly_one(data, dataset, options=options, alternative=alternative)
    if data is not None:
        return list(load_texts(data, text_column=text_column))
    return list(load_builtin(dataset).inputs)


def _exactly_one(data: Path | None, dataset: str | None, *, options: tuple[str, str], alternative: str) -> None:
    if (data is None) == (dataset is None):
        raise InputError(f"give exactly one of {options[0]} FILE or {options[1]} NAME{alternative}")


def read_feature_files(paths: Sequence[Path], names: Sequence[str], labels: Path | None, *,
                       label_column: str | None = None,
                       features_key: str | None = None, feature_columns: Sequence[str] | None = None,
                       source_probs: Sequence[Path] | None = None,
                       ) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """The feature files ``paths`` as candidate name (``names``, one per file) -> array, the labels
    of ``labels`` (None without), and the source-model probabilities of each file (``source_probs``,
    one per file, by the same name; empty when none were given)."""
    if source_probs and len(source_probs) != len(paths):
        raise InputError(f"--source-probs was given {len(source_probs)} time(s) but --features {len(paths)}; "
                         "give one per features file, in the same order")
    columns = list(feature_columns) if feature_columns else None
    y = None if labels is None else load_labels(labels, column=label_column)
    arrays, probs = {}, {}
    for i, (name, path) in enumerate(zip(names, paths, strict=True)):
        arrays[name] = load_feature_file(path, column=features_key, columns=columns)
        if source_probs:
            probs[name] = load_feature_file(source_probs[i])
    return arrays, y, probs
