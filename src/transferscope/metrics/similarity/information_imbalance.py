"""Information imbalance Delta(X -> Y) (Glielmo et al. 2022): how well X's neighbours predict Y's.

:func:`information_imbalance` takes each sample's nearest neighbours in ``X`` (through
:func:`~transferscope.metrics._neighbors.nearest_neighbors`) and reads their exact ranks
by distance in ``Y`` (:func:`~transferscope.metrics.similarity._distance_ranks.distance_ranks`,
by blocks of rows in ``O(N^2 D)`` time and ``O(N)`` memory per row). An asymmetric distance.
"""

from __future__ import annotations

from typing import Any, Literal

from transferscope.metrics._neighbors import nearest_neighbors
from transferscope.metrics._validation import check_choice, check_paired_features, check_positive_int
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo
from transferscope.metrics.similarity._distance_ranks import distance_ranks

__all__ = ["information_imbalance"]


def information_imbalance(
    X: Any,
    Y: Any,
    *,
    k: int = 1,
    metric: Literal["euclidean", "cosine"] = "euclidean",
) -> float:
    """Information imbalance Delta(X -> Y) (Glielmo et al. 2022).

    ``Delta(X -> Y) = 2/N <r^Y_ij | r^X_ij = 1>``: the mean rank, by distance
    in ``Y``, of each sample's nearest neighbour in ``X`` (rank 1 = nearest),
    times ``2 / N``. Near 0 when ``X``'s neighbourhoods predict ``Y``'s (``X``
    holds the information in ``Y``), near 1 when they tell nothing (the mean
    random rank is ``N / 2``). Asymmetric: ``X`` may contain ``Y`` and more.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
        The representation whose neighbours are taken.
    Y : array-like of shape (n_samples, d_y)
        The representation in which their ranks are read.
    k : int, default=1
        Average the ranks of the first ``k`` neighbours in ``X`` (DADApy's ``k``).
    metric : {"euclidean", "cosine"}, default="euclidean"

    Returns
    -------
    float
        In ``[2/N, 2(N-1)/N]``; ``Delta(X -> X) = (k + 1) / N``.

    Notes
    -----
    Ties in ``Y`` go to the lower index. DADApy estimates ranks beyond its
    ``maxk`` nearest neighbours by random draws; this computes every rank
    exactly, in ``O(N^2 D)`` time by blocks of rows.

    References
    ----------
    Glielmo, Zeni, Cheng, Csányi & Laio, Ranking the information content of
    distance measures, PNAS Nexus 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.information_imbalance import information_imbalance
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3))
    >>> first = X[:, :1]  # X holds its first coordinate, not the other way round
    >>> information_imbalance(X, first) < 0.5 < information_imbalance(first, X)
    True
    >>> information_imbalance(X, X)  # (k + 1) / N
    0.004
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    metric = check_choice(metric, ("euclidean", "cosine"), name="metric")
    k = check_positive_int(k, name="k")
    _, neighbours = nearest_neighbors(x, k, metric=metric)
    ranks = distance_ranks(y, neighbours, metric)
    return float(2.0 * ranks.mean() / x.shape[0])


METRICS = [
    MetricInfo(
        name="information_imbalance",
        family="similarity",
        func=information_imbalance,
        summary="Delta(X -> Y): 2/N x mean rank in Y of each sample's nearest neighbour in X "
        "(0: X predicts Y's neighbourhoods, ~1: no information).",
        citation="Glielmo, Zeni, Cheng, Csanyi & Laio, Ranking the information content of distance "
        "measures, PNAS Nexus 2022",
        higher_is_better=False,
        complexity="O(N^2 (d_x + d_y)) time by blocks of rows, O(N) memory per row",
        unreliable_when="many duplicated rows (ties); N small (values are multiples of 2/(N k))",
        measure=MeasureProperties(
            kind="distance",
            symmetric=False,
            is_metric=False,
            range=(0.0, 2.0),
            identity=None,  # (k + 1) / N, not a fixed number
            invariant=Invariances.all_except("invertible_linear"),
        ),
    ),
]
