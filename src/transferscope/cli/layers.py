"""``transferscope layers``: per-layer profile of one model and the recommended layer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from transferscope.cli._common import (
    FiguresOption,
    ProbeProtocolOption,
    ReportOption,
    check_output_path,
    check_report_paths,
    err_console,
    handle_errors,
    labelled_dataset,
    save_result,
    show,
    split_list,
)
from transferscope.cli.options import EXTRACTION, extraction_group
from transferscope.errors import InputError
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["layers_command"]


@extraction_group
def layers_command(
    model: Annotated[str, typer.Option(help="Model spec (as for `rank`).")],
    data: Annotated[Optional[Path], typer.Option(help="CSV/TSV/JSONL/Parquet file with a text and a label column.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="A built-in dataset (see `transferscope datasets`).")] = None,
    text_column: Annotated[str, typer.Option(help="Column of --data holding the inputs.")] = "text",
    label_column: Annotated[str, typer.Option(help="Column of --data holding the labels.")] = "label",
    task: Annotated[Optional[str], typer.Option(help="classification or regression (inferred when omitted).")] = None,
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    geometry: Annotated[str, typer.Option(help="Comma-separated geometry measures.")] = "twonn,rankme,anisotropy",
    metric: Annotated[str, typer.Option(help="Comma-separated transferability estimators.")] = "logme,knn",
    probe: Annotated[bool, typer.Option("--probe/--no-probe", help="Measure the ground truth per layer (the recommendation then rests on it).")] = True,
    probe_protocol: ProbeProtocolOption = "linear_cv",
    output: Annotated[Optional[Path], typer.Option(help="Write the profile to .csv, .json or .parquet.")] = None,
    extraction: ExtractionOptions = EXTRACTION,
    seed: Annotated[int, typer.Option(min=0, help="Seed of random baselines and the probe split.")] = 0,
    report: ReportOption = None,
    figures: FiguresOption = None,
) -> None:
    """Profile every layer of one model (geometry, estimators, probe) and recommend a layer.

    Example: transferscope layers --model ./encoder --dataset vader-polarity
    """
    from transferscope.workflows.layers import layer_profile
    from transferscope.workflows.storage.names import short_names

    with handle_errors():
        check_output_path(output)
        check_report_paths(report, figures)
        if task is not None and task not in ("classification", "regression"):
            raise InputError(f"--task must be classification or regression, got '{task}'")
        ds = labelled_dataset(data, dataset, text_column=text_column, label_column=label_column, task=task,
                              quiet=not extraction.progress)
        profile = layer_profile(dataset=ds, model=model, pooling=pooling, geometry=split_list([geometry]),
                                metrics=split_list([metric]), probe=probe and probe_protocol, seed=seed,
                                extraction=extraction)
        for note in profile.warnings:
            err_console.print(f"[yellow]Warning:[/] {escape(note)}", highlight=False)
        name = short_names([model])[model]
        show(profile.views(), profile.answer(), title=lambda heading: f"Layers of {name} on {ds.name} ({heading})")
        save_result(profile, output=output, report=report, figures=figures, title=f"Layers of {name} on {ds.name}",
                    report_title=f"Which layer of {name}?", cache_dir=extraction.cache_dir, model_specs=[model],
                    settings={"dataset": ds.name, "model": model, "pooling": pooling, "recommended": profile.recommended,
                              "basis": profile.basis, "seed": seed})
