"""Retrieval metrics (mAP, Recall@k, nDCG@k through FAISS) against scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, ndcg_score

from transferscope.errors import InputError
from transferscope.metrics.retrieval import retrieval_scores, search_gallery


def _data(seed=0, n_q=40, n_g=300, dim=16, classes=5):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dim))
    g_labels = rng.integers(0, classes, n_g)
    q_labels = rng.integers(0, classes, n_q)
    gallery = centres[g_labels] + 1.5 * rng.normal(size=(n_g, dim))
    queries = centres[q_labels] + 1.5 * rng.normal(size=(n_q, dim))
    return queries, gallery, q_labels, g_labels


def test_metrics_equal_scikit_learn_per_query():
    queries, gallery, q_labels, g_labels = _data()
    got = retrieval_scores(queries, gallery, q_labels, g_labels, ks=(1, 5, 10))
    cos = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ (
        gallery / np.linalg.norm(gallery, axis=1, keepdims=True)).T
    relevant = (g_labels[None, :] == q_labels[:, None]).astype(int)
    ap = [average_precision_score(relevant[i], cos[i]) for i in range(len(queries))]
    assert got["map"] == pytest.approx(np.mean(ap), abs=1e-12)
    for k in (1, 5, 10):
        assert got[f"ndcg@{k}"] == pytest.approx(ndcg_score(relevant, cos, k=k), abs=1e-12)
        top = np.argsort(-cos, axis=1)[:, :k]
        assert got[f"recall@{k}"] == pytest.approx(np.mean(relevant[np.arange(40)[:, None], top].any(axis=1)))
    assert got["n_queries"] == 40 and got["n_queries_without_relevant"] == 0


def test_the_ranks_equal_a_stable_sort_of_the_float32_scores_ties_included(monkeypatch):
    """The float metrics come from each relevant item's rank (no ranking of the whole gallery is
    built): equal, ties included (duplicated gallery rows, rounded vectors), to sorting each row
    of the float32 scores stably and reading the ranking, in one block and in blocks of 3 rows
    (equal vectors tie in any block: the products are float64, rounded to float32)."""
    import transferscope.metrics.retrieval as retrieval
    from transferscope.metrics._normalize import unit_rows

    rng = np.random.default_rng(7)
    for trial in range(24):
        n_q, n_g, dim, classes = rng.integers(5, 120), rng.integers(20, 400), rng.integers(2, 16), rng.integers(2, 20)
        g_labels, q_labels = rng.integers(0, classes, n_g), rng.integers(0, classes + 3, n_q)
        gallery = rng.normal(size=(classes, dim))[g_labels] + rng.normal(size=(n_g, dim))
        queries = rng.normal(size=(n_q, dim))
        if trial % 3 == 0:
            gallery[rng.integers(0, n_g, n_g // 4)] = gallery[0]  # duplicates: tied scores
        if trial % 4 == 0:
            gallery, queries = np.round(gallery) + 0.25, np.round(queries) + 0.5  # many ties
        for metric in ("cosine", "inner_product"):
            q, g = (unit_rows(queries), unit_rows(gallery)) if metric == "cosine" else (queries, gallery)
            scores = (q @ g.T).astype(np.float32)
            sums = retrieval.ranking_metrics(np.argsort(-scores, axis=1, kind="stable"), q_labels, g_labels)
            expected = {k: v / sums["n_queries"] for k, v in sums.items() if not k.startswith("n_")}
            # in blocks of 3 rows the products are other BLAS calls: vectors whose cosines are equal
            # only in exact arithmetic (the rounded ones) may then round apart, so only duplicates
            for block in (None, 3) if trial % 4 else (None,):
                if block:
                    monkeypatch.setattr(retrieval, "_BLOCK_ELEMENTS", block * n_g)
                got = retrieval_scores(queries, gallery, q_labels, g_labels, metric=metric)
                assert {k: got[k] for k in expected} == pytest.approx(expected, abs=1e-12), (trial, metric, block)
            monkeypatch.undo()


def test_blocks_of_queries_give_the_one_block_result(monkeypatch):
    import transferscope.metrics.retrieval as retrieval

    queries, gallery, q_labels, g_labels = _data(seed=1, n_q=50)
    whole = retrieval_scores(queries, gallery, q_labels, g_labels)
    monkeypatch.setattr(retrieval, "_QUERY_BLOCK", 7)
    assert retrieval_scores(queries, gallery, q_labels, g_labels) == pytest.approx(whole, abs=1e-12)


def test_queries_without_a_relevant_item_are_counted_and_left_out():
    queries, gallery, q_labels, g_labels = _data(seed=2)
    q_labels = q_labels.copy()
    q_labels[:3] = 99  # no gallery item has label 99
    got = retrieval_scores(queries, gallery, q_labels, g_labels)
    rest = retrieval_scores(queries[3:], gallery, q_labels[3:], g_labels)
    assert got["n_queries_without_relevant"] == 3 and got["map"] == pytest.approx(rest["map"], abs=1e-12)
    with pytest.raises(InputError, match="no query has a relevant gallery item"):
        retrieval_scores(queries, gallery, np.full(40, 99), g_labels)


def test_cosine_ignores_scale_and_a_rotation_of_both_sides_changes_nothing():
    queries, gallery, q_labels, g_labels = _data(seed=3)
    base = retrieval_scores(queries, gallery, q_labels, g_labels)
    rot, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(16, 16)))
    assert retrieval_scores(5 * queries @ rot, 0.1 * gallery @ rot, q_labels, g_labels) == pytest.approx(base, abs=1e-9)


def test_hamming_search_returns_the_nearest_codes_and_rescoring_reranks_them():
    rng = np.random.default_rng(4)
    gallery = (rng.normal(size=(200, 64)) > 0).astype(np.float64)
    queries = rng.normal(size=(10, 64))
    found = search_gallery(queries, gallery, 5, metric="hamming")
    distance = ((queries[:, None, :] > 0) != (gallery[None] > 0.5)).sum(axis=2)
    for i in range(10):
        np.testing.assert_array_equal(np.sort(distance[i][found[i]]), np.sort(distance[i])[:5])
    head = search_gallery(queries, gallery, 20, metric="hamming")
    rescored = search_gallery(queries, gallery, 5, metric="hamming", rescore=4)
    for i in range(10):
        scores = queries[i] @ (2 * gallery[head[i]] - 1).T
        np.testing.assert_array_equal(rescored[i], head[i][np.argsort(-scores, kind="stable")[:5]])
    got = retrieval_scores(queries, gallery, np.zeros(10), np.zeros(200), metric="hamming", rescore=2)
    assert np.isnan(got["map"]) and got["recall@1"] == 1.0  # every item relevant; mAP needs the full ranking


def test_bad_input_names_the_argument():
    queries, gallery, q_labels, g_labels = _data()
    with pytest.raises(InputError, match="queries have 16 dimensions but gallery has 8"):
        retrieval_scores(queries, gallery[:, :8], q_labels, g_labels)
    with pytest.raises(InputError, match="gallery_labels must hold one label per row"):
        retrieval_scores(queries, gallery, q_labels, g_labels[:5])
    with pytest.raises(InputError, match="rescore"):
        retrieval_scores(queries, gallery, q_labels, g_labels, rescore=4)
    with pytest.raises(InputError, match="ks must be positive"):
        retrieval_scores(queries, gallery, q_labels, g_labels, ks=(0,))
    with pytest.raises(InputError, match="queries"):
        retrieval_scores(np.full((3, 16), np.nan), gallery, [0, 1, 2], g_labels)
