"""Estimators that need the source classifier: source_probs from a classification head."""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.datasets import Dataset
from transferscope.extraction.hf import HFEncoder

torch = pytest.importorskip("torch")

TEXTS = [f"{w} {i}" for i, w in enumerate(["good film", "bad movie", "great plot", "awful acting"] * 10)]
LABELS = np.array(["pos", "neg", "pos", "neg"] * 10)


def test_classifier_checkpoint_exposes_head_softmax(tiny_classifier_dir):
    enc = HFEncoder(str(tiny_classifier_dir))
    assert enc.has_classification_head() and enc.all_layers()[-1] == "head"
    out = enc.encode(TEXTS[:5], layers=["layer_2", "head"], poolings=["mean"])
    probs = out[("head", "softmax")]
    assert probs.shape == (5, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(tiny_classifier_dir).eval()
    tok = AutoTokenizer.from_pretrained(tiny_classifier_dir)
    with torch.no_grad():
        expected = model(**tok(TEXTS[:5], padding=True, return_tensors="pt")).logits.softmax(-1).numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-5)


def test_rank_feeds_head_probs_to_leep_and_nce(tiny_classifier_dir, tiny_bert_dir, cache_dir):
    ds = Dataset("toy", TEXTS, LABELS, "classification")
    ranking = ts.rank(dataset=ds, models=[str(tiny_classifier_dir), str(tiny_bert_dir)], layers="last",
                      metrics="logme,leep,nce", extraction=ts.ExtractionOptions(cache_dir=cache_dir), n_jobs=1)
    table = ranking.table
    by_model = table.set_index("model")
    assert "head" not in set(table["layer"])  # the head feeds estimators, it is not a candidate
    assert np.isfinite(by_model.loc[str(tiny_classifier_dir), "leep"])
    assert np.isnan(by_model.loc[str(tiny_bert_dir), "leep"])
    assert any("needs source_probs" in w for w in ranking.warnings)
    probs = HFEncoder(str(tiny_classifier_dir)).encode(TEXTS, layers=["head"], poolings=["mean"])[("head", "softmax")]
    feats = HFEncoder(str(tiny_classifier_dir)).encode(TEXTS, layers=["layer_2"], poolings=["mean"])[("layer_2", "mean")]
    assert by_model.loc[str(tiny_classifier_dir), "leep"] == pytest.approx(
        ts.score("leep", feats, LABELS, source_probs=probs), rel=1e-5)


def test_rank_features_with_source_probs():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    probs = np.c_[0.9 - 0.8 * y, 0.1 + 0.8 * y]
    table = ts.rank(features={"a": rng.normal(size=(40, 3))}, labels=y, source_probs={"a": probs},
                    metrics="nce,leep").table
    assert table.loc[0, "nce"] == pytest.approx(0.0, abs=1e-12)  # labels are a function of the argmax
