"""``transferscope compare``: similarity matrix between models or between layers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from transferscope.cli._common import (
    check_output_path,
    err_console,
    handle_errors,
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

__all__ = ["compare_command"]


@extraction_group
@output_group
@source_group(include=('data', 'dataset', 'text_column', 'features', 'features_key', 'feature_columns'))
def compare_command(
    source: DataSource = SOURCE,
    model: Annotated[Optional[list[str]], typer.Option(help="Model spec (as for `rank`). Repeat for several.")] = None,
    layers: Annotated[str, typer.Option(help="'last' (model x model), 'all' (layer x layer), or names/indices.")] = "last",
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    measure: Annotated[str, typer.Option(help="A similarity measure (see `transferscope metrics similarity`).")] = "cka",
    outputs: OutputOptions = OUTPUTS,
    heatmap: Annotated[Optional[Path], typer.Option(help="Write a heatmap to .png, .svg or .pdf.")] = None,
    max_samples: Annotated[Optional[int], typer.Option(min=2, help="Use a seeded random subset of this many inputs.")] = None,
    permutations: Annotated[int, typer.Option(min=0, max=100_000, help="Permutation test per pair (at most 100,000): adds p_value and null_mean (chance level) to --output.")] = 0,
    extraction: ExtractionOptions = EXTRACTION,
    seed: Annotated[int, typer.Option(min=0, help="Seed of random baselines and subsets.")] = 0,
) -> None:
    """Similarity between models (model x model) or layers (layer x layer) on the same inputs.

    Examples:

      transferscope compare --dataset sentence-polarity --model ./encoder --layers all --measure cka --heatmap cka.png

      transferscope compare --dataset vader-polarity --model ./a --model ./b --layers all --measure mutual_knn
    """
    from transferscope.workflows.compare import check_measure, compare, write_heatmap

    with handle_errors():
        check_output_path(heatmap, option="--heatmap", suffixes=(".png", ".svg", ".pdf"))
        check_measure(measure)
        models = split_list(model)
        source.check_models(models)
        if source.features:
            arrays, _, _ = source.read_features(labelled=False)
            rows = _subset(min(a.shape[0] for a in arrays.values()), max_samples, seed)
            if len({a.shape[0] for a in arrays.values()}) == 1:  # unequal row counts are left for compare() to refuse
                arrays = {k: v[rows] for k, v in arrays.items()}
            result = compare(features=arrays, measure=measure, n_permutations=permutations, seed=seed)
        else:
            inputs = source.read_inputs(alternative=" (or --features)")
            inputs = [inputs[i] for i in _subset(len(inputs), max_samples, seed)]
            if extraction.progress:
                err_console.print(f"{len(inputs)} inputs; measure {measure}", highlight=False)
            result = compare(inputs=inputs, models=models, layers=layers, pooling=pooling, measure=measure,
                             n_permutations=permutations, seed=seed, extraction=extraction)
        if "p_value" in result.pairs:
            worst = result.pairs["p_value"].max()
            err_console.print(f"permutation test ({permutations} permutations): largest p-value {worst:.3g}; "
                              f"chance level of {result.measure} here {result.pairs['null_mean'].mean():.3g} on average",
                              highlight=False)
        show(result.views(), result.answer())
        save_result(result, outputs, title=f"{result.measure} ({result.measure_kind})",
                    report_title="How similar are these representations?", cache_dir=extraction.cache_dir,
                    model_specs=split_list(model), settings={"measure": result.measure, "seed": seed})
        if heatmap is not None:
            err_console.print(f"wrote {write_heatmap(result, heatmap)}")


def _subset(n: int, max_samples: int | None, seed: int) -> list[int]:
    """Sorted indices of a seeded random subset of ``max_samples`` of ``n`` rows (all without a cap)."""
    import numpy as np

    if max_samples is None or max_samples >= n:
        return list(range(n))
    return sorted(np.random.default_rng(seed).permutation(n)[:max_samples].tolist())
