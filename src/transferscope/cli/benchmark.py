"""``transferscope benchmark``: run a suite, store tidy rows, print the meta-evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from transferscope.cli._common import (
    check_output_path,
    command_settings,
    err_console,
    fit_targets,
    handle_errors,
    progress_lines,
    show,
    write_reports,
)
from transferscope.cli.options import EXTRACTION, OUTPUTS, OutputOptions, extraction_group, output_group
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["benchmark_command"]


@extraction_group(exclude=("use_cache",))
@output_group(exclude=("output",))
def benchmark_command(
    suite: Annotated[str, typer.Argument(help="A built-in suite (text) or a suite YAML file.")],
    store: Annotated[Path, typer.Option(help="DuckDB results file (created; reruns skip finished cells).")] = Path("transferscope-results.duckdb"),
    output: Annotated[Optional[Path], typer.Option(help="Write the aggregate table to .csv, .json or .parquet.")] = None,
    export: Annotated[Optional[Path], typer.Option(help="Export every stored row of the suite to .parquet, .csv or .json.")] = None,
    max_samples: Annotated[Optional[int], typer.Option(min=0, help="Override the suite's subsample size per target (0: every sample).")] = None,
    extraction: ExtractionOptions = EXTRACTION,
    method: Annotated[str, typer.Option(help="Meta-evaluation shown: weighted_kendall, kendall, regret@1, top1.")] = "weighted_kendall",
    backend: Annotated[str, typer.Option(help="local (joblib processes) or ray (RAY_ADDRESS, else a local Ray).")] = "local",
    outputs: OutputOptions = OUTPUTS,
) -> None:
    """Run a benchmark suite: estimators and measured transfer for every candidate x target.

    Example: transferscope benchmark text --store results.duckdb --output aggregate.csv
    """
    import dataclasses

    from transferscope.errors import InputError
    from transferscope.workflows.benchmark import META_METHODS, aggregate_table, interval_display, run_benchmark
    from transferscope.workflows.storage.results import write_table
    from transferscope.workflows.storage.store import ResultStore
    from transferscope.workflows.suite import load_suite

    with handle_errors():
        check_output_path(output)
        check_output_path(export, option="--export")
        if method not in META_METHODS:
            raise InputError(f"--method must be one of {', '.join(META_METHODS)}, got '{method}'")
        spec = load_suite(suite)
        if max_samples is not None:
            if 0 < max_samples < 20:
                raise InputError(f"--max-samples must be 0 (every sample) or at least 20, got {max_samples}")
            spec = dataclasses.replace(spec, max_samples=max_samples or None)
        if backend not in ("local", "ray"):
            raise InputError(f"--backend must be local or ray, got '{backend}'")
        # Held (and locked) for the whole run: a second run on the same store is told at once.
        with ResultStore(store) as results:
            result = run_benchmark(spec, store=results, cache_dir=extraction.cache_dir,
                                   backend=backend, extraction=extraction,
                                   progress=progress_lines(extraction))
            table = aggregate_table(result.meta, method)
            err_console.print(f"{result.computed_cells} cell(s) computed, {result.skipped_cells} already stored "
                              f"in {results.path}", highlight=False)
            truths = sorted({str(s["truth"]) for s in result.meta["settings"]}) if not result.meta.empty else []
            shown = interval_display(result.meta, method)
            shown = fit_targets(shown, [c for c in shown.columns if c not in ("estimator", "mean")], output=output,
                                quiet=not extraction.progress)
            if extraction.progress:
                err_console.print("prior:static = the suite's prior per model, prior:history = each candidate's record "
                                  "on the other targets, combined = all of them weighted as fitted on the other "
                                  "targets", highlight=False)
            show([(f"{spec.name}: {method} against the ground truth ({spec.probe}"
                   f"{': ' + ', '.join(truths) if truths else ''}), 95% intervals", shown)], result.answer())
            if output is not None:
                write_table(table, output)
            if export is not None:
                results.export(export)
            if outputs.any:  # the report draws the suite's stored rows (`transferscope report STORE` again)
                from transferscope.report import benchmark_results

                settings = command_settings(suite=spec.name, probe=spec.probe, targets=list(spec.targets),
                                            seeds=list(spec.seeds), max_samples=spec.max_samples,
                                            answer=result.answer())
                part = benchmark_results(results.table(suite=spec.name), suite=spec.name, settings=settings)
                write_reports(outputs.report, outputs.figures, [part], title=part.report_title, inputs=[str(store)])
