"""Does an index hold vectors from more than one embedding space?

An index into which two models' vectors were written (a partial re-index, two services writing
to one collection) keeps working and returns wrong neighbours without an error. Vectors of two
unrelated spaces barely neighbour each other, so the test has two parts:

1. **Split.** The symmetric ``k``-nearest-neighbour graph of the unit vectors (cosine, exact
   FAISS search) is cut in two. When the graph is connected, spectral clustering cuts it
   (:class:`sklearn.cluster.SpectralClustering`, seeded); ``cut`` is the share of kNN edges that
   cross the two parts. When it falls apart into components, the components are grouped (below)
   by relatedness, and the largest group is one part, the rest the other (``cut`` is 0). Grouping
   the components explicitly matters: a spectral cut of a disconnected graph picks one of many
   equally good splits (e.g. one topic cluster of one space against the others), and which one
   depends on the BLAS build.
2. **Relatedness of the parts**, calibrated on the data itself: for each vector, its best cosine
   to the *other* part, against (a) its best cosine within its own part and (b) the best cosine
   it would have to the other part if that part were turned by a random rotation (a space with
   no relation to its own, of the same shape and anisotropy). ``relatedness`` is
   ``(median cross - median null) / (median own - median null)``: about 0 for two unrelated
   spaces, clearly positive for two groups of one space (distinct topics or languages are still
   nearer to each other than to a rotated copy). Components are grouped by the same measure:
   two components are in one group when, averaged over both directions, it reaches
   ``RELATEDNESS_LIMIT`` (and groups are closed under that link).

3. **Control: can this index tell at all?** The test rests on one space's own groups being
   related (most embedding models are anisotropic: their vectors share directions that a random
   rotation would not). The larger part is itself split the same way and the relatedness of its
   two halves measured (``control``). Where it is below ``RELATEDNESS_LIMIT`` too (an isotropic
   space of well-separated clusters: whitened or centred embeddings), unrelated groups are what
   this index's own topics look like, two spaces cannot be told from two topics, and nothing is
   flagged: the explanation says the test cannot tell.

4. **Split by scale**, where the graph finds no suspect split: vectors of a second space need not
   fall apart from the first in the graph. A space with no neighbourhood structure (isotropic
   noise: a model that ignores its input) sends its vectors' neighbour links everywhere, so the
   graph stays connected; its vectors' neighbours are far farther than the first space's. Each
   vector's mean cosine to its ``k`` nearest is split in two by 1-D two-means, and where the two
   modes are well apart (Ashman's D at least ``SEPARATION_LIMIT``, 4: two clearly separate
   bumps) the two parts are tested for relatedness as in step 2. The control then splits the
   part with the nearer neighbours (the other has no topics to split).

The index is flagged when the parts are disconnected (``cut < 0.05``) or apart in scale (step 4),
both hold at least ``min_share`` of the vectors, ``relatedness < 0.25`` and ``control >= 0.25``.

**Measured error rates** (``python benchmarks/mixed_index_error_rates.py``: 10 seeds of each
synthetic class, and real vectors of the 5 built-in text datasets from 7 models). One space, a
flag is a false alarm: 0 of 40 synthetic indexes (the 10 isotropic ones are "cannot tell"), 0 of
30 indexes of MiniLM, E5-small, MPNet, WordLlama and MiniLM's random-weights twin (WordLlama: 1
"cannot tell"), but **8 of 12 of the static word embeddings** GloVe and model2vec:
there a group of inputs one model places apart (emoticons among words, another language's
words, kinship terms) is disconnected and unrelated, as a second model's vectors would be. Two
spaces, no flag is a miss: 83 of 84 flagged (1 of 10 synthetic rotations of 5% of the rows
missed); MiniLM mixed with E5-small, with its random twin, with a rotation or with noise, at 50%,
15% and 5%: 24 of 24. Step 4 added the 30 synthetic and 5 real noise mixtures (48 of 84
flagged without it) and no false alarm. A second space that
is a small modification of the first (a lightly fine-tuned model) is related by this measure and
is not flagged: such vectors are also nearly compatible (check with ``transferscope compat``).
Vectors of one dimension are refused: their unit vectors are +-1, two directions, which no
neighbour test can read. Vectors are read by direction only, so a group of one space that sits
around the origin (a Gaussian class centred at zero, 90 x 8 beside classes at 1 and 2) has
neighbours in every direction, exactly as isotropic noise from a second model has, and step 4
flags it; vectors of a trained model rarely sit at the origin, but a flag on features that do
(centred or standardised by hand) is the geometry of this test, not a second model.

Examples
--------
>>> import numpy as np
>>> from transferscope.metrics.mixed_spaces import mixed_space_check
>>> rng = np.random.default_rng(0)
>>> a = rng.normal(size=(300, 32)) + 2.0  # an anisotropic space
>>> rotation, _ = np.linalg.qr(rng.normal(size=(32, 32)))
>>> mixed_space_check(np.vstack([a, a[:150] @ rotation])).flagged, mixed_space_check(a).flagged
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from transferscope.errors import InputError
from transferscope.metrics._neighbors import nearest_neighbors
from transferscope.metrics._normalize import unit_rows
from transferscope.metrics._validation import check_features

__all__ = ["MixedSpaceReport", "mixed_space_check", "CUT_LIMIT", "RELATEDNESS_LIMIT", "SEPARATION_LIMIT"]

CUT_LIMIT = 0.05
RELATEDNESS_LIMIT = 0.25
SEPARATION_LIMIT = 4.0


@dataclass(frozen=True)
class MixedSpaceReport:
    """Result of :func:`mixed_space_check`.

    ``part`` gives each (sampled) vector's side of the split (0/1), ``rows`` the rows of the
    input they are (all rows unless the index was subsampled); ``share`` is the smaller part's
    share.
    """

    flagged: bool
    cut: float
    relatedness: float
    share: float
    part: np.ndarray = field(repr=False)
    rows: np.ndarray = field(repr=False)
    control: float = float("nan")
    undecidable: bool = False  # the parts look unrelated, but the control says the test cannot tell
    basis: str = "graph"  # how the parts were found: "graph" (step 1) or "scale" (step 4)
    separation: float = float("nan")  # Ashman's D of the scale split (step 4), NaN when not tried
    closeness: tuple[float, float] = (float("nan"), float("nan"))  # far, near part: median mean cosine to the k nearest

    def _group(self) -> str:
        if self.basis == "scale":
            return (f"{np.mean(self.part == 0):.0%} of the vectors have far farther nearest neighbours than the rest "
                    f"(mean cosine to their nearest {self.closeness[0]:.2f} against {self.closeness[1]:.2f}, "
                    f"separation {self.separation:.1f})")
        return f"{self.share:.0%} of the vectors form a group that is disconnected from the rest"

    def explanation(self) -> str:
        """The verdict in plain words."""
        if self.undecidable:
            reference = "the part with the nearer neighbours" if self.basis == "scale" else "the larger part"
            because = (f"so are two groups of {reference} itself (relatedness {self.control:.2f}): in this index "
                       "(no direction its vectors share) two models cannot be told from two topics"
                       if np.isfinite(self.control) else
                       f"{reference} is too small to split for the control that would show the test can tell")
            return (f"not flagged, cannot tell: {self._group()}, no more related to it than a randomly rotated "
                    f"space (relatedness {self.relatedness:.2f}), but {because}")
        if self.flagged:
            links = f" ({self.cut:.1%} of nearest-neighbour links cross)" if self.basis == "graph" else ""
            # vectors read by direction: a group around the origin has neighbours everywhere, as noise has
            origin = ("; vectors centred or standardised by hand that put a group around the origin look the same"
                      if self.basis == "scale" else "")
            return (f"flagged: {self._group()}{links} and no more related to it than a randomly rotated space "
                    f"(relatedness {self.relatedness:.2f}); the index likely mixes two embedding models (static word "
                    "embeddings also place some inputs apart like this, e.g. emoticons or another language's words"
                    f"{origin}: look at the flagged rows)")
        if self.cut >= CUT_LIMIT or self.share == 0:
            reason = f"the nearest-neighbour graph does not fall apart ({self.cut:.1%} of links cross the best split)"
        elif self.relatedness < RELATEDNESS_LIMIT:  # unrelated, but below min_share
            reason = (f"the one disconnected, unrelated group is too small to count ({self.share:.1%} of the vectors; "
                      f"relatedness {self.relatedness:.2f})")
        else:
            reason = f"the two groups are related (relatedness {self.relatedness:.2f}), as parts of one space are"
        return f"not flagged: {reason}"


def mixed_space_check(vectors: Any, *, k: int = 10, min_share: float = 0.02, max_samples: int = 5000,
                      seed: int = 0) -> MixedSpaceReport:
    """Test whether ``vectors`` come from more than one embedding space (module notes).

    Parameters
    ----------
    vectors : array-like of shape (n_vectors, dim)
    k : int, default=10
        Neighbours per vector in the graph.
    min_share : float, default=0.02
        The smaller part must hold at least this share to be flagged.
    max_samples : int, default=5000
        A seeded subsample of this many vectors is tested when the index is larger.
    seed : int, default=0

    Returns
    -------
    MixedSpaceReport
    """
    x = check_features(vectors, name="vectors")
    if x.shape[1] < 2:
        raise InputError("vectors has 1 dimension: its unit vectors are +-1, two directions, which no neighbour "
                         "test can read; the check needs at least 2 dimensions")
    if x.shape[0] < 4 * k:
        raise InputError(f"vectors has {x.shape[0]} rows; the check needs at least {4 * k} (4 x k)")
    if np.any(np.linalg.norm(x, axis=1) == 0):
        raise InputError(f"vectors row {int(np.flatnonzero(np.linalg.norm(x, axis=1) == 0)[0])} is all zeros")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(x.shape[0], max_samples, replace=False)) if x.shape[0] > max_samples \
        else np.arange(x.shape[0])
    unit = unit_rows(x[rows])
    rotation, _ = np.linalg.qr(rng.normal(size=(unit.shape[1], unit.shape[1])))
    distances, neighbours = nearest_neighbors(unit, k, metric="cosine")
    part, cut = _graph_split(unit, neighbours, rotation, seed)
    sizes = np.bincount(part, minlength=2)
    if sizes.min() < 2:
        return MixedSpaceReport(False, cut, float("nan"), 0.0, part, rows)
    relatedness = _relatedness(unit[part == 0], unit[part == 1], rotation)
    suspect = bool(cut < CUT_LIMIT and sizes.min() / sizes.sum() >= min_share and relatedness < RELATEDNESS_LIMIT)
    basis, separation, scales = "graph", float("nan"), (float("nan"), float("nan"))
    if not suspect:  # step 4: a group whose neighbours are far farther, though linked to the rest
        closeness = 1.0 - distances.mean(axis=1)
        by_scale, separation = _scale_split(closeness)
        scale_sizes = np.bincount(by_scale, minlength=2)
        if separation >= SEPARATION_LIMIT and scale_sizes.min() / scale_sizes.sum() >= min_share:
            scale_relatedness = _relatedness(unit[by_scale == 0], unit[by_scale == 1], rotation)
            if scale_relatedness < RELATEDNESS_LIMIT:
                part, sizes, relatedness, suspect, basis = by_scale, scale_sizes, scale_relatedness, True, "scale"
                cut = float(np.mean(part[neighbours] != part[:, None]))
                scales = (float(np.median(closeness[part == 0])), float(np.median(closeness[part == 1])))
    share = float(sizes.min() / sizes.sum())
    # the control splits the part that holds the space's topics: the larger part of a graph split (the
    # smaller may be one topic), the part with the nearer neighbours of a scale split (the other has none)
    reference = 1 if basis == "scale" else int(np.argmax(sizes))
    control = _control(unit[part == reference], k, rotation, seed) if suspect else float("nan")
    flagged = suspect and bool(control >= RELATEDNESS_LIMIT)
    return MixedSpaceReport(flagged, cut, relatedness, share, part, rows, control, undecidable=suspect and not flagged,
                            basis=basis, separation=separation, closeness=scales)


def _control(own: np.ndarray, k: int, rotation: np.ndarray, seed: int) -> float:
    """The relatedness of two groups of one part, split by the graph (module notes, step 3); NaN
    where the part is too small to split."""
    if own.shape[0] < 4 * k:
        return float("nan")
    _, neighbours = nearest_neighbors(own, k, metric="cosine")
    halves, _ = _graph_split(own, neighbours, rotation, seed)
    if np.bincount(halves, minlength=2).min() < 2:
        return float("nan")
    return _relatedness(own[halves == 0], own[halves == 1], rotation)


def _graph_split(unit: np.ndarray, neighbours: np.ndarray, rotation: np.ndarray,
                 seed: int) -> tuple[np.ndarray, float]:
    """Two parts of the unit vectors' symmetric kNN graph (module notes, step 1) and the share of
    kNN edges that cross them."""
    graph = _knn_graph(neighbours)
    n_components, component = connected_components(graph, directed=False)
    if n_components == 1:
        part = _spectral_bipartition(graph, seed)
    else:
        part = _group_components(unit, component, n_components, rotation)
    return part, float(np.mean(part[neighbours] != part[:, None]))


def _scale_split(closeness: np.ndarray) -> tuple[np.ndarray, float]:
    """Two parts of the vectors by their mean cosine to their ``k`` nearest (module notes, step 4):
    the cut of the sorted values with the least within-part sum of squares (two-means in 1-D), and
    Ashman's D of the two parts, ``sqrt(2) |m1 - m2| / sqrt(s1^2 + s2^2)``; part 1 is the closer."""
    order = np.argsort(closeness, kind="stable")
    values = closeness[order]
    n = values.size
    prefix, squares = np.cumsum(values), np.cumsum(values ** 2)
    left = np.arange(1, n)
    within = (squares[:-1] - prefix[:-1] ** 2 / left) + \
        ((squares[-1] - squares[:-1]) - (prefix[-1] - prefix[:-1]) ** 2 / (n - left))
    at = int(np.argmin(within)) + 1
    part = np.zeros(n, dtype=np.intp)
    part[order[at:]] = 1
    low, high = values[:at], values[at:]
    spread = float(np.sqrt(low.var() + high.var()))
    gap = float(high.mean() - low.mean())
    return part, (float(np.sqrt(2.0) * gap / spread) if spread > 0 else (np.inf if gap > 0 else 0.0))


def _relatedness(a: np.ndarray, b: np.ndarray, rotation: np.ndarray) -> float:
    """``(median cross - median null) / (median own - median null)`` of two groups of unit vectors
    (module notes, step 2); NaN where the groups are no nearer to themselves than to a rotation."""
    own = np.concatenate([_best(a, a, exclude_self=True), _best(b, b, exclude_self=True)])
    cross = np.concatenate([_best(a, b), _best(b, a)])
    null = np.concatenate([_best(a, b @ rotation), _best(b, a @ rotation)])
    spread = float(np.median(own) - np.median(null))
    return float((np.median(cross) - np.median(null)) / spread) if spread > 0 else float("nan")


def _knn_graph(neighbours: np.ndarray) -> sparse.csr_matrix:
    """The symmetric, unweighted kNN graph."""
    n, k = neighbours.shape
    graph = sparse.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), neighbours.ravel())), shape=(n, n))
    return ((graph + graph.T) > 0).astype(np.float64).tocsr()


def _spectral_bipartition(graph: sparse.csr_matrix, seed: int) -> np.ndarray:
    """Two parts of a connected graph by spectral clustering."""
    from sklearn.cluster import SpectralClustering

    labels = SpectralClustering(n_clusters=2, affinity="precomputed", random_state=seed,
                                assign_labels="cluster_qr").fit_predict(graph)
    return labels.astype(np.intp)


def _group_components(unit: np.ndarray, component: np.ndarray, n_components: int,
                      rotation: np.ndarray) -> np.ndarray:
    """Largest group of related components as part 0, every other component as part 1.

    When all components form one group, the largest component is part 0.

    ``best[i, c]`` is row ``i``'s largest cosine to component ``c`` (itself left out), ``null[i, c]``
    the same to ``c`` turned by ``rotation``; a component's relatedness to another, seen from its
    own rows, is ``(median best[., d] - median null[., d]) / (median best[., c] - median null[., d])``.
    """
    order = np.argsort(component, kind="stable")
    starts = np.searchsorted(component[order], np.arange(n_components))
    grouped = unit[order]  # columns sorted by component, for reduceat
    rotated = grouped @ rotation
    column_of = np.argsort(order)  # each row's own column among the sorted ones
    best = np.empty((unit.shape[0], n_components))
    null = np.empty((unit.shape[0], n_components))
    for start in range(0, unit.shape[0], 1024):
        block = unit[start:start + 1024]
        sims = block @ grouped.T
        sims[np.arange(block.shape[0]), column_of[start:start + 1024]] = -np.inf
        best[start:start + 1024] = np.maximum.reduceat(sims, starts, axis=1)
        null[start:start + 1024] = np.maximum.reduceat(block @ rotated.T, starts, axis=1)
    related = np.zeros((n_components, n_components))
    for c in range(n_components):
        rows = component == c
        cross, baseline = np.median(best[rows], axis=0), np.median(null[rows], axis=0)
        spread = cross[c] - baseline
        with np.errstate(divide="ignore", invalid="ignore"):
            related[c] = np.where(spread > 0, (cross - baseline) / spread, np.inf)  # no spread: call it related
    related = (related + related.T) / 2
    group = _two_groups(related)
    sizes = np.bincount(group, weights=np.bincount(component, minlength=n_components), minlength=2)
    return (group[component] != np.argmax(sizes)).astype(np.intp)


def _two_groups(related: np.ndarray) -> np.ndarray:
    """Components in two groups, each as related within as it can be: a spectral bipartition of
    their relatedness (negative values as 0). Not the connected components of a thresholded link
    graph: among hundreds of pairs of unrelated components a few pass any threshold by chance, and
    one such link merged two spaces (issue 26: a 40-cluster index half-rotated was not flagged)."""
    n = related.shape[0]
    if n <= 2:
        return np.arange(n, dtype=np.intp)
    affinity = np.clip(np.where(np.isfinite(related), related, 1.0), 0.0, None)
    np.fill_diagonal(affinity, 1.0)
    degree = affinity.sum(axis=1)
    laplacian = np.eye(n) - affinity / np.sqrt(np.outer(degree, degree))
    _, vectors = np.linalg.eigh(laplacian)
    fiedler = vectors[:, 1] / np.sqrt(degree)  # the normalised cut's relaxation
    order = np.argsort(fiedler, kind="stable")
    values = fiedler[order]
    # the cut of the sorted values with the least within-group sum of squares (two-means in 1-D)
    prefix, squares = np.cumsum(values), np.cumsum(values ** 2)
    left = np.arange(1, n)
    within = (squares[:-1] - prefix[:-1] ** 2 / left) + \
        ((squares[-1] - squares[:-1]) - (prefix[-1] - prefix[:-1]) ** 2 / (n - left))
    group = np.zeros(n, dtype=np.intp)
    group[order[int(np.argmin(within)) + 1:]] = 1
    return group


def _best(queries: np.ndarray, pool: np.ndarray, *, exclude_self: bool = False) -> np.ndarray:
    """Each query's largest cosine to the (unit) rows of ``pool`` (blocks of 1,024 queries)."""
    out = np.empty(queries.shape[0])
    for start in range(0, queries.shape[0], 1024):
        sims = queries[start:start + 1024] @ pool.T
        if exclude_self:
            np.fill_diagonal(sims[:, start:start + 1024], -np.inf)
        out[start:start + 1024] = sims.max(axis=1)
    return out
