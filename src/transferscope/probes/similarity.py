"""Word-similarity ground truth: no training, just cosines against human ratings.

For pairs of items (usually words) with human similarity ratings, the score is
the Spearman rank correlation between the row-wise cosine
``cos(emb_a[i], emb_b[i])`` and the ratings, the standard protocol of
WordSim-353 and SimLex-999 (see
:mod:`transferscope.datasets.similarity_sets` for loaders). Pearson's
correlation is reported alongside.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import stats

from transferscope.errors import InputError
from transferscope.metrics import check_features, check_regression_targets
from transferscope.probes.result import ProbeResult

__all__ = ["similarity_spearman", "rowwise_cosine", "pair_product_features", "half_split_spearman"]


def rowwise_cosine(emb_a: np.ndarray, emb_b: np.ndarray) -> np.ndarray:
    """``cos(emb_a[i], emb_b[i])`` for every row of two checked float64 arrays of one shape."""
    dots = np.einsum("ij,ij->i", emb_a, emb_b)
    return dots / (np.linalg.norm(emb_a, axis=1) * np.linalg.norm(emb_b, axis=1))


def similarity_spearman(emb_a: Any, emb_b: Any, human_scores: Any) -> ProbeResult:
    """Spearman correlation between pair cosines and human similarity ratings.

    Parameters
    ----------
    emb_a, emb_b : array-like of shape (n_pairs, n_features)
        Embeddings of the first and second item of each pair (row ``i`` of each
        belongs to pair ``i``).
    human_scores : array-like of shape (n_pairs,)
        Human ratings of the pairs (any scale; only their order matters for Spearman).

    Returns
    -------
    ProbeResult
        ``score`` is Spearman's rho; ``metrics`` hold ``"spearman"`` and ``"pearson"``.
        Both are NaN when all cosines are equal (a correlation is undefined then).

    Raises
    ------
    InputError
        Non-numeric, NaN/inf or mismatched ``emb_a`` / ``emb_b`` / ``human_scores``,
        fewer than 3 pairs, constant ``human_scores``, or an all-zero embedding row
        (its cosine is undefined).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.probes.similarity import similarity_spearman
    >>> a = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    >>> b = np.array([[1.0, 0.1], [1.0, 1.0], [0.0, 1.0]])
    >>> res = similarity_spearman(a, b, [9.0, 5.0, 1.0])
    >>> res.score, res.metric
    (1.0, 'spearman')
    """
    a = check_features(emb_a, name="emb_a")
    b = check_features(emb_b, name="emb_b")
    if b.shape != a.shape:
        raise InputError(f"emb_b has shape {b.shape} but emb_a has shape {a.shape}; they must match")
    human = check_regression_targets(human_scores, a.shape[0], name="human_scores", features_name="emb_a")
    if human.shape[1] != 1:
        raise InputError(f"human_scores must be 1-D (one rating per pair), got shape {human.shape}")
    if a.shape[0] < 3:
        raise InputError(f"emb_a has {a.shape[0]} pairs; a rank correlation needs at least 3")
    for name, arr in (("emb_a", a), ("emb_b", b)):
        zero = np.flatnonzero(~np.any(arr != 0.0, axis=1))
        if zero.size:
            raise InputError(f"{name} row {int(zero[0])} is all zeros; its cosine is undefined")
    cosines = rowwise_cosine(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        rho = float(stats.spearmanr(cosines, human[:, 0]).statistic)
        r = float(stats.pearsonr(cosines, human[:, 0]).statistic)
    metrics = {"spearman": rho, "pearson": r}
    settings = {"probe": "word_similarity", "similarity": "cosine", "n_pairs": int(a.shape[0])}
    return ProbeResult(rho, "spearman", metrics, settings)


def pair_product_features(emb_a: Any, emb_b: Any) -> np.ndarray:
    """Features of word pairs for the estimators: the element-wise product of the unit-normalised
    embeddings, ``a_i / |a_i| * b_i / |b_i|``.

    Each row sums to the pair's cosine, so a linear model of these features can reproduce the
    cosine (all weights 1) or reweight dimensions; an estimator scored on them against the human
    ratings (a regression target) asks how well a linear read-out of the pair explains the ratings.

    Parameters
    ----------
    emb_a, emb_b : array-like of shape (n_pairs, n_features)

    Returns
    -------
    numpy.ndarray of shape (n_pairs, n_features), float64

    Raises
    ------
    InputError
        Mismatched shapes or an all-zero row (its direction is undefined).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.probes.similarity import pair_product_features
    >>> a, b = np.array([[3.0, 4.0]]), np.array([[1.0, 0.0]])
    >>> pair_product_features(a, b).tolist(), float(pair_product_features(a, b).sum())
    ([[0.6, 0.0]], 0.6)
    """
    a = check_features(emb_a, name="emb_a")
    b = check_features(emb_b, name="emb_b")
    if b.shape != a.shape:
        raise InputError(f"emb_b has shape {b.shape} but emb_a has shape {a.shape}; they must match")
    out = []
    for name, arr in (("emb_a", a), ("emb_b", b)):
        norms = np.linalg.norm(arr, axis=1)
        zero = np.flatnonzero(norms == 0.0)
        if zero.size:
            raise InputError(f"{name} row {int(zero[0])} is all zeros; its direction is undefined")
        out.append(arr / norms[:, None])
    return out[0] * out[1]


def half_split_spearman(emb_a: Any, emb_b: Any, human_scores: Any, *, repeats: int = 5,
                        seed: int = 0) -> list[float]:
    """Spearman's rho of the pair cosines on random halves of the pairs: the noise of the ground
    truth that a finite set of rated pairs carries.

    ``repeats`` seeded permutations each split the pairs into two halves (the 5 x 2 scheme of the
    repeated-split probes), giving ``2 * repeats`` values; their spread is what another draw of
    pairs of the same kind could give.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.probes.similarity import half_split_spearman
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(40, 4))
    >>> b = a + 0.1 * rng.normal(size=(40, 4))
    >>> human = np.einsum("ij,ij->i", a, b) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    >>> half_split_spearman(a, b, human, repeats=2)
    [1.0, 1.0, 1.0, 1.0]
    """
    a = check_features(emb_a, name="emb_a")
    b = check_features(emb_b, name="emb_b")
    human = check_regression_targets(human_scores, a.shape[0], name="human_scores", features_name="emb_a")[:, 0]
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise InputError(f"repeats must be a positive integer, got {repeats!r}")
    if a.shape[0] < 6:
        raise InputError(f"emb_a has {a.shape[0]} pairs; halves need at least 3 pairs each")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(repeats):
        order = rng.permutation(a.shape[0])
        for half in np.array_split(order, 2):
            values.append(similarity_spearman(a[half], b[half], human[half]).score)
    return values
