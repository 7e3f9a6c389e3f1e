"""Issue 24: one result spine. Every command's Python function returns a
:class:`~transferscope.workflows.storage.results.Result` (kind, title, settings, ``to_frame``,
``answer``, ``save``, a notebook view), the report picks its section by the result's type, and a
saved result is read back with its kind, title and answer."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

import transferscope as ts
from transferscope.report import Results, load_results
from transferscope.report.sections import KINDS, sections
from transferscope.workflows.storage.results import Result, read_result_metadata

COMMAND_MODULES = ("rank", "select", "layers", "compare", "compat", "elastic", "drift", "sources", "meta",
                   "benchmark", "source_eval")


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_command_result_is_a_result_with_a_report_section():
    for name in COMMAND_MODULES:
        importlib.import_module(f"transferscope.workflows.{name}")
    results = {c.__name__: c for c in _subclasses(Result) if c.__module__.startswith("transferscope.")}
    assert {"Ranking", "Selection", "LayerProfile", "Comparison", "CompatResult", "ElasticResult", "DriftResult",
            "SourceRanking", "BenchmarkResult", "MetaEvaluation", "SourceEvaluation"} <= set(results)
    for cls in results.values():
        assert cls.kind in KINDS and cls.kind != "table", cls
        assert cls.title and cls.to_frame is not Result.to_frame, cls


def test_a_ranking_is_typed_saved_and_read_back_as_the_same_report(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    ranking = ts.rank(features={"good": rng.normal(size=(80, 4)) + 3 * y[:, None], "noise": rng.normal(size=(80, 4))},
                      labels=y, metrics=["logme", "knn"], probe=True, n_jobs=1)
    assert isinstance(ranking, Result) and ranking.kind == "ranking" and ranking.best == "good"
    assert ranking.table.attrs == {}  # no notes hidden in the table: they are fields
    assert ranking.split_scores is not None and len(ranking.split_scores) == 2
    assert ranking.estimators == ("logme", "knn") and ranking.answer()[0].startswith("Answer: good ranks first")
    for suffix in (".json", ".csv", ".parquet"):
        path = ranking.save(tmp_path / f"ranking{suffix}")
        meta = read_result_metadata(path)
        assert meta["kind"] == "ranking" and meta["settings"]["answer"] == ranking.answer()
        (loaded,) = load_results(path)
        assert loaded.kind == "ranking" and loaded.settings["answer"] == ranking.answer()
        columns = ["rank", "candidate", "logme", "knn", "probe_accuracy", "probe_accuracy_se"]
        pd.testing.assert_frame_equal(loaded.table[columns], ranking.table[columns], check_dtype=False)
    direct = Results.of(ranking)
    assert direct.kind == "ranking" and direct.settings["answer"] == ranking.answer()
    (section,) = sections([direct])
    (again,) = sections([loaded])
    assert section.title == again.title and [f.title for f in section.figures] == [f.title for f in again.figures]
    assert "Answer: good ranks first" in ranking._repr_html_()


def test_the_report_section_follows_the_results_type_not_its_columns():
    from transferscope.workflows.drift import drift_features

    rng = np.random.default_rng(0)
    base = {"l0": rng.normal(size=(50, 4)), "l1": rng.normal(size=(50, 4))}
    result = drift_features(base, {"t": {"l0": base["l0"], "l1": base["l1"] + rng.normal(size=(50, 4))}})
    renamed = Results.of(result)
    renamed.table = renamed.table.rename(columns={"tuned": "model_tuned"})  # columns no longer say 'drift'
    assert renamed.kind == "drift"
    with pytest.raises(KeyError):  # the drift section is chosen, and it needs its columns
        sections([renamed])


def test_one_progress_convention_across_the_public_api():
    """Issue 24: ``progress`` was a bool in some functions and a callback (called ``log``
    elsewhere) in others. Now: bars come from ``ExtractionOptions(progress=True)``; a function that
    reports steps takes ``progress``, a callable that receives each line; no function takes ``log``."""
    import inspect

    modules = [importlib.import_module(f"transferscope.workflows.{name}") for name in (*COMMAND_MODULES, "demo")]
    functions = {f"ts.{name}": getattr(ts, name) for name in ts.__all__ if inspect.isfunction(getattr(ts, name))}
    for module in modules:
        functions |= {f"{module.__name__}.{name}": getattr(module, name) for name in module.__all__
                      if inspect.isfunction(getattr(module, name))}
    checked = 0
    for name, function in functions.items():
        parameters = inspect.signature(function).parameters
        assert "log" not in parameters, name
        if "progress" in parameters:
            annotation = str(parameters["progress"].annotation)
            assert "Callable[[str], None]" in annotation and parameters["progress"].default is None, (name, annotation)
            checked += 1
    assert checked >= 8  # drift, drift_features, compat, elastic_features, rank_sources, run_benchmark, run_demo, ...
    # one name for the extraction options: ``extraction``, typed, in every function that takes them
    takes_options = {name: f for name, f in functions.items()
                     if any("ExtractionOptions" in str(p.annotation) for p in inspect.signature(f).parameters.values())}
    assert len(takes_options) >= 10, sorted(takes_options)  # rank, select, layers, compare, compat, elastic, ...
    for name, function in takes_options.items():
        named = [p.name for p in inspect.signature(function).parameters.values() if "ExtractionOptions" in str(p.annotation)]
        assert named == ["extraction"], (name, named)
    untyped = [name for name, f in functions.items() if "extraction" in inspect.signature(f).parameters
               and "ExtractionOptions" not in str(inspect.signature(f).parameters["extraction"].annotation)]
    assert not untyped, untyped
    assert ts.ExtractionOptions(progress=True).progress is True  # the bars' switch


def test_every_command_that_extracts_takes_every_extraction_option_and_every_data_reader_its_sources():
    """Issue 24: option lists were repeated per command and had drifted (compare and layers had no
    --trust-remote-code, benchmark no --device / --batch-size, select no --features, sources no
    --data). Every field of ExtractionOptions generates one command-line option (name, type,
    default and help from the dataclass), every command that extracts features takes all of them
    with the same help; every command that reads a labelled file reads its columns by name and
    also takes a built-in dataset."""
    import dataclasses

    from typer.main import get_command

    from transferscope.cli.app import app
    from transferscope.cli.options import OutputOptions, option_names
    from transferscope.workflows.data_source import DataSource
    from transferscope.workflows.engine.options import field_help

    names = option_names(ts.ExtractionOptions)
    assert set(names) == {f.name for f in dataclasses.fields(ts.ExtractionOptions) if f.init}
    EXTRACTION_OPTION_NAMES = {field: parameter for field, (parameter, _) in names.items()}
    commands = get_command(app).commands
    extracting = {name: {p.name for p in c.params} for name, c in commands.items()
                  if "cache_dir" in {p.name for p in c.params}}
    assert {"rank", "select", "layers", "compare", "compat", "elastic", "drift", "sources", "benchmark",
            "demo"} <= set(extracting)
    by_design = {("benchmark", "no_cache"): "a suite's run resumes from its caches and store"}
    for name, params in extracting.items():
        missing = {o for o in EXTRACTION_OPTION_NAMES.values() if o not in params} - {
            option for (command, option) in by_design if command == name}
        assert not missing, (name, missing)
    # generated: each option of a group has one flag and one help text, its dataclass's, in every command
    checked = 0
    for cls in (ts.ExtractionOptions, DataSource, OutputOptions):
        helps = field_help(cls)
        for name, command in commands.items():
            options = {p.name: p for p in command.params}
            for field in dataclasses.fields(cls):
                if not field.init or name == "report":  # report's --output is its page: its own option
                    continue
                parameter, flag = option_names(cls)[field.name]
                own = (cls is DataSource and (name == "sources" or (name, field.name) == ("compat", "labels"))
                       or (cls is OutputOptions and field.name == "output"
                           and (name == "benchmark" or "report" not in options)))
                # their own: sources' --target and sources; compat's --labels of its pairs; the --output of
                # benchmark (the aggregate table) and the catalogues (a list)
                if parameter in options and not own:
                    assert flag in options[parameter].opts, (name, flag)
                    assert options[parameter].help == field.metadata.get("flag_help", helps[field.name]), (name, field)
                    checked += 1
    assert checked > 100
    readers = {name: {p.name for p in c.params} for name, c in commands.items() if "data" in {p.name for p in c.params}}
    assert {"rank", "select", "layers", "compare", "compat", "elastic", "drift", "sources"} <= set(readers)
    for name, params in readers.items():
        assert "text_column" in params and ({"dataset", "target"} & params), name
        if "labels" in params or name in ("rank", "select", "elastic"):  # the commands that take features
            assert {"labels", "label_column"} <= params and {"features", "features_old"} & params, name
