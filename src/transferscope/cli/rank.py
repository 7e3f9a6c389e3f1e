"""``transferscope rank``: score and rank candidate representations on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from transferscope.cli._common import (
    FeatureColumnsOption,
    FeaturesKeyOption,
    FeaturesOption,
    FiguresOption,
    LabelsOption,
    ProbeProtocolOption,
    ReportOption,
    check_feature_options,
    check_output_path,
    check_report_paths,
    err_console,
    handle_errors,
    labelled_dataset,
    load_features,
    save_result,
    show,
    split_list,
)
from transferscope.cli.options import EXTRACTION, extraction_group
from transferscope.errors import InputError
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["rank_command"]


@extraction_group
def rank_command(
    data: Annotated[Optional[Path], typer.Option(help="CSV/TSV/JSONL/Parquet file with a text and a label column.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="A built-in dataset (see `transferscope datasets`).")] = None,
    text_column: Annotated[str, typer.Option(help="Column of --data holding the inputs.")] = "text",
    label_column: Annotated[Optional[str], typer.Option(help="Column of --data holding the labels (default: label); with --labels, the column or .npz array of the labels file.")] = None,
    task: Annotated[Optional[str], typer.Option(help="classification or regression (inferred when omitted).")] = None,
    model: Annotated[Optional[list[str]], typer.Option(help="Model directory or hub id; hf:/st:/random: prefixes; 'tfidf'. Repeat for several.")] = None,
    layers: Annotated[str, typer.Option(help="'all', 'last', 'natural' (each model's own output: a sentence embedding, an image model's penultimate), 'mean' (the mean of a transformer's blocks), or comma-separated names/indices.")] = "all",
    pooling: Annotated[str, typer.Option(help="Comma-separated token poolings: mean, cls, max, last.")] = "mean",
    metric: Annotated[str, typer.Option(help="Comma-separated estimators; the table is sorted by the first.")] = "logme,hscore,knn",
    features: FeaturesOption = None,
    features_key: FeaturesKeyOption = None,
    feature_columns: FeatureColumnsOption = None,
    labels: LabelsOption = None,
    source_probs: Annotated[Optional[list[Path]], typer.Option(help="Source-classifier probabilities for each --features file, in the same order (for leep, nce, ...).")] = None,
    probe: Annotated[bool, typer.Option(help="Also measure the ground truth (see --probe-protocol).")] = False,
    probe_protocol: ProbeProtocolOption = "linear_cv",
    predict: Annotated[bool, typer.Option(help="Also predict what the linear_cv probe would reach, from probes on subsamples, with a calibrated interval (see --predict-level).")] = False,
    predict_level: Annotated[float, typer.Option(help="Coverage of the --predict interval: 0.8, 0.9 or 0.95.")] = 0.8,
    prior: Annotated[Optional[list[str]], typer.Option(help="What is known before the target: 'params' (parameter count), 'width', a results store (.duckdb: each candidate's record on its targets, which also fits the combination) or a model,value table. Adds prior and 'combined' columns and orders by 'combined'. Repeat for several.")] = None,
    output: Annotated[Optional[Path], typer.Option(help="Write the table to .csv, .json or .parquet.")] = None,
    extraction: ExtractionOptions = EXTRACTION,
    seed: Annotated[int, typer.Option(min=0, help="Seed of random baselines and splits.")] = 0,
    report: ReportOption = None,
    figures: FiguresOption = None,
) -> None:
    """Rank candidate representations (model x layer x pooling, or feature files) for a dataset.

    Examples:

      transferscope rank --data reviews.csv --model ./my-encoder --layers all --metric logme,knn

      transferscope rank --features a.npy --features b.npy --labels y.npy --output ranking.csv

      transferscope rank --dataset vader-polarity --model tfidf --model hashing --predict --probe

      transferscope rank --dataset sentence-polarity --model minilm --model mpnet --model glove --layers natural --prior results.duckdb
    """
    from transferscope.workflows.rank import PREDICTION_LEVELS

    with handle_errors():
        check_output_path(output)
        check_report_paths(report, figures)
        if task is not None and task not in ("classification", "regression"):
            raise InputError(f"--task must be classification or regression, got '{task}'")
        if predict_level not in PREDICTION_LEVELS:
            raise InputError(f"--predict-level must be one of {', '.join(map(str, PREDICTION_LEVELS))}, "
                             f"got {predict_level:g}")
        level = predict_level if predict else False
        if features:
            extraction = extraction.without_cache()
        check_feature_options(features, labels=labels, features_key=features_key, feature_columns=feature_columns,
                              data=data, dataset=dataset, model=model)
        if features:
            from transferscope.workflows.rank import rank

            arrays, y, probs = load_features(features, labels, label_column=label_column, features_key=features_key,
                                             feature_columns=feature_columns, source_probs=source_probs)
            ranking = rank(features=arrays, labels=y, source_probs=probs or None, task=task, metrics=metric,
                           probe=probe and probe_protocol, predict=level, seed=seed, prior=prior)
        else:
            ranking = _rank_models(data, dataset, text_column, label_column or "label", task, split_list(model),
                                   layers, pooling, metric, probe and probe_protocol, level, seed, extraction, prior)
        for note in ranking.warnings:
            err_console.print(f"[yellow]Warning:[/] {escape(note)}", highlight=False)
        # On screen: short model names; --output keeps the full specs (candidate, model, layer, pooling).
        answer = ranking.answer(ranking.short_names())
        show(ranking.views(), answer)
        save_result(ranking, output=output, report=report, figures=figures, title="Ranking",
                    report_title="Which representation transfers best?", cache_dir=extraction.cache_dir, model_specs=model,
                    answer=[*answer, *(f"Note: {w}" for w in ranking.warnings)],
                    settings={"dataset": dataset or (str(data) if data else None), "models": model,
                              "features": [str(f) for f in features or []], "layers": layers, "pooling": pooling,
                              "metrics": metric, "probe": probe and probe_protocol, "predict": level, "seed": seed,
                              "warnings": list(ranking.warnings), "prior": prior,
                              "prior_notes": list(ranking.prior_notes)})


def _rank_models(data, dataset, text_column, label_column, task, models, layers, pooling, metric,  # type: ignore[no-untyped-def]
                 probe, predict, seed, extraction, prior=None):
    from transferscope.workflows.rank import rank

    ds = labelled_dataset(data, dataset, text_column=text_column, label_column=label_column, task=task,
                          quiet=not extraction.progress, alternative=" (or --features with --labels)")
    if not models:
        raise InputError("--model is required with --data/--dataset")
    return rank(dataset=ds, models=models, layers=layers, poolings=pooling, metrics=metric,
                task=task, probe=probe, predict=predict, seed=seed, extraction=extraction, prior=prior)
