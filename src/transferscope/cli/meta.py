"""``transferscope meta``: meta-evaluate any table of estimator scores against measured transfer."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from transferscope.cli._common import (
    fit_targets,
    handle_errors,
    save_result,
    show,
)
from transferscope.cli.options import OUTPUTS, OutputOptions, QuietOption, output_group

__all__ = ["meta_command"]


@output_group
def meta_command(
    table: Annotated[str, typer.Argument(help="A tidy table (CSV, Parquet, JSONL) with columns target, candidate, "
                                              "metric, value; a results store (.duckdb); or a published table "
                                              "(published:tllib-10x8, published:sfda-11x11).")],
    truth: Annotated[str, typer.Option(help="The metric holding the measured transfer (higher is better).")] = "truth",
    prior: Annotated[Optional[list[str]], typer.Option(help="A metric of the table that is a prior (it never looked at the target). Repeat for several.")] = None,
    lower_is_better: Annotated[Optional[list[str]], typer.Option("--lower-is-better", help="A metric where lower ranks a candidate higher (the registry knows its own). Repeat for several.")] = None,
    suite: Annotated[Optional[str], typer.Option(help="With a results store: the suite to evaluate (default: all, targets named suite/target).")] = None,
    measure: Annotated[str, typer.Option(help="The measure of the printed table: weighted_kendall, kendall, regret@1, top1.")] = "weighted_kendall",
    all_combiners: Annotated[bool, typer.Option("--all-combiners", help="Also show the other learners of the combination (combined:pairwise, combined:bayes) and a per-target choice among them by nested leave-one-target-out (combined:chosen).")] = False,
    by_suite: Annotated[bool, typer.Option("--by-suite", help="Targets are named suite/target (a store of several suites): fit the combination for a target on the other suites only.")] = False,
    n_boot: Annotated[int, typer.Option(min=10, help="Bootstrap resamples behind each interval.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap.")] = 0,
    outputs: OutputOptions = OUTPUTS,
    quiet: QuietOption = False,
) -> None:
    """How well does each estimator, each prior and their combination rank the candidates?

    Per target and as a mean over targets: weighted Kendall tau, Kendall tau, regret@1 and top-1
    hit, each with a 95% bootstrap interval, for every estimator of the table, every prior
    (prior:history, each candidate's mean truth on the other targets, is computed), and
    'combined' (rank weights of all of them fitted on the other targets only); and each method's
    gain over the best prior with a paired interval.

    Example: transferscope meta published:tllib-10x8

    Example: transferscope meta results.duckdb --suite text-models --prior static --output meta.csv
    """
    from transferscope.errors import InputError
    from transferscope.workflows.meta import MEASURES, meta_evaluate, read_meta_table
    with handle_errors():
        if measure not in MEASURES:
            raise InputError(f"--measure must be one of {', '.join(MEASURES)}, got {measure!r}")
        frame, splits = read_meta_table(table, suite=suite)
        result = meta_evaluate(frame, truth=truth, priors=prior or [], lower_is_better=lower_is_better or [],
                               truth_splits=splits,
                               all_combiners=all_combiners, by_suite=by_suite, n_boot=n_boot, seed=seed)
        view = result.summary(measure)
        targets = [c for c in view.columns if c not in ("method", "mean", "gain over best prior")]
        view = fit_targets(view, targets, output=outputs.output, quiet=quiet)
        show([(f"{measure} against {truth} [95% interval], best mean first", view)], result.answer(), digits=4)
        save_result(result, outputs, title=f"Meta-evaluation of {table}",
                    report_title="Which estimate ranks the candidates best?",
                    settings={"table": table, "truth": truth, "priors": prior or [], "n_boot": n_boot, "seed": seed})
