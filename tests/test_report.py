"""``transferscope report`` and ``--report`` / ``--figures`` (issue 15), without a browser: inputs of
every format, what each kind of result is drawn as, escaping, atomic writes, bad input."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("plotly", reason="the report needs plotly (the report extra)")

from transferscope.cli.app import app  # noqa: E402
from transferscope.errors import InputError  # noqa: E402
from transferscope.report import Results, build_report, load_results, write_figures, write_report  # noqa: E402
from transferscope.report.figures import plotly_figure  # noqa: E402
from transferscope.report.sections import detect_kind, provenance, sections  # noqa: E402
from transferscope.workflows.storage.store import ResultStore  # noqa: E402

HOSTILE = "<script>alert(1)</script>"


def _ranking():
    return pd.DataFrame({"rank": [1, 2], "candidate": [HOSTILE, "b"], "model": [HOSTILE, "b"], "logme": [0.5, 0.1],
                         "probe_accuracy": [0.8, 0.6], "probe_accuracy_se": [0.02, 0.03]})


def _store(path):
    rows = []
    for target in ("t1", "t2"):
        for i, cand in enumerate(["a", "b", "c", HOSTILE]):
            base = {"suite": "s", "target": target, "candidate": cand, "model": cand, "layer": "l", "pooling": "mean",
                    "seed": 0, "run": "r1", "versions": {"numpy": np.__version__}}
            rows += [{**base, "kind": "estimator", "metric": "logme", "value": float(i)},
                     {**base, "kind": "estimator", "metric": "knn", "value": float(-i)},
                     {**base, "kind": "probe", "metric": "accuracy", "value": 0.5 + 0.1 * i,
                      "settings": {"probe": "linear", "seed": 0}}]
        meta = {"suite": "s", "target": target, "candidate": "*", "kind": "meta", "seed": 0, "run": "r1"}
        rows += [{**meta, "metric": "logme:weighted_kendall", "value": 1.0,
                  "settings": {"low": 0.8, "high": 1.0, "truth": "accuracy"}},
                 {**meta, "metric": "knn:weighted_kendall", "value": -1.0,
                  "settings": {"low": -1.0, "high": -0.8, "truth": "accuracy"}}]
    with ResultStore(path) as store:
        store.add_rows(rows)
    return path


def test_every_format_is_read_and_recognised(tmp_path):
    table = _ranking()
    table.to_json(tmp_path / "r.json", orient="records")
    table.to_parquet(tmp_path / "r.parquet")
    table.to_csv(tmp_path / "r.csv", index=False)
    for name in ("r.json", "r.parquet", "r.csv"):
        (res,) = load_results(tmp_path / name)
        assert res.kind == "ranking" and list(res.table["candidate"]) == [HOSTILE, "b"]
    (bench,) = load_results(_store(tmp_path / "s.duckdb"))
    assert bench.kind == "benchmark" and len(bench.table) == 2 * 4 * 3 + 4
    assert detect_kind(pd.DataFrame(columns=["tuned", "layer", "drift"])) == "drift"
    assert detect_kind(pd.DataFrame(columns=["layer", "compression", "bytes", "quality"])) == "elastic"
    assert detect_kind(pd.DataFrame(columns=["x", "y"])) == "table"


def test_a_benchmark_store_gives_estimator_quality_and_the_scatter(tmp_path):
    (bench,) = load_results(_store(tmp_path / "s.duckdb"))
    (section,) = sections([bench])
    titles = [f.title for f in section.figures]
    assert titles[0].startswith("Mean weighted Kendall tau") and any("t1: estimator score against" in t
                                                                     for t in titles)
    mean = section.figures[0]
    assert mean.labels == ["logme", "knn"] and mean.values == [1.0, -1.0]
    scatter = next(f for f in section.figures if f.kind == "scatter")
    assert scatter.series[0].name == "logme (weighted tau 1.00)"  # the stored value, not recomputed
    assert sorted(scatter.series[0].x) == [0.0, 1.0, 2.0, 3.0] and scatter.series[0].visible
    assert dict(zip(scatter.series[0].text, scatter.series[0].y))[HOSTILE] == pytest.approx(0.8)
    interval = next(f for f in section.figures if f.title.startswith("t1: weighted tau"))
    assert interval.low == [0.8, -1.0] and interval.high == [1.0, -0.8]
    heatmap = next(f for f in section.figures if f.kind == "heatmap")
    assert heatmap.note == ""  # every cell filled: nothing to explain


def test_empty_cells_of_the_benchmark_heatmap_are_explained(tmp_path):
    """An estimator that does not apply to a target (a regression or similarity target) leaves its
    cell empty; the heatmap says why instead of leaving a reader to guess, and the bar of a mean
    over fewer targets says so (it is not comparable with a mean over all)."""
    (bench,) = load_results(_store(tmp_path / "s.duckdb"))
    rows = bench.table
    dropped = rows[~((rows["kind"] == "meta") & (rows["metric"] == "knn:weighted_kendall") & (rows["target"] == "t2"))]
    (section,) = sections([Results("benchmark", dropped.reset_index(drop=True))])
    heatmap = next(f for f in section.figures if f.kind == "heatmap")
    assert heatmap.matrix[heatmap.rows.index("knn")] == [-1.0, None]
    assert "does not apply" in heatmap.note
    assert section.figures[0].labels == ["logme", "knn (1 of 2 targets)"]  # its mean is over other targets


def test_user_strings_never_reach_the_page_raw(tmp_path):
    page = build_report([Results("ranking", _ranking(), title=HOSTILE, settings={"dataset": HOSTILE})],
                        title=HOSTILE, inputs=[HOSTILE])
    without_plotly = re.sub(r"<script>.{100000,}?</script>", "", page, count=1, flags=re.S)
    assert HOSTILE not in without_plotly and "&lt;script&gt;alert(1)&lt;/script&gt;" in without_plotly
    import html

    assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in html.unescape(page)
    assert not re.search(r'(src|href)="(https?:)?//', without_plotly)  # nothing to fetch
    data = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, flags=re.S)
    assert data and all("<" not in d for d in data)
    labels = json.loads(data[0])["data"][0]["y"]
    assert labels[0] == "&lt;script&gt;alert(1)&lt;/script&gt;"  # plotly draws entities as the characters
    assert plotly_figure(sections([Results("ranking", _ranking())])[0].figures[0])["layout"]["height"] >= 300


def test_report_file_and_figures(tmp_path):
    results = load_results(_store(tmp_path / "s.duckdb"))
    page = write_report(results, tmp_path / "out.html")
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left
    written = write_figures(results, tmp_path / "figs")
    assert {p.suffix for p in written} == {".png", ".svg"} and all(p.stat().st_size > 1000 for p in written)
    with pytest.raises(InputError, match="must end in one of .html"):
        write_report(results, tmp_path / "out.pdf")
    with pytest.raises(InputError, match="does not exist"):
        write_report(results, tmp_path / "no" / "out.html")
    with pytest.raises(InputError, match="at least one"):
        build_report([])


def test_cli_report_and_its_errors(tmp_path):
    _ranking().to_json(tmp_path / "r.json", orient="records")
    store = _store(tmp_path / "s.duckdb")
    runner = CliRunner()
    out = runner.invoke(app, ["report", str(tmp_path / "r.json"), str(store), "--output", str(tmp_path / "a.html"),
                              "--figures", str(tmp_path / "f")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "a.html").stat().st_size > 1_000_000 and any((tmp_path / "f").glob("*.svg"))
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "empty.csv").write_text("a,b\n", encoding="utf-8")
    for args, message in ((["report", str(tmp_path / "missing.duckdb")], "does not exist"),
                          (["report", str(tmp_path / "r.txt")], "must end in one of"),
                          (["report", str(tmp_path / "bad.json")], "cannot be read as json"),
                          (["report", str(tmp_path / "empty.csv")], "holds no rows"),
                          (["report", str(tmp_path / "r.json"), "--output", str(tmp_path / "a.pdf")], ".html")):
        if args[1].endswith(".txt"):
            (tmp_path / "r.txt").write_text("x", encoding="utf-8")
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and message in res.output, (args, res.output)


def test_rank_writes_its_report(tmp_path):
    out = CliRunner().invoke(app, ["rank", "--dataset", "sentence-polarity", "--model", "tfidf", "--model", "hashing",
                                   "--metric", "logme,knn", "--probe", "--probe-protocol", "linear",
                                   "--report", str(tmp_path / "rank.html"), "--figures", str(tmp_path / "figs"),
                                   "--cache-dir", str(tmp_path / "c"), "-q"])
    assert out.exit_code == 0, out.output
    page = (tmp_path / "rank.html").read_text(encoding="utf-8")
    # the answer line is the terminal's (rank_answer), probe included
    answer = next(line for line in out.output.splitlines() if line.startswith("Answer:"))
    assert "the probe" in answer and html.escape(answer) in page
    assert "model identities" in page and "library versions" in page
    assert len(list((tmp_path / "figs").glob("*.png"))) == 3  # probe, logme, knn
    bad = CliRunner().invoke(app, ["rank", "--dataset", "sentence-polarity", "--model", "tfidf",
                                   "--report", str(tmp_path / "x.png")])
    assert bad.exit_code == 2 and "--report" in bad.output


def test_every_kind_of_result_is_drawn():
    """One small table of each kind a command writes: the figures each section promises."""
    drift = pd.DataFrame({"tuned": ["a", "a", "b", "b"], "layer": ["l1", "l2"] * 2, "drift": [0.1, 0.3, 0.0, 0.2],
                          "mutual_knn": [0.9, 0.6, 1.0, 0.7]})
    sources = pd.DataFrame({"source": ["s1", "s2"], "samples": [10, 20], "otdd": [2.0, 1.0], "task2vec": [0.3, 0.1],
                            "mmd_rbf": [0.2, 0.1]})
    compat = pd.DataFrame({"new": ["v2", "v2"], "setting": ["old/old", "new/old"], "aligner": ["", "procrustes"],
                           "pairs": [0, 100], "recall@1": [0.8, 0.7], "map": [0.5, 0.4], "recovered": [1.0, 0.9]})
    quality = pd.DataFrame({"space": "pixels", "ranking": ["otdd", "random"], "target": "mean", "tau": [0.5, 0.0],
                            "low": [0.1, -0.4], "high": [0.8, 0.4]})
    selection = pd.DataFrame({"candidate": ["a", "b", "c"], "estimator_rank": [1, 2, 3], "logme": [0.3, 0.2, 0.1],
                              "probe_mean": [0.8, 0.7, np.nan], "probe_se": [0.02, 0.03, np.nan],
                              "status": ["picked", "probed", "left out by the estimators"]})
    results = [Results(detect_kind(t), t) for t in (drift, sources, compat, quality, selection)]
    assert [r.kind for r in results] == ["drift", "sources", "compat", "sources-eval", "selection"]
    figures = {r.kind: s.figures for r, s in zip(results, sections(results))}
    assert [f.kind for f in figures["drift"]] == ["lines", "lines"]
    assert figures["sources"][0].labels == ["s2", "s1"]  # nearest first
    assert figures["compat"][0].values == [0.5, 0.4]  # mAP, the default verdict metric (issue 25: not Recall@1)
    assert figures["sources-eval"][0].low == [0.1, -0.4]
    assert figures["selection"][0].labels == ["a", "b"]  # only the probed candidates
    page = build_report(results)
    assert page.count('class="ts-figure"') == sum(len(f) for f in figures.values())
    assert "largest change at l2 (drift 0.300)" in page and "Nearest source: s2 (by otdd)" in page


def test_open_says_so_when_no_browser_exists(tmp_path, monkeypatch):
    import webbrowser

    _ranking().to_json(tmp_path / "r.json", orient="records")
    monkeypatch.setattr(webbrowser, "open", lambda uri: False)  # what it returns on a machine without a browser
    out = CliRunner().invoke(app, ["report", str(tmp_path / "r.json"), "--output", str(tmp_path / "a.html"), "--open"])
    assert out.exit_code == 0 and "no web browser is available here" in out.output and "a.html" in out.output


def test_every_result_gives_its_answer_and_its_table_the_same_way():
    """One interface for every command's result (issue 24): ``answer()`` -> the lines a user acts
    on (the terminal, the notebook and the report show them), ``to_frame()`` -> the table."""
    import inspect

    from transferscope.workflows.benchmark import BenchmarkResult
    from transferscope.workflows.compare import Comparison
    from transferscope.workflows.compat import CompatResult
    from transferscope.workflows.drift import DriftResult
    from transferscope.workflows.elastic import ElasticResult
    from transferscope.workflows.layers import LayerProfile
    from transferscope.workflows.meta import MetaEvaluation
    from transferscope.workflows.select import Selection
    from transferscope.workflows.sources import SourceRanking

    for cls in (LayerProfile, Comparison, CompatResult, ElasticResult, DriftResult, SourceRanking, BenchmarkResult,
                MetaEvaluation, Selection):
        for method in ("answer", "to_frame", "_repr_html_"):
            assert callable(getattr(cls, method, None)), (cls.__name__, method)
        assert inspect.signature(cls.answer).return_annotation in ("list[str]", list[str]), cls.__name__
    table = pd.DataFrame({"source": ["a", "b"], "otdd": [1.0, 2.0], "rank": [1, 2]})
    ranking = SourceRanking(table, "otdd")
    assert ranking.answer() == ["Nearest source: a (by otdd)"] and ranking.to_frame().equals(table)
    assert "Nearest source: a (by otdd)" in ranking._repr_html_()


_EXTRACTING = ["--cache-dir", "{tmp}/c", "-q"]


@pytest.mark.parametrize("command", [
    ["rank", "--dataset", "sentence-polarity", "--model", "tfidf", "--model", "hashing", "--metric", "logme,knn",
     *_EXTRACTING],
    ["select", "--dataset", "sentence-polarity", "--model", "tfidf", "--model", "hashing", *_EXTRACTING],
    ["layers", "--dataset", "sentence-polarity", "--model", "tfidf", "--no-probe", *_EXTRACTING],
    ["compare", "--features", "{tmp}/a.npy", "--features", "{tmp}/b.npy", "--measure", "cka", "--permutations", "20",
     *_EXTRACTING],
    ["elastic", "--features", "{tmp}/a.npy", "--labels", "{tmp}/y.npy", *_EXTRACTING],
    ["compat", "--features-old", "{tmp}/a.npy", "--features-new", "{tmp}/b.npy", "--labels", "{tmp}/y.npy",
     "--aligners", "procrustes", *_EXTRACTING],
    ["meta", "published:tllib-10x8", "--n-boot", "50"],
])
def test_a_report_from_a_saved_output_is_the_report_of_the_run(tmp_path, command):
    """`transferscope report FILE` on a command's --output draws what --report drew at run time: the
    same answer lines, sections and provenance rows (issue 24); a table rewritten without its
    metadata is not read with the stale one."""
    from transferscope.workflows.storage.results import read_result_metadata, write_table

    saved, output = _report_round_trip(tmp_path, command)
    write_table(saved.table.assign(edited=1), output)  # rewritten alone: its old metadata no longer applies
    assert read_result_metadata(output) is None and load_results(output)[0].settings == {}


@pytest.mark.parametrize("command", [
    ["drift", "--base", "{model}", "--tuned", "random:{model}", "--dataset", "sentence-polarity", "--no-fingerprint",
     *_EXTRACTING],
    ["sources", "--target", "sentence-polarity", "--source", "vader-polarity", "--source", "word-language",
     "--model", "{model}", "--max-samples", "60", *_EXTRACTING],
])
def test_a_report_from_a_saved_output_of_a_model_command_is_the_report_of_the_run(tmp_path, tiny_bert_dir, command):
    """The same for the commands that need a real model (a tiny BERT): drift and sources."""
    _report_round_trip(tmp_path, [part.replace("{model}", str(tiny_bert_dir)) for part in command])


def _report_round_trip(tmp_path, command):
    """Run ``command`` with --output and --report in each format, rebuild the report from the file,
    and check that both pages hold the same answer lines, headings and provenance rows."""
    from typer.testing import CliRunner

    from transferscope.cli.app import app
    from transferscope.report.build import _answers
    from transferscope.workflows.storage.results import read_result_metadata

    runner = CliRunner()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    a = rng.normal(size=(90, 12)) + y[:, None]
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", a @ rng.normal(size=(12, 12)) + 0.5 * rng.normal(size=(90, 12)))
    np.save(tmp_path / "y.npy", y)
    command = [part.replace("{tmp}", str(tmp_path)) for part in command]
    for suffix in (".json", ".csv", ".parquet"):
        output, report = tmp_path / f"out{suffix}", tmp_path / f"run{suffix}.html"
        run = runner.invoke(app, [*command, "--output", str(output), "--report", str(report)], catch_exceptions=False)
        assert run.exit_code == 0, run.output
        meta = read_result_metadata(output)
        assert meta is not None and meta["settings"]["answer"]
        (saved,) = load_results(output)
        assert saved.kind == meta["kind"] and saved.settings["answer"] == meta["settings"]["answer"]
        answers = _answers([saved])
        assert answers and answers[0] in run.output.replace("\n  ", " ")  # the terminal's first answer line
        again = runner.invoke(app, ["report", str(output), "--output", str(tmp_path / f"file{suffix}.html")])
        assert again.exit_code == 0, again.output
        page, first = (tmp_path / f"file{suffix}.html").read_text(), report.read_text()
        for line in answers:  # the pages' text, whichever way they escape a quote
            assert line in html.unescape(page) and line in html.unescape(first)
        headings = re.compile(r"<h[12][^>]*>([^<]*)</h[12]>")
        assert headings.findall(page) == headings.findall(first)  # the same title and sections, in order
        assert "site-packages" not in " ".join(str(c) for c in sections([saved])[0].table.get("candidate", []))
        assert len(provenance([saved])) == len(provenance([Results(saved.kind, saved.table, settings=meta["settings"])]))
    return saved, output


def test_score_bars_draw_the_best_candidate_longest_and_fit_their_axis():
    """Issue 25: LogME's bars started at 0, so the best (least negative) candidate had the shortest
    bar; the prediction chart was ordered by LogME. Now the bars start below the lowest score and
    the prediction chart is sorted by the prediction."""
    from transferscope.report.figures import bar_base

    table = pd.DataFrame({"rank": [1, 2, 3], "candidate": ["a", "b", "c"], "logme": [-0.61, -0.70, -0.78],
                          "predicted_accuracy": [0.70, 0.78, 0.62], "predicted_accuracy_low": [0.6, 0.7, 0.5],
                          "predicted_accuracy_high": [0.8, 0.85, 0.7]})
    (section,) = sections([Results("ranking", table)])
    logme = next(f for f in section.figures if f.xlabel == "logme")
    drawn = plotly_figure(logme)["data"][0]
    lengths = dict(zip(drawn["y"], drawn["x"]))
    assert lengths["a"] == max(lengths.values()) and min(lengths.values()) > 0  # best: the longest bar
    assert drawn["base"] == bar_base(logme) < -0.78
    predicted = next(f for f in section.figures if f.title.startswith("Predicted accuracy"))
    assert predicted.labels == ["b", "a", "c"] and predicted.values == sorted(predicted.values, reverse=True)
    assert 0 < bar_base(predicted) < 0.5  # the axis fits 0.5-0.85, not 0-0.85


def test_a_sources_report_names_the_measure_the_ranking_was_made_by():
    """Issue 26: the report of a ranking by mmd_linear said "nearest source by OTDD"."""
    from transferscope.report.build import _answers

    table = pd.DataFrame({"source": ["a", "b"], "otdd": [2.0, 1.0], "mmd_linear": [0.1, 0.5], "samples": [10, 10]})
    assert _answers([Results("sources", table, settings={"measure": "mmd_linear"})]) == [
        "Nearest source: a (by mmd_linear); otdd puts b nearest."]
    assert _answers([Results("sources", table)])[0].startswith("Nearest source: b (by otdd)")  # a bare file: the default


def test_report_onto_an_existing_folder_is_refused_before_any_work(tmp_path):
    """Issue 26: --report onto an existing folder was a traceback after all the work."""
    (tmp_path / "r.html").mkdir()
    result = CliRunner().invoke(app, ["rank", "--dataset", "sentence-polarity", "--model", "tfidf",
                                      "--report", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "is an existing folder" in result.output


def test_no_invisible_or_bidi_override_character_reaches_a_page_or_a_figure(tmp_path):
    """Issue 26: RTL-override and NUL characters in user strings passed into the HTML and SVG (a
    name that reads backwards). They are written out as \\uXXXX codes instead."""
    name = "model\u202eexe.txt\x00"
    table = pd.DataFrame({"rank": [1, 2], "candidate": [name, "other"], "logme": [0.5, 0.1]})
    results = [Results("ranking", table, title=f"Ranking of {name}")]
    page = write_report(results, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "\u202e" not in page and "\x00" not in page and "model\\u202eexe.txt" in page
    written = write_figures(results, tmp_path / "figs")
    svg = next(p for p in written if p.suffix == ".svg").read_text(encoding="utf-8")
    assert "\u202e" not in svg and "\x00" not in svg


def test_the_compat_chart_shows_the_verdict_metric_and_names_a_missing_bar():
    """Issue 25: the compat chart showed Recall@1 while the verdict was taken on mAP, and one bar
    was blank without a word."""
    table = pd.DataFrame({"new": ["b", "b", "b"], "setting": ["old/old", "new/old", "aligned"],
                          "aligner": ["", "", "mlp"], "pairs": ["", "", "all"],
                          "recall@1": [0.9, 0.2, np.nan], "map": [0.8, 0.1, np.nan]})
    (section,) = sections([Results("compat", table, settings={"metric": "map"})])
    (chart,) = section.figures
    assert chart.xlabel == "map" and chart.values[:2] == [0.8, 0.1]
    assert "no value (not measured) for: b aligned mlp@all" in chart.note


def test_the_layers_figures_put_one_kind_of_measure_on_each_axis():
    """Issue 25: the layers chart put 11 measures on one 0-1 axis, a standard error (higher is
    worse) and the similarity to the previous layer among them. Now: the probe in its own units
    with its standard error as error bars; the estimators and geometry measures scaled to 0-1 with
    their declared direction (twonn: lower is better, so its lowest layer is at 1); the
    similarities to the previous layer on an axis of their own."""
    table = pd.DataFrame({"layer": ["embeddings", "layer_1", "layer_2"], "dim": [8, 8, 8],
                          "probe_accuracy": [0.60, 0.72, 0.70], "probe_accuracy_se": [0.03, 0.02, 0.04],
                          "probe_macro_f1": [0.58, 0.71, 0.69], "logme": [-0.9, -0.5, -0.6],
                          "twonn": [9.0, 4.0, 6.0], "cka_prev": [np.nan, 0.9, 0.95]})
    (section,) = sections([Results("layers", table, title="Layers")])
    probe, estimators, previous = section.figures
    (truth,) = probe.series
    assert truth.name == "probe_accuracy" and truth.y == [0.60, 0.72, 0.70]
    np.testing.assert_allclose(truth.low, [0.57, 0.70, 0.66])
    np.testing.assert_allclose(truth.high, [0.63, 0.74, 0.74])
    names = {s.name: s for s in estimators.series}
    assert set(names) == {"logme", "twonn"} and "higher is better" in estimators.ylabel
    np.testing.assert_allclose(names["logme"].y, [0.0, 1.0, 0.75])
    np.testing.assert_allclose(names["twonn"].y, [0.0, 1.0, 0.6])
    assert [s.name for s in previous.series] == ["cka_prev"]
    assert not any(s.name.endswith("_se") for f in section.figures for s in f.series)


def test_the_drift_figure_draws_each_models_null_dashed_in_its_colour(tmp_path):
    """Issue 25: drift findings against a null. With a re-seeded twin, the drift chart draws the
    twin's drift from the tuned model as a dashed line of the model's colour, in the page and in
    the static figure; without one, no null is drawn."""
    from transferscope.report.figures import save_static

    table = pd.DataFrame({"tuned": ["a", "a", "b", "b"], "layer": ["l1", "l2", "l1", "l2"],
                          "drift": [0.01, 0.30, 0.02, 0.05], "null_drift": [0.02, 0.10, 0.03, 0.09],
                          "beyond_null": [False, True, False, False], "mutual_knn": [0.9, 0.5, 0.9, 0.8]})
    (section,) = sections([Results("drift", table, title="Drift")])
    drift = section.figures[0]
    assert [s.null for s in drift.series] == [[0.02, 0.10], [0.03, 0.09]] and "re-seeded twin" in drift.title
    traces = plotly_figure(drift)["data"]
    assert [t["name"] for t in traces] == ["a", "a (re-seeded twin)", "b", "b (re-seeded twin)"]
    assert traces[1]["line"] == {"color": traces[0]["line"]["color"], "dash": "dash"}
    assert traces[0]["line"]["color"] != traces[2]["line"]["color"]
    assert save_static(drift, tmp_path / "drift.svg").read_text().count("stroke-dasharray") >= 2
    (plain,) = sections([Results("drift", table.drop(columns=["null_drift", "beyond_null"]), title="Drift")])
    assert all(s.null is None for s in plain.figures[0].series)
    assert [t["name"] for t in plotly_figure(plain.figures[0])["data"]] == ["a", "b"]


def test_scores_equal_up_to_rounding_are_drawn_as_equal_bars():
    """Issue 25: a saturated H-score (1 for every candidate, up to 1e-13) got an axis fitted to its
    rounding noise, from 0.9999999999999112 to 1.0000000000002442: bars of very different lengths
    for candidates it cannot tell apart. Their bars are now equal, and the title says why."""
    table = pd.DataFrame({"rank": [1, 2, 3], "candidate": ["a", "b", "c"], "logme": [-0.6, -0.7, -0.8],
                          "hscore": [1.0000000000002442, 0.9999999999999112, 1.0000000000001]})
    (section,) = sections([Results("ranking", table, title="Ranking")])
    figures = {f.xlabel: f for f in section.figures}
    hscore, logme = figures["hscore"], figures["logme"]
    assert "equal up to rounding" in hscore.title and "rounding" not in logme.title
    (bar,) = plotly_figure(hscore)["data"]
    lengths = np.array(bar["x"])
    assert lengths.max() - lengths.min() < 1e-9 * lengths.max()  # drawn equal
    (bar,) = plotly_figure(logme)["data"]
    assert bar["x"][0] > bar["x"][1] > bar["x"][2]  # a real spread keeps its fitted axis


def test_the_selection_figures_draw_the_better_candidate_longer_and_mark_the_pick():
    """Issue 25, found in the select report: its estimator bars started at 0, so LogME's best
    candidate (the least negative) had the shortest bar, and the probe chart did not say which
    candidate was picked nor on how many splits each mean stands."""
    table = pd.DataFrame({"candidate": ["a", "b", "c"], "estimator_rank": [1, 2, 3], "logme": [-0.61, -0.62, -0.78],
                          "probe_mean": [0.714, 0.735, np.nan], "probe_se": [0.058, 0.037, np.nan],
                          "splits": [10, 6, 0], "status": ["pick", "out in round 3", "left out by the estimators"]})
    (section,) = sections([Results("selection", table, title="Selection")])
    probe = section.figures[0]
    assert probe.labels == ["b (6 splits)", "a (pick, 10 splits)"]
    logme = next(f for f in section.figures if f.xlabel == "logme")
    (bar,) = plotly_figure(logme)["data"]
    assert bar["x"][0] > bar["x"][1] > bar["x"][2] > 0  # the best candidate has the longest bar
