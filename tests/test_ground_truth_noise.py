"""Ground truth with its noise (issue 12, parts 1-2): repeated splits, the corrected standard
error, ties, and meta-evaluation intervals that include the ground truth's noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import transferscope as ts
from transferscope.datasets import Dataset, load_builtin
from transferscope.errors import InputError
from transferscope.metrics.ranking import rank_correlation, rank_correlation_ci
from transferscope.probes.linear import linear_probe
from transferscope.probes.repeated import corrected_standard_error, linear_cv_probe
from transferscope.workflows.engine.scoring import probe_protocol, tied_with_best


def toy(n: int = 90, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    return rng.normal(size=(n, 5)) + 0.8 * y[:, None], y


# -- repeated splits ------------------------------------------------------------------------

@pytest.mark.parametrize(("repeats", "folds"), [(1, 2), (3, 2), (2, 5)])
def test_repeated_splits_partition_every_repeat_and_stratify(repeats, folds):
    x, y = toy()
    splits = Dataset("toy", x, y, "classification").repeated_splits(repeats=repeats, folds=folds, seed=4)
    assert len(splits) == repeats * folds
    for r in range(repeats):
        tests = np.concatenate([s.test for s in splits[r * folds:(r + 1) * folds]])
        assert sorted(tests.tolist()) == list(range(len(y)))  # each sample tested once per repeat
    for s in splits:
        parts = [set(s.train.tolist()), set(s.val.tolist()), set(s.test.tolist())]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert len(parts[0] | parts[1] | parts[2]) == len(y)
        counts = np.bincount(y[s.test], minlength=3)
        assert counts.max() - counts.min() <= 1  # stratified
    again = Dataset("toy", x, y, "classification").repeated_splits(repeats=repeats, folds=folds, seed=4)
    assert all(np.array_equal(a.test, b.test) and np.array_equal(a.val, b.val) for a, b in zip(splits, again))


def test_repeated_splits_regression_and_bad_arguments():
    rng = np.random.default_rng(0)
    ds = Dataset("r", rng.normal(size=(40, 3)), rng.normal(size=40), "regression")
    assert len(ds.repeated_splits(repeats=2, folds=4)) == 8
    for kwargs, needle in (({"repeats": 0}, "repeats"), ({"folds": 1}, "folds"), ({"repeats": 1.5}, "repeats"),
                           ({"val_fraction": 1.0}, "val_fraction")):
        with pytest.raises(InputError, match=needle):
            ds.repeated_splits(**kwargs)


# -- the probe over repeated splits ---------------------------------------------------------

def test_linear_cv_is_the_mean_of_the_linear_probe_on_each_split():
    x, y = toy()
    splits = Dataset("toy", x, y, "classification").repeated_splits(repeats=2, folds=3)
    result = linear_cv_probe(x, y, splits=splits)
    singles = [linear_probe(x, y, splits=(s.train, s.val, s.test)) for s in splits]
    assert result.settings["split_scores"] == [r.score for r in singles]
    assert result.score == pytest.approx(np.mean([r.score for r in singles]), abs=1e-15)
    assert result.metrics["macro_f1"] == pytest.approx(np.mean([r.metrics["macro_f1"] for r in singles]))
    assert result.settings["C_per_split"] == [r.settings["C"] for r in singles]
    n_train = int(np.mean([len(s.train) + len(s.val) for s in splits]))
    n_test = int(np.mean([len(s.test) for s in splits]))
    assert result.metrics["accuracy_se"] == corrected_standard_error(result.settings["split_scores"],
                                                                     n_train=n_train, n_test=n_test)


def test_corrected_standard_error_closed_form_and_larger_than_the_naive_one():
    scores = np.array([0.8, 0.9, 0.85, 0.75])
    expected = np.sqrt((1 / 4 + 40 / 60) * np.var(scores, ddof=1))
    assert corrected_standard_error(scores, n_train=60, n_test=40) == pytest.approx(expected, rel=1e-15)
    assert corrected_standard_error(scores, n_train=60, n_test=40) > np.std(scores, ddof=1) / 2
    assert np.isnan(corrected_standard_error([0.5], n_train=10, n_test=5))


def test_linear_cv_choices_and_mean_do_not_flip_under_rounding_noise():
    """What BLAS differences do to features (relative 1e-13) must not move the chosen C or the mean."""
    ds = load_builtin("sentence-polarity")
    x = ts.ExtractionOptions(use_cache=False)
    from transferscope.workflows.engine.candidates import extract_candidates

    feats = np.asarray(extract_candidates(ds, ["tfidf"], extraction=x)[0].features, dtype=np.float64)
    splits = ds.repeated_splits(seed=0)
    base = linear_cv_probe(feats, ds.labels, splits=splits)
    noisy = feats * (1.0 + 1e-13 * np.random.default_rng(1).standard_normal(feats.shape))
    again = linear_cv_probe(noisy, ds.labels, splits=splits)
    assert again.settings["C_per_split"] == base.settings["C_per_split"]
    assert again.score == base.score


def test_linear_cv_needs_several_splits():
    x, y = toy()
    with pytest.raises(InputError, match="at least two"):
        linear_cv_probe(x, y, splits=[(np.arange(50), np.arange(50, 70), np.arange(70, 90))])


# -- ties -----------------------------------------------------------------------------------

def test_tied_with_best_is_one_standard_error_of_the_difference():
    means = np.array([0.70, 0.74, 0.80, 0.78])
    se = np.array([0.01, 0.02, 0.01, 0.02])
    # differences from the best: 0.10, 0.06, 0, 0.02; their SEs: sqrt(2)*0.01, sqrt(5)*0.01, ...
    assert tied_with_best(means, se).tolist() == [False, False, True, True]
    assert tied_with_best(means, np.zeros(4)).tolist() == [False, False, True, False]


def test_probe_protocol_names():
    assert probe_protocol(True) == "linear_cv" and probe_protocol("linear") == "linear"
    assert probe_protocol(False) is None and probe_protocol(None) is None
    with pytest.raises(InputError, match="probe must be"):
        probe_protocol(3)


def test_rank_marks_candidates_the_probe_cannot_separate():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    signal = rng.normal(size=(80, 4)) + 2.0 * y[:, None]
    features = {"a": signal, "a_copy": signal + 1e-3 * rng.normal(size=signal.shape), "noise": rng.normal(size=(80, 4))}
    table = ts.rank(features=features, labels=y, metrics=["knn"], probe=True, n_jobs=1).table.set_index("candidate")
    assert {"probe_accuracy", "probe_accuracy_se", "probe_tied_with_best"} <= set(table.columns)
    assert table.loc["a", "probe_tied_with_best"] and table.loc["a_copy", "probe_tied_with_best"]
    assert not table.loc["noise", "probe_tied_with_best"]
    single = ts.rank(features=features, labels=y, metrics=["knn"], probe="linear", n_jobs=1).table
    assert "probe_accuracy_se" not in single and "probe_tied_with_best" not in single


# -- meta-evaluation intervals --------------------------------------------------------------

def test_interval_with_a_noiseless_truth_equals_the_candidate_bootstrap():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=20)
    scores = truth + 0.5 * rng.normal(size=20)
    plain = rank_correlation_ci(scores, truth, method="kendall", n_boot=200)
    # Every split measures the same truth: resampling splits changes nothing, but the candidate
    # draws consume the same random stream only without split draws, so compare the widths.
    flat = rank_correlation_ci(scores, truth, method="kendall", n_boot=200, truth_splits=np.repeat(truth[:, None], 3, 1))
    assert plain[0] == flat[0] == rank_correlation(scores, truth, method="kendall")
    assert abs((plain[2] - plain[1]) - (flat[2] - flat[1])) < 0.15
    noisy = truth[:, None] + 3.0 * rng.normal(size=(20, 3))
    wide = rank_correlation_ci(scores, noisy.mean(axis=1), method="kendall", n_boot=200, truth_splits=noisy)
    assert wide[2] - wide[1] > plain[2] - plain[1]


def test_interval_checks_the_split_matrix():
    with pytest.raises(InputError, match="truth_splits must be a"):
        rank_correlation_ci([1, 2, 3], [1, 2, 3], truth_splits=np.ones((2, 3)))
    with pytest.raises(InputError, match="finite"):
        rank_correlation_ci([1, 2, 3], [1, 2, 3], truth_splits=np.array([[1, np.nan], [2, 2], [3, 3]]))


def test_benchmark_meta_rows_carry_intervals_with_the_truth_noise(tmp_path, tiny_bert_dir):
    pytest.importorskip("gensim", reason="the built-in targets need the demo extra")
    from transferscope.workflows.benchmark import interval_display, interval_table, run_benchmark
    from transferscope.workflows.storage.store import ResultStore
    from transferscope.workflows.suite import load_suite

    suite = load_suite({"name": "noise", "candidates": ["tfidf", "hashing", "random:" + str(tiny_bert_dir)],
                        "targets": ["sentence-polarity"], "estimators": ["logme", "knn"], "probe": "linear_cv",
                        "max_samples": 80})
    with ResultStore(tmp_path / "r.duckdb") as store:
        result = run_benchmark(suite, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
        probes = store.table(suite="noise", kind="probe")
    assert probes[probes["metric"] == "accuracy"]["settings"].str.contains("split_scores").all()
    intervals = interval_table(result.meta)
    # one target: no other target for a history prior or a combination
    assert set(intervals["estimator"]) == {"logme", "knn"} and intervals["truth_noise"].all()
    finite = intervals.dropna(subset=["value"])
    assert ((finite["low"] <= finite["value"]) & (finite["value"] <= finite["high"])).all()
    shown = interval_display(result.meta)
    assert shown["sentence-polarity"].str.match(r"^-?\d\.\d{3} \[-?\d\.\d\d, -?\d\.\d\d\]$|^nan$").all()


def test_layers_names_the_layers_the_repeated_probe_cannot_separate():
    from transferscope.workflows.layers import _recommend

    table = pd.DataFrame({"layer": ["a", "b", "c"], "logme": [0.1, 0.3, 0.2], "probe_accuracy": [0.80, 0.79, 0.60],
                          "probe_accuracy_se": [0.02, 0.02, 0.02]})
    profile = _recommend(table, "probe_accuracy", ["logme"], "probe_accuracy")
    assert profile.recommended == "a"
    assert any("over repeated splits): b;" in line for line in profile.evidence)


def test_suite_meta_is_meta_evaluate_on_the_stored_rows(tmp_path, tiny_bert_dir):
    """A suite's meta step is meta_evaluate on its stored rows: the same values and intervals; the
    history prior on a target is the other target's measured accuracy; ``combined``'s weights for a
    target are learned from the other target's stored rows alone."""
    pytest.importorskip("gensim", reason="the built-in targets need the demo extra")
    from transferscope.metrics.combination import learn_rank_weights
    from transferscope.workflows.benchmark import META_BOOTSTRAPS, run_benchmark
    from transferscope.workflows.meta import load_meta_table, meta_evaluate
    from transferscope.workflows.storage.store import ResultStore
    from transferscope.workflows.suite import load_suite

    suite = load_suite({"name": "ens", "candidates": ["tfidf", "hashing", "random:" + str(tiny_bert_dir)],
                        "targets": ["sentence-polarity", "word-language"],
                        "estimators": ["logme", "knn", "hscore"], "max_samples": 60})
    with ResultStore(tmp_path / "r.duckdb") as store:
        meta = run_benchmark(suite, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1).meta
        rows = store.table(suite="ens")
    expected = meta_evaluate(load_meta_table(tmp_path / "r.duckdb", suite="ens"), n_boot=META_BOOTSTRAPS, seed=0)
    table = expected.table.set_index(["target", "method"])
    for _, row in meta.iterrows():
        method, measure = row["metric"].rsplit(":", 1)
        want = table.loc[(row["target"], method)]
        assert row["value"] == pytest.approx(want[measure], abs=1e-12, nan_ok=True)
        if np.isfinite(want[f"{measure}_low"]):  # the linear probe has no repeated splits: the same resamples
            assert (row["settings"]["low"], row["settings"]["high"]) == pytest.approx(
                (want[f"{measure}_low"], want[f"{measure}_high"]))
    taus = meta[meta["metric"].str.endswith(":weighted_kendall")].assign(
        method=lambda t: t["metric"].str.rsplit(":", n=1).str[0])
    probes = rows[(rows["kind"] == "probe") & (rows["metric"] == "accuracy")]
    members = ["hscore", "knn", "logme"]
    for target, other in (("sentence-polarity", "word-language"), ("word-language", "sentence-polarity")):
        own = probes[probes["target"] == target].set_index("candidate")["value"]
        theirs = probes[probes["target"] == other].set_index("candidate")["value"]
        history = taus[(taus["method"] == "prior:history") & (taus["target"] == target)].iloc[0]
        assert history["value"] == pytest.approx(rank_correlation(theirs.reindex(own.index).to_numpy(),
                                                                  own.to_numpy()), abs=1e-12, nan_ok=True)
        combined = taus[(taus["method"] == "combined") & (taus["target"] == target)].iloc[0]
        part = rows[(rows["target"] == other) & (rows["kind"] == "estimator")]
        est = part.pivot_table(index="candidate", columns="metric", values="value").reindex(theirs.index)
        # on the one training target, the history priors are unknown (no third target): constant inputs
        blocks = [(np.column_stack([est[members].to_numpy(), np.zeros((len(est), 2))]), theirs.to_numpy())]
        weights = learn_rank_weights(blocks)
        assert combined["settings"]["training_targets"] == 1
        got = combined["settings"]["weights"]
        np.testing.assert_allclose([got[m] for m in [*members, "prior:history", "prior:history_rank"]],
                                   weights.round(4), atol=1e-4)