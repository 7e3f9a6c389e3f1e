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
from transferscope.workflows.scoring import probe_protocol, tied_with_best


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
    from transferscope.workflows.candidates import extract_candidates

    feats = np.asarray(extract_candidates(ds, ["tfidf"], options=x)[0].features, dtype=np.float64)
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
    table = ts.rank(features=features, labels=y, metrics=["knn"], probe=True, n_jobs=1).set_index("candidate")
    assert {"probe_accuracy", "probe_accuracy_se", "probe_tied_with_best"} <= set(table.columns)
    assert table.loc["a", "probe_tied_with_best"] and table.loc["a_copy", "probe_tied_with_best"]
    assert not table.loc["noise", "probe_tied_with_best"]
    single = ts.rank(features=features, labels=y, metrics=["knn"], probe="linear", n_jobs=1)
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
    from transferscope.workflows.store import ResultStore
    from transferscope.workflows.suite import load_suite

    suite = load_suite({"name": "noise", "candidates": ["tfidf", "hashing", "random:" + str(tiny_bert_dir)],
                        "targets": ["sentence-polarity"], "estimators": ["logme", "knn"], "probe": "linear_cv",
                        "max_samples": 80})
    with ResultStore(tmp_path / "r.duckdb") as store:
        result = run_benchmark(suite, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
        probes = store.table(suite="noise", kind="probe")
    assert probes[probes["metric"] == "accuracy"]["settings"].str.contains("split_scores").all()
    intervals = interval_table(result.meta)
    assert set(intervals["estimator"]) == {"logme", "knn", "mean_rank_all"} and intervals["truth_noise"].all()
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


def test_leave_one_target_out_ensemble_is_chosen_on_the_other_targets(tmp_path, tiny_bert_dir):
    """mean_rank_loto's members for a target are the best estimators by mean weighted tau on the
    other targets only; mean_rank_all averages every estimator's rank."""
    pytest.importorskip("gensim", reason="the built-in targets need the demo extra")
    from transferscope.metrics.ranking import mean_rank
    from transferscope.workflows.benchmark import ENSEMBLE_SIZE, run_benchmark
    from transferscope.workflows.store import ResultStore
    from transferscope.workflows.suite import load_suite

    suite = load_suite({"name": "ens", "candidates": ["tfidf", "hashing", "random:" + str(tiny_bert_dir)],
                        "targets": ["sentence-polarity", "word-language"],
                        "estimators": ["logme", "knn", "hscore", "gbc"], "max_samples": 60})
    with ResultStore(tmp_path / "r.duckdb") as store:
        meta = run_benchmark(suite, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1).meta
        rows = store.table(suite="ens", kind="estimator")
        probes = store.table(suite="ens", kind="probe")
    taus = meta[meta["metric"].str.endswith(":weighted_kendall")].assign(
        estimator=lambda t: t["metric"].str.split(":").str[0])
    singles = taus[~taus["estimator"].str.startswith(("mean_rank", "learned_", "prior_history", "history+"))]
    for target, other in (("sentence-polarity", "word-language"), ("word-language", "sentence-polarity")):
        # The history prior on this target is the other target's measured accuracy, rank-scaled.
        history = taus[(taus["estimator"] == "prior_history") & (taus["target"] == target)].iloc[0]
        own = probes[(probes["target"] == target) & (probes["metric"] == "accuracy")].set_index("candidate")["value"]
        theirs = probes[(probes["target"] == other) & (probes["metric"] == "accuracy")].set_index("candidate")["value"]
        assert history["value"] == pytest.approx(rank_correlation(theirs.reindex(own.index).to_numpy(), own.to_numpy(),
                                                                  method="weighted_kendall"), abs=1e-12, nan_ok=True)
        loto = taus[(taus["estimator"] == "mean_rank_loto") & (taus["target"] == target)]
        assert len(loto) == 1
        ranked = singles[singles["target"] == other].sort_values("value", ascending=False, kind="stable")
        assert loto.iloc[0]["settings"]["members"] == list(ranked["estimator"][:ENSEMBLE_SIZE])
        # mean_rank_all on this target equals the mean rank recomputed from the stored scores
        est = rows[rows["target"] == target].pivot_table(index="candidate", columns="metric", values="value")
        combined = mean_rank(est[["gbc", "hscore", "knn", "logme"]].to_numpy())
        truth = probes[(probes["target"] == target) & (probes["metric"] == "accuracy")].set_index("candidate")["value"]
        everything = taus[(taus["estimator"] == "mean_rank_all") & (taus["target"] == target)].iloc[0]
        assert everything["value"] == pytest.approx(
            rank_correlation(combined, truth.reindex(est.index).to_numpy(), method="weighted_kendall"), abs=1e-12, nan_ok=True)
        assert sorted(everything["settings"]["members"]) == ["gbc", "hscore", "knn", "logme"]


def test_learned_combination_is_fitted_on_other_targets_and_other_suites_only(tmp_path, tiny_bert_dir):
    """learned_loto's weights for a target are those learned from the other target's stored rows
    alone; learned_loso appears only once the store holds another suite, fitted on its targets."""
    pytest.importorskip("gensim", reason="the built-in targets need the demo extra")
    from transferscope.metrics.combination import learn_rank_weights, weighted_rank
    from transferscope.workflows.benchmark import LEARNED_ALPHA, run_benchmark
    from transferscope.workflows.store import ResultStore
    from transferscope.workflows.suite import load_suite

    base = {"candidates": ["tfidf", "hashing", "random:" + str(tiny_bert_dir)],
            "estimators": ["logme", "knn", "hscore"], "max_samples": 60}
    first = load_suite({"name": "one", "targets": ["sentence-polarity", "word-language"], **base})
    second = load_suite({"name": "two", "targets": ["vader-polarity"], **base})
    with ResultStore(tmp_path / "r.duckdb") as store:
        meta = run_benchmark(first, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1).meta
        rows = store.table(suite="one")
        meta_two = run_benchmark(second, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1).meta
    taus = meta[meta["metric"].str.endswith(":weighted_kendall")].assign(
        estimator=lambda t: t["metric"].str.split(":").str[0])
    assert "learned_loso" not in set(taus["estimator"])  # no other suite in the store yet
    members = ["hscore", "knn", "logme"]
    for target, other in (("sentence-polarity", "word-language"), ("word-language", "sentence-polarity")):
        row = taus[(taus["estimator"] == "learned_loto") & (taus["target"] == target)].iloc[0]
        part = rows[rows["target"] == other]
        est = part[part["kind"] == "estimator"].pivot_table(index="candidate", columns="metric", values="value")
        truth = part[(part["kind"] == "probe") & (part["metric"] == "accuracy")].set_index("candidate")["value"]
        expected = learn_rank_weights([(est[members].to_numpy(), truth.reindex(est.index).to_numpy())],
                                      alpha=LEARNED_ALPHA)
        assert row["settings"]["members"] == members and row["settings"]["training_targets"] == 1
        np.testing.assert_allclose(row["settings"]["weights"], expected.round(4), atol=1e-4)
        mine = rows[(rows["target"] == target) & (rows["kind"] == "estimator")].pivot_table(
            index="candidate", columns="metric", values="value")
        mine_truth = rows[(rows["target"] == target) & (rows["kind"] == "probe")
                          & (rows["metric"] == "accuracy")].set_index("candidate")["value"]
        combined = weighted_rank(mine[members].to_numpy(), expected)
        assert row["value"] == pytest.approx(rank_correlation(
            combined, mine_truth.reindex(mine.index).to_numpy(), method="weighted_kendall"), abs=1e-3, nan_ok=True)
    taus_two = meta_two[meta_two["metric"].str.endswith(":weighted_kendall")]
    loso = taus_two[taus_two["metric"].str.startswith("learned_loso:")]
    assert len(loso) == 1 and loso.iloc[0]["settings"]["training_targets"] == 2  # the two targets of suite one
    assert not taus_two["metric"].str.startswith("learned_loto:").any()  # suite two has one target only
