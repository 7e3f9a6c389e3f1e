"""``transferscope compat``: can a new embedding model search an index of the old one's vectors?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from transferscope.cli._common import (
    add_to_store,
    err_console,
    handle_errors,
    open_store,
    progress_lines,
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

__all__ = ["compat_command"]


@extraction_group
@output_group
@source_group(include=('data', 'dataset', 'text_column', 'label_column'))
def compat_command(
    old: Annotated[Optional[str], typer.Option(help="The model whose vectors the index holds (a model spec, as for `rank`).")] = None,
    new: Annotated[Optional[list[str]], typer.Option(help="The new model. Repeat for a sequence of versions (oldest first): adds the compatibility matrix.")] = None,
    source: DataSource = SOURCE,
    features_old: Annotated[Optional[Path], typer.Option(help="Precomputed old embeddings (.npy, .npz, .parquet, .csv), instead of --old with data.")] = None,
    features_new: Annotated[Optional[list[Path]], typer.Option(help="Precomputed new embeddings of the same items, row for row. Repeat for versions.")] = None,
    labels: Annotated[Optional[Path], typer.Option(help="Labels (classes or pair ids) for --features-old / --features-new.")] = None,
    check_index: Annotated[Optional[Path], typer.Option(help="Only test whether the vectors of this file (an index export) come from more than one embedding space.")] = None,
    layer: Annotated[str, typer.Option(help="Layer of each model: 'last', a name or an index.")] = "last",
    pooling: Annotated[str, typer.Option(help="Token pooling: mean, cls, max, last.")] = "mean",
    metric: Annotated[str, typer.Option(help="The metric of the verdict: map, recall@1, recall@5, recall@10, ndcg@10.")] = "map",
    query_fraction: Annotated[float, typer.Option(help="Share of each label's items used as queries (the rest is the gallery).")] = 0.2,
    pair_sizes: Annotated[str, typer.Option(help="Comma-separated paired-sample sizes the aligners are fitted on ('all' = the whole gallery).")] = "100,1000,all",
    aligners: Annotated[str, typer.Option(help="Comma-separated aligners: procrustes, ridge, low_rank, mlp ('none' for none).")] = "procrustes,ridge,low_rank,mlp",
    seed: Annotated[int, typer.Option(min=0, help="Seed of the split, the paired subsets and the MLP.")] = 0,
    outputs: OutputOptions = OUTPUTS,
    store: Annotated[Optional[Path], typer.Option(help="Also add the rows to this DuckDB results file.")] = None,
    extraction: ExtractionOptions = EXTRACTION,
) -> None:
    """Can NEW's queries search an index of OLD's vectors? Retrieval (mAP, Recall@k, nDCG) for
    old/old, new/new and new/old, post-hoc aligners fitted on paired items, and a verdict.

    Example: transferscope compat --old st:./minilm-v1 --new st:./minilm-v2 --dataset word-language

    Example: transferscope compat --check-index vectors.npy
    """
    from transferscope.workflows.compat import ALIGNERS, compat

    with handle_errors():
        if check_index is not None:
            if any(v is not None and v != [] for v in (old, new, source.data, source.dataset, features_old,
                                                          features_new, labels)):
                raise InputError("--check-index takes no other input (no --old, --new, --data, --features-*)")
            _check_index(check_index, seed=seed, output=outputs.output)
            return
        results = open_store(store)
        sizes = [s if s == "all" else _size(s) for s in split_list([pair_sizes])]
        chosen = [] if aligners.strip() == "none" else split_list([aligners])
        bad = [a for a in chosen if a not in ALIGNERS]
        if bad:
            raise InputError(f"--aligners must be among {', '.join(ALIGNERS)} or 'none', got {', '.join(bad)}")
        options = {"metric": metric, "query_fraction": query_fraction, "pair_sizes": sizes, "aligners": chosen,
                   "seed": seed, "progress": progress_lines(extraction)}
        if features_old is not None or features_new:
            if old or new or source.data or source.dataset:
                raise InputError("--features-old/--features-new cannot be combined with --old, --new, --data or --dataset")
            result, target, old_name = _from_features(features_old, features_new, labels, source.label_column or "label",
                                                      options)
        else:
            if not old or not new:
                raise InputError("--old and --new are required (or --features-old and --features-new)")
            ds = read_source(source.replace(task="classification"), quiet=not extraction.progress)
            result = compat(old=old, new=new, dataset=ds, layer=layer, pooling=pooling,
                            extraction=extraction, **options)
            target, old_name = ds.name, old
        from transferscope.report import matrix_results
        from transferscope.workflows.storage.names import short_names

        short = short_names(list(dict.fromkeys([old_name, *result.verdicts["new"]])))
        views = result.views(short)
        views[0] = (f"{views[0][0]} ({target}: {result.summary['n_queries']} queries, "
                    f"{result.summary['n_gallery']} gallery items)", views[0][1])
        show(views, result.answer(short))
        if extraction.progress:
            err_console.print("--output and the report keep every metric (mAP, Recall@1/5/10, nDCG@10)",
                              highlight=False)
        add_to_store(results, store, result.store_rows(target=target, old=old_name, run=""))
        matrix = [] if result.matrix is None else [matrix_results(
            result.matrix.rename(index=short, columns=short), measure=metric,
            title=f"Compatibility matrix ({metric}; query version x gallery version)")]
        save_result(result, outputs, title=f"Can the new model search the old index? ({target})",
                    report_title="Is the new embedding model compatible?", answer=result.answer(short),
                    settings={**{k: v for k, v in result.summary.items() if not isinstance(v, dict)}, "old": old_name},
                    cache_dir=extraction.cache_dir, model_specs=None if features_old is not None else [old, *new], extra=matrix)


def _check_index(path: Path, *, seed: int, output: Path | None) -> None:
    """``--check-index``: whether the file's vectors come from more than one embedding space."""
    from transferscope.workflows.compat import check_index_file
    from transferscope.workflows.storage.results import write_table

    check = check_index_file(path, seed=seed)
    typer.echo(f"{path.name}: {check.explanation()}")
    if output is not None:
        import pandas as pd

        frame = pd.DataFrame([{"file": str(path), "flagged": check.flagged, "cut": check.cut,
                               "relatedness": check.relatedness, "share": check.share}])
        err_console.print(f"wrote {write_table(frame, output)}")


def _from_features(features_old: Path | None, features_new: list[Path] | None, labels: Path | None,
                   label_column: str, options: dict) -> tuple[Any, str, str]:
    """compat of ``--features-old`` / ``--features-new`` with ``--labels``: the result, the target's
    name (the labels file) and the old model's name (its file)."""
    from transferscope.workflows.compat import compat_features
    from transferscope.workflows.inputs import load_feature_file, load_labels

    if features_old is None or not features_new or labels is None:
        raise InputError("--features-old, --features-new and --labels go together")
    old_x = load_feature_file(features_old)
    new_xs = [load_feature_file(p) for p in features_new]
    names = [features_old.stem, *[p.stem for p in features_new]]
    if len(set(names)) != len(names):
        names = ["old", *[f"new{i + 1}" for i in range(len(new_xs))]]
    y = load_labels(labels, column=label_column if labels.suffix not in (".npy", ".npz", ".txt") else None)
    return compat_features(old_x, new_xs, y, names=names, **options), labels.stem, names[0]


def _size(text: str) -> int:
    if not text.isdigit() or int(text) < 2:
        raise InputError(f"--pair-sizes must hold integers >= 2 or 'all', got {text!r}")
    return int(text)
