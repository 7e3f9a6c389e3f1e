"""Paired representations shared by the golden-value tests of the similarity measures.

The reference implementations were run on exactly these arrays (see the provenance in
``test_rsa.py``, ``test_similarity_neighbors.py`` and ``test_similarity_statistics.py``):
changing a case invalidates their recorded values.
"""

from __future__ import annotations

import numpy as np


def case_a():  # N > D, related
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 12))
    return x, x @ rng.normal(size=(12, 10)) + 0.7 * rng.normal(size=(80, 10))


def case_b():  # N < D
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 64))
    return x, np.tanh(x @ rng.normal(size=(64, 50)) / 8.0) + 0.3 * rng.normal(size=(40, 50))


def case_c():  # clusters, offset from the origin
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 6)) * 3.0
    labels = np.arange(150) % 3
    x = centres[labels] + rng.normal(size=(150, 6)) + 1.0
    return x, np.c_[x[:, :3] ** 2, rng.normal(size=(150, 2))]


PAIRED_CASES = {"a": case_a, "b": case_b, "c": case_c}


def case_d():  # N < D, float32 like real embeddings (not in PAIRED_CASES: no golden values for every measure)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(300, 768)).astype(np.float32)
    return x, (x[:, :512] + rng.normal(size=(300, 512))).astype(np.float32)
