"""Representational similarity analysis (RSA): compare the two representational dissimilarity matrices.

Each representation gives an ``N x N`` representational dissimilarity matrix
(RDM) of its samples; RSA correlates the two upper triangles. The RDMs take
``O(N^2)`` memory: subsample beyond ~10^4 rows.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.spatial.distance import pdist

from transferscope.errors import InputError
from transferscope.metrics._validation import check_choice, check_paired_features, check_pairwise_memory
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo

__all__ = ["rsa"]

RDMS = ("euclidean", "sqeuclidean", "cosine", "correlation")
COMPARATORS = ("spearman", "pearson", "kendall", "cosine")


def _rdm(points: np.ndarray, rdm: str, *, name: str) -> np.ndarray:
    """Upper triangle of the RDM of ``points`` (``scipy.spatial.distance.pdist`` order)."""
    if rdm == "correlation":
        flat = np.flatnonzero(np.ptp(points, axis=1) == 0)
        if flat.size:
            raise InputError(
                f"{name} row {int(flat[0])} is constant across its columns, so its correlation "
                "distance is undefined; use rdm='euclidean'"
            )
    if rdm == "cosine":
        zero = np.flatnonzero(~points.any(axis=1))
        if zero.size:
            raise InputError(f"{name} row {int(zero[0])} is all zeros, so its cosine distance is undefined")
    check_pairwise_memory(points.shape[0], 1.5, measure="rsa")  # two half RDMs + ranks
    distances = pdist(points, metric=rdm)
    if np.ptp(distances) == 0:
        raise InputError(f"the RDM of {name} is constant (all samples equally far apart); RSA is undefined")
    return distances


def rsa(
    X: Any,
    Y: Any,
    *,
    rdm: Literal["euclidean", "sqeuclidean", "cosine", "correlation"] = "correlation",
    comparator: Literal["spearman", "pearson", "kendall", "cosine"] = "spearman",
) -> float:
    """Representational similarity analysis: correlation of the two RDMs.

    ``RSA(X, Y) = corr(triu(D_X), triu(D_Y))`` where ``D_X[i, j]`` is the
    dissimilarity of samples ``i`` and ``j`` in ``X`` (by default the
    correlation distance ``1 - corr(x_i, x_j)`` across features) and ``corr``
    compares the ``N (N - 1) / 2`` entries above the diagonal.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    rdm : {"euclidean", "sqeuclidean", "cosine", "correlation"}, default="correlation"
        Dissimilarity of two samples (``scipy.spatial.distance.pdist`` metric).
    comparator : {"spearman", "pearson", "kendall", "cosine"}, default="spearman"
        How the two RDMs are compared: Spearman's rho, Pearson's r, Kendall's
        tau-b (``scipy.stats``), or the cosine of the two (uncentred) vectors.

    Returns
    -------
    float
        In ``[-1, 1]`` (``[0, 1]`` with ``comparator="cosine"``); 1 for identical RDMs.

    References
    ----------
    Kriegeskorte, Mur & Bandettini, Representational similarity analysis -
    connecting the branches of systems neuroscience, Frontiers in Systems
    Neuroscience 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.rsa import rsa
    >>> X = np.random.default_rng(0).normal(size=(50, 6))
    >>> round(rsa(X, 2.0 * X), 12)
    1.0
    >>> abs(rsa(X, np.random.default_rng(1).normal(size=(50, 6)))) < 0.1
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    rdm = check_choice(rdm, RDMS, name="rdm")
    comparator = check_choice(comparator, COMPARATORS, name="comparator")
    if x.shape[0] < 3:
        raise InputError(f"rsa needs at least 3 samples (2 dissimilarities), got {x.shape[0]}")
    dx, dy = _rdm(x, rdm, name="X"), _rdm(y, rdm, name="Y")
    from scipy.stats import kendalltau, pearsonr, spearmanr  # lazily: scipy.stats costs ~0.7 s

    if comparator == "spearman":
        return float(spearmanr(dx, dy).statistic)
    if comparator == "pearson":
        return float(pearsonr(dx, dy).statistic)
    if comparator == "kendall":
        return float(kendalltau(dx, dy).statistic)
    return float(dx @ dy / (np.linalg.norm(dx) * np.linalg.norm(dy)))


METRICS = [
    MetricInfo(
        name="rsa",
        family="similarity",
        func=rsa,
        summary="Spearman correlation of the two correlation-distance RDMs (upper triangles).",
        citation="Kriegeskorte, Mur & Bandettini, Representational similarity analysis - connecting "
        "the branches of systems neuroscience, Frontiers in Systems Neuroscience 2008",
        complexity="O(N^2 (D + log N)) time, O(N^2) memory",
        unreliable_when="N above ~10^4 (N^2 memory: subsample); rows with few features "
        "(correlation distances across features are noisy); translated representations "
        "(the default correlation RDM is not translation invariant)",
        measure=MeasureProperties(
            kind="similarity",
            symmetric=True,
            is_metric=False,
            range=(-1.0, 1.0),
            identity=1.0,
            # Correlation RDMs centre each sample across its features: a rotation or a
            # translation of the columns changes them; a scaling or a permutation does not.
            invariant=Invariances.all_except("orthogonal", "translation", "invertible_linear"),
        ),
    )
]
