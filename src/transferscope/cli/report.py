"""``transferscope report``: one self-contained HTML file from stored results."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated, Optional

import typer

from transferscope.cli._common import err_console, handle_errors, write_reports
from transferscope.cli.options import FiguresOption, OutputOptions

__all__ = ["report_command"]


def report_command(
    results: Annotated[list[Path], typer.Argument(help="A DuckDB results store or a command's .json / .parquet / .csv output. Several are put in one report.")],
    output: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    title: Annotated[Optional[str], typer.Option(help="Title of the report (default: the title of the report the command drew, for one saved result; else 'transferscope report').")] = None,
    figures: FiguresOption = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the report in the default browser.")] = False,
) -> None:
    """Write a report people would rather look at: ranking bars with intervals, estimator against
    measured transfer, per-layer curves, heatmaps, compatibility and Pareto fronts, and the
    provenance of every number. One file; no request leaves the machine.

    Example: transferscope rank --dataset sentence-polarity --model tfidf --model hashing --output ranking.json && transferscope report ranking.json --output report.html --open
    """
    from transferscope.report import load_results

    with handle_errors():
        OutputOptions(report=output, figures=figures, names={"report": "--output", "figures": "--figures"})
        loaded = [r for path in results for r in load_results(path)]
        saved = {r.report_title for r in loaded}
        if title is None:  # one command's saved result (or one suite's rows): its report again, under its title
            title = saved.pop() if len(saved) == 1 and len(results) == 1 and "" not in saved else "transferscope report"
        write_reports(output, figures, loaded, title=title, inputs=[p.name for p in results])
        if open_:
            uri = output.expanduser().resolve().as_uri()
            if not webbrowser.open(uri):  # no browser here (a server, a container): say so, and where the file is
                err_console.print(f"--open: no web browser is available here; open {uri} yourself", highlight=False)
