"""``transferscope sources``: rank candidate source datasets for a target by their distance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from transferscope.cli._common import (
    add_to_store,
    handle_errors,
    labelled_dataset,
    open_store,
    print_table,
    progress_lines,
    save_result,
    show,
)
from transferscope.cli.options import EXTRACTION, OUTPUTS, OutputOptions, extraction_group, output_group
from transferscope.errors import InputError
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["sources_command"]


@extraction_group
@output_group
def sources_command(
    target: Annotated[Optional[str], typer.Option(help="The target: a built-in classification dataset (or --data).")] = None,
    data: Annotated[Optional[Path], typer.Option(help="The target as a CSV/TSV/JSONL/Parquet file with a text and a label column (instead of --target).")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="A candidate source (built-in classification dataset). Repeat for several.")] = None,
    source_data: Annotated[Optional[list[Path]], typer.Option(help="A candidate source as a file like --data (named by its stem). Repeat for several; mixes with --source.")] = None,
    text_column: Annotated[str, typer.Option(help="Column of --data and --source-data files holding the inputs.")] = "text",
    label_column: Annotated[str, typer.Option(help="Column of --data and --source-data files holding the labels.")] = "label",
    model: Annotated[Optional[str], typer.Option(help="The pretrained model whose space the distances are measured in.")] = None,
    layer: Annotated[str, typer.Option(help="Layer: 'last', a name or an index.")] = "last",
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    measure: Annotated[str, typer.Option(help="The ranking measure: otdd, mmd_linear, mmd_rbf, frechet, task2vec.")] = "otdd",
    max_samples: Annotated[Optional[int], typer.Option(min=10, help="Seeded subsample of each dataset (default 2000; 1000 with --evaluate text, the targets' subsample for the measured transfer).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the subsamples.")] = 0,
    evaluate: Annotated[Optional[str], typer.Option(help="Instead of ranking: evaluate the source rankings against measured source -> target transfer on an offline test bed: 'digits' (the digit zoo) or 'text' (MiniLM and MPNet fine-tuned on seven text tasks).")] = None,
    space: Annotated[Optional[list[str]], typer.Option(help="With --evaluate digits: a model whose space the distances are measured in. Repeat for several (default: pixels and zoo:m-random). With --evaluate text: a base model fine-tuned on every task, whose own space the distances are measured in (default: minilm and mpnet).")] = None,
    truth_seeds: Annotated[int, typer.Option(min=1, help="With --evaluate: seeds of the measured transfer (their spread enters the intervals).")] = 3,
    outputs: OutputOptions = OUTPUTS,
    store: Annotated[Optional[Path], typer.Option(help="Also add the rows to this DuckDB results file.")] = None,
    extraction: ExtractionOptions = EXTRACTION,
) -> None:
    """Which source should I transfer from? Each source's distance to the target in one model's
    space: OTDD and task2vec (labels count), MMD (linear, RBF) and the Frechet distance; nearest first.

    With --evaluate digits: does the ranking predict measured transfer? The digit zoo's models
    trained on each MNIST source task are fine-tuned on each held-out digit target, and every
    measure's ranking is scored by weighted Kendall tau with 95% intervals beside a random and a
    largest-source baseline.

    Example: transferscope sources --target sentence-polarity --source vader-polarity --source word-language --model st:./minilm

    Example: transferscope sources --data mine.csv --source-data forum.csv --source vader-polarity --model st:./minilm

    With --evaluate text: the same question on text. MiniLM and MPNet are fine-tuned on each of seven
    built-in text tasks; each target's six sources are ranked by their distance in the base model's
    space and scored against the linear-probe accuracy of the source-fine-tuned model on the target,
    beside the base model's own accuracy; the fine-tunes' fingerprints are grouped per architecture
    and compared across them.

    Example: transferscope sources --evaluate digits --output source-eval.csv

    Example: transferscope sources --evaluate text --output text-source-eval.csv
    """
    from transferscope.workflows.inputs import load_builtin
    from transferscope.workflows.sources import rank_sources

    with handle_errors():
        if evaluate is not None:
            _evaluate(evaluate, space=space, truth_seeds=truth_seeds, outputs=outputs, store=store,
                      extraction=extraction, max_samples=max_samples)
            return
        if space or truth_seeds != 3:  # options of --evaluate only: never silently ignored
            raise InputError("--space and --truth-seeds go with --evaluate (digits or text); a ranking of your "
                             "sources is measured in --model's space")
        if not (target or data) or not (source or source_data) or not model:
            raise InputError("--target (or --data), --source or --source-data (repeat for several) and --model are "
                             "required")
        results = open_store(store)
        goal = labelled_dataset(data, target, text_column=text_column, label_column=label_column, quiet=not extraction.progress,
                                options=("--data", "--target"))
        candidates = [load_builtin(s) for s in source or []] + [
            labelled_dataset(path, None, text_column=text_column, label_column=label_column, quiet=not extraction.progress,
                             options=("--source-data", "--source")) for path in source_data or []]
        target = goal.name
        ranking = rank_sources(target=goal, sources=candidates, model=model,
                               layer=layer, pooling=pooling, measure=measure, max_samples=max_samples or 2000, seed=seed,
                               extraction=extraction,
                               progress=progress_lines(extraction))
        show(ranking.views(), ranking.answer(), title=lambda heading: heading.replace("Sources,", f"Sources for {target},", 1))
        save_result(ranking, outputs, title=f"Sources for {target}",
                    report_title="Which source should I transfer from?", cache_dir=extraction.cache_dir, model_specs=[model],
                    settings={**ranking.settings, "measure": measure})
        measures = [m for m in ranking.table.columns if m not in ("source", "samples")]
        add_to_store(results, store, [
            {"suite": "sources", "target": target, "candidate": r["source"], "model": model, "layer": layer,
             "pooling": pooling, "kind": "source_distance", "metric": m, "value": r[m], "seed": seed,
             "settings": {**ranking.settings, "samples": r["samples"]}}
            for r in ranking.table.to_dict("records") for m in measures])


def _evaluate(bed: str, *, space: list[str] | None, truth_seeds: int, outputs: OutputOptions, store: Path | None,
              extraction: ExtractionOptions,
              max_samples: int | None) -> None:
    from transferscope.workflows.source_eval import evaluate_digit_sources, evaluate_text_sources

    if bed not in ("digits", "text"):
        raise InputError(f"--evaluate: the offline test beds are 'digits' and 'text', got {bed!r}")
    results = open_store(store)
    if bed == "digits":
        result = evaluate_digit_sources(spaces=space or ("pixels", "zoo:m-random"), seeds=list(range(truth_seeds)),
                                        max_samples=max_samples or 2000, extraction=extraction)
    else:
        from transferscope.workflows.source_eval import TEXT_BASES

        result = evaluate_text_sources(bases=space or TEXT_BASES, seeds=list(range(truth_seeds)),
                                       max_samples=max_samples or 1000, target_samples=max_samples or 1000,
                                       extraction=extraction, progress=progress_lines(extraction))
    show(result.views(), result.answer(), digits=4)
    if bed == "text":
        _print_text_extras(result)
    save_result(result, outputs, title="Source rankings evaluated", report_title="Do source distances predict transfer?",
                settings=result.settings)
    add_to_store(results, store, [
        {"suite": "sources-eval", "target": r["target"], "candidate": r["ranking"], "model": r["space"],
         "kind": "meta", "metric": "weighted_kendall", "value": r["tau"], "seed": 0,
         "settings": {**result.settings, "low": r["low"], "high": r["high"], "top1_hit": r["top1_hit"]}}
        for r in result.quality.to_dict("records")] + [
        _truth_row(r, result.settings) for r in result.transfer.to_dict("records")])


def _truth_row(row: dict, settings: dict) -> dict:
    """One measured source -> target transfer as a results-store row."""
    if settings.get("bed") == "text":
        return {"suite": "sources-eval", "target": row["target"], "candidate": row["source"], "model": row["model"],
                "layer": "last", "pooling": "mean", "kind": "truth", "metric": "probe_accuracy",
                "value": row["value"], "seed": int(row["seed"]),
                "settings": {"truth": settings["truth"], "finetune": settings["finetune"], "base": row["base"]}}
    return {"suite": "sources-eval", "target": row["target"], "candidate": row["source"], "model": f"zoo:{row['zoo']}",
            "layer": "penultimate", "kind": "truth", "metric": "finetune_accuracy", "value": row["value"],
            "seed": int(row["seed"]), "settings": {"truth": "fine-tuned after training on the source",
                                                   "finetune": settings["finetune"]}}


def _print_text_extras(result) -> None:
    """Intermediate training against none, and the fingerprints, for ``--evaluate text``."""
    import pandas as pd

    mean_truth = result.transfer.groupby(["base", "target", "source"])["value"].mean()
    base_truth = result.baseline.groupby(["base", "target"])["value"].mean()
    rows = []
    for (base, target), own in base_truth.items():
        sources = mean_truth.loc[(base, target)]
        rows.append({"base": base, "target": target, "no intermediate": own, "best source": sources.idxmax(),
                     "best": sources.max(), "worst source": sources.idxmin(), "worst": sources.min(),
                     "sources that help": f"{int((sources > own).sum())} of {len(sources)}"})
    print_table(pd.DataFrame(rows), digits=3, title="Probe accuracy on each target: the base model itself, and "
                                                     "after intermediate fine-tuning on the best and worst source")
    print_table(result.fingerprints, digits=3, title="Fine-tunes: fingerprint group and nearest task per "
                                                     "architecture, and where the layers drift")
    if result.agreement is not None:
        print_table(result.agreement, digits=3, title="Do the fingerprints relate the same tasks across "
                                                      "architectures? (Mantel, Spearman)")
        for row in result.agreement.to_dict("records"):
            typer.echo(f"Fingerprints {row['a']} vs {row['b']}: Mantel r {row['mantel_r']:.2f} "
                       f"(p {row['p_value']:.3f}); same nearest task for {row['same_nearest']:.0%} of the tasks")
