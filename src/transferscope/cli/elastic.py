"""``transferscope elastic``: quality against bytes per vector under truncation and quantisation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from transferscope.cli._common import (
    FeatureColumnsOption,
    FeaturesKeyOption,
    FeaturesOption,
    FiguresOption,
    LabelsOption,
    ReportOption,
    add_to_store,
    check_feature_options,
    check_output_path,
    check_report_paths,
    err_console,
    handle_errors,
    labelled_dataset,
    load_features,
    open_store,
    progress_lines,
    save_result,
    show,
    split_list,
)
from transferscope.cli.options import EXTRACTION, extraction_group
from transferscope.errors import InputError
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["elastic_command"]


@extraction_group
def elastic_command(
    model: Annotated[Optional[str], typer.Option(help="Model spec (as for `rank`).")] = None,
    data: Annotated[Optional[Path], typer.Option(help="CSV/TSV/JSONL/Parquet file with a text and a label column.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="A built-in dataset, or a word-similarity set (wordsim353, simlex999).")] = None,
    text_column: Annotated[str, typer.Option(help="Column of --data holding the inputs.")] = "text",
    label_column: Annotated[Optional[str], typer.Option(help="Column of --data holding the labels (default: label); with --labels, the column or .npz array of the labels file.")] = None,
    features: FeaturesOption = None,
    features_key: FeaturesKeyOption = None,
    feature_columns: FeatureColumnsOption = None,
    labels: LabelsOption = None,
    task: Annotated[Optional[str], typer.Option(help="classification or regression (inferred when omitted).")] = None,
    layers: Annotated[str, typer.Option(help="'last', 'all' (the layers x dimensions grid) or comma-separated names/indices.")] = "last",
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    retrieval: Annotated[bool, typer.Option("--retrieval", help="Measure retrieval (nDCG@10 over a query/gallery split) instead of the linear probe.")] = False,
    compressions: Annotated[Optional[str], typer.Option(help="Comma-separated compressions (float32, float16, int8, binary, prefix<D>, pca<D>, chains like pca128+int8, binary+rescore); a default grid when omitted.")] = None,
    tolerance: Annotated[float, typer.Option(min=0.0, help="Quality the recommendation may lose against the best float32 configuration (absolute).")] = 0.01,
    plot: Annotated[Optional[Path], typer.Option(help="Write the quality-bytes plot with the Pareto front (.png or .svg).")] = None,
    splits: Annotated[int, typer.Option(min=1, max=100, help="Seeded splits each configuration is measured on (the probe or the retrieval; a word-similarity set has none).")] = 5,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the first split and of PCA.")] = 0,
    output: Annotated[Optional[Path], typer.Option(help="Write every configuration's row to .csv, .json or .parquet.")] = None,
    store: Annotated[Optional[Path], typer.Option(help="Also add the rows to this DuckDB results file.")] = None,
    extraction: ExtractionOptions = EXTRACTION,
    report: ReportOption = None,
    figures: FiguresOption = None,
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
        check_output_path(output)
        check_report_paths(report, figures)
        check_output_path(plot, option="--plot", suffixes=(".png", ".svg"))
        check_feature_options(features, labels=labels, features_key=features_key, feature_columns=feature_columns,
                              data=data, dataset=dataset, model=[model] if model else None)
        if not model and not features:
            raise InputError("--model is required (or --features with --labels)")
        results = open_store(store)
        specs = split_list([compressions]) if compressions else None
        progress = progress_lines(extraction)
        if features:
            from transferscope.workflows.elastic import elastic_features
            from transferscope.workflows.inputs import Dataset

            arrays, y, _ = load_features(features, labels, label_column=label_column, features_key=features_key,
                                         feature_columns=feature_columns)
            name, model, pooling = "the --features files", "features", "none"
            result = elastic_features(arrays, y, quality="retrieval" if retrieval else "probe",
                                      task=Dataset.of_features(y, task=task).task, compressions=specs,
                                      tolerance=tolerance, seed=seed, splits=splits, progress=progress)
        elif dataset is not None and is_pair_target(dataset):
            if data is not None or retrieval:
                raise InputError(f"--dataset {dataset} is a word-similarity set: no --data and no --retrieval")
            name = dataset
            result = elastic(model=model, dataset=dataset, layers=layers, pooling=pooling, extraction=extraction,
                             compressions=specs, tolerance=tolerance, seed=seed, splits=splits, progress=progress)
        else:
            target = labelled_dataset(data, dataset, text_column=text_column, label_column=label_column or "label",
                                      task=task, quiet=not extraction.progress, alternative=" (or --features with --labels)")
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
        save_result(result, output=output, report=report, figures=figures, title="Quality against bytes",
                    report_title="How small can the vectors be?", cache_dir=extraction.cache_dir,
                    settings={**result.settings, "recommended": result.answer()[0],
                              "features": [str(f) for f in features or []]},
                    model_specs=[] if features else [model])
        add_to_store(results, store, [
            {"suite": "elastic", "target": name, "model": model,
             "candidate": r["layer"] if features else f"{model} | {r['layer']} | {pooling}",
             "layer": r["layer"], "pooling": pooling, "kind": "elastic", "metric": f"{r['compression']}:{result.metric}",
             "value": r["quality"], "seed": seed,
             "settings": {**result.settings, "bytes": r["bytes"], "dim": r["dim"], "pareto": bool(r["pareto"]),
                          "tolerance": tolerance}}
            for r in result.table.to_dict("records")])
