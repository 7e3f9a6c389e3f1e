"""Reading results (a DuckDB store or a command's JSON / Parquet / CSV output) and writing the
report (:func:`write_report`, atomically) and static figures (:func:`write_figures`)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from transferscope.errors import InputError
from transferscope.report.figures import save_static
from transferscope.report.html import render_html
from transferscope.report.sections import KINDS, Results, detect_kind, parts, provenance, sections, store_results

__all__ = ["load_results", "build_report", "check_report_path", "check_figures_folder", "write_report", "write_figures", "RESULT_SUFFIXES"]

RESULT_SUFFIXES = (".duckdb", ".json", ".parquet", ".csv")


def load_results(path: str | os.PathLike[str]) -> list[Results]:
    """The results held in ``path``: a results store (``.duckdb``) or a command's output table.

    Raises
    ------
    InputError
        Naming the file when it is missing, of another format, empty or unreadable.
    """
    source = Path(path).expanduser()
    suffix = source.suffix.lower()
    if suffix not in RESULT_SUFFIXES:
        raise InputError(f"results '{path}' must end in one of {', '.join(RESULT_SUFFIXES)}")
    if not source.is_file():
        raise InputError(f"results '{path}' does not exist")
    if suffix == ".duckdb":
        from transferscope.workflows.storage.store import read_store

        rows = read_store(source)  # read-only: a report never changes a byte of its input
        if rows.empty:
            raise InputError(f"results '{path}' holds no rows")
        return store_results(rows)
    try:
        if suffix == ".json":
            table = pd.read_json(source, orient="records")
        elif suffix == ".parquet":
            table = pd.read_parquet(source)
        else:
            table = pd.read_csv(source)
    except (ValueError, OSError) as exc:
        raise InputError(f"results '{path}' cannot be read as {suffix[1:]}: {' '.join(str(exc).split())[:200]}") \
            from None
    if table.empty:
        raise InputError(f"results '{path}' holds no rows")
    from transferscope.workflows.storage.results import read_result_metadata

    meta = read_result_metadata(source)  # written beside it by the command: its kind, settings and answer
    if meta is not None and meta.get("kind") in KINDS:
        return [Results(str(meta["kind"]), table, settings=dict(meta.get("settings") or {}),
                        title=str(meta.get("title") or source.name), report_title=str(meta.get("report_title") or ""))]
    kind = detect_kind(table)
    if kind == "benchmark":
        return store_results(table)
    return [Results(kind, table, title=f"{source.name}")]


def _answers(results: Sequence[Results]) -> list[str]:
    """The plain-words answer at the top: the pick of a ranking, the recommended configuration."""
    lines = []
    for r in results:
        t = r.table
        if r.settings.get("answer"):  # the result's own answer, as the terminal printed it
            lines += [str(line) for line in r.settings["answer"]]
        elif r.kind == "ranking" and len(t):
            best = t.sort_values("rank").iloc[0]
            # several rankings on one page (the demo's datasets): each line says which it is
            line = (f"{r.title}, best candidate" if len(results) > 1 and r.title else "Best candidate") + \
                f": {best['candidate']}"
            if "predicted_accuracy" in t and pd.notna(best.get("predicted_accuracy")):
                line += (f", predicted accuracy {best['predicted_accuracy']:.3f} "
                         f"[{best.get('predicted_accuracy_low', float('nan')):.3f}, "
                         f"{best.get('predicted_accuracy_high', float('nan')):.3f}]")
            for column, what in (("probe_accuracy", "accuracy"), ("probe_r2", "R^2")):
                if column in t and pd.notna(best.get(column)):
                    line += f", measured probe {what} {best[column]:.3f}"
            if "combined" in t:
                line += " (ordered by the priors and the estimates combined)"
            lines.append(line + ".")
            lines += [f"Prior: {note}" for note in r.settings.get("prior_notes", [])]
            # What the user must know to read it (unknown tokens of a vocabulary, identical candidates).
            lines += [f"Note: {note}" for note in r.settings.get("warnings", [])]
        elif r.kind == "selection" and "pick" in r.settings:
            st = r.settings
            lines.append(f"Pick: {st['pick']}, measured {st.get('metric', 'score')} {st['accuracy']:.3f} "
                         f"[{st['low']:.3f}, {st['high']:.3f}]; chance that another candidate is better "
                         f"{st['p_other_better']:.2f}.")
        elif r.kind == "layers" and "recommended" in r.settings:
            lines.append(f"Recommended layer: {r.settings['recommended']} (by {r.settings.get('basis', 'the probe')}).")
        elif r.kind == "elastic" and "recommended" in r.settings:
            lines.append(f"Smallest configuration within the tolerance: {r.settings['recommended']}.")
        elif r.kind == "sources" and len(t):
            from transferscope.workflows.sources import SourceRanking

            measure = str(r.settings.get("measure") or ("otdd" if "otdd" in t else ""))
            if measure in t:  # the measure the ranking was made by (a file without it: OTDD, the default)
                lines += [line + "." for line in
                          SourceRanking(t.assign(rank=t[measure].rank(method="min")), measure).answer()]
        elif r.kind == "drift" and len(t):
            peak = t.loc[t.groupby("tuned")["drift"].idxmax()]
            lines += [f"{row.tuned}: largest change at {row.layer} (drift {row.drift:.3f})."
                      for row in peak.itertuples()]
    return lines[:10]


def build_report(results: Sequence[Results], *, title: str = "transferscope report",
                 inputs: Sequence[str] = ()) -> str:
    """The HTML of the report on ``results`` (:mod:`transferscope.report.html`)."""
    if not results:
        raise InputError("a report needs at least one result table")
    split = parts(list(results))
    return render_html(sections(split), title=title, provenance=provenance(split), answers=_answers(split),
                       inputs=list(inputs))


def check_report_path(path: str | os.PathLike[str], *, name: str = "report") -> Path:
    """``path`` as the report file it names (``.html`` in a folder that exists), or one InputError
    naming ``name``."""
    from transferscope.workflows.storage.folders import check_output_file

    return check_output_file(path, name=name, suffixes=(".html", ".htm"))


def check_figures_folder(folder: str | os.PathLike[str], *, name: str = "figures folder") -> Path:
    """``folder`` as the place for static figures (absent or a folder), or one InputError naming ``name``."""
    target = Path(folder).expanduser()
    if target.exists() and not target.is_dir():
        raise InputError(f"{name} '{folder}' is a file, not a folder")
    return target


def write_report(results: Sequence[Results], path: str | os.PathLike[str], *, title: str = "transferscope report",
                 inputs: Sequence[str] = ()) -> Path:
    """Write the report to ``path`` (``.html``) atomically: a temporary file renamed into place."""
    from transferscope.workflows.storage.results import replace_atomically

    target = check_report_path(path)
    page = build_report(results, title=title, inputs=inputs)
    return replace_atomically(target, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))


def write_figures(results: Sequence[Results], folder: str | os.PathLike[str], *,
                  formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Every figure of the report as static files in ``folder`` (created if absent), named after
    the section and the figure."""
    target = check_figures_folder(folder)
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise InputError(f"figure formats must be png, svg or pdf, got {bad}")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for i, section in enumerate(sections(list(results)), start=1):
        for j, fig in enumerate(section.figures, start=1):
            stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{i:02d}-{section.title}-{j:02d}-{fig.title}").strip("-")[:120]
            for fmt in formats:
                written.append(save_static(fig, target / f"{stem}.{fmt}"))
    return written
