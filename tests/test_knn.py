from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError


def test_knn_perfect_clusters():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    f = rng.normal(size=(60, 4)) * 0.01 + 5 * np.eye(3, 4)[y]
    assert ts.score("knn", f, y) == 1.0


def test_knn_excludes_self_even_with_duplicate_rows():
    # Each row has an exact duplicate with the other label: leave-one-out must see the
    # duplicate (distance 0) and never the row itself, so 1-NN is always wrong.
    f = np.repeat(np.arange(10.0)[:, None] * [1.0, 0.0] + [0.0, 1.0], 2, axis=0)
    y = np.tile([0, 1], 10)
    assert ts.score("knn", f, y, k=1, metric="euclidean") == 0.0


def test_knn_hand_computed():
    f = np.array([[0.0], [1.0], [2.5], [10.0], [11.0]])
    y = np.array([0, 0, 1, 1, 1])
    # 1-NN: 0->1 ok, 1->0 ok, 2.5->1 wrong, 10->11 ok, 11->10 ok
    assert ts.score("knn", f, y, k=1, metric="euclidean") == pytest.approx(0.8)


def test_knn_regression_r2():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(400, 1))
    assert ts.score("knn", x, np.sin(6 * x[:, 0]), task="regression", metric="euclidean") > 0.95


def test_knn_k_too_large():
    with pytest.raises(InputError, match="k must be smaller"):
        ts.score("knn", np.eye(4), [0, 1, 0, 1], k=4)


def test_knn_ties_go_to_the_lower_index():
    # Rows 1 and 2 each have two neighbours at distance 1; the lower index wins:
    # 0->1 (wrong), 1->0 (wrong), 2->1 (right), 3->2 (right).
    f = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert ts.score("knn", f, [0, 1, 1, 1], k=1, metric="euclidean") == 0.5


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_knn_equals_a_dense_neighbour_computation(metric):
    from transferscope.metrics._neighbors import dense_neighbors

    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 300)
    f = rng.normal(size=(300, 6)) + 0.8 * np.eye(4, 6)[y]
    k = 7
    neighbours = dense_neighbors(f, k, metric=metric)[1]
    votes = np.zeros((300, 4))
    for i, row in enumerate(neighbours):
        for rank, j in enumerate(row):
            votes[i, y[j]] += 1 + 0.5 ** (rank + 1)  # majority, ties to the nearer neighbour
    assert ts.score("knn", f, y, k=k, metric=metric) == pytest.approx(np.mean(votes.argmax(axis=1) == y))
    target = f @ rng.normal(size=6)
    pred = target[neighbours].mean(axis=1)
    r2 = 1 - np.sum((target - pred) ** 2) / np.sum((target - target.mean()) ** 2)
    assert ts.score("knn", f, target, k=k, metric=metric, task="regression") == pytest.approx(r2, rel=1e-12)
