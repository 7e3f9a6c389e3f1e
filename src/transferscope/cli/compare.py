"""``transferscope compare``: similarity matrix between models or between layers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from transferscope.cli._common import (
    FiguresOption,
    ReportOption,
    check_output_path,
    check_report_paths,
    err_console,
    feature_names,
    handle_errors,
    save_result,
    show,
    split_list,
)
from transferscope.cli.options import EXTRACTION, extraction_group
from transferscope.errors import InputError
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["compare_command"]


@extraction_group
def compare_command(
    data: Annotated[Optional[Path], typer.Option(help="CSV/TSV/JSONL/Parquet file with a text column (labels not needed).")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="A built-in dataset (see `transferscope datasets`).")] = None,
    text_column: Annotated[str, typer.Option(help="Column of --data holding the inputs.")] = "text",
    model: Annotated[Optional[list[str]], typer.Option(help="Model spec (as for `rank`). Repeat for several.")] = None,
    layers: Annotated[str, typer.Option(help="'last' (model x model), 'all' (layer x layer), or names/indices.")] = "last",
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    features: Annotated[Optional[list[Path]], typer.Option(help="Precomputed embeddings of the same inputs (.npy, .npz, .parquet, .csv). Repeat.")] = None,
    features_key: Annotated[Optional[str], typer.Option(help="The array of each .npz --features file (or list column of a Parquet one) holding the features.")] = None,
    feature_columns: Annotated[Optional[str], typer.Option(help="Comma-separated feature columns of CSV/Parquet --features files: names or patterns such as 'f*'.")] = None,
    measure: Annotated[str, typer.Option(help="A similarity measure (see `transferscope metrics similarity`).")] = "cka",
    output: Annotated[Optional[Path], typer.Option(help="Write the pairs (long form) to .csv, .json or .parquet.")] = None,
    heatmap: Annotated[Optional[Path], typer.Option(help="Write a heatmap to .png, .svg or .pdf.")] = None,
    max_samples: Annotated[Optional[int], typer.Option(min=2, help="Use a seeded random subset of this many inputs.")] = None,
    permutations: Annotated[int, typer.Option(min=0, max=100_000, help="Permutation test per pair (at most 100,000): adds p_value and null_mean (chance level) to --output.")] = 0,
    extraction: ExtractionOptions = EXTRACTION,
    seed: Annotated[int, typer.Option(min=0, help="Seed of random baselines and subsets.")] = 0,
    report: ReportOption = None,
    figures: FiguresOption = None,
) -> None:
    """Similarity between models (model x model) or layers (layer x layer) on the same inputs.

    Examples:

      transferscope compare --dataset sentence-polarity --model ./encoder --layers all --measure cka --heatmap cka.png

      transferscope compare --dataset vader-polarity --model ./a --model ./b --layers all --measure mutual_knn
    """
    from transferscope.workflows.compare import check_measure, compare, write_heatmap

    with handle_errors():
        check_output_path(output)
        check_report_paths(report, figures)
        check_output_path(heatmap, option="--heatmap", suffixes=(".png", ".svg", ".pdf"))
        check_measure(measure)
        if features:
            extraction = extraction.without_cache()
        if not features and (features_key or feature_columns):
            raise InputError("--features-key and --feature-columns go with --features")
        if features:
            if data or dataset or model:
                raise InputError("--features cannot be combined with --data, --dataset or --model")
            result = compare(features=_feature_arrays(features, features_key, feature_columns, max_samples, seed),
                             measure=measure, n_permutations=permutations, seed=seed)
        else:
            inputs = _inputs(data, dataset, model, text_column, max_samples, seed)
            if extraction.progress:
                err_console.print(f"{len(inputs)} inputs; measure {measure}", highlight=False)
            result = compare(inputs=inputs, models=split_list(model), layers=layers, pooling=pooling, measure=measure,
                             n_permutations=permutations, seed=seed, extraction=extraction)
        if "p_value" in result.pairs:
            worst = result.pairs["p_value"].max()
            err_console.print(f"permutation test ({permutations} permutations): largest p-value {worst:.3g}; "
                              f"chance level of {result.measure} here {result.pairs['null_mean'].mean():.3g} on average",
                              highlight=False)
        show(result.views(), result.answer())
        save_result(result, output=output, report=report, figures=figures,
                    title=f"{result.measure} ({result.measure_kind})",
                    report_title="How similar are these representations?", cache_dir=extraction.cache_dir,
                    model_specs=split_list(model), settings={"measure": result.measure, "seed": seed})
        if heatmap is not None:
            err_console.print(f"wrote {write_heatmap(result, heatmap)}")


def _feature_arrays(features: list[Path], features_key: str | None, feature_columns: str | None,
                    max_samples: int | None, seed: int) -> dict[str, Any]:
    """The ``--features`` files by name, one seeded subset of rows for all (when they have equal rows;
    unequal row counts are left for compare() to reject)."""
    from transferscope.workflows.inputs import load_feature_file

    columns = split_list([feature_columns]) if feature_columns else None
    arrays = {name: load_feature_file(path, column=features_key, columns=columns)
              for name, path in zip(feature_names(features), features)}
    sizes = {a.shape[0] for a in arrays.values()}
    if len(sizes) == 1:
        rows = _subset(sizes.pop(), max_samples, seed)
        arrays = {k: v[rows] for k, v in arrays.items()}
    return arrays


def _inputs(data: Path | None, dataset: str | None, model: list[str] | None, text_column: str,
            max_samples: int | None, seed: int) -> list[Any]:
    """The inputs of ``--data`` or ``--dataset`` (exactly one), a seeded subset of ``max_samples``."""
    if (data is None) == (dataset is None):
        raise InputError("give exactly one of --data FILE or --dataset NAME (or --features)")
    if not split_list(model):
        raise InputError("--model is required with --data/--dataset")
    if data is not None:
        from transferscope.workflows.inputs import load_texts

        inputs = load_texts(data, text_column=text_column)
    else:
        from transferscope.workflows.inputs import load_builtin

        inputs = list(load_builtin(dataset).inputs)
    return [inputs[i] for i in _subset(len(inputs), max_samples, seed)]


def _subset(n: int, max_samples: int | None, seed: int) -> list[int]:
    """Sorted indices of a seeded random subset of ``max_samples`` of ``n`` rows (all without a cap)."""
    import numpy as np

    if max_samples is None or max_samples >= n:
        return list(range(n))
    return sorted(np.random.default_rng(seed).permutation(n)[:max_samples].tolist())
