"""Meta-evaluation of any table: published tables, the history prior, the combination, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from transferscope.cli.app import app
from transferscope.errors import InputError
from transferscope.workflows.meta import history_scores, load_meta_table, meta_evaluate


def _means(result):
    return result.table[result.table["target"] == "mean"].set_index("method")


def test_published_tables_reproduce_the_published_and_the_issue_numbers():
    from transferscope.workflows.published.literature import read_published

    result = meta_evaluate("published:tllib-10x8", n_boot=100)
    means = _means(result)["weighted_kendall"].round(3)
    # the mean weighted tau of each published score over the 8 targets, and the prior that beats them
    # (each model's mean fine-tuned accuracy on the other 7 targets), as computed in issue 23
    assert means[["nce", "logme", "hscore", "leep", "prior:history"]].tolist() == [0.687, 0.670, 0.650, 0.419, 0.757]
    # per target, where the published 10-model scores reproduce the README's weighted tau (test_literature)
    per_target = result.table.set_index(["target", "method"])["weighted_kendall"]
    published = {(r["target"], r["estimator"]): float(r["weighted_tau"])
                 for r in read_published("tllib_correlations.csv")}
    for key in [("cifar10", "logme"), ("cars", "nce"), ("sun397", "hscore"), ("dtd", "leep")]:
        assert round(per_target[key], 3) == published[key]
    sfda = meta_evaluate("published:sfda-11x11", n_boot=100)
    assert round(_means(sfda).loc["prior:history", "weighted_kendall"], 3) == 0.837
    assert set(sfda.table["method"]) == {"prior:history", "prior:history_rank", "prior:imagenet", "combined"}
    # the published ImageNet top-1 of each torchvision model, a fact that never looks at the target
    sfda_means, tllib_means = _means(sfda)["weighted_kendall"].round(3), means
    assert sfda_means["prior:imagenet"] == 0.654 and tllib_means["prior:imagenet"] == 0.724
    assert (_means(sfda)["kind"]["prior:imagenet"], _means(result)["kind"]["prior:imagenet"]) == ("prior", "prior")


def _synthetic(n_targets=6, n_candidates=12, seed=0, shared=1.0):
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=n_candidates)  # what transfers everywhere
    rows = []
    for t in range(n_targets):
        truth = shared * quality + 0.5 * rng.normal(size=n_candidates)
        good = truth + 0.3 * rng.normal(size=n_candidates)
        for c in range(n_candidates):
            rows += [{"target": f"t{t}", "candidate": f"c{c}", "metric": "truth", "value": truth[c]},
                     {"target": f"t{t}", "candidate": f"c{c}", "metric": "good", "value": good[c]},
                     {"target": f"t{t}", "candidate": f"c{c}", "metric": "noise", "value": rng.normal()},
                     {"target": f"t{t}", "candidate": f"c{c}", "metric": "size", "value": quality[c] + rng.normal()}]
    return pd.DataFrame(rows)


def test_the_combination_never_sees_the_target_it_is_scored_on():
    frame = _synthetic()
    base = meta_evaluate(frame, priors=["size"], n_boot=50)
    # change everything about target t0's truth: the weights used to score t0 must not move
    changed = frame.copy()
    mask = (changed["target"] == "t0") & (changed["metric"] == "truth")
    changed.loc[mask, "value"] = np.random.default_rng(5).permutation(changed.loc[mask, "value"].to_numpy())
    again = meta_evaluate(changed, priors=["size"], n_boot=50)
    w0, w1 = base.weights.set_index("target"), again.weights.set_index("target")
    np.testing.assert_allclose(w0.loc["t0"].to_numpy(), w1.loc["t0"].to_numpy())
    assert not np.allclose(w0.loc["t1"].to_numpy(), w1.loc["t1"].to_numpy())  # t0 trains the others' weights
    # ... and the history prior of a target is built from the other targets only
    truths = {t: part.set_index("candidate")["value"] for t, part in frame[frame["metric"] == "truth"].groupby("target")}
    candidates = list(truths["t0"].index)
    moved = {**truths, "t0": truths["t0"] * -1}
    np.testing.assert_allclose(history_scores(truths, candidates, exclude=["t0"]),
                               history_scores(moved, candidates, exclude=["t0"]))
    # the learned weights favour the informative inputs, and the combination is not worse than its best input
    assert w0["noise"].max() < 0.15 and w0["good"].min() > 0.3
    means = _means(base)["weighted_kendall"]
    assert means["combined"] >= means["good"] - 0.05 and means["prior:size"] > means["noise"]
    kinds = _means(base)["kind"]
    assert kinds["prior:size"] == kinds["prior:history"] == "prior" and kinds["good"] == "estimator"


def test_orientation_intervals_and_gains():
    frame = _synthetic(n_targets=8, shared=0.2)  # what transfers depends mostly on the target
    flipped = frame.copy()
    flipped.loc[flipped["metric"] == "good", "value"] *= -1
    a = meta_evaluate(frame, n_boot=200)
    b = meta_evaluate(flipped, lower_is_better=["good"], n_boot=200)
    cols = ["weighted_kendall", "weighted_kendall_low", "weighted_kendall_high", "top1", "regret@1"]
    pd.testing.assert_frame_equal(a.table[cols], b.table[cols])
    t = a.table
    finite = t.dropna(subset=["weighted_kendall_low"])
    assert (finite["weighted_kendall_low"] <= finite["weighted_kendall_high"]).all()
    assert set(t["top1"].dropna()) <= {0.0, 1.0} or (t["target"] == "mean").any()
    gains = a.gains.set_index("method")
    best = gains["best_prior"].iloc[0]
    assert gains.loc[best, "gain"] == 0 and gains.loc[best, "gain_low"] == gains.loc[best, "gain_high"] == 0
    assert gains.loc["good", "gain_low"] > 0  # an estimator far better than the history prior, beyond the noise
    assert "beat the best prior" in a.answer()[0]
    summary = a.summary()
    assert list(summary.columns)[-2:] == ["mean", "gain over best prior"] and summary["method"].iloc[0] in (
        "good", "combined")


def test_bad_tables_are_refused_naming_the_problem(tmp_path):
    frame = _synthetic(n_targets=3)
    with pytest.raises(InputError, match="lacks value"):
        meta_evaluate(frame.drop(columns="value"))
    with pytest.raises(InputError, match="appears twice"):
        meta_evaluate(pd.concat([frame, frame.iloc[:1]]))
    with pytest.raises(InputError, match="no metric 'accuracy'"):
        meta_evaluate(frame, truth="accuracy")
    with pytest.raises(InputError, match="lacks: params"):
        meta_evaluate(frame, priors=["params"])
    bad = frame.astype({"value": object})
    bad.loc[7, "value"] = "n/a"
    with pytest.raises(InputError, match="row 7: value 'n/a' is not a number"):
        meta_evaluate(bad)
    with pytest.raises(InputError, match="published:tllib-10x8"):
        meta_evaluate("published:nope")


def test_a_results_store_is_read_without_changing_a_byte(tmp_path):
    from transferscope.workflows.storage.store import ResultStore

    path = tmp_path / "r.duckdb"
    rng = np.random.default_rng(0)
    with ResultStore(path) as store:
        rows = []
        for target in ("a", "b", "c"):
            for c in range(5):
                truth = float(c + rng.normal(scale=0.1))
                rows += [{"run": "r", "suite": "s", "target": target, "candidate": f"m{c}", "kind": "probe",
                          "metric": "accuracy", "value": truth, "seed": 0},
                         {"run": "r", "suite": "s", "target": target, "candidate": f"m{c}", "kind": "estimator",
                          "metric": "logme", "value": truth + rng.normal(), "seed": 0}]
        store.add_rows(rows)
    before = path.read_bytes()
    frame = load_meta_table(path)
    assert set(frame["metric"]) == {"truth", "logme"} and len(frame) == 30
    result = meta_evaluate(frame, n_boot=50)
    assert {"logme", "prior:history", "combined"} <= set(result.table["method"])
    assert path.read_bytes() == before
    with pytest.raises(InputError, match="--suite 'x' is not in"):
        load_meta_table(path, suite="x")


def test_cli_meta(tmp_path):
    runner = CliRunner()
    frame = _synthetic(n_targets=4)
    frame.to_csv(tmp_path / "t.csv", index=False)
    out = runner.invoke(app, ["meta", str(tmp_path / "t.csv"), "--prior", "size", "--n-boot", "50",
                              "--output", str(tmp_path / "m.json")])
    assert out.exit_code == 0, out.output
    assert "Best on average" in out.output and "prior:size" in out.output
    rows = json.loads((tmp_path / "m.json").read_text())
    assert {r["method"] for r in rows} >= {"good", "noise", "prior:size", "prior:history", "combined"}
    for bad, message in ((["--prior", "params"], "lacks: params"), (["--measure", "auc"], "--measure must be"),
                         (["--truth", "acc"], "no metric 'acc'")):
        result = runner.invoke(app, ["meta", str(tmp_path / "t.csv"), *bad])
        assert result.exit_code == 2 and message in result.output, result.output
    missing = runner.invoke(app, ["meta", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2


def test_cli_meta_shows_the_mean_only_when_the_targets_do_not_fit(tmp_path):
    """Many targets (100 columns of intervals) made a table of empty slivers: the terminal shows
    the mean and the gain, and says where every target's row is."""
    runner = CliRunner()
    frame = _synthetic(n_targets=12)
    frame.to_csv(tmp_path / "t.csv", index=False)
    out = runner.invoke(app, ["meta", str(tmp_path / "t.csv"), "--n-boot", "20", "--output", str(tmp_path / "m.csv")])
    assert out.exit_code == 0, out.output
    assert "12 targets: the table shows their mean" in out.output and "m.csv" in out.output
    header = next(line for line in out.output.splitlines() if "method" in line)
    assert "mean" in header and "gain over best prior" in header and "t0" not in header
    _synthetic(n_targets=3).to_csv(tmp_path / "few.csv", index=False)
    few = runner.invoke(app, ["meta", str(tmp_path / "few.csv"), "--n-boot", "20"])
    assert few.exit_code == 0 and "the table shows their mean" not in few.output
    header = next(line for line in few.output.splitlines() if "method" in line)
    assert all(t in header for t in ("t0", "t1", "t2", "mean"))  # 3 targets fit: each has its column


def test_the_history_prior_of_each_target_is_history_scores_of_the_others():
    from transferscope.metrics.ranking import rank_correlation

    frame = _synthetic(n_targets=5)
    frame = frame[~((frame["target"] == "t2") & (frame["candidate"] == "c3"))]  # one candidate unmeasured on t2
    result = meta_evaluate(frame, n_boot=20).table.set_index(["target", "method"])
    truths = {t: part.set_index("candidate")["value"] for t, part in frame[frame["metric"] == "truth"].groupby("target")}
    for target, truth in truths.items():
        for method, ranks in (("prior:history", False), ("prior:history_rank", True)):
            expected = rank_correlation(history_scores(truths, list(truth.index), exclude=[target], ranks=ranks),
                                        truth.to_numpy())
            assert result.loc[(target, method), "weighted_kendall"] == pytest.approx(expected, abs=1e-12)


def test_equal_records_give_exactly_equal_history_priors():
    """Two candidates with the same truth on every target tie in both history priors (a tie that
    the rounding of a sum's order must not break: ranks tie often), on every target."""
    rng = np.random.default_rng(2)
    rows = []
    for t in range(9):
        values = rng.random(7).round(3)
        values[6] = values[5]  # c5 and c6: the same record everywhere
        rows += [{"target": f"t{t}", "candidate": f"c{c}", "metric": "truth", "value": v} for c, v in enumerate(values)]
    frame = pd.DataFrame(rows)
    truths = {t: part.set_index("candidate")["value"] for t, part in frame.groupby("target")}
    for target in truths:
        for ranks in (False, True):
            scores = history_scores(truths, [f"c{c}" for c in range(7)], exclude=[target], ranks=ranks)
            assert scores[5] == scores[6]
    # on the published 10 x 8 table the rank form has such ties: scored with them, 0.680
    means = _means(meta_evaluate("published:tllib-10x8", n_boot=20))
    assert round(means.loc["prior:history_rank", "weighted_kendall"], 3) == 0.680


def test_all_combiners_are_shown_beside_the_kept_one_and_none_sees_its_target():
    from transferscope.metrics.combination import COMBINERS
    from transferscope.workflows.meta import COMBINER

    frame = _synthetic(n_targets=7)
    plain = meta_evaluate(frame, priors=["size"], n_boot=30)
    full = meta_evaluate(frame, priors=["size"], n_boot=30, all_combiners=True)
    kinds = _means(full)["kind"]
    others = [f"combined:{m}" for m in COMBINERS if m != COMBINER] + ["combined:chosen"]
    assert all(kinds[m] == "combined" for m in ["combined", *others]) and "combined:rank-weights" not in kinds
    pd.testing.assert_frame_equal(plain.table[plain.table["method"] == "combined"].reset_index(drop=True),
                                  full.table[full.table["method"] == "combined"].reset_index(drop=True))
    weights = full.weights.set_index("target")
    assert set(weights["chosen"]) <= set(COMBINERS)
    assert {f"validation:{m}" for m in COMBINERS} <= set(weights.columns)
    # the choice for t0 is made on the other targets only: t0's truth permuted, the same choice and weights
    changed = frame.copy()
    mask = (changed["target"] == "t0") & (changed["metric"] == "truth")
    changed.loc[mask, "value"] = np.random.default_rng(1).permutation(changed.loc[mask, "value"].to_numpy())
    again = meta_evaluate(changed, priors=["size"], n_boot=30, all_combiners=True).weights.set_index("target")
    pd.testing.assert_series_equal(weights.loc["t0"], again.loc["t0"])
    scored = full.table.set_index(["target", "method"])
    for method in others:
        assert np.isfinite(scored.loc[("t0", method), "weighted_kendall"])


def test_leave_one_suite_out_fits_on_the_other_suites_only():
    frame = _synthetic(n_targets=6)
    frame["target"] = frame["target"].map({f"t{i}": f"{'ab'[i % 2]}/t{i}" for i in range(6)})
    frame = pd.concat([frame, _synthetic(n_targets=3, seed=4).assign(
        target=lambda f: "c/" + f["target"])], ignore_index=True)
    base = meta_evaluate(frame, by_suite=True, n_boot=20)
    changed = frame.copy()
    mask = (changed["target"] == "a/t2") & (changed["metric"] == "truth")  # a target of a/t0's own suite
    changed.loc[mask, "value"] = changed.loc[mask, "value"].to_numpy()[::-1]
    again = meta_evaluate(changed, by_suite=True, n_boot=20)
    w0, w1 = base.weights.set_index("target"), again.weights.set_index("target")
    assert w0.loc["a/t0", "training_targets"] == 6  # the 3 of suite b and the 3 of suite c
    np.testing.assert_allclose(w0.loc["a/t0", ["good", "noise"]].to_numpy(dtype=float),
                               w1.loc["a/t0", ["good", "noise"]].to_numpy(dtype=float))
    assert "leave-one-suite-out" in base.settings["combination"]


def test_a_method_on_fewer_targets_is_compared_with_the_prior_on_those_targets_only():
    frame = _synthetic(n_targets=6)
    frame = frame[~((frame["metric"] == "good") & frame["target"].isin(["t0", "t1", "t2"]))]  # good on 3 targets
    result = meta_evaluate(frame, n_boot=50)
    per_target = result.table[result.table["target"] != "mean"].pivot_table(index="target", columns="method",
                                                                          values="weighted_kendall")
    gains = result.gains.set_index("method")
    prior = gains["best_prior"].iloc[0]
    assert prior.startswith("prior:history")
    shared = per_target["good"].dropna().index
    assert gains.loc["good", "targets"] == 3
    assert gains.loc["good", "gain"] == pytest.approx((per_target.loc[shared, "good"]
                                                       - per_target.loc[shared, prior]).mean())
    if gains.loc["good", "gain_low"] > 0:
        assert "good (on its 3 targets)" in result.answer()[0]


def test_with_the_truths_splits_the_value_is_against_the_truth_and_the_interval_wider():
    """A truth that is not the mean of its splits (a Spearman over all pairs against those over
    halves): the value is the correlation with the truth itself; only the resamples use the splits."""
    from transferscope.metrics.ranking import rank_correlation

    frame = _synthetic(n_targets=4, n_candidates=15)
    truths = frame[frame["metric"] == "truth"]
    rng = np.random.default_rng(3)
    splits = {t: pd.DataFrame(part.set_index("candidate")["value"].to_numpy()[:, None] + 0.8 + rng.normal(size=(15, 4)),
                              index=part["candidate"]) for t, part in truths.groupby("target")}
    plain = meta_evaluate(frame, n_boot=200).table.set_index(["target", "method"])
    noisy = meta_evaluate(frame, truth_splits=splits, n_boot=200).table.set_index(["target", "method"])
    for target, part in frame.groupby("target"):
        wide = part.pivot_table(index="candidate", columns="metric", values="value")
        assert noisy.loc[(target, "good"), "weighted_kendall"] == pytest.approx(
            rank_correlation(wide["good"].to_numpy(), wide["truth"].to_numpy()), abs=1e-12)
        assert noisy.loc[(target, "good"), "truth_noise"] and not plain.loc[(target, "good"), "truth_noise"]
    width = lambda t: (t["weighted_kendall_high"] - t["weighted_kendall_low"]).xs("good", level="method").mean()  # noqa: E731
    assert width(noisy) > width(plain)
