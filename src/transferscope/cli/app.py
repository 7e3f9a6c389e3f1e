"""The ``transferscope`` command line (typer + rich)."""

from __future__ import annotations

import os

import typer

from transferscope._version import __version__
from transferscope.cli.benchmark import benchmark_command
from transferscope.cli.compare import compare_command
from transferscope.cli.demo import demo_command
from transferscope.cli.layers import layers_command
from transferscope.cli.listing import datasets_command, metrics_command
from transferscope.cli.rank import rank_command

app = typer.Typer(
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
) -> None:
    """Which pretrained representation will transfer best to your data, how well, and why."""
    _quiet_libraries()


def _quiet_libraries() -> None:
    # Our own progress bars are enough; silence the per-file ones of the HF libraries.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


app.command("rank")(rank_command)
app.command("demo")(demo_command)
app.command("benchmark")(benchmark_command)
app.command("compare")(compare_command)
app.command("layers")(layers_command)
app.command("datasets")(datasets_command)
app.command("metrics")(metrics_command)


def main() -> None:
    """Console-script entry point."""
    app()
