"""``transferscope drift``: what fine-tuning changed, layer by layer, and which models changed alike."""

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

__all__ = ["drift_command"]


@extraction_group
@output_group
@source_group(include=('data', 'dataset', 'text_column', 'label_column'))
def drift_command(
    base: Annotated[Optional[str], typer.Option(help="The base model (a model spec, as for `rank`).")] = None,
    tuned: Annotated[Optional[list[str]], typer.Option(help="A fine-tuned version of the base. Repeat for several.")] = None,
    source: DataSource = SOURCE,
    layers: Annotated[str, typer.Option(help="'all', 'last', or comma-separated names/indices.")] = "all",
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    max_samples: Annotated[int, typer.Option(min=10, help="Seeded subsample of the inputs the per-layer measures use.")] = 2000,
    fingerprint: Annotated[bool, typer.Option("--fingerprint/--no-fingerprint", help="Delta-activation fingerprints on the generic inputs, their distances and groups.")] = True,
    groups: Annotated[Optional[int], typer.Option(min=1, help="Number of fingerprint groups (default: chosen by the silhouette).")] = None,
    null: Annotated[Optional[list[str]], typer.Option(help="Compare each change with a re-seeded twin of the fine-tune: 'reseed' (each finetuned:TARGET:BASE trained again with the next seed), or one model spec per --tuned, in order.")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the subsample.")] = 0,
    plot: Annotated[Optional[Path], typer.Option(help="Write the per-layer drift curves (.png or .svg).")] = None,
    outputs: OutputOptions = OUTPUTS,
    store: Annotated[Optional[Path], typer.Option(help="Also add the rows to this DuckDB results file.")] = None,
    extraction: ExtractionOptions = EXTRACTION,
) -> None:
    """What did fine-tuning change? Per layer: CKA (linear, debiased), Procrustes and shape
    distances, mutual k-NN overlap, RankMe and anisotropy change; where the change starts and
    peaks; delta-activation fingerprints grouping the fine-tuned models.

    Example: transferscope drift --base st:./minilm --tuned ./minilm-sst2 --tuned ./minilm-nli --dataset sentence-polarity
    """
    from transferscope.workflows.drift import drift
    from transferscope.workflows.storage.names import short_names

    with handle_errors():
        check_output_path(plot, option="--plot", suffixes=(".png", ".svg"))
        if not base or not tuned:
            raise InputError("--base and --tuned are required (repeat --tuned for several models)")
        if null and null != ["reseed"] and len(null) != len(tuned):
            raise InputError(f"--null takes 'reseed' once, or one re-seeded twin per --tuned ({len(tuned)}), "
                             f"got {len(null)}")
        twins = None if not null else "reseed" if null == ["reseed"] else dict(zip(tuned, null))
        results = open_store(store)
        ds = read_source(source, quiet=not extraction.progress)
        result = drift(base=base, tuned=tuned, dataset=ds, layers=layers, pooling=pooling, max_samples=max_samples,
                       seed=seed, fingerprint=fingerprint, n_groups=groups, null=twins, extraction=extraction,
                       progress=progress_lines(extraction))
        models = [base, *tuned, *(result.settings["null"] or {}).values()]
        short = short_names(models)
        err_console.print(f"Drift from {short[base]} on {ds.name} ({result.settings['samples']} inputs); every measure "
                          "per layer is in --output and the report", highlight=False)
        if plot is not None:
            err_console.print(f"wrote {result.plot(plot)}")
        show(result.views(short), result.answer(short))
        save_result(result, outputs, title="Drift from the base",
                    report_title="What did fine-tuning change?", answer=result.answer(short), cache_dir=extraction.cache_dir,
                    settings={k: v for k, v in result.settings.items() if k != "notes"}, model_specs=models)
        measures = [c for c in result.table.columns if c not in ("tuned", "layer")]
        add_to_store(results, store, [
            {"suite": "drift", "target": ds.name, "candidate": f"{r['tuned']} | {r['layer']}", "model": r["tuned"],
             "layer": r["layer"], "pooling": pooling, "kind": "drift", "metric": m, "value": r[m], "seed": seed,
             "settings": result.settings}
            for r in result.table.to_dict("records") for m in measures])
