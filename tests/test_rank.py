"""The rank workflow: feature mode, model mode with caching, table content."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import transferscope as ts
from transferscope.datasets import Dataset
from transferscope.errors import InputError
from transferscope.extraction.hf import HFEncoder
from transferscope.workflows.storage.results import write_table

TEXTS = [f"{w} {i}" for i, w in enumerate(["good film", "bad movie", "great plot", "awful acting"] * 10)]
LABELS = np.array(["pos", "neg", "pos", "neg"] * 10)


def test_rank_features_table():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    table = ts.rank(features={"good": rng.normal(size=(90, 5)) + 3 * np.eye(3, 5)[y],
                              "noise": rng.normal(size=(90, 5))}, labels=y).table
    assert list(table["candidate"]) == ["good", "noise"]
    assert list(table["rank"]) == [1, 2]
    assert {"logme", "hscore", "knn", "dim"} <= set(table.columns)
    assert table["logme"].is_monotonic_decreasing


def test_rank_features_values_equal_score():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 40)
    feats = {"a": rng.normal(size=(80, 4)) + y[:, None], "b": rng.normal(size=(80, 4))}
    table = ts.rank(features=feats, labels=y, metrics="logme,knn", n_jobs=1).table.set_index("candidate")
    for name, f in feats.items():
        assert table.loc[name, "logme"] == ts.score("logme", f, y)
        assert table.loc[name, "knn"] == ts.score("knn", f, y)


def test_rank_regression_rejects_hscore():
    rng = np.random.default_rng(2)
    with pytest.raises(InputError, match="hscore' does not support regression"):
        ts.rank(features={"a": rng.normal(size=(20, 3))}, labels=rng.normal(size=20))
    table = ts.rank(features={"a": rng.normal(size=(20, 3))}, labels=rng.normal(size=20), metrics="logme,knn").table
    assert np.isfinite(table["logme"]).all()


def test_rank_models_uses_cache(tiny_bert_dir, cache_dir, monkeypatch):
    ds = Dataset("toy", TEXTS, LABELS, "classification")
    calls = {"n": 0}
    original = HFEncoder.encode

    def counting(self, *args, **kwargs):
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HFEncoder, "encode", counting)
    first = ts.rank(dataset=ds, models=[str(tiny_bert_dir), f"random:{tiny_bert_dir}", "tfidf"], layers="all",
                    poolings="mean,cls", metrics=["logme", "knn"], probe=True, extraction=ts.ExtractionOptions(cache_dir=cache_dir)).table
    assert calls["n"] == 2  # one pass per torch model (all layers and poolings at once)
    assert len(first) == 3 * 2 + 3 * 2 + 1
    second = ts.rank(dataset=ds, models=[str(tiny_bert_dir), f"random:{tiny_bert_dir}", "tfidf"], layers="all",
                     poolings="mean,cls", metrics=["logme", "knn"], probe=True, extraction=ts.ExtractionOptions(cache_dir=cache_dir)).table
    assert calls["n"] == 2  # nothing re-encoded
    pd.testing.assert_frame_equal(first, second)
    assert {"probe_accuracy", "probe_macro_f1", "probe_setting"} <= set(first.columns)
    assert first["logme"].is_monotonic_decreasing


def test_rank_layer_selection(tiny_bert_dir, cache_dir):
    ds = Dataset("toy", TEXTS, LABELS, "classification")
    table = ts.rank(dataset=ds, models=[str(tiny_bert_dir)], layers="0,-1", metrics="logme", extraction=ts.ExtractionOptions(cache_dir=cache_dir)).table
    assert sorted(table["layer"]) == ["embeddings", "layer_2"]
    with pytest.raises(InputError, match="unknown layer"):
        ts.rank(dataset=ds, models=[str(tiny_bert_dir)], layers="layer_7", extraction=ts.ExtractionOptions(cache_dir=cache_dir))
    with pytest.raises(InputError, match="pooling must be one of"):
        ts.rank(dataset=ds, models=[str(tiny_bert_dir)], poolings="median", extraction=ts.ExtractionOptions(cache_dir=cache_dir))


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_write_table_roundtrip(tmp_path, suffix):
    table = pd.DataFrame({"candidate": ["a", "b"], "logme": [-0.5, -0.7]})
    path = write_table(table, tmp_path / f"out{suffix}")
    back = {".csv": pd.read_csv, ".json": pd.read_json, ".parquet": pd.read_parquet}[suffix](path)
    pd.testing.assert_frame_equal(back, table)
    with pytest.raises(InputError, match="must end in"):
        write_table(table, tmp_path / "out.xlsx")


def test_scorer_on_error_nan_keeps_the_other_cells():
    from transferscope.workflows.engine.candidates import feature_candidates
    from transferscope.workflows.engine.scoring import Scorer

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    cands = feature_candidates({"a": rng.normal(size=(40, 3)) + y[:, None], "b": rng.normal(size=(40, 3))})
    options = {"knn": {"k": 50}}  # more neighbours than samples: knn rejects every candidate
    with pytest.raises(InputError, match="k must be"):
        Scorer(["logme", "knn"], task="classification", options=options, n_jobs=1).score(cands, y)
    scores = Scorer(["logme", "knn"], task="classification", options=options, n_jobs=1, on_error="nan").score(cands, y)
    table = scores.to_frame()
    assert table["knn"].isna().all() and np.isfinite(table["logme"]).all()
    assert any("knn: gave NaN on a candidate" in w for w in scores.warnings)
    with pytest.raises(InputError, match="on_error"):
        Scorer(["logme"], task="classification", on_error="skip")


def test_score_cache_never_stores_a_rejection(tmp_path):
    from transferscope.workflows.engine.candidates import feature_candidates
    from transferscope.workflows.engine.score_cache import ScoreCache
    from transferscope.workflows.engine.scoring import Scorer

    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 20)
    cands = feature_candidates({"a": rng.normal(size=(40, 3))})
    args = dict(task="classification", options={"knn": {"k": 50}}, n_jobs=1, cache=ScoreCache(str(tmp_path)))
    assert Scorer(["knn"], on_error="nan", **args).score(cands, y).to_frame()["knn"].isna().all()
    with pytest.raises(InputError, match="k must be"):  # the NaN above was not cached
        Scorer(["knn"], **args).score(cands, y)
