"""``transferscope elastic``: quality against bytes per vector under truncation and quantisation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from transferscope.cli._common import (
    add_to_store,
    check_output_path,
    err_console,
    handle_errors,
    open_store,
    progress_lines,
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
from transferscope.errors import InputError
from transferscope.workflows.data_source import DataSource
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["elastic_command"]


@extraction_group
@output_group
@source_group()
def elastic_command(
    model: Annotated[Optional[str], typer.Option(help="Model spec (as for `rank`).")] = None,
    source: DataSource = SOURCE,
    layers: Annotated[str, typer.Option(help="'last', 'all' (the layers x dimensions grid) or comma-separated names/indices.")] = "last",
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    retrieval: Annotated[bool, typer.Option("--retrieval", help="Measure retrieval (nDCG@10 over a query/gallery split) instead of the linear probe.")] = False,
    compressions: Annotated[Optional[str], typer.Option(help="Comma-separated compressions (float32, float16, int8, binary, prefix<D>, pca<D>, chains like pca128+int8, binary+rescore); a default grid when omitted.")] = None,
    tolerance: Annotated[float, typer.Option(min=0.0, help="Quality the recommendation may lose against the best float32 configuration (absolute).")] = 0.01,
    plot: Annotated[Optional[Path], typer.Option(help="Write the quality-bytes plot with the Pareto front (.png or .svg).")] = None,
    splits: Annotated[int, typer.Option(min=1, max=100, help="Seeded splits each configuration is measured on (the probe or the retrieval; a word-similarity set has none).")] = 5,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the first split and of PCA.")] = 0,
    outputs: OutputOptions = OUTPUTS,
    store: Annotated[Optional[Path], typer.Option(help="Also add the rows to this DuckDB results file.")] = None,
    extraction: ExtractionOptions = EXTRACTION,
) -> None:
    """How small can the embeddings be? Your task's quality against bytes per vector for prefix /
    PCA truncation, float16, int8 and binary codes, the Pareto front and the smallest
    configuration within --tolerance.

    Example: transferscope elastic --model st:./minilm --dataset vader-polarity --tolerance 0.01 --plot pareto.png

    Example: transferscope elastic --features embeddings.npy --labels y.npy --retrieval
    """
    from transferscope.workflows.elastic import elastic
    from transferscope.workflows.pair_targets import is_pair_target

    with handle_errors():
        check_output_path(plot, option="--plot", suffixes=(".png", ".svg"))
        source.check_models([model] if model else [])
        results = open_store(store)
        specs = split_list([compressions]) if compressions else None
        progress = progress_lines(extraction)
        if source.features:
            from transferscope.workflows.elastic import elastic_features
            from transferscope.workflows.inputs import Dataset

            arrays, y, _ = source.read_features()
            name, model, pooling = "the --features files", "features", "none"
            result = elastic_features(arrays, y, quality="retrieval" if retrieval else "probe",
                                      task=Dataset.of_features(y, task=source.task).task, compressions=specs,
                                      tolerance=tolerance, seed=seed, splits=splits, progress=progress)
        elif source.dataset is not None and is_pair_target(source.dataset):
            if source.data is not None or retrieval:
                raise InputError(f"--dataset {source.dataset} is a word-similarity set: no --data and no --retrieval")
            name = source.dataset
            result = elastic(model=model, dataset=name, layers=layers, pooling=pooling, extraction=extraction,
                             compressions=specs, tolerance=tolerance, seed=seed, splits=splits, progress=progress)
        else:
            target = read_source(source, quiet=not extraction.progress, alternative=" (or --features with --labels)")
            name = target.name
            result = elastic(model=model, dataset=target, layers=layers, pooling=pooling,
                             quality="retrieval" if retrieval else None, extraction=extraction,
                             compressions=specs, tolerance=tolerance, seed=seed, splits=splits, progress=progress)
        show(result.views(), result.answer(), title=lambda heading: f"{heading} on {name}")
        if extraction.progress:
            err_console.print("front: on the Pareto front (nothing smaller is better); --output keeps every column",
                              highlight=False)
        if plot is not None:
            err_console.print(f"wrote {result.plot(plot)}")
        save_result(result, outputs, title="Quality against bytes",
                    report_title="How small can the vectors be?", cache_dir=extraction.cache_dir,
                    settings={**result.settings, "recommended": result.answer()[0],
                              "features": [str(f) for f in source.features or []]},
                    model_specs=[] if source.features else [model])
        add_to_store(results, store, [
            {"suite": "elastic", "target": name, "model": model,
             "candidate": r["layer"] if source.features else f"{model} | {r['layer']} | {pooling}",
             "layer": r["layer"], "pooling": pooling, "kind": "elastic", "metric": f"{r['compression']}:{result.metric}",
             "value": r["quality"], "seed": seed,
             "settings": {**result.settings, "bytes": r["bytes"], "dim": r["dim"], "pareto": bool(r["pareto"]),
                          "tolerance": tolerance}}
            for r in result.table.to_dict("records")])
