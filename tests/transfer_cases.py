"""Inputs shared by the golden-value tests of the transferability estimators.

The reference implementations were run on exactly these arrays (provenance in each
test module's docstring): changing a case invalidates their recorded values.
"""

from __future__ import annotations

import numpy as np

# Labelled features (numpy default_rng seeds 10-14): PACTran, PARC, TMI.


def case_a():  # N > D, four classes
    rng = np.random.default_rng(10)
    n, d, c = 200, 16, 4
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 1.5 * np.eye(c, d)[y], y


def case_b():  # N < D, three classes
    rng = np.random.default_rng(11)
    n, d, c = 60, 80, 3
    y = np.arange(n) % c
    return rng.normal(size=(n, d)) + 1.0 * np.eye(c, d)[y], y


def case_c():  # two classes labelled {0, 5}
    rng = np.random.default_rng(12)
    n, d = 120, 10
    y01 = rng.integers(0, 2, n)
    return rng.normal(size=(n, d)) + 2.0 * np.eye(2, d)[y01], np.where(y01 == 1, 5, 0)


def case_d():  # larger D, five classes, anisotropic scale
    rng = np.random.default_rng(13)
    n, d, c = 300, 48, 5
    y = rng.integers(0, c, n)
    scale = np.exp(rng.normal(size=d) * 0.5)
    return (rng.normal(size=(n, d)) + 1.2 * np.eye(c, d)[y]) * scale, y


def case_e():  # ten classes, D > 32
    rng = np.random.default_rng(14)
    n, d, c = 400, 64, 10
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 0.8 * np.eye(c, d)[y], y


# Features, labels and source-model probabilities (seeds 10-11): LEEP, NCE.


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def case_soft():  # 4 target classes, 10 source classes
    rng = np.random.default_rng(10)
    n, c, cs = 300, 4, 10
    y = rng.integers(0, c, n)
    w = rng.normal(size=(c, cs))
    return rng.normal(size=(n, 8)), y, softmax(1.5 * w[y] + rng.normal(size=(n, cs)))


def case_gaps():  # two target classes labelled {0, 5}
    rng = np.random.default_rng(11)
    n, cs = 200, 6
    y01 = rng.integers(0, 2, n)
    w = rng.normal(size=(2, cs))
    return rng.normal(size=(n, 3)), np.where(y01 == 1, 5, 0), softmax(2.0 * w[y01] + rng.normal(size=(n, cs)))


def case_zero_column():  # source class 3 has probability 0 on every input
    f, y, p = case_soft()
    p = p.copy()
    p[:, 3] = 0.0
    return f, y, p / p.sum(axis=1, keepdims=True)


# More labelled features (PARC's variant="dbolya").


def case_f():  # seven classes, scaled and shifted, N > D > 32
    rng = np.random.default_rng(15)
    y = rng.integers(0, 7, 250)
    return 3.0 * (rng.normal(size=(250, 40)) + 1.0 * np.eye(7, 40)[y]) + 5.0, y


def case_few():  # N = 20 <= n_dims = 32 < D = 100, two classes
    rng = np.random.default_rng(0)
    y = np.arange(20) % 2
    return rng.normal(size=(20, 100)) + 1.0 * np.eye(2, 100)[y], y
