"""The ``transferscope`` command line (typer + rich)."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from transferscope._version import __version__
from transferscope.cli.benchmark import benchmark_command
from transferscope.cli.compare import compare_command
from transferscope.cli.compat import compat_command
from transferscope.cli.demo import demo_command
from transferscope.cli.drift import drift_command
from transferscope.cli.elastic import elastic_command
from transferscope.cli.layers import layers_command
from transferscope.cli.listing import datasets_command, metrics_command, models_command
from transferscope.cli.meta import meta_command
from transferscope.cli.rank import rank_command
from transferscope.cli.report import report_command
from transferscope.cli.select import select_command
from transferscope.cli.sources import sources_command


class OneLineErrorGroup(TyperGroup):
    """The command group, with usage errors (a bad option value, an unknown command) printed as
    one line on stderr with exit 2, like every other input error, instead of click's usage box.

    Everything else is typer's standard behaviour: help, ``--version``, exit codes of the commands.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            return self._main(args, prog_name, complete_var, standalone_mode, **extra)
        finally:  # no worker process outlives the command, whatever ends it (no pool without scoring)
            scoring = sys.modules.get("transferscope.workflows.engine.scoring")
            if scoring is not None:
                scoring.close_worker_pools()

    def _main(self, args: Any, prog_name: str | None, complete_var: str | None, standalone_mode: bool,
              **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            print("Aborted.", file=sys.stderr)
            sys.exit(1)
        except Exception as error:
            if not is_usage_error(error):
                raise
            if type(error).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
                print(usage_error_line(error), file=sys.stderr)
            sys.exit(error.exit_code)  # type: ignore[attr-defined]
        sys.exit(code if isinstance(code, int) else 0)


def is_usage_error(error: BaseException) -> bool:
    """Whether ``error`` is one of click's own (usage) errors, recognised by its interface: typer
    keeps its copy of click private, so the class cannot be imported."""
    return callable(getattr(error, "format_message", None)) and isinstance(getattr(error, "exit_code", None), int)


def usage_error_line(error: BaseException) -> str:
    """``Error: <message> (see 'transferscope rank --help')`` on one line."""
    message = " ".join(error.format_message().split())  # type: ignore[attr-defined]
    context = getattr(error, "ctx", None)
    hint = f" (see '{context.command_path} --help')" if context is not None else ""
    return f"Error: {message}{hint}"


app = typer.Typer(
    cls=OneLineErrorGroup,
    name="transferscope",
    help="Which pretrained representation will transfer best to your data, how well, and why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"transferscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Say what each step does (models, layers, cache hits) on stderr; "
                                      "before the command: transferscope -v rank ..."),
) -> None:
    """Which pretrained representation will transfer best to your data, how well, and why.

    Every command has --help with an example, -q/--quiet (no progress bars) where it shows
    progress, and exit codes 0 (done), 2 (bad input, one line naming the argument) and 130
    (interrupted).
    """
    _quiet_libraries()
    if verbose:
        _log_to_stderr()


def _log_to_stderr() -> None:
    """INFO records of the ``transferscope`` loggers to stderr (only with --verbose)."""
    import logging

    from rich.logging import RichHandler

    from transferscope.cli._common import err_console

    logger = logging.getLogger("transferscope")
    if not any(isinstance(h, RichHandler) for h in logger.handlers):
        logger.addHandler(RichHandler(console=err_console, show_path=False, show_time=False))
    logger.setLevel(logging.INFO)


def _quiet_libraries() -> None:
    # Our own progress bars are enough; silence the per-file ones of the HF libraries.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


app.command("rank")(rank_command)
app.command("select")(select_command)
app.command("demo")(demo_command)
app.command("benchmark")(benchmark_command)
app.command("compare")(compare_command)
app.command("compat")(compat_command)
app.command("elastic")(elastic_command)
app.command("drift")(drift_command)
app.command("sources")(sources_command)
app.command("layers")(layers_command)
app.command("report")(report_command)
app.command("meta")(meta_command)
app.command("datasets")(datasets_command)
app.command("metrics")(metrics_command)
app.command("models")(models_command)


def main() -> None:
    """Console-script entry point."""
    app()
