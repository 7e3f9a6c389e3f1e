"""Probe-based task embeddings (Task2Vec-style Fisher of feature gains, issue 14): closed form and the
sanity checks a source-selection distance must pass."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from transferscope.errors import InputError
from transferscope.metrics.task_embedding import fisher_embedding, task2vec_distance


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


def test_fisher_matches_a_monte_carlo_fisher_of_the_gains():
    """The closed form equals the definition: E_x E_{y~p} (d log p(y|x) / d s_j)^2 at s = 1,
    estimated here by autograd-free finite differences of log p on sampled labels."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 4)) * [1.0, 2.0, 0.5, 1.0]
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int) + (x[:, 3] > 1).astype(int)
    embedding = fisher_embedding(x, y, alpha=1e-2)
    z = x - x.mean(axis=0)
    z /= np.sqrt(np.mean(np.sum(z * z, axis=1)))
    head = LogisticRegression(C=1.0 / (1e-2 * len(y)), max_iter=2000).fit(z, y)

    def log_p(gains):
        logits = (z * gains) @ head.coef_.T + head.intercept_
        return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)

    p = np.exp(log_p(np.ones(4)))
    expected = np.zeros(4)
    for j in range(4):
        step = np.zeros(4)
        step[j] = 1e-6
        grad = (log_p(1 + step) - log_p(1 - step)) / 2e-6  # (n, classes): d log p(c|x) / d s_j
        expected[j] = np.mean(np.sum(p * grad ** 2, axis=1))  # expectation over y ~ p exactly
    np.testing.assert_allclose(embedding, expected, rtol=1e-5)


def test_sanity_self_zero_symmetric_renaming_subsample_near_shuffled_far(digits):
    x, y = digits
    rng = np.random.default_rng(0)
    whole = fisher_embedding(x, y)
    sub = rng.choice(len(y), 600, replace=False)
    near = task2vec_distance(whole, fisher_embedding(x[sub], y[sub]))
    shuffled = task2vec_distance(whole, fisher_embedding(x, rng.permutation(y)))
    renamed = fisher_embedding(x, np.array([f"class-{(d * 7) % 10}" for d in y]))
    assert task2vec_distance(whole, whole) == 0.0
    assert task2vec_distance(whole, renamed) < 1e-6  # the partition counts, not the names
    assert near < 0.02 and shuffled > 10 * near  # a subsample is near, scrambled labels far
    parity = fisher_embedding(x, y % 2)
    assert task2vec_distance(whole, parity) == pytest.approx(task2vec_distance(parity, whole), abs=1e-15)
    assert task2vec_distance(whole, parity) > near


def test_the_normalized_cosine_form_keeps_the_exact_identities(digits):
    x, y = digits
    a, b = fisher_embedding(x, y), fisher_embedding(x, y % 3)
    assert task2vec_distance(a, a, kind="normalized_cosine") == 0.0
    assert task2vec_distance(a, b, kind="normalized_cosine") == pytest.approx(
        task2vec_distance(b, a, kind="normalized_cosine"), abs=1e-15)


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(1e-3, 1e3), seed=st.integers(0, 10_000))
def test_invariant_to_scale_shift_and_order_of_the_samples(scale, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(80, 5))
    y = (x[:, 0] > 0).astype(int) + (x[:, 2] > 0.5).astype(int)
    base = fisher_embedding(x, y)
    order = rng.permutation(80)
    assert task2vec_distance(base, fisher_embedding(scale * x + 3.0, y)) < 1e-6
    assert task2vec_distance(base, fisher_embedding(1.0 - x, y)) < 1e-6  # an inverted copy: the same task
    assert task2vec_distance(base, fisher_embedding(x[order], y[order])) < 1e-6


def test_bad_input_names_the_argument():
    x = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(InputError, match="labels"):
        fisher_embedding(x, np.zeros(10))
    with pytest.raises(InputError, match="alpha"):
        fisher_embedding(x, np.arange(10) % 2, alpha=0)
    with pytest.raises(InputError, match="features"):
        fisher_embedding(np.zeros((10, 3)), np.arange(10) % 2)
    with pytest.raises(InputError, match="coordinates"):
        task2vec_distance(np.ones(3), np.ones(4))
    with pytest.raises(InputError, match="kind"):
        task2vec_distance(np.ones(3), np.ones(3), kind="euclid")
