"""Loaders for user data: tables of text, image folders, feature and label files.

No pickle is ever loaded: ``.npy``/``.npz`` are read with ``allow_pickle=False``.
Every failure is an :class:`InputError` naming the file and what was wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from transferscope.datasets.dataset import Dataset, infer_task
from transferscope.errors import InputError

__all__ = ["load_table", "load_text_dataset", "load_texts", "load_image_folder", "load_feature_file", "load_labels"]

_TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def _existing_file(path: str | Path, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"{what} file '{path}' does not exist")
    if not p.is_file():
        raise InputError(f"{what} '{path}' is not a file")
    return p


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, TSV, JSONL (one object per line) or Parquet file into a DataFrame."""
    p = _existing_file(path, "data")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(p)
        if suffix == ".tsv":
            return pd.read_csv(p, sep="\t")
        if suffix in (".jsonl", ".json"):
            return pd.read_json(p, lines=suffix == ".jsonl")
        if suffix == ".parquet":
            return pd.read_parquet(p)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"could not read data file '{path}': {str(exc).splitlines()[0]}") from None
    raise InputError(f"data file '{path}' must end in one of {', '.join(_TABLE_SUFFIXES)}")


def load_text_dataset(
    path: str | Path,
    *,
    text_column: str,
    label_column: str,
    task: str | None = None,
    name: str | None = None,
) -> Dataset:
    """A text :class:`Dataset` from a table file.

    Rows whose text or label is missing are an error (never silently dropped).
    ``task`` is inferred when omitted (see :func:`infer_task`).
    """
    table = load_table(path)
    _check_columns(table, path, {"text-column": text_column, "label-column": label_column})
    labels = table[label_column].to_numpy()
    return Dataset(
        name or Path(path).stem,
        [str(x) for x in table[text_column]],
        labels,
        task or infer_task(labels),
        modality="text",
        source=str(path),
    )


def load_texts(path: str | Path, *, text_column: str) -> list[str]:
    """The texts of one column of a table file (no labels needed), e.g. for ``compare``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("text\\nhello\\nworld\\n")
    >>> load_texts(p, text_column="text")
    ['hello', 'world']
    """
    table = load_table(path)
    _check_columns(table, path, {"text-column": text_column})
    return [str(x) for x in table[text_column]]


def _check_columns(table: pd.DataFrame, path: str | Path, columns: dict[str, str]) -> None:
    """Every named column exists and has no missing value, or one InputError naming it."""
    for arg, column in columns.items():
        if column not in table.columns:
            raise InputError(
                f"{arg} '{column}' is not a column of '{path}'; columns: "
                f"{', '.join(map(str, table.columns))}"
            )
    for column in columns.values():
        missing = table[column].isna().to_numpy()
        if missing.any():
            raise InputError(
                f"column '{column}' of '{path}' has {int(missing.sum())} missing value(s), "
                f"first at row {int(np.flatnonzero(missing)[0])}"
            )


def load_image_folder(path: str | Path, *, name: str | None = None) -> Dataset:
    """An image :class:`Dataset` from ``root/<class>/<image>`` (one subfolder per class)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise InputError(f"image folder '{path}' does not exist or is not a directory")
    inputs: list[Path] = []
    labels: list[str] = []
    for class_dir in sorted(d for d in root.iterdir() if d.is_dir()):
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                inputs.append(file)
                labels.append(class_dir.name)
    if not inputs:
        raise InputError(f"image folder '{path}' has no images in class subfolders")
    return Dataset(name or root.name, inputs, np.asarray(labels), "classification",
                   modality="image", source=str(root))


def load_feature_file(path: str | Path, *, column: str | None = None) -> np.ndarray:
    """A 2-D feature matrix from ``.npy``, ``.npz``, Parquet or CSV.

    ``.npz`` with several arrays and Parquet with several list columns need
    ``column``. Parquet takes a list/array column, or else all numeric columns;
    CSV takes all numeric columns.
    """
    p = _existing_file(path, "features")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(p, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(p, allow_pickle=False) as data:
                names = list(data.files)
                if column is None and len(names) != 1:
                    raise InputError(f"features file '{path}' holds arrays {', '.join(names)}; name one")
                key = column or names[0]
                if key not in names:
                    raise InputError(f"features file '{path}' has no array '{key}'")
                array = data[key]
        elif suffix in (".parquet", ".csv"):
            table = pd.read_parquet(p) if suffix == ".parquet" else pd.read_csv(p)
            array = _matrix_from_table(table, column, str(path))
        else:
            raise InputError(f"features file '{path}' must end in .npy, .npz, .parquet or .csv")
    except InputError:
        raise
    except (ValueError, OSError) as exc:
        raise InputError(f"could not read features file '{path}': {str(exc).splitlines()[0]}") from None
    array = np.asarray(array)
    if array.ndim != 2:
        raise InputError(f"features file '{path}' must hold a 2-D array, got shape {array.shape}")
    if array.dtype.kind not in "fiu":
        raise InputError(f"features file '{path}' must be numeric, got dtype {array.dtype}")
    return array


def _matrix_from_table(table: pd.DataFrame, column: str | None, path: str) -> np.ndarray:
    if column is not None:
        if column not in table.columns:
            raise InputError(f"features file '{path}' has no column '{column}'")
        return np.stack([np.asarray(v, dtype=np.float64) for v in table[column]])
    list_columns = [c for c in table.columns if table[c].dtype == object and len(table)
                    and isinstance(table[c].iloc[0], (list, np.ndarray))]
    if len(list_columns) == 1:
        return np.stack([np.asarray(v, dtype=np.float64) for v in table[list_columns[0]]])
    if len(list_columns) > 1:
        raise InputError(f"features file '{path}' has list columns {', '.join(map(str, list_columns))}; name one")
    numeric = table.select_dtypes(include="number")
    if numeric.shape[1] == 0:
        raise InputError(f"features file '{path}' has no numeric or list column")
    return numeric.to_numpy()


def load_labels(path: str | Path, *, column: str | None = None) -> np.ndarray:
    """Labels from ``.npy``/``.npz``, ``.txt`` (one per line), or a CSV/TSV/JSONL/Parquet
    table (``column``, or its only column)."""
    p = _existing_file(path, "labels")
    suffix = p.suffix.lower()
    if suffix in (".npy", ".npz"):
        try:
            if suffix == ".npy":
                array = np.load(p, allow_pickle=False)
            else:
                with np.load(p, allow_pickle=False) as data:
                    if column is None and len(data.files) != 1:
                        raise InputError(f"labels file '{path}' holds arrays {', '.join(data.files)}; name one")
                    if (column or data.files[0]) not in data.files:
                        raise InputError(f"labels file '{path}' has no array '{column}'")
                    array = data[column or data.files[0]]
        except (ValueError, OSError) as exc:
            raise InputError(f"could not read labels file '{path}': {str(exc).splitlines()[0]}") from None
    elif suffix == ".txt":
        lines = [line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
        try:
            array = pd.to_numeric(pd.Series(lines, dtype=object)).to_numpy()
        except (ValueError, TypeError):
            array = np.asarray(lines, dtype=object)
    else:
        table = load_table(p)
        if column is None:
            if table.shape[1] != 1:
                raise InputError(f"labels file '{path}' has columns {', '.join(map(str, table.columns))}; name one")
            column = str(table.columns[0])
        if column not in table.columns:
            raise InputError(f"labels file '{path}' has no column '{column}'")
        array = table[column].to_numpy()
    array = np.asarray(array)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InputError(f"labels file '{path}' must hold a 1-D array, got shape {array.shape}")
    return array
