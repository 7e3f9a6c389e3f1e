"""Exact ranks of given neighbours by distance, counted by blocks of rows: :func:`distance_ranks`.

Information imbalance needs the rank, by distance in ``Y``, of each sample's nearest
neighbours in ``X``: far beyond the ``k`` a neighbour search returns. Every rank is
counted exactly against all rows, block by block, in ``O(N^2 D)`` time and without an
``N x N`` matrix.
"""

from __future__ import annotations

import numpy as np

from transferscope.metrics._normalize import unit_rows

__all__ = ["distance_ranks"]


def distance_ranks(
    points: np.ndarray, targets: np.ndarray, metric: str, *, block_elements: int = 1 << 23
) -> np.ndarray:
    """1-based rank of ``targets[i, t]`` among the other rows by distance from row ``i``.

    ``rank = 1 + #{m != i : d(i, m) < d(i, j) or (d(i, m) == d(i, j) and m < j)}``
    for ``j = targets[i, t]``: ties go to the lower index, as in
    :func:`~transferscope.metrics._neighbors.nearest_neighbors`. Counted by blocks of
    about ``block_elements`` distances, never ``N x N``.

    Parameters
    ----------
    points : ndarray of shape (n_samples, n_features)
        Checked float64 points.
    targets : ndarray of shape (n_samples, n_targets)
        Row indices: ``targets[i]`` are the rows whose ranks from row ``i`` are counted.
    metric : {"euclidean", "cosine"}
    block_elements : int, default=2**23
        Distances held per block of rows.

    Returns
    -------
    ndarray of shape (n_samples, n_targets), float64

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity._distance_ranks import distance_ranks
    >>> points = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> distance_ranks(points, np.array([[3], [2], [0], [0]]), "euclidean").ravel().tolist()
    [3.0, 2.0, 2.0, 3.0]
    """
    n = points.shape[0]
    if metric == "cosine":
        points = unit_rows(points, zero_rows="keep")
    sq = np.einsum("ij,ij->i", points, points)
    ranks = np.empty(targets.shape, dtype=np.float64)
    block = max(1, block_elements // n)
    columns = np.arange(n)
    for start in range(0, n, block):
        stop = min(start + block, n)
        rows = np.arange(start, stop)
        # Smaller = nearer: squared Euclidean distance, or minus the cosine.
        dist = points[start:stop] @ points.T
        dist = sq[start:stop, None] + sq[None, :] - 2.0 * dist if metric == "euclidean" else -dist
        dist[rows - start, rows] = np.inf
        for t in range(targets.shape[1]):
            j = targets[start:stop, t]
            d_j = dist[rows - start, j][:, None]
            closer = (dist < d_j) | ((dist == d_j) & (columns[None, :] < j[:, None]))
            ranks[start:stop, t] = 1 + closer.sum(axis=1)
    return ranks
