"""Word-similarity targets in the benchmark: the truth is the cosine Spearman, the estimators
score pair features, the truth's noise comes from halves of the pairs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from transferscope.errors import InputError
from transferscope.extraction.cache import FeatureCache
from transferscope.extraction.specs import build_encoder
from transferscope.metrics.transferability.logme import logme
from transferscope.probes.similarity import half_split_spearman, pair_product_features, similarity_spearman
from transferscope.workflows.benchmark import run_benchmark
from transferscope.workflows.engine.candidates import encoder_candidates
from transferscope.workflows.pair_targets import PAIR_FEATURES, load_pair_target
from transferscope.workflows.storage.store import ResultStore
from transferscope.workflows.suite import load_suite

pytest.importorskip("gensim", reason="the word-similarity sets ship in gensim's test data (demo extra)")


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (7, 3), elements=st.floats(-1e3, 1e3).filter(lambda v: abs(v) > 1e-3)),
       arrays(np.float64, (7, 3), elements=st.floats(-1e3, 1e3).filter(lambda v: abs(v) > 1e-3)),
       st.floats(1e-3, 1e3))
def test_pair_features_sum_to_the_cosine_and_ignore_scale(a, b, scale):
    feats = pair_product_features(a, b)
    cosine = np.einsum("ij,ij->i", a, b) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(feats.sum(axis=1), cosine, atol=1e-12)
    np.testing.assert_allclose(pair_product_features(scale * a, b), feats, atol=1e-12)


def test_pair_features_refuse_a_zero_row_by_name():
    a = np.ones((3, 2))
    b = np.ones((3, 2))
    b[2] = 0.0
    with pytest.raises(InputError, match="emb_b row 2 is all zeros"):
        pair_product_features(a, b)


def test_half_splits_are_seeded_halves_of_the_pairs():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(30, 5)), rng.normal(size=(30, 5))
    human = rng.normal(size=30)
    values = half_split_spearman(a, b, human, repeats=3, seed=7)
    assert values == half_split_spearman(a, b, human, repeats=3, seed=7)
    assert len(values) == 6 and values != half_split_spearman(a, b, human, repeats=3, seed=8)
    order = np.random.default_rng(7).permutation(30)  # the first half of the first repeat, by hand
    first = order[:15]
    assert values[0] == pytest.approx(similarity_spearman(a[first], b[first], human[first]).score)
    with pytest.raises(InputError, match="repeats"):
        half_split_spearman(a, b, human, repeats=0)


def test_pair_target_rows_follow_the_words():
    target = load_pair_target("wordsim353")
    assert len(target.pairs) == 353 and len(set(target.words)) == len(target.words)
    word_a, word_b = zip(*(text.split("\t") for text in target.pairs.inputs), strict=True)
    assert [target.words[i] for i in target.first] == list(word_a)
    assert [target.words[i] for i in target.second] == list(word_b)


def test_benchmark_on_word_similarity_targets(tmp_path):
    spec = {"name": "pairs", "candidates": ["tfidf", "hashing"], "targets": ["wordsim353"],
            "estimators": ["logme", "knn"], "max_samples": 50}
    store = ResultStore(tmp_path / "r.duckdb")
    cache = str(tmp_path / "c")
    result = run_benchmark(load_suite(spec), store=store, cache_dir=cache, n_jobs=1)
    assert result.computed_cells == 2
    rows = store.table(suite="pairs")
    truth = rows[(rows["kind"] == "probe")]
    assert set(truth["metric"]) == {"spearman"}  # no probe is trained on a similarity target
    target = load_pair_target("wordsim353")  # max_samples does not drop rated pairs
    for model in ("tfidf", "hashing"):
        encoder = build_encoder(model, seed=0)
        (cand,) = encoder_candidates(encoder, target.words, target.words_fingerprint,
                                     layers=encoder.layer_names()[:1], poolings=["mean"], cache=FeatureCache(cache))
        feats = np.asarray(cand.features, dtype=np.float64)
        a, b = feats[target.first], feats[target.second]
        stored = truth[truth["model"] == model].iloc[0]
        settings_ = stored["settings"] if isinstance(stored["settings"], dict) else json.loads(stored["settings"])
        assert stored["value"] == pytest.approx(similarity_spearman(a, b, target.pairs.labels).score, abs=1e-12)
        assert settings_["split_scores"] == pytest.approx(half_split_spearman(a, b, target.pairs.labels, seed=0))
        assert settings_["estimator_features"] == PAIR_FEATURES
        est = rows[(rows["kind"] == "estimator") & (rows["model"] == model) & (rows["metric"] == "logme")]
        expected = logme(pair_product_features(a, b), target.pairs.labels, task="regression")
        assert float(est["value"].iloc[0]) == pytest.approx(expected, rel=1e-9)
    meta = result.meta
    assert {s["truth"] for s in meta["settings"]} == {"spearman"}
    assert all(s["truth_noise"] for s in meta["settings"])  # the halves feed the intervals
    again = run_benchmark(load_suite(spec), store=store, cache_dir=cache, n_jobs=1)
    assert again.computed_cells == 0 and again.skipped_cells == 2


def test_suite_names_the_word_similarity_targets_when_a_target_is_unknown():
    with pytest.raises(InputError, match="word similarity: wordsim353, simlex999"):
        load_suite({"name": "x", "candidates": ["tfidf"], "targets": ["wordsim"]})


def test_a_candidate_with_undefined_truth_is_left_out_of_the_meta_evaluation(tmp_path, tiny_bert_dir):
    # The CLS token at the embedding layer is one vector for every input: all cosines equal, so
    # Spearman is undefined. The cell is stored (NaN), the meta-evaluation leaves it out.
    spec = {"name": "pairs-const", "targets": ["wordsim353"], "estimators": ["logme", "knn"],
            "candidates": ["tfidf", "hashing", {"model": str(tiny_bert_dir), "layers": ["embeddings", "layer_2"],
                                                "poolings": ["cls"]}]}
    store = ResultStore(tmp_path / "r.duckdb")
    result = run_benchmark(load_suite(spec), store=store, cache_dir=str(tmp_path / "c"), n_jobs=1)
    truth = store.table(suite="pairs-const", kind="probe").set_index("candidate")["value"]
    constant = [c for c in truth.index if "| embeddings | cls" in c]
    assert len(constant) == 1 and np.isnan(truth[constant[0]])
    assert result.computed_cells == 4
    assert {s["candidates"] for s in result.meta["settings"]} == {3}


def test_a_regression_target_keeps_r2_as_its_truth_beside_a_similarity_target(tmp_path):
    spec = {"name": "mixed", "candidates": ["tfidf", "hashing"], "targets": ["vader-valence", "wordsim353"],
            "estimators": ["logme"], "max_samples": 120, "probe": "linear"}
    result = run_benchmark(load_suite(spec), store=ResultStore(tmp_path / "r.duckdb"), cache_dir=str(tmp_path / "c"),
                           n_jobs=1)
    truths = {t: {s["truth"] for s, tt in zip(result.meta["settings"], result.meta["target"]) if tt == t}
              for t in ("vader-valence", "wordsim353")}
    assert truths == {"vader-valence": {"r2"}, "wordsim353": {"spearman"}}
