"""Write result tables as CSV, JSON or Parquet, chosen by the file suffix."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from transferscope.errors import InputError

__all__ = ["Result", "plain_answer", "TABLE_WIDTH", "cell_text", "table_width", "write_table", "replace_atomically", "interval_text",
           "se_text", "html_view", "table_html", "PROVENANCE_COLUMNS",
           "OUTPUT_SUFFIXES", "csv_safe", "visible_text", "write_result", "read_result_metadata", "RESULT_METADATA_SUFFIX"]

OUTPUT_SUFFIXES = (".csv", ".json", ".parquet")


#: Columns a shown table leaves to the provenance (JSON blobs, keys).
PROVENANCE_COLUMNS = ("settings", "versions", "cell", "timestamp")


def table_html(table: pd.DataFrame, *, max_rows: int) -> str:
    """The first ``max_rows`` rows of ``table`` as an HTML table, every string escaped, without the
    :data:`PROVENANCE_COLUMNS`."""
    shown = table.drop(columns=[c for c in PROVENANCE_COLUMNS if c in table.columns]).head(max_rows)
    return shown.to_html(index=False, escape=True, float_format=lambda v: f"{v:.4g}", na_rep="", border=0)


class Result:
    """What every command returns: a table, the sentences a user acts on, and the settings behind
    them, the same for the terminal, the files, the report and the notebook.

    A subclass (a dataclass) sets :attr:`kind` (the report section that draws it) and
    :attr:`title`, and implements :meth:`to_frame` and :meth:`answer`; ``settings`` is its
    provenance (a field or a property). :meth:`save` writes the table with its kind, title,
    settings and answer beside it, so ``transferscope report FILE`` draws what the run drew.

    Examples
    --------
    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Tiny(Result):
    ...     kind = "table"
    ...     title = "Tiny"
    ...     value: float
    ...     def to_frame(self): return pd.DataFrame({"value": [self.value]})
    ...     def answer(self): return [f"value {self.value}"]
    >>> path = Tiny(0.5).save(Path(tempfile.mkdtemp()) / "tiny.csv")
    >>> read_result_metadata(path)["settings"]["answer"], read_result_metadata(path)["kind"]
    (['value 0.5'], 'table')
    """

    kind: ClassVar[str] = "table"
    title: ClassVar[str] = "Results"

    def to_frame(self) -> pd.DataFrame:
        """Every row and column (what ``--output`` writes)."""
        raise NotImplementedError

    def answer(self) -> list[str]:
        """The sentences a user acts on, in plain words."""
        return []

    @property
    def provenance(self) -> dict[str, Any]:
        """The settings behind the result (its ``settings``, or ``summary`` where that is a dict)."""
        for name in ("settings", "summary"):
            value = getattr(self, name, None)
            if isinstance(value, dict):
                return dict(value)
        return {}

    def save(self, path: str | Path, *, settings: dict[str, Any] | None = None, title: str = "",
             report_title: str = "") -> Path:
        """Write :meth:`to_frame` to ``path`` (.csv, .json or .parquet) with the kind, title,
        settings (``settings`` added to :attr:`provenance`) and :meth:`answer` beside it
        (:func:`write_result`)."""
        merged = {**self.provenance, **(settings or {})}
        merged["answer"] = merged.get("answer") or plain_answer(self.answer())
        return write_result(self.to_frame(), path, kind=self.kind, title=title or self.title, settings=merged,
                            report_title=report_title)

    def _repr_html_(self) -> str:
        return html_view(self.title, plain_answer(self.answer()), self.to_frame())


def plain_answer(lines: list[str]) -> list[str]:
    """Answer lines as a file, a page or a notebook shows them: without the terminal's indent and
    list markers.

    Examples
    --------
    >>> plain_answer(["Answer: a ranks first.", "  - layer_4 ties it"])
    ['Answer: a ranks first.', 'layer_4 ties it']
    """
    return [line.strip(" -") for line in lines]


def html_view(title: str, lines: list[str], table: pd.DataFrame | None = None, *, max_rows: int = 30) -> str:
    """The notebook view of a result (``_repr_html_``): a title, plain-words lines and the first rows
    of its table, every string escaped.

    Examples
    --------
    >>> html_view("Drift", ["<b> stays text"], pd.DataFrame({"a": [1]}))[:36]
    '<div class="transferscope"><h4>Drift'
    >>> "&lt;b&gt; stays text" in html_view("Drift", ["<b> stays text"])
    True
    """
    import html

    parts = [f'<div class="transferscope"><h4>{html.escape(title)}</h4>']
    parts += [f"<p>{html.escape(line)}</p>" for line in lines if line]
    if table is not None and len(table.columns):
        parts.append(table_html(table, max_rows=max_rows))
        if len(table) > max_rows:
            parts.append(f"<p>... {len(table) - max_rows} more rows (the full table: .table / .to_frame())</p>")
    return "".join(parts) + "</div>"


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


#: The terminal width every command's tables are made to fit (the details go to --output and the report).
TABLE_WIDTH = 100


def cell_text(value: object, digits: int) -> str:
    """A table cell as the terminal prints it: a float with ``digits`` decimals (``nan`` when
    undefined), anything else as text.

    Examples
    --------
    >>> cell_text(0.71404, 3), cell_text(float("nan"), 3), cell_text("layer_4", 3)
    ('0.714', 'nan', 'layer_4')
    """
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.{digits}f}"
    return str(value)


def table_width(table: pd.DataFrame, *, digits: int = 3) -> int:
    """The printed width of ``table``: each column's widest cell (:func:`cell_text`) or header, with
    its borders.

    Examples
    --------
    >>> table_width(pd.DataFrame({"layer": ["embeddings"], "drift": [0.1234]}))  # 1 + (10 + 3) + (5 + 3)
    22
    """
    return 1 + sum(max([len(str(c)), *(len(cell_text(v, digits)) for v in table[c])]) + 3 for c in table.columns)


def se_text(value: float, se: float, *, digits: int = 4) -> str:
    """``value ± standard error`` as the terminal tables print a probe (``value`` alone without a
    standard error, ``nan`` for an undefined value).

    Examples
    --------
    >>> se_text(0.71404, 0.0583), se_text(0.7, float("nan"), digits=3), se_text(float("nan"), 0.1)
    ('0.7140 ± 0.0583', '0.700', 'nan')
    """
    if not math.isfinite(value):
        return "nan"
    return f"{value:.{digits}f} ± {se:.{digits}f}" if math.isfinite(se) else f"{value:.{digits}f}"


def replace_atomically(target: Path, write: Callable[[str], object]) -> Path:
    """``write(tmp)`` to a fresh name beside ``target``, then rename it into place: a reader never
    sees half a file, and an interrupted write leaves nothing. The file is created by ``write``
    with the user's umask (mkstemp's 0600 would make every output private whatever the umask)."""
    tmp = str(target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


_FORMULA_START = ("=", "+", "@", "\t", "\r")


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell that a spreadsheet would run as a formula (starting with
    ``=``, ``+``, ``@``, a tab or a carriage return, or ``-`` before something that is not a
    number) prefixed with ``'``, the usual defence against CSV formula injection: a candidate or
    suite name is data, never a formula.

    Examples
    --------
    >>> csv_safe(pd.DataFrame({"name": ["=HYPERLINK(1)", "-1.5", "-x", "ok"], "v": [1, 2, 3, 4]}))["name"].tolist()
    ["'=HYPERLINK(1)", '-1.5', "'-x", 'ok']
    """
    def fix(value: object) -> object:
        if not isinstance(value, str) or not value:
            return value
        if value.startswith(_FORMULA_START):
            return "'" + value
        if value.startswith("-"):
            try:
                float(value)
            except ValueError:
                return "'" + value
        return value

    out = table.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map(fix)
    return out


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` to ``path`` atomically; the suffix picks the format."""
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(f"output '{path}' must end in one of {', '.join(OUTPUT_SUFFIXES)}")
    if not target.parent.exists():
        raise InputError(f"output folder '{target.parent}' does not exist")
    if suffix == ".csv":
        safe = csv_safe(table)
        replace_atomically(target, lambda tmp: safe.to_csv(tmp, index=False))
    elif suffix == ".json":
        replace_atomically(target, lambda tmp: table.to_json(tmp, orient="records", indent=2,
                                                                   double_precision=15))
    else:
        replace_atomically(target, lambda tmp: table.to_parquet(tmp, index=False))
    return target


#: The file beside a written result that keeps what the table alone cannot: its kind, title,
#: settings (the provenance a report shows) and answer lines.
RESULT_METADATA_SUFFIX = ".transferscope.json"


def write_result(table: pd.DataFrame, path: str | Path, *, kind: str, title: str = "",
                 settings: dict[str, Any] | None = None, report_title: str = "") -> Path:
    """:func:`write_table`, and beside it ``<path>.transferscope.json``: the result's ``kind``,
    ``title``, ``settings`` (with its ``answer`` lines) and the ``report_title`` of the run's report, keyed to the table file by its SHA-256,
    so that ``transferscope report <path>`` draws the same report as the run did, and a table
    rewritten without it (another command, an editor) is never read with stale metadata.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_result(pd.DataFrame({"a": [1]}), folder / "r.csv", kind="table", settings={"answer": ["yes"]})
    >>> read_result_metadata(folder / "r.csv")["settings"]["answer"]
    ['yes']
    >>> _ = write_table(pd.DataFrame({"a": [2]}), folder / "r.csv")  # rewritten alone: the metadata is stale
    >>> read_result_metadata(folder / "r.csv") is None
    True
    """
    import hashlib
    import json

    target = write_table(table, path)
    meta = {"format": 1, "kind": kind, "title": title, "settings": settings or {}, "report_title": report_title,
            "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
    text = json.dumps(meta, default=str, indent=1)
    replace_atomically(target.with_name(target.name + RESULT_METADATA_SUFFIX),
                       lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return target


def read_result_metadata(path: str | Path) -> dict[str, Any] | None:
    """The metadata :func:`write_result` wrote beside ``path``; None when there is none, or when it
    does not belong to the table now at ``path`` (its hash differs) or cannot be read."""
    import hashlib
    import json

    target = Path(path).expanduser()
    sidecar = target.with_name(target.name + RESULT_METADATA_SUFFIX)
    if not sidecar.is_file() or not target.is_file():
        return None
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("sha256") != hashlib.sha256(target.read_bytes()).hexdigest():
        return None
    return meta


#: Characters that change what a page shows without being seen: NUL and the other C0 controls
#: (tab, newline and carriage return aside) and the bidirectional overrides and isolates, which can
#: make a name read backwards (an "exe.txt" that is a ".txt.exe").
_INVISIBLE = {c: f"\\u{c:04x}" for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F,
                                          *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F]}


def visible_text(text: str) -> str:
    r"""``text`` with every invisible control and bidirectional-override character written out as
    its ``\uXXXX`` code, so that a user string drawn in a report or a figure reads as it is.

    Examples
    --------
    >>> visible_text("model\u202eexe.txt\x00")
    'model\\u202eexe.txt\\u0000'
    """
    return text.translate(_INVISIBLE)
