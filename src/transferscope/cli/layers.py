"""``transferscope layers``: per-layer profile of one model and the recommended layer."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from transferscope.cli._common import (
    ProbeProtocolOption,
    err_console,
    handle_errors,
    read_source,
    save_result,
    show,
    split_list,
)
from transferscope.cli.options import (
    EXTRACTION,
    OUTPUTS,
    SOURCE,
    OutputOptions,
    extraction_group,
    output_group,
    source_group,
)
from transferscope.workflows.data_source import DataSource
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["layers_command"]


@extraction_group
@output_group
@source_group(include=('data', 'dataset', 'text_column', 'label_column', 'task'))
def layers_command(
    model: Annotated[str, typer.Option(help="Model spec (as for `rank`).")],
    source: DataSource = SOURCE,
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    geometry: Annotated[str, typer.Option(help="Comma-separated geometry measures.")] = "twonn,rankme,anisotropy",
    metric: Annotated[str, typer.Option(help="Comma-separated transferability estimators.")] = "logme,knn",
    probe: Annotated[bool, typer.Option("--probe/--no-probe", help="Measure the ground truth per layer (the recommendation then rests on it).")] = True,
    probe_protocol: ProbeProtocolOption = "linear_cv",
    outputs: OutputOptions = OUTPUTS,
    extraction: ExtractionOptions = EXTRACTION,
    seed: Annotated[int, typer.Option(min=0, help="Seed of random baselines and the probe split.")] = 0,
) -> None:
    """Profile every layer of one model (geometry, estimators, probe) and recommend a layer.

    Example: transferscope layers --model ./encoder --dataset vader-polarity
    """
    from transferscope.workflows.layers import layer_profile
    from transferscope.workflows.storage.names import short_names

    with handle_errors():
        ds = read_source(source, quiet=not extraction.progress)
        profile = layer_profile(dataset=ds, model=model, pooling=pooling, geometry=split_list([geometry]),
                                metrics=split_list([metric]), probe=probe and probe_protocol, seed=seed,
                                extraction=extraction)
        for note in profile.warnings:
            err_console.print(f"[yellow]Warning:[/] {escape(note)}", highlight=False)
        name = short_names([model])[model]
        show(profile.views(), profile.answer(), title=lambda heading: f"Layers of {name} on {ds.name} ({heading})")
        save_result(profile, outputs, title=f"Layers of {name} on {ds.name}",
                    report_title=f"Which layer of {name}?", cache_dir=extraction.cache_dir, model_specs=[model],
                    settings={"dataset": ds.name, "model": model, "pooling": pooling, "recommended": profile.recommended,
                              "basis": profile.basis, "seed": seed})
