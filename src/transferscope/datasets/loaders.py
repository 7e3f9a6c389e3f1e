"""Loaders for user data: tables of text, image folders, feature and label files.

No pickle is ever loaded: ``.npy``/``.npz`` are read with ``allow_pickle=False``.
Every failure is an :class:`InputError` naming the file and what was wrong.

Tables are read with pandas' NA parsing off: a text or label such as ``NA``, ``null`` or
``None`` is that string, a real value; only a truly empty cell (or a JSON ``null``, a Parquet
null) is missing, and a missing text or label is an error, never dropped. A column of numbers
that also holds such a token (``0.5, NA, 1.2``) is an error too: it cannot be a number.

Feature tables (CSV, Parquet) use every column only when every column is a plausible feature:
a non-numeric column, a column named like an identifier or a target (``id``, ``label``, ``y``,
``Unnamed: 0``, ...) or an integer column counting the rows is refused with a message, unless
the feature columns are named (``columns=``, ``--feature-columns``). A CSV whose first line
is numbers has no header and keeps that row.
"""

from __future__ import annotations

import csv
import fnmatch
import re
from collections.abc import Sequence
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


#: What pandas would read as missing by default; here they are values, except in a number column.
_NA_TOKENS = frozenset({"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})


def load_table(path: str | Path, *, what: str = "data") -> pd.DataFrame:
    """Read a CSV, TSV, JSONL (one object per line) or Parquet file into a DataFrame.

    Only empty cells are missing: ``NA``, ``null``, ``None`` ... are read as strings.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("text,label\\nNA,null\\n")
    >>> load_table(p).iloc[0].tolist()
    ['NA', 'null']
    """
    p = _existing_file(path, what)
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",", keep_default_na=False, na_values=[""])
        if suffix in (".jsonl", ".json"):
            return pd.read_json(p, lines=suffix == ".jsonl")
        if suffix == ".parquet":
            return pd.read_parquet(p)
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} file '{path}' is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                         "save it as UTF-8") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"could not read {what} file '{path}': {str(exc).splitlines()[0]}") from None
    raise InputError(f"{what} file '{path}' must end in one of {', '.join(_TABLE_SUFFIXES)}")


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
    task = task or infer_task(labels)
    distinct = len(pd.unique(labels))
    if task == "classification" and len(labels) >= 10 and distinct > 0.9 * len(labels):
        raise InputError(
            f"label-column '{label_column}' of '{path}' holds {distinct} distinct values over {len(labels)} rows: "
            "nearly every row would be a class of its own, which no estimator or probe can learn; are the text and "
            "label columns swapped (give --text-column / --label-column), or is it a regression target "
            "(--task regression)?")
    return Dataset(
        name or Path(path).stem,
        [str(x) for x in table[text_column]],
        labels,
        task,
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
                f"column '{column}' of '{path}' has {int(missing.sum())} missing value(s) (empty cells), "
                f"first in data row {int(np.flatnonzero(missing)[0]) + 1}; fill them in or remove those rows"
            )
    for arg, column in columns.items():
        if arg == "label-column":
            _check_numbers_with_na(table[column].to_numpy(), f"column '{column}' of '{path}'")


def _check_numbers_with_na(values: np.ndarray, what: str) -> None:
    """Numbers mixed with NA-like strings (``0.5, NA, 1.2``): the strings cannot be values."""
    if values.dtype.kind in "biuf" or not len(values):
        return
    text = [str(v).strip() for v in values]
    na = np.array([t in _NA_TOKENS for t in text])
    if not na.any() or na.all():
        return
    if all(_is_number(t) for t, is_na in zip(text, na, strict=True) if not is_na):
        first = int(np.flatnonzero(na)[0])
        raise InputError(f"{what} holds numbers and {int(na.sum())} value(s) such as '{text[first]}' (first in "
                         f"data row {first + 1}) that are not numbers; remove those rows or fill them in")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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


def load_feature_file(path: str | Path, *, column: str | None = None,
                      columns: Sequence[str] | None = None) -> np.ndarray:
    """A 2-D feature matrix from ``.npy``, ``.npz``, Parquet or CSV.

    ``column`` names the array of an ``.npz`` with several, or the list column of a
    Parquet file with several (``--features-key`` on the command line). A table of
    numbers (CSV, or Parquet without a list column) uses ``columns`` (names or
    patterns such as ``"f*"``; ``--feature-columns``), else all of its columns, which
    must then all be plausible features (see the module docs).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
    >>> _ = p.write_text("id,f0,f1\\n0,0.5,1.5\\n1,2.5,0.25\\n")
    >>> load_feature_file(p, columns=["f*"]).tolist()
    [[0.5, 1.5], [2.5, 0.25]]
    """
    p = _existing_file(path, "features")
    suffix = p.suffix.lower()
    if columns is not None and suffix not in (".parquet", ".csv"):
        raise InputError(f"feature columns (--feature-columns) apply to .csv and .parquet files, not '{path}'")
    try:
        if suffix == ".npy":
            array = np.load(p, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(p, allow_pickle=False) as data:
                names = list(data.files)
                if column is None and len(names) != 1:
                    raise InputError(f"features file '{path}' holds arrays {', '.join(names)}; name one with "
                                     "--features-key (column= in load_feature_file)")
                key = column or names[0]
                if key not in names:
                    raise InputError(f"features file '{path}' has no array '{key}' (--features-key); "
                                     f"it holds {', '.join(names)}")
                array = data[key]
        elif suffix in (".parquet", ".csv"):
            table = pd.read_parquet(p) if suffix == ".parquet" else _read_feature_csv(p)
            array = _matrix_from_table(table, column, columns, str(path))
        else:
            raise InputError(f"features file '{path}' must end in .npy, .npz, .parquet or .csv")
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(f"features file '{path}' is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (ValueError, OSError) as exc:
        raise InputError(f"could not read features file '{path}': {str(exc).splitlines()[0]}") from None
    array = np.asarray(array)
    if array.ndim != 2:
        raise InputError(f"features file '{path}' must hold a 2-D array, got shape {array.shape}")
    if array.dtype.kind not in "fiu":
        raise InputError(f"features file '{path}' must be numeric, got dtype {array.dtype}")
    return array


def _read_feature_csv(path: Path) -> pd.DataFrame:
    """A feature CSV; one whose first line is all numbers has no header (that row is data)."""
    with path.open(encoding="utf-8", newline="") as handle:
        first = next(csv.reader(handle), [])
    headerless = bool(first) and all(_is_number(field) for field in first)
    return pd.read_csv(path, header=None if headerless else "infer")


#: Column names that are not features: identifiers, targets, the index pandas writes by default.
_NOT_FEATURES = re.compile(r"^(id|ids|idx|index|key|uid|uuid|label|labels|target|targets|y|class|classes|"
                           r"category|split|fold|unnamed: \d+|.*_id|id_.*)$", re.IGNORECASE)


def _matrix_from_table(table: pd.DataFrame, column: str | None, columns: Sequence[str] | None,
                       path: str) -> np.ndarray:
    if column is not None:
        if column not in table.columns:
            raise InputError(f"features file '{path}' has no column '{column}' (--features-key)")
        return np.stack([np.asarray(v, dtype=np.float64) for v in table[column]])
    if columns is not None:
        return _named_columns(table, columns, path)
    list_columns = [c for c in table.columns if table[c].dtype == object and len(table)
                    and isinstance(table[c].iloc[0], (list, np.ndarray))]
    if len(list_columns) == 1:
        return np.stack([np.asarray(v, dtype=np.float64) for v in table[list_columns[0]]])
    if len(list_columns) > 1:
        raise InputError(f"features file '{path}' has list columns {', '.join(map(str, list_columns))}; name one "
                         "with --features-key (column= in load_feature_file)")
    numeric = table.select_dtypes(include="number")
    if numeric.shape[1] == 0:
        raise InputError(f"features file '{path}' has no numeric or list column")
    others = [str(c) for c in table.columns if c not in numeric.columns]
    suspicious = [str(c) for c in numeric.columns if _NOT_FEATURES.match(str(c)) or _counts_rows(numeric[c])]
    if others or suspicious:
        found = []
        if others:
            found.append(f"non-numeric column(s) {', '.join(others[:5])}{' ...' if len(others) > 5 else ''}")
        if suspicious:
            found.append(f"column(s) {', '.join(suspicious[:5])} that look like identifiers or labels, not features")
        raise InputError(f"features file '{path}' has {' and '.join(found)}; name the feature columns with "
                         "--feature-columns (names or patterns such as 'f*'; columns= in load_feature_file)")
    return numeric.to_numpy()


def _counts_rows(values: pd.Series) -> bool:
    """An integer column 0, 1, 2, ... or 1, 2, 3, ...: a row number, not a feature."""
    if values.dtype.kind not in "iu" or len(values) < 3:
        return False
    arr = values.to_numpy()
    return bool(np.array_equal(arr, np.arange(len(arr))) or np.array_equal(arr, np.arange(1, len(arr) + 1)))


def _named_columns(table: pd.DataFrame, patterns: Sequence[str], path: str) -> np.ndarray:
    """The columns named by ``patterns`` (exact names or fnmatch patterns), in the table's order."""
    if isinstance(patterns, str):
        patterns = [patterns]
    names = [str(c) for c in table.columns]
    chosen: list[str] = []
    for pattern in patterns:
        hits = [n for n in names if n == pattern or fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            raise InputError(f"feature column '{pattern}' (--feature-columns) matches no column of '{path}'; "
                             f"columns: {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}")
        chosen.extend(h for h in hits if h not in chosen)
    selected = table[[c for c in table.columns if str(c) in chosen]]
    bad = [str(c) for c in selected.columns if not pd.api.types.is_numeric_dtype(selected[c])
           or pd.api.types.is_bool_dtype(selected[c])]
    if bad:
        raise InputError(f"feature column(s) {', '.join(bad)} of '{path}' are not numeric")
    return selected.to_numpy()


def load_labels(path: str | Path, *, column: str | None = None) -> np.ndarray:
    """Labels from ``.npy``/``.npz``, ``.txt`` (one per line, UTF-8), or a CSV/TSV/JSONL/Parquet
    table.

    ``column`` (``--label-column``) names the table column or the ``.npz`` array; without it, a
    table's only column, or its ``label`` column, is used. Labels such as ``NA`` are values;
    an empty line inside a ``.txt`` file or an empty cell is an error.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "y.txt"
    >>> _ = p.write_text("cat\\nNA\\ncat\\n")
    >>> load_labels(p).tolist()
    ['cat', 'NA', 'cat']
    """
    p = _existing_file(path, "labels")
    suffix = p.suffix.lower()
    if suffix in (".npy", ".npz"):
        try:
            if suffix == ".npy":
                array = np.load(p, allow_pickle=False)
            else:
                with np.load(p, allow_pickle=False) as data:
                    if column is None and len(data.files) != 1:
                        raise InputError(f"labels file '{path}' holds arrays {', '.join(data.files)}; name one "
                                         "with --label-column (column= in load_labels)")
                    if (column or data.files[0]) not in data.files:
                        raise InputError(f"labels file '{path}' has no array '{column}' (--label-column); it holds "
                                         f"{', '.join(data.files)}")
                    array = data[column or data.files[0]]
        except (ValueError, OSError) as exc:
            raise InputError(f"could not read labels file '{path}': {str(exc).splitlines()[0]}") from None
    elif suffix == ".txt":
        try:
            lines = [line.strip() for line in p.read_text(encoding="utf-8").splitlines()]
        except UnicodeDecodeError as exc:
            raise InputError(f"labels file '{path}' is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                             "save it as UTF-8") from None
        while lines and not lines[-1]:
            lines.pop()
        if "" in lines:
            raise InputError(f"labels file '{path}' has an empty line {lines.index('') + 1}: every sample needs "
                             "a label")
        _check_numbers_with_na(np.asarray(lines, dtype=object), f"labels file '{path}'")
        try:
            array = pd.to_numeric(pd.Series(lines, dtype=object)).to_numpy()
        except (ValueError, TypeError):
            array = np.asarray(lines, dtype=object)
    else:
        table = load_table(p, what="labels")
        if column is None:
            if table.shape[1] == 1:
                column = str(table.columns[0])
            elif "label" in table.columns:
                column = "label"
            else:
                raise InputError(f"labels file '{path}' has columns {', '.join(map(str, table.columns))}; name one "
                                 "with --label-column (column= in load_labels)")
        if column not in table.columns:
            raise InputError(f"labels file '{path}' has no column '{column}' (--label-column); columns: "
                             f"{', '.join(map(str, table.columns))}")
        _check_columns(table, path, {"label-column": column})
        array = table[column].to_numpy()
    array = np.asarray(array)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InputError(f"labels file '{path}' must hold a 1-D array, got shape {array.shape}")
    return array
