"""Write result tables as CSV, JSON or Parquet, chosen by the file suffix."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import math

import pandas as pd

from transferscope.errors import InputError

__all__ = ["write_table", "interval_text", "OUTPUT_SUFFIXES"]

OUTPUT_SUFFIXES = (".csv", ".json", ".parquet")


def interval_text(value: float, low: float, high: float, *, bound_digits: int = 2) -> str:
    """``value [low, high]`` as the tables print it (``nan`` for an undefined value).

    Examples
    --------
    >>> interval_text(0.7512, 0.6, 0.83), interval_text(float("nan"), 0, 1)
    ('0.751 [0.60, 0.83]', 'nan')
    """
    if not math.isfinite(value):
        return "nan"
    return f"{value:.3f} [{low:.{bound_digits}f}, {high:.{bound_digits}f}]"


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` to ``path`` atomically; the suffix picks the format."""
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(f"output '{path}' must end in one of {', '.join(OUTPUT_SUFFIXES)}")
    if not target.parent.exists():
        raise InputError(f"output folder '{target.parent}' does not exist")
    # A fresh name beside the target, created by pandas with the user's umask (mkstemp's 0600
    # would make every output private whatever the umask), then renamed into place.
    tmp = str(target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp")
    try:
        if suffix == ".csv":
            table.to_csv(tmp, index=False)
        elif suffix == ".json":
            table.to_json(tmp, orient="records", indent=2)
        else:
            table.to_parquet(tmp, index=False)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
