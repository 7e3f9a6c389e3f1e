"""Results store: tidy rows in an embedded DuckDB file, exportable to Parquet/CSV.

One row per number: ``run, suite, target, candidate, model, layer, pooling,
kind (estimator | probe | meta), metric, value, seed, settings (JSON),
versions (JSON), timestamp, cell``. A benchmark cell (suite, target, candidate,
seed) is finished when its rows are present; they are inserted in one
transaction, so an interrupted run never leaves half a cell and a rerun skips
what is done. ``cell`` is the cell's key: a hash of every setting that changes
its rows (the benchmark computes it); rows inserted with a ``cell`` replace,
in the same transaction, whatever the store held for their (suite, target,
candidate, seed), so a cell recomputed under new settings is never stored
twice, and :meth:`ResultStore.has_cell` with ``key`` tells a cell stored under
other settings from a finished one. Files written before the ``cell`` column
get it (empty) when opened.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from transferscope.errors import InputError, MissingExtraError
from transferscope.workflows.storage.folders import is_writable_folder

__all__ = ["ResultStore", "COLUMNS", "read_store"]

COLUMNS = ("run", "suite", "target", "candidate", "model", "layer", "pooling", "kind", "metric",
           "value", "seed", "settings", "versions", "timestamp", "cell")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    run VARCHAR, suite VARCHAR, target VARCHAR, candidate VARCHAR, model VARCHAR,
    layer VARCHAR, pooling VARCHAR, kind VARCHAR, metric VARCHAR, value DOUBLE,
    seed INTEGER, settings VARCHAR, versions VARCHAR, timestamp DOUBLE, cell VARCHAR
)
"""
_MIGRATE = "ALTER TABLE results ADD COLUMN IF NOT EXISTS cell VARCHAR"


def _create_store(path: Path, duckdb: Any) -> None:
    """A new, empty store at ``path``, made under a temporary name and linked into place: a creation
    that fails (a full disk) leaves no half-written file to block every later run, and a store
    another run created meanwhile is left as it is."""
    import secrets

    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute(_SCHEMA)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        try:
            os.link(tmp, path)  # in place only if no one made it meanwhile (a second run's store is never replaced)
        except FileExistsError:
            pass  # another run created it first: opened as any existing store
    except (duckdb.Error, OSError) as exc:
        raise InputError(f"store '{path}' could not be created: {' '.join(str(exc).split())[:200]}") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)


def _results_columns(con: Any) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = "
                                      "'results' AND table_schema = 'main'").fetchall()}


def _ours(columns: set[str]) -> bool:
    """Whether a results table with ``columns`` is a transferscope store (of this or an older
    format: the ``cell`` column came later and is added by the migration)."""
    return set(COLUMNS) - {"cell"} <= columns


def read_store(path: str | os.PathLike[str], *, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every row of the results store at ``path`` (of ``kinds`` when given), read through a
    read-only connection: no byte of the file changes, a store on a read-only medium can be read,
    and a file that is not a store is refused naming what it holds.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.duckdb")
    >>> with ResultStore(path) as store:
    ...     _ = store.add_rows([{"suite": "s", "target": "t", "candidate": "c", "kind": "probe", "metric": "accuracy",
    ...                          "value": 0.9, "seed": 0}])
    >>> read_store(path)["value"].tolist()
    [0.9]
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"results store '{path}' does not exist")
    duckdb = _duckdb()
    try:
        con = duckdb.connect(str(source), read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"'{path}' cannot be read as a DuckDB results store: {' '.join(str(exc).split())[:200]}"
                         ) from None
    try:
        found = _results_columns(con)
        if not _ours(found):
            raise InputError(f"'{path}' is not a transferscope results store (no results table of its columns)")
        where = f" WHERE kind IN ({', '.join('?' for _ in kinds)})" if kinds else ""
        return con.execute(f"SELECT * FROM results{where} ORDER BY timestamp", list(kinds or ())).fetchdf()
    finally:
        con.close()


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise MissingExtraError("duckdb", None) from None  # a core dependency
    return duckdb


#: How long a run waits for a store another process holds before it is refused: a reader that
#: looks in (a report, a notebook) holds it for a moment; a second run holds it for its whole run.
LOCK_WAIT_SECONDS = 3.0


def _connect_writer(path: Path, duckdb: Any) -> Any:
    """A read-write connection to ``path``, retried for :data:`LOCK_WAIT_SECONDS` while another
    process holds the file's lock: a reader that opened the store the moment it was created (or
    between two runs) must not end the run that is starting."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _open_error(path: Path, exc: Exception) -> str:
    """One line for a store DuckDB cannot open: in use, not writable, or not a DuckDB file."""
    text = " ".join(str(exc).split())
    if "lock" in text.lower():
        pid = re.search(r"PID (\d+)", text)
        who = f" (PID {pid.group(1)})" if pid else ""
        return (f"store '{path}' is in use by another process{who}: one run writes to a store at a time; "
                "wait for it to finish, or give another store file (--store)")
    if "permission denied" in text.lower():
        return f"store '{path}' cannot be opened for writing (permission denied)"
    return f"'{path}' is not a transferscope results file ({text})"


class ResultStore:
    """A DuckDB file of tidy result rows.

    The store holds one connection, and with it DuckDB's lock on the file, from opening to
    :meth:`close` (or the end of a ``with`` block): a second process that opens the same file
    meanwhile, to write or to read, gets an :class:`~transferscope.errors.InputError` saying
    the store is in use, and this one is never disturbed.

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
        folder = self.path.parent
        if not folder.exists():
            raise InputError(f"store folder '{folder}' does not exist")
        if self.path.is_dir():
            raise InputError(f"store '{self.path}' is a folder; give a file such as results.duckdb")
        if not is_writable_folder(folder):
            raise InputError(f"store folder '{folder}' is not writable (the store and its log are written there)")
        duckdb = _duckdb()
        if not self.path.exists():
            _create_store(self.path, duckdb)
        # One connection for the store's lifetime: DuckDB's lock on the file is held from here to
        # close(), so a reader or a second driver can never open it in between (and be killed or
        # duplicate rows); they are told at once that the store is in use.
        self._con: Any = None
        try:
            self._con = _connect_writer(self.path, duckdb)
            with self._connect() as con:
                # Someone else's database is refused before anything is written to it: the schema is
                # created only in an empty database, and migrated only in a results store.
                tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                                    "WHERE table_schema = 'main'").fetchall()}
                found = _results_columns(con)
                foreign = (tables and "results" not in tables) or ("results" in tables and not _ours(found))
                if not foreign:
                    con.execute(_SCHEMA)
                    con.execute(_MIGRATE)
                    found = _results_columns(con)
        except duckdb.Error as exc:
            self.close()
            raise InputError(_open_error(self.path, exc)) from None
        missing = [c for c in COLUMNS if c not in found]
        if foreign or missing:
            self.close()
            what = (f"its results table has no column(s) {', '.join(missing)}" if "results" in tables
                    else f"it holds other tables ({', '.join(sorted(tables)[:5])}) and no results table")
            raise InputError(f"'{self.path}' is not a transferscope results file ({what}); it was left as it was")

    def _connect(self) -> Any:
        """A cursor on the store's one connection (closed after each operation, the connection stays)."""
        if self._con is None:
            raise InputError(f"store '{self.path}' is closed")
        return self._con.cursor()

    def close(self) -> None:
        """Release the file (and its lock); the store cannot be used afterwards."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            replaced = {(r["suite"], r["target"], r["candidate"], r["seed"]) for r in records if r["cell"] is not None}
            for cell in replaced:  # a cell's rows replace what the store held for it
                con.execute("DELETE FROM results WHERE suite = ? AND target = ? AND candidate = ? AND seed = ? "
                            "AND kind <> 'meta'", list(cell))
            con.register("incoming", frame)
            con.execute(f"INSERT INTO results SELECT {', '.join(COLUMNS)} FROM incoming")
            con.execute("COMMIT")
        return len(records)

    def has_cell(self, suite: str, target: str, candidate: str, seed: int, key: str | None = None) -> bool:
        """Whether a (suite, target, candidate, seed) cell already has rows (stored under the cell
        key ``key``, when given: rows stored under other settings do not count)."""
        query = ("SELECT 1 FROM results WHERE suite = ? AND target = ? AND candidate = ? AND seed = ? "
                 "AND kind <> 'meta'")
        params: list[Any] = [suite, target, candidate, seed]
        if key is not None:
            query += " AND cell = ?"
            params.append(key)
        with self._connect() as con:
            found = con.execute(query + " LIMIT 1", params).fetchone()
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
        from transferscope.workflows.storage.results import write_table

        return write_table(self.table(), path)
