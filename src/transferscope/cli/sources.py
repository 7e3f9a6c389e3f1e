"""``transferscope sources``: rank candidate source datasets for a target by their distance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from transferscope.cli._common import (
    BatchSizeOption,
    CacheDirOption,
    DeviceOption,
    MaxLengthOption,
    NoCacheOption,
    QuietOption,
    TrustRemoteCodeOption,
    add_to_store,
    check_output_path,
    err_console,
    extraction_options,
    handle_errors,
    open_store,
    print_table,
)
from transferscope.errors import InputError

__all__ = ["sources_command"]


def sources_command(
    target: Annotated[Optional[str], typer.Option(help="The target: a built-in classification dataset.")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="A candidate source (built-in classification dataset). Repeat for several.")] = None,
    model: Annotated[Optional[str], typer.Option(help="The pretrained model whose space the distances are measured in.")] = None,
    layer: Annotated[str, typer.Option(help="Layer: 'last', a name or an index.")] = "last",
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    measure: Annotated[str, typer.Option(help="The ranking measure: otdd, mmd_linear, mmd_rbf, frechet.")] = "otdd",
    max_samples: Annotated[int, typer.Option(min=10, help="Seeded subsample of each dataset.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the subsamples.")] = 0,
    output: Annotated[Optional[Path], typer.Option(help="Write the table to .csv, .json or .parquet.")] = None,
    store: Annotated[Optional[Path], typer.Option(help="Also add the rows to this DuckDB results file.")] = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = 128,
    device: DeviceOption = None,
    trust_remote_code: TrustRemoteCodeOption = False,
    quiet: QuietOption = False,
) -> None:
    """Which source should I transfer from? Each source's distance to the target in one model's
    space: OTDD (labels count), MMD (linear, RBF) and the Frechet distance; nearest first.

    Example: transferscope sources --target sentence-polarity --source vader-polarity --source word-language --model st:./minilm
    """
    from transferscope.datasets import load_builtin
    from transferscope.workflows.results import write_table
    from transferscope.workflows.sources import rank_sources

    with handle_errors():
        check_output_path(output)
        if not target or not source or not model:
            raise InputError("--target, --source (repeat for several) and --model are required")
        results = open_store(store)
        extraction = extraction_options(cache_dir=cache_dir, no_cache=no_cache, batch_size=batch_size,
                                        max_length=max_length, device=device, quiet=quiet,
                                        trust_remote_code=trust_remote_code)
        ranking = rank_sources(target=load_builtin(target), sources=[load_builtin(s) for s in source], model=model,
                               layer=layer, pooling=pooling, measure=measure, max_samples=max_samples, seed=seed,
                               extraction=extraction,
                               progress=None if quiet else (lambda line: err_console.print(line, highlight=False)))
        print_table(ranking.table, digits=4, title=f"Sources for {target}, nearest first by {measure}")
        typer.echo(f"Nearest source: {ranking.best}")
        if output is not None:
            err_console.print(f"wrote {write_table(ranking.table, output)}")
        measures = [m for m in ranking.table.columns if m not in ("source", "samples")]
        add_to_store(results, store, [
            {"suite": "sources", "target": target, "candidate": r["source"], "model": model, "layer": layer,
             "pooling": pooling, "kind": "source_distance", "metric": m, "value": r[m], "seed": seed,
             "settings": {**ranking.settings, "samples": r["samples"]}}
            for r in ranking.table.to_dict("records") for m in measures])
