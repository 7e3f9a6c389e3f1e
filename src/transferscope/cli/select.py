"""``transferscope select``: a budgeted choice of representation, with its measured accuracy."""

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

__all__ = ["select_command"]


@extraction_group
def select_command(
    model: Annotated[Optional[list[str]], typer.Option(help="Model spec (as for `rank`). Repeat for several.")] = None,
    data: Annotated[Optional[Path], typer.Option(help="CSV/TSV/JSONL/Parquet file with a text and a label column.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="A built-in dataset (see `transferscope datasets`).")] = None,
    text_column: Annotated[str, typer.Option(help="Column of --data holding the inputs.")] = "text",
    label_column: Annotated[Optional[str], typer.Option(help="Column of --data holding the labels (default: label); with --labels, the column or .npz array of the labels file.")] = None,
    features: FeaturesOption = None,
    features_key: FeaturesKeyOption = None,
    feature_columns: FeatureColumnsOption = None,
    labels: LabelsOption = None,
    task: Annotated[Optional[str], typer.Option(help="classification or regression (inferred when omitted).")] = None,
    layers: Annotated[str, typer.Option(help="'all', 'last', or comma-separated names/indices.")] = "all",
    pooling: Annotated[str, typer.Option(help="Comma-separated token poolings: mean, cls, max, last.")] = "mean",
    metric: Annotated[str, typer.Option(help="Comma-separated cheap estimators that order the candidates.")] = "logme,knn",
    budget: Annotated[Optional[str], typer.Option(help="Probing budget: a duration (90s, 10m, 1h) or a number of probe fits; no limit when omitted.")] = None,
    finetune: Annotated[int, typer.Option(min=0, help="Fine-tune the models of this many of the best probed candidates on the first split (their test scores beside the probe's).")] = 0,
    prior: Annotated[Optional[list[str]], typer.Option(help="As for rank: 'params', 'width', 'mteb', 'sbert', 'imagenet', a results store (.duckdb) or a model,value table; the candidates are probed in the order of the priors and the estimators combined. Repeat for several.")] = None,
    output: Annotated[Optional[Path], typer.Option(help="Write every candidate's row to .csv, .json or .parquet.")] = None,
    extraction: ExtractionOptions = EXTRACTION,
    seed: Annotated[int, typer.Option(min=0, help="Seed of random baselines and the probe splits.")] = 0,
    report: ReportOption = None,
    figures: FiguresOption = None,
) -> None:
    """Choose a representation within a budget: estimators on every candidate, then probes on the
    promising ones (successive halving), and the pick with its accuracy and a 95% interval.

    Example: transferscope select --dataset vader-polarity --model st:./minilm --model tfidf --budget 2m

    Example: transferscope select --features a.npy --features b.npy --labels y.npy --budget 20
    """
    from transferscope.workflows.select import parse_budget, select
    from transferscope.workflows.storage.names import short_candidates, short_names

    with handle_errors():
        check_output_path(output)
        check_report_paths(report, figures)
        if task is not None and task not in ("classification", "regression"):
            raise InputError(f"--task must be classification or regression, got '{task}'")
        limit = parse_budget(budget, name="--budget")
        check_feature_options(features, labels=labels, features_key=features_key, feature_columns=feature_columns,
                              data=data, dataset=dataset, model=model)
        models = split_list(model)
        if features:
            extraction = extraction.without_cache()
        if features:
            arrays, y, _ = load_features(features, labels, label_column=label_column, features_key=features_key,
                                         feature_columns=feature_columns)
            inputs = {"features": arrays, "labels": y, "task": task}
            target = "the --features files"
        else:
            if not models:
                raise InputError("--model is required (repeat it for several models), or --features with --labels")
            ds = labelled_dataset(data, dataset, text_column=text_column, label_column=label_column or "label",
                                  task=task, quiet=not extraction.progress, alternative=" (or --features with --labels)")
            inputs, target = {"dataset": ds, "models": models}, ds.name
        choice = select(**inputs, layers=layers, poolings=pooling, metrics=split_list([metric]),
                        budget=limit, seed=seed, extraction=extraction, finetune=finetune, prior=prior)
        for line in choice.log:
            if line.startswith("prior: "):  # what the prior and the estimates did: part of the answer
                typer.echo(f"Prior: {line.removeprefix('prior: ')}")
            elif extraction.progress:
                err_console.print(line, highlight=False)
        # On screen: short model names; --output keeps the full specs (candidate, model, layer, pooling).
        short = dict(zip(choice.table["candidate"], short_candidates(choice.table)))
        names = {**short, **short_names(list(choice.table["model"]))}
        show(choice.views(short), choice.answer(names),
             title=lambda heading: f"{heading}, on {target} (--output keeps every column)")
        save_result(choice, output=output, report=report, figures=figures, title="Selection",
                    report_title="A budgeted pick", answer=choice.answer(names), cache_dir=extraction.cache_dir, model_specs=model,
                    settings={"pick": names.get(choice.pick, choice.pick), "metric": choice.metric,
                              "accuracy": choice.accuracy, "low": choice.low, "high": choice.high,
                              "p_other_better": choice.p_other_better, "fits": choice.fits,
                              "exhaustive_fits": choice.exhaustive_fits, "seed": seed,
                              "features": [str(f) for f in features or []]})
