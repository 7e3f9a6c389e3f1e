"""What every command shares: error handling, table rendering, output files."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from transferscope.errors import InputError, MissingExtraError

if TYPE_CHECKING:
    import pandas as pd

    from transferscope.cli.options import OutputOptions
    from transferscope.workflows.data_source import DataSource
    from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["console", "err_console", "handle_errors", "print_table", "check_output_path", "split_list",
           "labelled_dataset", "read_source", "progress_lines", "ProbeProtocolOption", "write_reports",
           "command_settings", "show", "save_result", "fit_targets", "open_store", "add_to_store"]

ProbeProtocolOption = Annotated[str, typer.Option(
    help="Ground truth of --probe: linear_cv (the linear probe on 5 x 2-fold repeated splits: mean, standard "
         "error, ties) or linear (one seeded 60/20/20 split, quicker).")]

# Piped output is not wrapped at 80 columns: tables stay one row per line.
console = Console() if sys.stdout.isatty() else Console(width=200)
err_console = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=200)

OUTPUT_SUFFIXES = (".csv", ".json", ".parquet")


@contextmanager
def handle_errors() -> Iterator[None]:
    """Bad input -> one line on stderr and exit 2; Ctrl-C -> exit 130; nothing else is swallowed."""
    try:
        yield
    except (InputError, MissingExtraError) as exc:
        # One line whatever its length (soft_wrap: rich does not fold it at the console width).
        message = " ".join(str(exc).split())
        err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err_console.print("Interrupted: no partial cache entry was written; rerun to resume.")
        raise typer.Exit(130) from None


def split_list(values: list[str] | None) -> list[str]:
    """Flatten repeated and comma-separated option values."""
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def check_output_path(output: Path | None, *, option: str = "--output",
                      suffixes: tuple[str, ...] = OUTPUT_SUFFIXES) -> None:
    """Fail early, before any work, on an output path that cannot be written (:func:`check_output_file`)."""
    if output is None:
        return
    from transferscope.workflows.storage.folders import check_output_file

    check_output_file(output, name=option, suffixes=suffixes)


def progress_lines(extraction: ExtractionOptions) -> Callable[[str], None] | None:
    """The ``progress`` callable of a workflow: its lines on stderr, None with ``--quiet``."""
    if not extraction.progress:
        return None
    return lambda line: err_console.print(line, highlight=False)


def labelled_dataset(data: Path | None, dataset: str | None, *, text_column: str = "text",
                     label_column: str = "label", task: str | None = None, quiet: bool = False,
                     alternative: str = "", options: tuple[str, str] = ("--data", "--dataset")) -> Any:
    """The labelled dataset of ``--data FILE`` or ``--dataset NAME`` (exactly one of them; the two
    ``options`` as the command names them) for a command with its own names for them (sources:
    ``--target``, ``--source-data``): :func:`read_source` of that source."""
    from transferscope.workflows.data_source import DataSource

    source = DataSource(data=data, dataset=dataset, text_column=text_column, label_column=label_column, task=task,
                        names={"data": options[0], "dataset": options[1]})
    return read_source(source, quiet=quiet, alternative=alternative)


def read_source(source: DataSource, *, quiet: bool = False, alternative: str = "") -> Any:
    """The labelled dataset of a command's :class:`~transferscope.workflows.data_source.DataSource`,
    with its size and task on stderr unless ``quiet``; ``alternative`` names another way in."""
    ds = source.read(alternative=alternative)
    if not quiet:
        err_console.print(f"{ds.name}: {len(ds)} samples, {ds.task}", highlight=False)
    return ds


def fit_targets(view: Any, targets: list[str], *, output: Path | None = None, quiet: bool = False) -> Any:
    """A method x target table of ``value [low, high]`` cells made to fit ``TABLE_WIDTH``
    (:mod:`transferscope.workflows.storage.results`): each
    target's value without its interval, else the mean column only (said on stderr, with where
    every target's row is)."""
    from transferscope.workflows.storage.results import TABLE_WIDTH, table_width

    width = min(console.width, TABLE_WIDTH)
    if len(targets) < 2 or table_width(view) <= width:
        return view
    points = view.assign(**{t: view[t].map(lambda v: str(v).split(" [")[0]) for t in targets})
    if table_width(points) <= width:
        return points
    if not quiet:
        err_console.print(f"{len(targets)} targets: the table shows their mean; every target's row is in "
                          f"{output if output is not None else '--output FILE'}", highlight=False)
    return view.drop(columns=targets)


def print_table(table: pd.DataFrame, *, title: str | None = None, digits: int = 4) -> None:
    """Render a DataFrame as a rich table on stdout."""
    import pandas as pd
    from rich.markup import escape

    from transferscope.workflows.storage.results import cell_text

    # every text is escaped: a name such as "[red]x" or a value "[0.087]" is shown, never read as markup
    view = Table(title=escape(title) if title else None, title_justify="left", header_style="bold")
    for column in table.columns:
        numeric = pd.api.types.is_numeric_dtype(table[column])
        view.add_column(escape(str(column)), justify="right" if numeric else "left", overflow="fold")
    for row in table.itertuples(index=False):
        view.add_row(*(escape(cell_text(v, digits)) for v in row))
    console.print(view)


def open_store(store: Path | None) -> Any:
    """The results store of ``--store``, opened (and so checked) before any work; None without it."""
    if store is None:
        return None
    from transferscope.workflows.storage.store import ResultStore

    return ResultStore(store)


def add_to_store(results: Any, store: Path | None, rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` to the store of :func:`open_store` (closing it), with this run's id and the
    library versions filled in where a row has none, and say how many were stored."""
    if results is None:
        return
    from transferscope.workflows.provenance import stamped_rows

    with results:
        n = results.add_rows(stamped_rows(rows))
    err_console.print(f"stored {n} rows in {store}")


def write_reports(report: Path | None, figures: Path | None, results: list[Any], *, title: str,
                  inputs: list[str] | None = None, output: Path | None = None) -> None:
    """Write the HTML report and / or the static figures of ``results`` (report.Results), and with
    ``output`` the first result's table with its kind, title and settings beside it
    (:func:`~transferscope.workflows.storage.results.write_result`), so that ``transferscope report`` on
    the file draws the report the run drew."""
    if output is not None:
        from transferscope.workflows.storage.results import write_result

        first = results[0]
        written = write_result(first.table, output, kind=first.kind, title=first.title, settings=first.settings,
                               report_title=title)
        err_console.print(f"wrote {written}")
    if report is None and figures is None:
        return
    from transferscope.report import write_figures, write_report

    if report is not None:
        err_console.print(f"wrote {write_report(results, report, title=title, inputs=inputs or [])}")
    if figures is not None:
        written = write_figures(results, figures)
        err_console.print(f"wrote {len(written)} figure files to {figures}")


def show(views: list[tuple[str, Any]], answer: list[str], *, title: Callable[[str], str] = str,
         digits: int = 3) -> None:
    """The terminal part every command ends with: its compact tables (``title`` rewrites each
    heading), then the answer lines a user acts on."""
    for heading, table in views:
        print_table(table, digits=digits, title=title(heading))
    for line in answer:
        typer.echo(line)


def save_result(result: Any, outputs: OutputOptions, *, title: str, report_title: str, settings: dict[str, Any],
                answer: list[str] | None = None, cache_dir: str | Path | None = None,
                model_specs: list[str] | None = None, extra: list[Any] = ()) -> None:
    """``--output``, ``--report`` and ``--figures`` of every command (``outputs``): ``result`` (a
    workflow Result) as the report's first part, with the command's ``settings``, its answer and
    the provenance (model hashes computed only when a file is asked for); ``extra`` parts follow."""
    if not outputs.any:
        return
    from transferscope.report import Results
    from transferscope.workflows.storage.results import plain_answer

    part = Results.of(result, title=title, settings=command_settings(
        **settings, answer=plain_answer(answer if answer is not None else result.answer()),
        cache_dir=cache_dir, model_specs=model_specs))
    write_reports(outputs.report, outputs.figures, [part, *extra], title=report_title, output=outputs.output)


def command_settings(*, cache_dir: str | Path | None = None, model_specs: list[str] | None = None,
                     **settings: Any) -> dict[str, Any]:
    """The provenance a report shows for one command's results: its settings, the library versions
    and each model's identity (the hash of its weights, as the feature cache keys it) and input
    preprocessing."""
    from transferscope.workflows.provenance import library_versions, model_identities

    out = {k: v for k, v in settings.items() if v is not None and v != [] and v != ""}
    out["library versions"] = library_versions()
    if model_specs:
        out["model identities"] = model_identities(model_specs, cache_dir=cache_dir)
    return out
