"""Predicted probe accuracy (issue 12, part 4): the learning curve, the prediction, its interval,
and how ``rank`` shows it. Coverage on real targets is measured by benchmarks/bench_prediction.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import transferscope as ts
from transferscope.cli.app import app
from transferscope.datasets import Dataset
from transferscope.errors import InputError
from transferscope.probes import learning_curve
from transferscope.probes.learning_curve import fit_learning_curve, predict_probe_score, prediction_interval
from transferscope.probes.repeated import linear_cv_probe


@given(b=st.floats(0.05, 5.0), c=st.floats(0.0, 1.0), m0=st.integers(10, 1000))
@settings(max_examples=50, deadline=None)
def test_fit_recovers_an_exact_power_law(b: float, c: float, m0: int) -> None:
    sizes = np.array([m0, 2 * m0, 4 * m0], dtype=float)
    curve = fit_learning_curve(sizes, b * sizes ** (-c))
    assert curve.c == pytest.approx(c, abs=1e-9)
    assert curve.error(8 * m0) == pytest.approx(b * (8 * m0) ** (-c), rel=1e-9)


def test_fit_clips_the_exponent_to_the_meaningful_range() -> None:
    # error rising with more data (noise) is fitted flat: no gain is extrapolated
    flat = fit_learning_curve([100, 200, 400], [0.30, 0.32, 0.34])
    assert flat.c == 0.0 and flat.error(800) == pytest.approx(np.exp(np.mean(np.log([0.30, 0.32, 0.34]))))
    # faster than the parametric rate is capped at c = 1
    assert fit_learning_curve([100, 200, 400], [0.8, 0.1, 0.01]).c == 1.0
    # a perfect score does not give log(0)
    assert np.isfinite(fit_learning_curve([100, 200], [0.0, 0.0]).error(400))


@pytest.mark.parametrize("sizes, errors", [([100], [0.2]), ([100, 100], [0.2, 0.1]), ([100, 200], [0.2, np.nan]),
                                           ([0, 200], [0.2, 0.1])])
def test_fit_refuses_what_cannot_be_a_curve(sizes: list, errors: list) -> None:
    with pytest.raises(InputError):
        fit_learning_curve(sizes, errors)


def test_interval_uses_the_level_quantiles_and_clips_to_the_metric_range() -> None:
    q = {0.1: -2.0, 0.9: 1.0, 0.05: -3.0, 0.95: 2.0}
    assert prediction_interval(0.5, 0.1, level=0.8, quantiles=q) == pytest.approx((0.3, 0.6))
    assert prediction_interval(0.5, 0.1, level=0.9, quantiles=q) == pytest.approx((0.2, 0.7))
    assert prediction_interval(0.95, 0.1, quantiles=q) == pytest.approx((0.75, 1.0))  # accuracy <= 1
    assert prediction_interval(0.05, 0.1, quantiles=q)[0] == 0.0  # accuracy >= 0
    assert prediction_interval(-0.5, 0.1, metric="r2", quantiles=q)[0] == pytest.approx(-0.7)  # R^2 has no floor
    with pytest.raises(InputError, match="level"):
        prediction_interval(0.5, 0.1, level=0.7)


def _blobs(n: int = 600, shift: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3)
    centres = rng.normal(size=(3, 16)) * shift
    return rng.normal(size=(n, 16)) + centres[y], y


def test_prediction_fits_only_subsamples_of_four_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _blobs()
    splits = Dataset("b", x, y, "classification").repeated_splits()
    sizes: list[int] = []
    from transferscope.probes import linear

    real = linear.linear_probe

    def counting(features, labels, *, splits, task):  # type: ignore[no-untyped-def]
        sizes.append(len(splits[0]) + len(splits[1]))
        return real(features, labels, splits=splits, task=task)

    monkeypatch.setattr(linear, "linear_probe", counting)
    pred = predict_probe_score(x, y, splits=splits)
    full = len(splits[0].train) + len(splits[0].val)
    assert len(sizes) == 4 * 3  # 4 splits x 3 fractions
    assert max(sizes) <= full / 2 + 1  # never the full training part: nothing of the truth is fitted
    assert pred.settings["full_size"] == pytest.approx(full, abs=1)


def test_prediction_is_seeded_and_near_the_measured_probe_on_clean_data() -> None:
    x, y = _blobs()
    splits = Dataset("b", x, y, "classification").repeated_splits()
    first = predict_probe_score(x, y, splits=splits)
    assert predict_probe_score(x, y, splits=splits) == first
    assert predict_probe_score(x, y, splits=splits, seed=1).settings["curve_scores"] != first.settings["curve_scores"]
    truth = linear_cv_probe(x, y, splits=splits).score
    assert first.low <= first.value <= first.high
    assert abs(first.value - truth) < 0.05, (first.value, truth)
    # more data helps here: the prediction lies above the score at half the training size
    assert first.value >= first.settings["curve_scores"][-1]


def test_prediction_for_regression_is_r2() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6))
    y = x @ rng.normal(size=6) + 0.5 * rng.normal(size=400)
    splits = Dataset("r", x, y, "regression").repeated_splits()
    pred = predict_probe_score(x, y, splits=splits, task="regression")
    assert pred.metric == "r2" and pred.value <= 1 and pred.high <= 1
    assert abs(pred.value - linear_cv_probe(x, y, splits=splits, task="regression").score) < 0.05


def test_prediction_refuses_too_few_samples_and_bad_options() -> None:
    x, y = _blobs(n=30)
    splits = Dataset("b", x, y, "classification").repeated_splits()
    with pytest.raises(InputError, match="too few samples"):
        predict_probe_score(x, y, splits=splits, fractions=(0.01, 0.02))
    with pytest.raises(InputError, match="fractions"):
        predict_probe_score(x, y, splits=splits, fractions=(0.5,))
    with pytest.raises(InputError, match="fractions"):
        predict_probe_score(x, y, splits=splits, fractions=(0.5, 1.0))
    with pytest.raises(InputError, match="n_splits"):
        predict_probe_score(x, y, splits=splits, n_splits=1)
    with pytest.raises(InputError, match="splits"):
        predict_probe_score(x, y, splits=splits[:1])


def test_rank_shows_the_prediction_beside_the_probe_at_the_level_asked() -> None:
    x, y = _blobs()
    features = {"good": x, "noise": np.random.default_rng(1).normal(size=x.shape)}
    table = ts.rank(features=features, labels=y, metrics=["logme"], predict=True, probe=True, n_jobs=1).table
    assert {"predicted_accuracy", "predicted_accuracy_low", "predicted_accuracy_high"} <= set(table)
    good = table.set_index("candidate").loc["good"]
    assert good["predicted_accuracy_low"] <= good["predicted_accuracy"] <= good["predicted_accuracy_high"]
    noise = table.set_index("candidate").loc["noise"]
    assert noise["predicted_accuracy"] < good["predicted_accuracy"]
    wide = ts.rank(features=features, labels=y, metrics=["logme"], predict=0.95, n_jobs=1).table.set_index("candidate")
    assert wide.loc["good", "predicted_accuracy"] == good["predicted_accuracy"]
    assert (wide.loc["good", "predicted_accuracy_high"] - wide.loc["good", "predicted_accuracy_low"]
            >= good["predicted_accuracy_high"] - good["predicted_accuracy_low"])
    with pytest.raises(InputError, match="predict"):
        ts.rank(features=features, labels=y, predict=0.7)


def test_cached_prediction_is_recalibrated_not_read_stale(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from transferscope.workflows.engine.candidates import feature_candidates
    from transferscope.workflows.engine.score_cache import ScoreCache
    from transferscope.workflows.engine.scoring import Scorer

    x, y = _blobs()
    splits = tuple((s.train, s.val, s.test) for s in Dataset("b", x, y, "classification").repeated_splits())
    cands = feature_candidates({"good": x}, n_samples=len(y))

    def predicted() -> object:
        scorer = Scorer(["knn"], task="classification", n_jobs=1, cache=ScoreCache(tmp_path), predict=0.8,
                        predict_splits=splits)
        return scorer.score(cands, y).rows[0].prediction

    first = predicted()
    monkeypatch.setattr(learning_curve, "RESIDUAL_QUANTILES", {**learning_curve.RESIDUAL_QUANTILES, 0.9: 10.0})
    again = predicted()
    assert again.value == first.value and again.scale == first.scale  # read from the cache
    assert again.high > first.high  # the interval follows the calibration in force


def test_rank_cli_prints_the_interval_and_refuses_a_bad_level(tmp_path) -> None:  # type: ignore[no-untyped-def]
    x, y = _blobs()
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "y.npy", y)
    runner = CliRunner()
    out = runner.invoke(app, ["rank", "--features", str(tmp_path / "a.npy"), "--labels", str(tmp_path / "y.npy"),
                              "--metric", "logme", "--predict", "--output", str(tmp_path / "r.csv")])
    assert out.exit_code == 0, out.output
    assert "predicted_accuracy" in out.output and "[" in out.output
    import pandas as pd

    written = pd.read_csv(tmp_path / "r.csv")
    assert {"predicted_accuracy", "predicted_accuracy_low", "predicted_accuracy_high"} <= set(written)
    bad = runner.invoke(app, ["rank", "--features", str(tmp_path / "a.npy"), "--labels", str(tmp_path / "y.npy"),
                              "--predict", "--predict-level", "0.5"])
    assert bad.exit_code == 2 and "--predict-level" in bad.output
