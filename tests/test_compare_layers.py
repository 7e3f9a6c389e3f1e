"""``compare`` and ``layers`` (workflows and commands) and the similarity calibration helpers,
on the shipped MiniLM model and the built-in sentence-polarity data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import transferscope as ts
from transferscope.cli.app import app
from transferscope.datasets import load_builtin
from transferscope.errors import InputError
from transferscope.workflows.compare import compare, similarity_matrix, write_heatmap
from transferscope.workflows.layers import layer_profile

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def polarity():
    return load_builtin("sentence-polarity")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("compare-cache"))


# ----------------------------------------------------------------------------- matrices


def test_similarity_matrix_square_symmetric_and_rectangular():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(80, 6))
    reps = {"a": a, "scaled": 5 * a, "noise": rng.normal(size=(80, 4))}
    m = similarity_matrix(reps)
    assert list(m.index) == list(m.columns) == ["a", "scaled", "noise"]
    np.testing.assert_allclose(m.to_numpy(), m.to_numpy().T)
    np.testing.assert_allclose(np.diag(m.to_numpy()), 1.0)
    assert m.loc["a", "scaled"] == pytest.approx(1.0)
    assert m.loc["a", "noise"] == pytest.approx(ts.similarity("cka", a, reps["noise"]))
    rect = similarity_matrix({"a": a}, {"scaled": 5 * a, "noise": reps["noise"]}, measure="procrustes")
    assert rect.shape == (1, 2) and rect.loc["a", "scaled"] == pytest.approx(0.0, abs=1e-7)


def test_asymmetric_measure_fills_both_triangles():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 5))
    reps = {"x": x, "y": x[:, :2] + 0.3 * rng.normal(size=(60, 2))}
    m = similarity_matrix(reps, measure="linear_regression")
    assert m.loc["x", "y"] == pytest.approx(ts.similarity("linear_regression", x, reps["y"]))
    assert m.loc["y", "x"] == pytest.approx(ts.similarity("linear_regression", reps["y"], x))
    assert m.loc["x", "y"] != pytest.approx(m.loc["y", "x"])


def test_compare_features_errors():
    x = np.ones((10, 3))
    with pytest.raises(InputError, match="at least two"):
        compare(features={"x": x})
    with pytest.raises(InputError, match="same number of rows"):
        compare(features={"x": np.random.default_rng(0).normal(size=(10, 3)), "y": np.ones((9, 3))})
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        compare(features={"x": x, "y": x}, measure="nope")
    with pytest.raises(InputError, match="unknown metric 'logme'"):
        compare(features={"x": x, "y": x}, measure="logme")  # an estimator is not a similarity


# ----------------------------------------------------------------------------- real model


def test_compare_layers_of_minilm(polarity, minilm_path, shared_cache, tmp_path):
    result = compare(inputs=polarity, models=[minilm_path], layers="all", measure="cka", extraction=ts.ExtractionOptions(cache_dir=shared_cache))
    m = result.matrix
    assert list(m.index)[:2] == ["embeddings", "layer_1"] and "output" in m.index
    np.testing.assert_allclose(np.diag(m.to_numpy()), 1.0)
    # Nearby layers of a trained transformer are more alike than distant ones.
    assert m.loc["layer_1", "layer_2"] > m.loc["layer_1", "layer_6"]
    assert m.loc["layer_5", "layer_6"] > m.loc["embeddings", "layer_6"]
    assert len(result.pairs) == m.size and set(result.pairs.columns) == {"row", "column", "measure", "value"}
    path = write_heatmap(result, tmp_path / "cka.png")
    assert (tmp_path / "cka.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.endswith("cka.png")


def test_compare_two_models_is_layer_by_layer(polarity, minilm_path, shared_cache):
    result = compare(inputs=list(polarity.inputs), models=[minilm_path, f"random:{minilm_path}"],
                     layers="1,2,3", measure="mutual_knn", extraction=ts.ExtractionOptions(cache_dir=shared_cache))
    assert result.matrix.shape == (3, 3)
    assert all(" | layer_" in r for r in result.matrix.index)
    assert all(c.startswith("random:") for c in result.matrix.columns)
    assert ((result.matrix.to_numpy() >= 0) & (result.matrix.to_numpy() <= 1)).all()


def test_layer_profile_recommends_with_evidence(polarity, minilm_path, shared_cache):
    profile = layer_profile(dataset=polarity, model=minilm_path, extraction=ts.ExtractionOptions(cache_dir=shared_cache), n_jobs=1)
    table = profile.table
    assert list(table["layer"]) == ["embeddings", *(f"layer_{i}" for i in range(1, 7)), "output"]
    for column in ("twonn", "rankme", "anisotropy", "cka_prev", "mutual_knn_prev", "logme", "knn",
                   "probe_accuracy"):
        assert column in table, column
    assert np.isnan(table["cka_prev"].iloc[0]) and table["cka_prev"].iloc[1:].between(0, 1).all()
    best = table.loc[table["probe_accuracy"].idxmax(), "layer"]
    assert profile.recommended == best and profile.basis == "probe_accuracy"
    assert set(profile.agreement) == {"logme", "knn"}
    assert any("weighted Kendall tau" in line for line in profile.evidence)
    # Without a probe the first estimator decides.
    quick = layer_profile(dataset=polarity, model=minilm_path, extraction=ts.ExtractionOptions(cache_dir=shared_cache), probe=False,
                          geometry=["twonn"], n_jobs=1)
    assert quick.basis == "logme" and quick.recommended == quick.table.loc[quick.table["logme"].idxmax(), "layer"]


# ----------------------------------------------------------------------------- commands


def test_compare_command_writes_table_and_heatmap(minilm_path, shared_cache, tmp_path):
    out, png = tmp_path / "pairs.csv", tmp_path / "heat.svg"
    result = invoke("compare", "--dataset", "sentence-polarity", "--model", minilm_path, "--layers", "all",
                    "--measure", "cka", "--output", str(out), "--heatmap", str(png),
                    "--cache-dir", shared_cache, "-q")
    assert result.exit_code == 0, result.output
    assert "layer_6" in result.output
    pairs = pd.read_csv(out)
    assert len(pairs) == 64 and (pairs["measure"] == "cka").all()
    assert png.read_text().lstrip().startswith("<?xml")


def test_compare_command_features_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4))
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", x @ rng.normal(size=(4, 3)))
    ok = invoke("compare", "--features", str(tmp_path / "a.npy"), "--features", str(tmp_path / "b.npy"),
                "--measure", "cca")
    assert ok.exit_code == 0, ok.output
    for args, message in [
        (["--measure", "nope"], "unknown metric"),
        (["--heatmap", str(tmp_path / "h.gif")], "--heatmap must end in"),
        (["--output", str(tmp_path / "o.txt")], "--output must end in"),
    ]:
        bad = invoke("compare", "--features", str(tmp_path / "a.npy"), "--features", str(tmp_path / "b.npy"), *args)
        assert bad.exit_code == 2 and message in bad.output, bad.output
    neither = invoke("compare", "--model", "tfidf")
    assert neither.exit_code == 2 and "--data" in neither.output


def test_layers_command(minilm_path, shared_cache, tmp_path):
    out = tmp_path / "profile.json"
    result = invoke("layers", "--model", minilm_path, "--dataset", "sentence-polarity", "--cache-dir", shared_cache,
                    "--geometry", "twonn,effective_rank", "--output", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert "Recommended layer:" in result.output and "weighted Kendall tau" in result.output
    assert len(pd.read_json(out)) == 8
    bad = invoke("layers", "--model", minilm_path, "--dataset", "sentence-polarity", "--geometry", "logme")
    assert bad.exit_code == 2 and "unknown metric 'logme'" in bad.output


# ----------------------------------------------------------------------------- calibration


def test_permutation_test_separates_related_from_independent():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 10))
    related = ts.similarity_permutation_test("cka", x, x[:, :4] + 0.5 * rng.normal(size=(60, 4)), n_permutations=99)
    assert related.p_value == pytest.approx(0.01)
    independent = ts.similarity_permutation_test("cka", x, rng.normal(size=(60, 4)), n_permutations=99)
    assert independent.p_value > 0.05
    # Biased CKA of independent data is well above 0 here: the null shows the chance level.
    assert independent.null_mean > 0.05 and abs(independent.value - independent.null_mean) < 4 * independent.null_std
    distance = ts.similarity_permutation_test("procrustes", x[:, :4], x[:, :4] + 0.1 * rng.normal(size=(60, 4)),
                                              n_permutations=49)
    assert distance.p_value == pytest.approx(0.02)  # small distances are the extreme ones


def test_bootstrap_interval_and_errors():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 5))
    y = x + rng.normal(size=(100, 5))
    value, low, high = ts.similarity_bootstrap_ci("cka", x, y, n_boot=100, seed=3)
    assert low < value < high and high - low < 0.3
    assert ts.similarity_bootstrap_ci("cka", x, y, n_boot=100, seed=3) == (value, low, high)  # seeded
    with pytest.raises(InputError, match="level"):
        ts.similarity_bootstrap_ci("cka", x, x, level=1.0)
    with pytest.raises(InputError, match="n_permutations"):
        ts.similarity_permutation_test("cka", x, x, n_permutations=0)
    with pytest.raises(InputError, match="does not take option"):
        ts.similarity_permutation_test("cka", x, x, k=3)


def test_recommendation_flags_layers_the_probe_cannot_separate():
    from transferscope.workflows.layers import _recommend

    table = pd.DataFrame({"layer": ["a", "b", "c"], "logme": [0.1, 0.3, 0.2],
                          "probe_accuracy": [0.80, 0.795, 0.70]})
    profile = _recommend(table, "probe_accuracy", ["logme"], "probe_accuracy", n_test=1000)
    assert profile.recommended == "a"
    se_line = next(line for line in profile.evidence if "standard error" in line)
    assert "(0.0126, 1000 test samples)" in se_line and ": b;" in se_line  # c is 0.10 behind
    assert profile.agreement["logme"] == pytest.approx(
        ts.rank_correlation([0.1, 0.3, 0.2], [0.80, 0.795, 0.70], method="weighted_kendall"))
    assert any("logme" in line and "would pick b" in line for line in profile.evidence)


def test_compare_with_permutation_tests(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(60, 6))
    reps = {"x": x, "related": x[:, :3] + 0.3 * rng.normal(size=(60, 3)), "noise": rng.normal(size=(60, 3))}
    result = compare(features=reps, measure="cka", n_permutations=19, seed=2)
    p = result.pairs.set_index(["row", "column"])["p_value"]
    assert np.isnan(p[("x", "x")])
    assert p[("x", "related")] == pytest.approx(0.05) and p[("related", "x")] == p[("x", "related")]
    assert p[("x", "noise")] > 0.05
    null = result.pairs.set_index(["row", "column"])["null_mean"]
    assert 0 < null[("x", "noise")] < result.matrix.loc["x", "related"]
    assert "p_value" not in compare(features=reps).pairs
    for name, array in reps.items():
        np.save(tmp_path / f"{name}.npy", array)
    out = tmp_path / "pairs.csv"
    cli = invoke("compare", *(f"--features={tmp_path / n}.npy" for n in reps), "--permutations", "19",
                 "--output", str(out))
    assert cli.exit_code == 0 and "largest p-value" in cli.output
    assert "p_value" in pd.read_csv(out)


def test_short_labels_stay_distinct():
    from transferscope.workflows.storage.names import short_names

    assert short_names(["/a/b/minilm/model", "random:/a/b/minilm/model", "tfidf-svd"]) == {
        "/a/b/minilm/model": "minilm/model", "random:/a/b/minilm/model": "random:minilm/model",
        "tfidf-svd": "tfidf-svd"}
    assert set(short_names(["/x/one/model", "/y/one/model"]).values()) == {"x/one/model", "y/one/model"}


def test_layer_profile_with_the_probe_alone(polarity):
    profile = layer_profile(dataset=polarity, model="tfidf", metrics=[], extraction=ts.ExtractionOptions(use_cache=False), n_jobs=1)
    assert profile.basis == "probe_accuracy" and profile.agreement == {}
    assert not {"knn", "logme"} & set(profile.table.columns)
    with pytest.raises(InputError, match="at least one estimator or probe=True"):
        layer_profile(dataset=polarity, model="tfidf", metrics=[], probe=False, extraction=ts.ExtractionOptions(use_cache=False))


def test_pairs_keep_every_cell_in_matrix_order():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 4))
    reps = {"x": x, "y": x + rng.normal(size=(40, 4)), "z": rng.normal(size=(40, 4))}
    result = compare(features=reps, measure="cka")
    assert list(zip(result.pairs["row"], result.pairs["column"])) == [(a, b) for a in reps for b in reps]
    np.testing.assert_array_equal(result.pairs["value"], result.matrix.to_numpy().ravel())


def test_compare_command_max_samples_never_hides_unequal_rows(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.normal(size=(100, 4)))
    np.save(tmp_path / "b.npy", rng.normal(size=(90, 4)))
    np.save(tmp_path / "c.npy", rng.normal(size=(100, 4)))
    bad = invoke("compare", "--features", str(tmp_path / "a.npy"), "--features", str(tmp_path / "b.npy"),
                 "--max-samples", "50")
    assert bad.exit_code == 2 and "same number of rows" in bad.output
    out = tmp_path / "p.csv"
    ok = invoke("compare", "--features", str(tmp_path / "a.npy"), "--features", str(tmp_path / "c.npy"),
                "--max-samples", "50", "--measure", "cka", "--output", str(out))
    assert ok.exit_code == 0, ok.output
    a, c = np.load(tmp_path / "a.npy"), np.load(tmp_path / "c.npy")
    rows = sorted(np.random.default_rng(0).permutation(100)[:50].tolist())
    assert pd.read_csv(out).query("row == 'a' and column == 'c'")["value"].item() == pytest.approx(
        ts.similarity("cka", a[rows], c[rows]))
