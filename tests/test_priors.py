"""Priors in a ranking (rank --prior): resolution, the fitted combination, files and stores left as they were."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import transferscope as ts
from transferscope.cli.app import app
from transferscope.errors import InputError
from transferscope.workflows.priors import apply_priors, check_priors, resolve_prior


def _table():
    return pd.DataFrame({"rank": [1, 2, 3, 4], "candidate": [f"{m} | output | native" for m in
                                                           ("mpnet", "minilm", "glove", "tfidf-svd")],
                         "model": ["mpnet", "minilm", "glove", "tfidf-svd"], "dim": [768, 384, 50, 199],
                         "logme": [-0.5, -0.6, -0.7, -0.8], "knn": [0.8, 0.7, 0.6, 0.5]})


def test_builtin_priors_say_what_they_hold():
    table = _table()
    params = resolve_prior("params", table)
    assert params.values.tolist() == [109486464.0, 22713216.0, 20000000.0, 0.0]
    assert resolve_prior("width", table).values.tolist() == [768, 384, 50, 199]
    mteb = resolve_prior("mteb", table)
    # published for the two transformers only: GloVe's published average is of its 300-d vectors
    assert mteb.values[:2].tolist() == [57.78, 56.26] and np.isnan(mteb.values[2:]).all()
    assert "mtebpaper" in mteb.provenance
    with pytest.raises(InputError, match="--prior must be params, width"):
        check_priors(["params", "nope"])
    with pytest.raises(InputError, match="each prior once"):
        check_priors(["params", "params"])


def _store(path, targets=("a", "b", "c", "sentence-polarity"), seed=0):
    from transferscope.workflows.storage.store import ResultStore

    rng = np.random.default_rng(seed)
    quality = {"mpnet | output | native": 3.0, "minilm | output | native": 2.0, "glove | output | native": 1.0,
               "tfidf-svd | tfidf-svd | none": 0.0}
    rows = []
    for target in targets:
        for cand, q in quality.items():
            truth = q + rng.normal(scale=0.3)
            rows += [{"run": "r", "suite": "s", "target": target, "candidate": cand, "kind": "probe",
                      "metric": "accuracy", "value": truth, "seed": 0},
                     {"run": "r", "suite": "s", "target": target, "candidate": cand, "kind": "estimator",
                      "metric": "logme", "value": rng.normal(), "seed": 0},  # useless here
                     {"run": "r", "suite": "s", "target": target, "candidate": cand, "kind": "estimator",
                      "metric": "knn", "value": truth + rng.normal(scale=0.2), "seed": 0}]
    with ResultStore(path) as store:
        store.add_rows(rows)


def test_history_from_a_store_leaves_the_target_out_and_fits_the_combination(tmp_path):
    path = tmp_path / "r.duckdb"
    _store(path)
    before = path.read_bytes()
    table = _table()
    prior = resolve_prior(str(path), table, target="sentence-polarity")
    assert "sentence-polarity left out" in prior.provenance and "3 target(s)" in prior.provenance
    assert prior.values.tolist() == sorted(prior.values.tolist(), reverse=True)  # the history's order
    ranked = apply_priors(table, [prior], estimators=["logme", "knn"], target="sentence-polarity")
    notes = " ".join(ranked.attrs["prior_notes"])
    assert "fitted on 3 target(s)" in notes and "kept the prior's pick" in notes
    weights = ranked.attrs["combined_weights"]
    assert set(weights) == {"logme", "knn", "prior:history"} and weights["logme"] < 0.1 < weights["knn"]  # the useless estimator gets (almost) nothing
    assert ranked["rank"].tolist() == [1, 2, 3, 4] and ranked["combined"].is_monotonic_decreasing
    assert path.read_bytes() == before  # read-only
    # the store's rows of the target itself never enter: changing them changes nothing
    import duckdb

    other = tmp_path / "other.duckdb"
    _store(other, seed=0)
    with duckdb.connect(str(other)) as con:
        con.execute("UPDATE results SET value = -10 * value WHERE target = 'sentence-polarity'")
    again = apply_priors(table, [resolve_prior(str(other), table, target="sentence-polarity")],
                         estimators=["logme", "knn"], target="sentence-polarity")
    np.testing.assert_allclose(again["combined"], ranked["combined"])


def test_a_prior_file_and_the_unfitted_combination(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    features = {"good": rng.normal(size=(80, 4)) + 3 * y[:, None], "weak": rng.normal(size=(80, 4)) + 0.3 * y[:, None],
                "noise": rng.normal(size=(80, 4))}
    (tmp_path / "p.csv").write_text("candidate,value\nnoise,9\nweak,5\ngood,1\n")
    ranking = ts.rank(features=features, labels=y, metrics=["logme"], prior=str(tmp_path / "p.csv"))
    table = ranking.table
    assert list(table.columns[-2:]) == ["prior:p", "combined"]
    notes = ranking.prior_notes
    assert any("not fitted" in n for n in notes)
    assert any("moved the pick from noise" in n for n in notes)  # the prior's pick was the worst candidate
    (tmp_path / "bad.csv").write_text("model,value\na,1\nb,high\n")
    with pytest.raises(InputError, match="row 1: value 'high' is not a number"):
        ts.rank(features=features, labels=y, metrics=["logme"], prior=str(tmp_path / "bad.csv"))
    (tmp_path / "cols.csv").write_text("name,score\na,1\n")
    with pytest.raises(InputError, match="needs the columns model"):
        ts.rank(features=features, labels=y, metrics=["logme"], prior=str(tmp_path / "cols.csv"))


def test_cli_rank_with_a_prior(tmp_path):
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 30)
    for name, shift in (("a", 3.0), ("b", 0.0)):
        np.save(tmp_path / f"{name}.npy", rng.normal(size=(60, 5)) + shift * y[:, None])
    np.save(tmp_path / "y.npy", y)
    (tmp_path / "p.csv").write_text("candidate,value\na,1\nb,2\n")
    runner = CliRunner()
    args = ["rank", "--features", str(tmp_path / "a.npy"), "--features", str(tmp_path / "b.npy"),
            "--labels", str(tmp_path / "y.npy"), "--metric", "logme"]
    out = runner.invoke(app, [*args, "--prior", str(tmp_path / "p.csv")])
    assert out.exit_code == 0, out.output
    assert "by combined" in out.output and "Prior: prior:p alone picks b" in out.output
    bad = runner.invoke(app, [*args, "--prior", "parms"])
    assert bad.exit_code == 2 and "--prior must be params" in bad.output


def test_select_probes_in_the_combined_order(tmp_path):
    from transferscope.datasets import load_builtin
    from transferscope.workflows.engine.candidates import ExtractionOptions
    from transferscope.workflows.select import select

    (tmp_path / "p.csv").write_text("model,value\nhashing-svd,10\ntfidf-svd,1\n")
    choice = select(dataset=load_builtin("sentence-polarity"), models=["tfidf", "hashing"], budget=4,
                    prior=str(tmp_path / "p.csv"), extraction=ExtractionOptions(use_cache=False), n_jobs=1)
    assert {"prior:p", "combined"} <= set(choice.table.columns)
    assert any(line.startswith("prior: ") and "prior:p alone picks hashing-svd" in line for line in choice.log)
    with pytest.raises(InputError, match="--prior must be"):
        select(dataset=load_builtin("sentence-polarity"), models=["tfidf", "hashing"], prior="nope")


def test_the_rank_answer_names_the_pick_who_agrees_and_what_the_probe_measured():
    from transferscope.workflows.rank import rank_answer

    table = pd.DataFrame({"candidate": ["a", "b", "c"], "logme": [-0.2, -0.5, -0.9], "hscore": [1.0, 1.0, 0.4],
                          "knn": [0.6, 0.9, 0.1], "probe_accuracy": [0.80, 0.85, 0.5]})
    line = rank_answer(table, ["logme", "hscore", "knn"])
    # hscore ties a with b (saturated): it agrees; knn disagrees; the probe measured b best
    assert line == ("Answer: a ranks first by logme; hscore agrees; knn puts b first; the probe measured b best "
                    "(accuracy 0.850 against 0.800).")
    with_prior = table.assign(combined=[0.9, 0.5, 0.1])
    assert rank_answer(with_prior, ["logme"], names=["A", "B", "C"]).startswith("Answer: A ranks first by combined; logme agrees")
