"""``transferscope select``: a budgeted choice of representation, with its measured accuracy."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from transferscope.cli._common import (
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

__all__ = ["select_command"]


@extraction_group
@output_group
@source_group()
def select_command(
    model: Annotated[Optional[list[str]], typer.Option(help="Model spec (as for `rank`). Repeat for several.")] = None,
    source: DataSource = SOURCE,
    layers: Annotated[str, typer.Option(help="'all', 'last', or comma-separated names/indices.")] = "all",
    pooling: Annotated[str, typer.Option(help="Comma-separated token poolings: mean, cls, max, last.")] = "mean",
    metric: Annotated[str, typer.Option(help="Comma-separated cheap estimators that order the candidates.")] = "logme,knn",
    budget: Annotated[Optional[str], typer.Option(help="Probing budget: a duration (90s, 10m, 1h) or a number of probe fits; no limit when omitted.")] = None,
    finetune: Annotated[int, typer.Option(min=0, help="Fine-tune the models of this many of the best probed candidates on the first split (their test scores beside the probe's).")] = 0,
    prior: Annotated[Optional[list[str]], typer.Option(help="As for rank: 'params', 'width', 'mteb', 'sbert', 'imagenet', a results store (.duckdb) or a model,value table; the candidates are probed in the order of the priors and the estimators combined. Repeat for several.")] = None,
    outputs: OutputOptions = OUTPUTS,
    extraction: ExtractionOptions = EXTRACTION,
    seed: Annotated[int, typer.Option(min=0, help="Seed of random baselines and the probe splits.")] = 0,
) -> None:
    """Choose a representation within a budget: estimators on every candidate, then probes on the
    promising ones (successive halving), and the pick with its accuracy and a 95% interval.

    Example: transferscope select --dataset vader-polarity --model st:./minilm --model tfidf --budget 2m

    Example: transferscope select --features a.npy --features b.npy --labels y.npy --budget 20
    """
    from transferscope.workflows.select import parse_budget, select
    from transferscope.workflows.storage.names import short_candidates, short_names

    with handle_errors():
        limit = parse_budget(budget, name="--budget")
        models = split_list(model)
        source.check_models(models)
        if source.features:
            arrays, y, _ = source.read_features()
            inputs = {"features": arrays, "labels": y, "task": source.task}
            target = "the --features files"
        else:
            ds = read_source(source, quiet=not extraction.progress, alternative=" (or --features with --labels)")
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
        save_result(choice, outputs, title="Selection",
                    report_title="A budgeted pick", answer=choice.answer(names), cache_dir=extraction.cache_dir, model_specs=model,
                    settings={"pick": names.get(choice.pick, choice.pick), "metric": choice.metric,
                              "accuracy": choice.accuracy, "low": choice.low, "high": choice.high,
                              "p_other_better": choice.p_other_better, "fits": choice.fits,
                              "exhaustive_fits": choice.exhaustive_fits, "seed": seed,
                              "features": [str(f) for f in source.features or []]})
