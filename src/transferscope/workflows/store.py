"""Results store: tidy rows in an embedded DuckDB file, exportable to Parquet/CSV.

One row per number: ``run, suite, target, candidate, model, layer, pooling,
kind (estimator | probe | meta), metric, value, seed, settings (JSON),
versions (JSON), timestamp``. A benchmark cell (suite, target, candidate,
seed) is finished when its rows are present; they are inserted in one
transaction, so an interrupted run never leaves half a cell and a rerun skips
what is done.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from transferscope.errors import InputError, MissingExtraError

__all__ = ["ResultStore", "COLUMNS"]

COLUMNS = ("run", "suite", "target", "candidate", "model", "layer", "pooling", "kind", "metric",
           "value", "seed", "settings", "versions", "timestamp")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    run VARCHAR, suite VARCHAR, target VARCHAR, candidate VARCHAR, model VARCHAR,
    layer VARCHAR, pooling VARCHAR, kind VARCHAR, metric VARCHAR, value DOUBLE,
    seed INTEGER, settings VARCHAR, versions VARCHAR, timestamp DOUBLE
)
"""


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise MissingExtraError("duckdb", "scale") from None
    return duckdb


class ResultStore:
    """A DuckDB file of tidy result rows.

    Examples
    --------
    >>> import tempfile, os
    >>> store = ResultStore(os.path.join(tempfile.mkdtemp(), "r.duckdb"))
    >>> store.add_rows([{"run": "r1", "suite": "s", "target": "t", "candidate": "c",
    ...                  "kind": "estimator", "metric": "logme", "value": -0.5, "seed": 0}])
    1
    >>> store.has_cell("s", "t", "c", 0)
    True
    >>> float(store.table()["value"].iloc[0])
    -0.5
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if not self.path.parent.exists():
            raise InputError(f"store folder '{self.path.parent}' does not exist")
        try:
            with self._connect() as con:
                con.execute(_SCHEMA)
        except Exception as exc:  # noqa: BLE001 - duckdb raises its own types for a bad file
            if isinstance(exc, MissingExtraError):
                raise
            raise InputError(f"'{self.path}' is not a transferscope results file ({exc})") from None

    def _connect(self) -> Any:
        return _duckdb().connect(str(self.path))

    def add_rows(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert rows in one transaction; missing columns are empty. Returns the count."""
        now = time.time()
        records = []
        for row in rows:
            record = {c: row.get(c) for c in COLUMNS}
            for key in ("settings", "versions"):
                if record[key] is not None and not isinstance(record[key], str):
                    record[key] = json.dumps(record[key], sort_keys=True, default=str)
            record["timestamp"] = record["timestamp"] or now
            record["value"] = None if record["value"] is None else float(record["value"])
            records.append(record)
        if not records:
            return 0
        frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            con.register("incoming", frame)
            con.execute(f"INSERT INTO results SELECT {', '.join(COLUMNS)} FROM incoming")
            con.execute("COMMIT")
        return len(records)

    def has_cell(self, suite: str, target: str, candidate: str, seed: int) -> bool:
        """Whether a (suite, target, candidate, seed) cell already has rows."""
        with self._connect() as con:
            found = con.execute(
                "SELECT 1 FROM results WHERE suite = ? AND target = ? AND candidate = ? AND seed = ? "
                "AND kind <> 'meta' LIMIT 1", [suite, target, candidate, seed]).fetchone()
        return found is not None

    def table(self, *, suite: str | None = None, kind: str | None = None) -> pd.DataFrame:
        """Rows as a DataFrame, optionally of one suite and/or kind."""
        clauses, params = [], []
        for column, value in (("suite", suite), ("kind", kind)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as con:
            return con.execute(f"SELECT * FROM results{where} ORDER BY timestamp", params).fetchdf()

    def delete(self, *, suite: str, kind: str) -> None:
        """Remove rows of one kind of a suite (meta-evaluation is recomputed each run)."""
        with self._connect() as con:
            con.execute("DELETE FROM results WHERE suite = ? AND kind = ?", [suite, kind])

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write all rows to ``.parquet``, ``.csv`` or ``.json``."""
        from transferscope.workflows.results import write_table

        return write_table(self.table(), path)
