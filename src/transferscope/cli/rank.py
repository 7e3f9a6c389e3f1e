"""``transferscope rank``: score and rank candidate representations on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

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
from transferscope.errors import InputError
from transferscope.workflows.data_source import DataSource
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["rank_command"]


@extraction_group
@output_group
@source_group()
def rank_command(
    source: DataSource = SOURCE,
    model: Annotated[Optional[list[str]], typer.Option(help="Model directory or hub id; hf:/st:/random: prefixes; 'tfidf'. Repeat for several.")] = None,
    layers: Annotated[str, typer.Option(help="'all', 'last', 'natural' (each model's own output: a sentence embedding, an image model's penultimate), 'mean' (the mean of a transformer's blocks), or comma-separated names/indices.")] = "all",
    pooling: Annotated[str, typer.Option(help="Comma-separated token poolings: mean, cls, max, last.")] = "mean",
    metric: Annotated[str, typer.Option(help="Comma-separated estimators; the table is sorted by the first.")] = "logme,hscore,knn",
    source_probs: Annotated[Optional[list[Path]], typer.Option(help="Source-classifier probabilities for each --features file, in the same order (for leep, nce, ...).")] = None,
    probe: Annotated[bool, typer.Option(help="Also measure the ground truth (see --probe-protocol).")] = False,
    probe_protocol: ProbeProtocolOption = "linear_cv",
    predict: Annotated[bool, typer.Option(help="Also predict what the linear_cv probe would reach, from probes on subsamples, with a calibrated interval (see --predict-level).")] = False,
    predict_level: Annotated[float, typer.Option(help="Coverage of the --predict interval: 0.8, 0.9 or 0.95.")] = 0.8,
    prior: Annotated[Optional[list[str]], typer.Option(help="What is known before the target: 'params' (parameter count), 'width', a results store (.duckdb: each candidate's record on its targets, which also fits the combination) or a model,value table. Adds prior and 'combined' columns and orders by 'combined'. Repeat for several.")] = None,
    outputs: OutputOptions = OUTPUTS,
    extraction: ExtractionOptions = EXTRACTION,
    seed: Annotated[int, typer.Option(min=0, help="Seed of random baselines and splits.")] = 0,
) -> None:
    """Rank candidate representations (model x layer x pooling, or feature files) for a dataset.

    Examples:

      transferscope rank --data reviews.csv --model ./my-encoder --layers all --metric logme,knn

      transferscope rank --features a.npy --features b.npy --labels y.npy --output ranking.csv

      transferscope rank --dataset vader-polarity --model tfidf --model hashing --predict --probe

      transferscope rank --dataset sentence-polarity --model minilm --model mpnet --model glove --layers natural --prior results.duckdb
    """
    from transferscope.workflows.rank import PREDICTION_LEVELS, rank

    with handle_errors():
        if predict_level not in PREDICTION_LEVELS:
            raise InputError(f"--predict-level must be one of {', '.join(map(str, PREDICTION_LEVELS))}, "
                             f"got {predict_level:g}")
        if source_probs and not source.features:
            raise InputError("--source-probs goes with --features (one file per features file)")
        level = predict_level if predict else False
        models = split_list(model)
        source.check_models(models)
        if source.features:
            arrays, y, probs = source.read_features(source_probs=source_probs)
            ranking = rank(features=arrays, labels=y, source_probs=probs or None, task=source.task, metrics=metric,
                           probe=probe and probe_protocol, predict=level, seed=seed, prior=prior)
        else:
            ds = read_source(source, quiet=not extraction.progress, alternative=" (or --features with --labels)")
            ranking = rank(dataset=ds, models=models, layers=layers, poolings=pooling, metrics=metric, task=source.task,
                           probe=probe and probe_protocol, predict=level, seed=seed, extraction=extraction, prior=prior)
        for note in ranking.warnings:
            err_console.print(f"[yellow]Warning:[/] {escape(note)}", highlight=False)
        # On screen: short model names; --output keeps the full specs (candidate, model, layer, pooling).
        answer = ranking.answer(ranking.short_names())
        show(ranking.views(), answer)
        save_result(ranking, outputs, title="Ranking", report_title="Which representation transfers best?",
                    cache_dir=extraction.cache_dir, model_specs=model,
                    answer=[*answer, *(f"Note: {w}" for w in ranking.warnings)],
                    settings={"dataset": source.dataset or (str(source.data) if source.data else None),
                              "models": model, "features": [str(f) for f in source.features or []],
                              "layers": layers, "pooling": pooling, "metrics": metric,
                              "probe": probe and probe_protocol, "predict": level, "seed": seed,
                              "warnings": list(ranking.warnings), "prior": prior,
                              "prior_notes": list(ranking.prior_notes)})
