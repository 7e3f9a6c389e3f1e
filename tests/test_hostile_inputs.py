"""Hostile inputs (issue 10): one catalogue, one case per test, through the real command.

Every bad input below gets exit code 2 and ONE line on stderr that names the argument (or the
suite field, the file, the column), no traceback, and nothing on stdout: it is rejected before
the work starts. Inputs that are unusual but valid (``NA`` as a text, ``estimators: logme``, a
header-less feature CSV) give the right result. Read-only folders are tried as an unprivileged
user (``nobody``) when the tests run as root, since root writes anywhere.

Sections: outputs and caches; suites; models and devices; data files; feature tables;
NA is a value; the Python API; one store, one writer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import transferscope as ts
from transferscope.cli.app import app
from transferscope.datasets import Dataset
from transferscope.errors import InputError

runner = CliRunner()
NOBODY = 65534


def has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


# -- helpers ---------------------------------------------------------------------------------

def cli(*args: object):
    """The command in this process (exceptions are caught, so a traceback shows as one)."""
    return runner.invoke(app, [str(a) for a in args])


def assert_rejected(result, *needles: str) -> str:
    """Exit 2, one line ``Error: ...`` naming each needle, no traceback, no table on stdout."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert result.stdout.strip() == "", result.stdout
    return lines[0]


def assert_process_rejected(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert proc.stdout.strip() == ""
    return lines[0]


def cli_process(args: list[object], *, cwd: Path, unprivileged: bool = False, timeout: float = 300,
                popen: bool = False):
    """The installed command in a fresh process (as ``nobody`` with ``unprivileged`` under root)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFERSCOPE_CACHE_DIR": str(cwd / "env-cache"),
           "HOME": str(cwd), "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "transferscope", *map(str, args)]
    if unprivileged and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: a read-only folder cannot be tried")
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    if popen:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture()
def public(tmp_path):
    """A folder every user may use (pytest's tmp_path is private to root), with a read-only
    sub-folder ``ro`` and the usual inputs."""
    root = Path(tempfile.mkdtemp(prefix="ts-hostile-"))
    root.chmod(0o777)
    make_inputs(root)
    (root / "ro").mkdir()
    (root / "ro").chmod(0o555)
    yield root
    (root / "ro").chmod(0o755)
    shutil.rmtree(root, ignore_errors=True)


def make_inputs(folder: Path) -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    np.save(folder / "a.npy", rng.normal(size=(60, 8)) + 2 * y[:, None])
    np.save(folder / "b.npy", rng.normal(size=(60, 8)))
    np.save(folder / "y.npy", y)
    texts = [f"{w} number {i}" for i, w in enumerate(["lovely film", "dull movie", "great plot", "awful acting"] * 8)]
    pd.DataFrame({"text": texts, "label": ["pos", "neg"] * 16}).to_csv(folder / "reviews.csv", index=False)


@pytest.fixture()
def work(tmp_path):
    make_inputs(tmp_path)
    return tmp_path


BASE_SUITE = {"name": "hostile", "candidates": ["tfidf", "hashing"], "targets": ["sentence-polarity"],
              "estimators": ["logme"], "max_samples": 40}


def suite_file(folder: Path, **changes: object) -> Path:
    spec = {**BASE_SUITE, **changes}
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def needs_builtin_targets() -> None:
    pytest.importorskip("gensim", reason="the built-in targets need the demo extra")


# -- outputs and caches ----------------------------------------------------------------------

def test_output_into_a_read_only_folder(public):
    proc = cli_process(["rank", "--features", "a.npy", "--labels", "y.npy", "--output", "ro/out.csv", "-q"],
                       cwd=public, unprivileged=True)
    assert_process_rejected(proc, "--output", "not writable")


def test_output_onto_an_existing_folder(work):
    (work / "out.csv").mkdir()
    result = cli("rank", "--features", work / "a.npy", "--labels", work / "y.npy", "--output", work / "out.csv")
    assert_rejected(result, "--output", "existing folder")


def test_heatmap_onto_an_existing_folder(work):
    (work / "map.png").mkdir()
    result = cli("compare", "--features", work / "a.npy", "--features", work / "b.npy", "--heatmap", work / "map.png")
    assert_rejected(result, "--heatmap", "existing folder")


def test_export_onto_an_existing_folder(work):
    needs_builtin_targets()
    (work / "rows.parquet").mkdir()
    result = cli("benchmark", suite_file(work), "--store", work / "r.duckdb", "--cache-dir", work / "c",
                 "--export", work / "rows.parquet", "-q")
    assert_rejected(result, "--export", "existing folder")
    assert not (work / "r.duckdb").exists()  # rejected before the store was even opened


def test_read_only_cache_dir(public):
    proc = cli_process(["rank", "--data", "reviews.csv", "--model", "tfidf", "--cache-dir", "ro/cache", "-q"],
                       cwd=public, unprivileged=True)
    assert_process_rejected(proc, "--cache-dir", "not writable")


def test_cache_dir_that_is_a_file(work):
    (work / "cachefile").write_text("x")
    result = cli("rank", "--data", work / "reviews.csv", "--model", "tfidf", "--cache-dir", work / "cachefile", "-q")
    assert_rejected(result, "--cache-dir", "not a folder")


def test_output_file_follows_the_umask(work):
    old = os.umask(0o022)
    try:
        result = cli("rank", "--features", work / "a.npy", "--labels", work / "y.npy", "--output", work / "r.csv")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert (work / "r.csv").stat().st_mode & 0o777 == 0o644  # mkstemp made it 0600 whatever the umask


# -- suites ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "needles"), [
    pytest.param({"estimators": ["nosuch"]}, ["'estimators'", "nosuch"], id="unknown-estimator"),
    pytest.param({"exclude": ["nosuch"]}, ["'exclude'", "nosuch"], id="unknown-excluded-estimator"),
    pytest.param({"seeds": ["a"]}, ["'seeds'"], id="string-seed"),
    pytest.param({"seeds": [1.5]}, ["'seeds'"], id="fractional-seed"),
    pytest.param({"seeds": [-1]}, ["'seeds'"], id="negative-seed"),
    pytest.param({"max_samples": "abc"}, ["'max_samples'"], id="string-max-samples"),
    pytest.param({"max_samples": -5}, ["'max_samples'"], id="negative-max-samples"),
    pytest.param({"max_samples": 5}, ["'max_samples'", "at least 20"], id="tiny-max-samples"),
    pytest.param({"priors": {"tfidf": "abc"}}, ["'priors.tfidf'"], id="string-prior"),
    pytest.param({"priors": [1, 2]}, ["'priors'"], id="priors-not-a-mapping"),
    pytest.param({"priors": {"tfidf": 1, "bert": 2}}, ["'priors'", "bert"], id="prior-of-no-candidate"),
    pytest.param({"targets": ["no-such-target"]}, ["'targets'", "no-such-target"], id="unknown-target"),
    pytest.param({"candidates": [{"model": "tfidf", "layer": "last"}]}, ["'candidates[0]'", "layer"],
                 id="candidate-unknown-key"),
    pytest.param({"candidates": [{"model": "tfidf", "layers": {"a": 1}}]}, ["'candidates[0].layers'"],
                 id="candidate-layers-mapping"),
    pytest.param({"candidates": [{"model": "tfidf", "poolings": ["avg"]}]}, ["'candidates[0].poolings'", "avg"],
                 id="candidate-unknown-pooling"),
    pytest.param({"candidates": [{"model": 5}]}, ["'candidates[0].model'"], id="candidate-model-number"),
    pytest.param({"finetune": "fast"}, ["'finetune'"], id="finetune-not-a-mapping"),
    pytest.param({"name": ["a", "b"]}, ["'name'"], id="name-a-list"),
])
def test_suite_field_is_checked_before_any_work(work, change, needles):
    needs_builtin_targets()
    result = cli("benchmark", suite_file(work, **change), "--store", work / "r.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "suite field", *needles)
    assert not (work / "r.duckdb").exists()


def test_suite_estimators_as_one_string_is_one_estimator(work):
    """``estimators: logme`` was iterated letter by letter (a StopIteration traceback on 'l')."""
    needs_builtin_targets()
    store = work / "r.duckdb"
    result = cli("benchmark", suite_file(work, estimators="logme"), "--store", store, "--cache-dir", work / "c",
                 "--export", work / "rows.csv", "-q")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(work / "rows.csv")
    assert set(rows.loc[rows["kind"] == "estimator", "metric"]) == {"logme"}


def test_suite_one_item_shorthands():
    needs_builtin_targets()
    from transferscope.workflows.suite import load_suite

    suite = load_suite({**BASE_SUITE, "seeds": 0, "targets": "sentence-polarity", "candidates": "tfidf",
                        "estimators": "logme, knn", "max_samples": 0})
    assert suite.seeds == [0] and suite.targets == ["sentence-polarity"]  # not ['s', 'e', 'n', ...]
    assert [c.model for c in suite.candidates] == ["tfidf"] and suite.estimators == ["logme", "knn"]
    assert suite.max_samples is None


def test_store_that_is_not_a_duckdb_file(work):
    needs_builtin_targets()
    (work / "r.duckdb").write_text("hello")
    result = cli("benchmark", suite_file(work), "--store", work / "r.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "r.duckdb", "not a transferscope results file")


def test_store_that_is_a_folder(work):
    needs_builtin_targets()
    (work / "r.duckdb").mkdir()
    result = cli("benchmark", suite_file(work), "--store", work / "r.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "r.duckdb", "is a folder")


def test_store_with_a_foreign_results_table(work):
    needs_builtin_targets()
    import duckdb

    with duckdb.connect(str(work / "other.duckdb")) as con:
        con.execute("CREATE TABLE results (x INTEGER)")
    result = cli("benchmark", suite_file(work), "--store", work / "other.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "other.duckdb", "not a transferscope results file", "suite")


def test_store_in_a_read_only_folder(public):
    needs_builtin_targets()
    suite_file(public)
    proc = cli_process(["benchmark", "suite.yaml", "--store", "ro/r.duckdb", "--cache-dir", "cache", "-q"],
                       cwd=public, unprivileged=True)
    assert_process_rejected(proc, "store folder", "not writable")


def test_suite_file_that_is_not_utf8(work):
    path = work / "suite.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert_rejected(cli("benchmark", path, "--store", work / "r.duckdb", "-q"), "suite.yaml", "UTF-8")


# -- models and devices ----------------------------------------------------------------------

@pytest.fixture()
def truncated_model(tiny_bert_dir, tmp_path):
    copy = tmp_path / "truncated-bert"
    shutil.copytree(tiny_bert_dir, copy)
    weights = copy / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    return copy


def test_truncated_safetensors(work, truncated_model):
    result = cli("rank", "--data", work / "reviews.csv", "--model", truncated_model, "--cache-dir", work / "c", "-q")
    assert_rejected(result, "model.safetensors", "damaged", "truncated")


def test_truncated_safetensors_in_a_suite(work, truncated_model):
    needs_builtin_targets()
    path = suite_file(work, candidates=["tfidf", {"model": str(truncated_model), "layers": ["layer_1"]}])
    result = cli("benchmark", path, "--store", work / "r.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "model.safetensors", "damaged", "truncated")
    assert not (work / "c" / "features").exists() or not any((work / "c" / "features").iterdir())  # before any cell


def test_device_tpu(work, tiny_bert_dir):
    result = cli("rank", "--data", work / "reviews.csv", "--model", tiny_bert_dir, "--device", "tpu",
                 "--cache-dir", work / "c", "-q")
    assert_rejected(result, "--device", "'tpu'")


@pytest.mark.skipif(has_cuda(), reason="this machine has a CUDA GPU")
def test_device_cuda_without_cuda(work, tiny_bert_dir):
    result = cli("rank", "--data", work / "reviews.csv", "--model", tiny_bert_dir, "--device", "cuda",
                 "--cache-dir", work / "c", "-q")
    assert_rejected(result, "--device", "'cuda'", "no CUDA GPU")


def test_bad_device_is_rejected_when_everything_is_cached(work, tiny_bert_dir):
    args = ["rank", "--data", work / "reviews.csv", "--model", tiny_bert_dir, "--cache-dir", work / "c", "-q"]
    assert cli(*args).exit_code == 0
    assert_rejected(cli(*args, "--device", "cuda:7"), "--device", "'cuda:7'")


@pytest.mark.parametrize("command", ["layers", "compare"])
def test_device_tpu_in_layers_and_compare(work, tiny_bert_dir, command):
    result = cli(command, "--data", work / "reviews.csv", "--model", tiny_bert_dir, "--device", "tpu",
                 "--cache-dir", work / "c", "-q")
    assert_rejected(result, "--device", "'tpu'")


def test_max_length_beyond_the_model_positions(tmp_path, tiny_bert_dir):
    """The tiny BERT has 128 positions: long texts at --max-length 1000 were an IndexError."""
    words = " ".join(["lovely film with a long plot"] * 60)
    pd.DataFrame({"text": [f"{words} {i}" for i in range(20)], "label": [0, 1] * 10}).to_csv(tmp_path / "long.csv",
                                                                                         index=False)
    result = cli("rank", "--data", tmp_path / "long.csv", "--model", tiny_bert_dir, "--max-length", "1000",
                 "--cache-dir", tmp_path / "c", "-q")
    assert_rejected(result, "--max-length", "1000", "128 token positions")


# -- data files ------------------------------------------------------------------------------

def test_labels_txt_that_is_not_utf8(work):
    (work / "labels.txt").write_bytes("caf\xe9\nna\xefve\n".encode("latin-1") * 30)
    result = cli("rank", "--features", work / "a.npy", "--labels", work / "labels.txt")
    assert_rejected(result, "labels.txt", "UTF-8")


def test_data_csv_that_is_not_utf8(work):
    (work / "latin.csv").write_bytes(("text,label\n" + "caf\xe9,a\nna\xefve,b\n" * 10).encode("latin-1"))
    result = cli("rank", "--data", work / "latin.csv", "--model", "tfidf", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "latin.csv", "UTF-8")


def test_two_row_dataset_in_layers(work):
    pd.DataFrame({"text": ["good film", "bad film"], "label": ["pos", "neg"]}).to_csv(work / "two.csv", index=False)
    result = cli("layers", "--data", work / "two.csv", "--model", "tfidf", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "2 samples", "--no-probe")


def test_npz_with_several_arrays_names_features_key(work):
    rng = np.random.default_rng(1)
    np.savez(work / "two.npz", ids=np.arange(60.0)[:, None], emb=np.load(work / "a.npy"),
             noise=rng.normal(size=(60, 8)))
    args = ["rank", "--features", work / "two.npz", "--labels", work / "y.npy"]
    assert_rejected(cli(*args), "two.npz", "ids, emb, noise", "--features-key")
    result = cli(*args, "--features-key", "emb", "--output", work / "r.json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads((work / "r.json").read_text())
    assert row["dim"] == 8
    assert_rejected(cli(*args, "--features-key", "embedding"), "'embedding'", "--features-key")


def test_compare_npz_features_key(work):
    np.savez(work / "p.npz", emb=np.load(work / "a.npy"), other=np.load(work / "b.npy"))
    np.savez(work / "q.npz", emb=np.load(work / "b.npy"), other=np.load(work / "a.npy"))
    args = ["compare", "--features", work / "p.npz", "--features", work / "q.npz"]
    assert_rejected(cli(*args), "--features-key")
    assert cli(*args, "--features-key", "emb").exit_code == 0


def test_labels_csv_with_several_columns_honours_label_column(work):
    y = np.load(work / "y.npy")
    pd.DataFrame({"id": np.arange(60), "truth": y, "other": 1 - y}).to_csv(work / "labels.csv", index=False)
    args = ["rank", "--features", work / "a.npy", "--labels", work / "labels.csv", "--metric", "knn"]
    assert_rejected(cli(*args), "labels.csv", "id, truth, other", "--label-column")
    good = cli(*args, "--label-column", "truth", "--output", work / "good.json")
    bad = cli(*args, "--label-column", "other", "--output", work / "bad.json")
    assert good.exit_code == 0 and bad.exit_code == 0, (good.output, bad.output)
    # The column named is the column used: kNN accuracy is a property of the labels.
    assert json.loads((work / "good.json").read_text())[0]["knn"] == pytest.approx(
        json.loads((work / "bad.json").read_text())[0]["knn"])
    assert_rejected(cli(*args, "--label-column", "nope"), "'nope'", "--label-column")


def test_labels_csv_with_a_label_column_among_several(work):
    y = np.load(work / "y.npy")
    pd.DataFrame({"id": np.arange(60), "label": y}).to_csv(work / "labels.csv", index=False)
    result = cli("rank", "--features", work / "a.npy", "--labels", work / "labels.csv", "--output", work / "r.json")
    assert result.exit_code == 0, result.output


# -- feature tables (CSV / Parquet) ----------------------------------------------------------

def feature_table(work: Path) -> pd.DataFrame:
    x = np.load(work / "a.npy")
    table = pd.DataFrame(x, columns=[f"f{i}" for i in range(8)])
    table.insert(0, "id", np.arange(60))
    table["label"] = np.load(work / "y.npy")
    return table


def test_feature_csv_with_id_and_label_columns_is_refused(work):
    """They were used as features: dim 10, and the label column made every estimator look perfect."""
    feature_table(work).to_csv(work / "f.csv", index=False)
    result = cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy")
    assert_rejected(result, "f.csv", "id, label", "--feature-columns")


def test_feature_csv_feature_columns_by_pattern(work):
    feature_table(work).to_csv(work / "f.csv", index=False)
    result = cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy", "--feature-columns", "f*",
                 "--output", work / "r.json")
    assert result.exit_code == 0, result.output
    assert json.loads((work / "r.json").read_text())[0]["dim"] == 8
    assert_rejected(cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy", "--feature-columns", "g*"),
                    "'g*'", "--feature-columns")


def test_feature_parquet_with_a_label_column_is_refused(work):
    feature_table(work).drop(columns="id").to_parquet(work / "f.parquet")
    assert_rejected(cli("rank", "--features", work / "f.parquet", "--labels", work / "y.npy"), "label", "--feature-columns")


def test_feature_csv_with_a_text_column_is_refused(work):
    feature_table(work).drop(columns=["id", "label"]).assign(text="some words").to_csv(work / "f.csv", index=False)
    assert_rejected(cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy"), "non-numeric", "text")


def test_feature_csv_written_with_the_pandas_index_is_refused(work):
    pd.DataFrame(np.load(work / "a.npy")).to_csv(work / "f.csv")  # index=True: an 'Unnamed: 0' column 0..59
    assert_rejected(cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy"), "Unnamed: 0")


def test_headerless_feature_csv_keeps_its_first_row(work):
    np.savetxt(work / "f.csv", np.load(work / "a.npy"), delimiter=",")
    result = cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy", "--output", work / "r.json")
    assert result.exit_code == 0, result.output  # was "labels has 60 entries but features has 59 rows"
    assert json.loads((work / "r.json").read_text())[0]["dim"] == 8


# -- NA is a value ---------------------------------------------------------------------------

def test_na_and_null_texts_are_values(work):
    table = pd.read_csv(work / "reviews.csv")
    table.loc[:3, "text"] = ["NA", "null", "None", "nan"]
    table.to_csv(work / "na.csv", index=False)
    result = cli("rank", "--data", work / "na.csv", "--model", "tfidf", "--cache-dir", work / "c")
    assert result.exit_code == 0, result.output
    assert "na: 32 samples" in result.stderr


def test_na_label_is_a_class(work):
    pd.DataFrame({"text": [f"text {i}" for i in range(30)], "label": ["EU", "NA", "AS"] * 10}).to_csv(
        work / "regions.csv", index=False)
    result = cli("rank", "--data", work / "regions.csv", "--model", "tfidf", "--cache-dir", work / "c",
                 "--metric", "knn")
    assert result.exit_code == 0, result.output
    assert "regions: 30 samples" in result.stderr


def test_empty_text_cell_is_named(work):
    (work / "gap.csv").write_text("text,label\ngood,pos\nbad,neg\n,pos\nfine,neg\n")
    result = cli("rank", "--data", work / "gap.csv", "--model", "tfidf", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "'text'", "missing value", "data row 3")


def test_numeric_labels_with_na_are_refused(work):
    values = [str(v) for v in np.round(np.linspace(0.5, 3.0, 20), 3)]
    values[4] = "NA"
    pd.DataFrame({"text": [f"text {i}" for i in range(20)], "label": values}).to_csv(work / "r.csv", index=False)
    result = cli("rank", "--data", work / "r.csv", "--model", "tfidf", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "'label'", "'NA'", "data row 5")


def test_labels_txt_numbers_with_na_are_refused(work):
    (work / "y.txt").write_text("\n".join(["0", "1"] * 29 + ["NA", "1"]) + "\n")
    assert_rejected(cli("rank", "--features", work / "a.npy", "--labels", work / "y.txt"), "y.txt", "'NA'")


def test_labels_txt_empty_line_is_named(work):
    (work / "y.txt").write_text("\n".join(["a", "b"] * 15 + [""] + ["a", "b"] * 15) + "\n\n")
    assert_rejected(cli("rank", "--features", work / "a.npy", "--labels", work / "y.txt"), "y.txt", "empty line 31")


# -- the Python API --------------------------------------------------------------------------

@pytest.mark.parametrize(("scores", "truth", "needle"), [
    pytest.param("abc", "def", "scores", id="strings"),
    pytest.param({"a": 1, "b": 2}, {"a": 2, "b": 1}, "scores", id="dicts"),
    pytest.param([0.1, 0.2], ["a", "b"], "truth", id="string-truth"),
    pytest.param([[0.1, 0.2], [0.3, 0.4]], [1, 2, 3, 4], "scores", id="matrix"),
])
def test_rank_correlation_bad_input(scores, truth, needle):
    for fn in (ts.rank_correlation, ts.rank_correlation_ci):
        with pytest.raises(InputError, match=needle):
            fn(scores, truth)


@pytest.fixture()
def xy():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    return rng.normal(size=(40, 4)) + y[:, None], y


@pytest.mark.parametrize(("change", "needle"), [
    pytest.param({"features": "list"}, "features must be a mapping", id="features-list"),
    pytest.param({"labels": {"a": 1}}, "labels must be an array", id="labels-dict"),
    pytest.param({"labels": "ab"}, "labels must be an array", id="labels-string"),
    pytest.param({"metrics": 5}, "metrics must be", id="metrics-number"),
    pytest.param({"metrics": ["logme", 3]}, "metrics must be", id="metrics-list-of-number"),
    pytest.param({"source_probs": {"zzz": np.ones((40, 2)) / 2}}, "source_probs has key", id="source-probs-unknown-key"),
    pytest.param({"source_probs": [1]}, "source_probs must be a mapping", id="source-probs-list"),
    pytest.param({"metric_options": [1]}, "metric_options must", id="metric-options-list"),
    pytest.param({"task": "ranking"}, "task must be one of", id="unknown-task"),
    pytest.param({"seed": "a"}, "seed must be an integer", id="string-seed"),
    pytest.param({"device": "tpu"}, "device must be", id="device-tpu"),
])
def test_rank_api_bad_arguments(xy, change, needle):
    x, y = xy
    kwargs = {"features": {"a": x}, "labels": y, "metrics": ["knn"], **change}
    if kwargs["features"] == "list":
        kwargs["features"] = [x]
    with pytest.raises(InputError, match=needle):
        ts.rank(**kwargs)


def test_rank_api_dataset_that_is_a_name():
    with pytest.raises(InputError, match="dataset must be a transferscope Dataset"):
        ts.rank(dataset="sentence-polarity", models=["tfidf"])


def test_rank_api_models_as_one_string_and_layers_as_an_index(tmp_path):
    texts = [f"{w} {i}" for i, w in enumerate(["good film", "bad movie"] * 15)]
    ds = Dataset("toy", texts, ["pos", "neg"] * 15, "classification")
    one = ts.rank(dataset=ds, models="tfidf", layers=0, metrics=["knn"], cache_dir=str(tmp_path), n_jobs=1)
    assert list(one["model"]) == ["tfidf-svd"]  # was build_encoder('t'): "model path 't' does not exist"
    with pytest.raises(InputError, match="pooling must be"):
        ts.rank(dataset=ds, models="tfidf", poolings=5, cache_dir=str(tmp_path))


# -- one store, one writer -------------------------------------------------------------------

HOLD = ("import sys\nfrom transferscope.workflows.store import ResultStore\n"
        "store = ResultStore(sys.argv[1])\nprint('ready', flush=True)\nsys.stdin.read()\n")


def concurrency_suite(folder: Path) -> Path:
    return suite_file(folder, candidates=["tfidf", "hashing"], targets=["sentence-polarity", "word-language"],
                      estimators=["logme", "knn"], max_samples=200)


def stored_cells(store: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT target, candidate, seed, metric, count(*) AS n FROM results "
                           "WHERE kind = 'estimator' GROUP BY ALL").fetchdf()


def test_second_writer_is_told_plainly(work):
    needs_builtin_targets()
    store = work / "r.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = cli("benchmark", suite_file(work), "--store", store, "--cache-dir", work / "c", "-q")
        assert_rejected(result, "r.duckdb", "in use by another process", "--store")
        from transferscope.workflows.store import ResultStore

        with pytest.raises(InputError, match="in use by another process"):
            ResultStore(store)
    finally:
        holder.communicate("", timeout=60)


def test_reader_during_a_run_does_not_kill_it(work):
    """A reader that opens the store while a run writes to it: the run goes on (the reader is
    refused); before, the run's next per-operation connection failed on the reader's lock."""
    needs_builtin_targets()
    import duckdb

    concurrency_suite(work)
    store = work / "r.duckdb"
    proc = cli_process(["benchmark", "suite.yaml", "--store", "r.duckdb", "--cache-dir", "c", "-q"],
                       cwd=work, popen=True)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            con = duckdb.connect(str(store), read_only=True)
        except duckdb.Error:
            time.sleep(0.02)
            continue
        time.sleep(0.3)  # a reader that stays a while
        con.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert (stored_cells(store)["n"] == 1).all()


def test_two_drivers_on_one_store(work):
    """Two runs at once on one store: one runs, the other is told in one line (or, if it starts
    after the first finished, finds every cell stored); never a crash, never a duplicated row."""
    needs_builtin_targets()
    concurrency_suite(work)
    args = ["benchmark", "suite.yaml", "--store", "r.duckdb", "--cache-dir", "c", "-q"]
    procs = [cli_process(args, cwd=work, popen=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert 0 in codes and set(codes) <= {0, 2}, [e[-2000:] for _, e in outputs]
    for code, (_out, err) in zip(codes, outputs):
        assert "Traceback" not in err
        if code == 2:
            lines = [line for line in err.splitlines() if line.strip()]
            assert len(lines) == 1 and "in use by another process" in lines[0], lines
    cells = stored_cells(work / "r.duckdb")
    assert len(cells) == 2 * 2 * 2 and (cells["n"] == 1).all(), cells


def test_api_rank_with_a_cache_folder_that_is_a_file(tmp_path):
    # The API checks its cache folder before any extraction, as the CLI does.
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    from transferscope.datasets.dataset import Dataset

    data = Dataset("d", ["a b", "b c", "c d", "d e"], [0, 1, 0, 1], "classification", "text")
    with pytest.raises(InputError, match=r"cache_dir '.*file/cache' is not a folder"):
        ts.rank(dataset=data, models=["tfidf"], metrics="logme", cache_dir=str(blocker / "cache"))
