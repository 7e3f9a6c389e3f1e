"""NCTI: Neural Collapse Transferability Index.

Wang, Luo, Zheng, Huang & Baktashmotlagh, "How Far Pre-trained Models Are from
Neural Collapse on the Target Dataset Informs their Transferability", ICCV 2023
(reference code: BUserName/NCTI, ``metrics.py::NCTI_Score``).

The features are reduced by PCA to ``k = 64`` components and a linear
discriminant is fitted there, with shrinkage
``lambda = exp(-sum of the top-32 PCA variances)`` (scikit-learn's ``eigen``
solver) or, when ``lambda < 1e-10``, without shrinkage (``svd`` solver). With
``Z`` the centred LDA projection (``min(C - 1, k)`` columns) and ``P`` the
``N x C`` LDA posteriors, three per-model terms measure how far the features are
from neural collapse on the target data:

* **SELI / simplex-ETF term** (higher is better): ``S_seli = ||Z||_*``, the
  nuclear norm of the projected features (a full-rank, spread-out class
  geometry).
* **Nearest-centre-classifier term** (higher is better):
  ``S_ncc = (1/N) sum_i P[i, y_i]``.
* **Within-class variability term** (lower is better):
  ``S_vc = log sum_c ||P_c||_*`` with ``P_c`` the posterior rows of class ``c``
  (the paper writes ``-sum_c ||Z_c||_*``; the code takes the log of the sum and
  subtracts it).

The reference ranks a set of candidate models by
``minmax(S_seli) + minmax(S_ncc) - minmax(S_vc)``, each term min-max normalised
over the candidates; that is :func:`ncti_combine`, applied to the terms of
:func:`ncti_terms`. The registered single-model :func:`ncti` is the
unnormalised ``S_seli + S_ncc - S_vc``, a well-defined number per model but not
rank-equivalent to the combined index (``S_seli`` grows like ``sqrt(N)`` and
dominates the sum).

Differences from the reference code:

* Its PCA uses scikit-learn's automatic solver, randomized (and seeded by the
  global NumPy state) for inputs larger than 500 x 500; the exact PCA is used
  here, from the eigendecomposition of the smaller Gram matrix of the centred
  features (the same components as the ``full`` SVD up to the sign of each, which
  none of the terms depends on; one ``D x D`` product instead of an SVD of all
  ``N x D`` features). It requires ``min(N, D) >= 64``; here ``k = min(64, N, D)``
  and components with zero variance are dropped.
* It indexes posteriors by the raw label values (labels must be ``0..C-1``
  without gaps); labels are remapped here.
* Features whose rows are all identical give the no-information posteriors
  (the class priors) here; the reference fails.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from transferscope.metrics._validation import (
    check_classification_labels,
    check_features,
    check_positive_int,
)
from transferscope.metrics.registry import MetricInfo
from transferscope.metrics.transferability._candidates import (
    check_candidate_scores,
    minmax,
)
from transferscope.metrics.transferability._classwise import class_statistics
from transferscope.metrics.transferability._fisher import check_within_class_scatter

__all__ = ["ncti", "ncti_combine", "ncti_terms"]

_MIN_SHRINKAGE = 1e-10


def _principal_components(feats: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The centred features on their top ``k`` principal axes and the variances
    along them (``1/(N-1)``), as ``PCA(svd_solver="full").fit_transform`` gives
    them up to the sign of each column, from the eigendecomposition of the
    smaller Gram matrix of the centred features instead of an SVD of all of them."""
    n, d = feats.shape
    centred = feats - feats.mean(axis=0)
    if n >= d:
        lam, vec = np.linalg.eigh(centred.T @ centred)
        lam, vec = lam[::-1][:k], np.ascontiguousarray(vec[:, ::-1][:, :k])
        reduced = centred @ vec
    else:
        lam, vec = np.linalg.eigh(centred @ centred.T)
        lam, vec = lam[::-1][:k], vec[:, ::-1][:, :k]
        reduced = vec * np.sqrt(np.maximum(lam, 0.0))
    return reduced, np.maximum(lam, 0.0) / (n - 1)


def _terms(
    feats: np.ndarray, codes: np.ndarray, n_classes: int, n_components: int, n_shrinkage_components: int
) -> dict[str, float]:
    n, d = feats.shape
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    if np.ptp(feats, axis=0).max() == 0.0:
        # All rows identical: the posteriors are the priors for every sample.
        priors = counts / n
        return {
            "seli": 0.0,
            "ncc": float(priors @ priors),
            "vc": float(np.log(np.sqrt(counts).sum() * np.linalg.norm(priors))),
        }
    reduced, variances = _principal_components(feats, min(n_components, n, d))
    keep = variances > variances[0] * max(n, d) * np.finfo(np.float64).eps
    reduced, variances = reduced[:, keep], variances[keep]
    _, _, s_w = class_statistics(reduced, codes, n_classes)
    check_within_class_scatter(s_w, reduced, "NCTI")
    if n - n_classes < reduced.shape[1]:
        warnings.warn(
            f"NCTI is unreliable when N - C ({n - n_classes}) is below the number of PCA "
            f"components ({reduced.shape[1]}): the within-class scatter is singular",
            RuntimeWarning,
            stacklevel=3,
        )
    shrinkage = float(np.exp(-variances[:n_shrinkage_components].sum()))
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # lazily: sklearn costs ~0.5 s to import

    if shrinkage <= _MIN_SHRINKAGE:
        lda = LinearDiscriminantAnalysis(solver="svd")
    else:
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrinkage)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Variables are collinear")
        warnings.filterwarnings("ignore", message="Only one sample available")
        projected = lda.fit_transform(reduced, codes)
        posterior = lda.predict_proba(reduced)
    projected = projected - projected.mean(axis=0)
    # The posterior rows of each class as one contiguous block, in sample order.
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(counts.astype(np.intp))))
    by_class = posterior[order]
    class_nuclear = sum(
        np.linalg.norm(by_class[start:stop], ord="nuc") for start, stop in zip(bounds[:-1], bounds[1:])
    )
    return {
        "seli": float(np.linalg.norm(projected, ord="nuc")),
        "ncc": float(np.mean(posterior[np.arange(n), codes])),
        "vc": float(np.log(class_nuclear)),
    }


def ncti_terms(
    features: Any, labels: Any, *, n_components: int = 64, n_shrinkage_components: int = 32
) -> dict[str, float]:
    """The three per-model NCTI terms, un-normalised.

    Returns ``{"seli": ||Z||_*, "ncc": (1/N) sum_i P[i, y_i], "vc": log sum_c ||P_c||_*}``
    (see the module docstring; ``seli`` and ``ncc`` are higher-better, ``vc``
    lower-better). Feed the terms of every candidate model to
    :func:`ncti_combine` to rank them as the reference does.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    n_components : int, default=64
        PCA components kept before the LDA (64 in the reference).
    n_shrinkage_components : int, default=32
        The LDA shrinkage is ``exp(-sum of this many top PCA variances)`` (32 in
        the reference); below 1e-10 no shrinkage is used.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.ncti import ncti_terms
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 50)
    >>> terms = ncti_terms(rng.normal(size=(150, 10)) + 3.0 * np.eye(3, 10)[y], y)
    >>> sorted(terms)
    ['ncc', 'seli', 'vc']
    >>> 0.9 < terms["ncc"] <= 1.0
    True
    """
    feats = check_features(features)
    codes, classes = check_classification_labels(labels, feats.shape[0])
    n_components = check_positive_int(n_components, name="n_components")
    n_shrinkage_components = check_positive_int(n_shrinkage_components, name="n_shrinkage_components")
    return _terms(feats, codes, classes.shape[0], n_components, n_shrinkage_components)


def ncti(features: Any, labels: Any, *, n_components: int = 64, n_shrinkage_components: int = 32) -> float:
    """NCTI of one model: ``S_seli + S_ncc - S_vc``, un-normalised (higher is better).

    ``S_seli = ||Z||_*`` (nuclear norm of the centred LDA projection after PCA to
    64 components), ``S_ncc = (1/N) sum_i P[i, y_i]`` (mean LDA posterior of the
    true class), ``S_vc = log sum_c ||P_c||_*`` (class-wise nuclear norms of the
    posteriors); Wang et al., ICCV 2023. The paper's index min-max normalises
    each term over the candidate models first: use :func:`ncti_terms` and
    :func:`ncti_combine` for that; the two rankings can differ.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    n_components : int, default=64
    n_shrinkage_components : int, default=32
        See :func:`ncti_terms`.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.ncti import ncti
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 50)
    >>> good = rng.normal(size=(150, 10)) + 3.0 * np.eye(3, 10)[y]
    >>> ncti(good, y) > ncti(rng.normal(size=(150, 10)), y)
    True
    """
    terms = ncti_terms(features, labels, n_components=n_components, n_shrinkage_components=n_shrinkage_components)
    return terms["seli"] + terms["ncc"] - terms["vc"]


def ncti_combine(seli_scores: Any, ncc_scores: Any, vc_scores: Any) -> np.ndarray:
    """NCTI across candidate models, as the reference ranks them.

    ``NCTI_m = m(S_seli)_m + m(S_ncc)_m - m(S_vc)_m`` with
    ``m(s) = (s - min s) / (max s - min s)`` over the candidates (zeros when all
    candidates are equal on a term). Not a registered estimator: the result
    depends on which candidates are compared.

    Parameters
    ----------
    seli_scores, ncc_scores, vc_scores : array-like of shape (n_models,)
        The ``"seli"``, ``"ncc"`` and ``"vc"`` entries of :func:`ncti_terms` for
        each candidate.

    Returns
    -------
    numpy.ndarray of shape (n_models,)
        In ``[-1, 2]``, higher is better.

    Examples
    --------
    >>> from transferscope.metrics.transferability.ncti import ncti_combine
    >>> ncti_combine([30.0, 50.0, 40.0], [0.8, 0.6, 0.9], [5.0, 5.5, 6.0]).round(3).tolist()
    [0.667, 0.5, 0.5]
    """
    seli = check_candidate_scores(seli_scores, "seli_scores")
    ncc = check_candidate_scores(ncc_scores, "ncc_scores", seli.shape[0])
    vc = check_candidate_scores(vc_scores, "vc_scores", seli.shape[0])
    return minmax(seli) + minmax(ncc) - minmax(vc)


METRICS = [
    MetricInfo(
        name="ncti",
        family="transferability",
        func=ncti,
        summary="Nuclear norm of the LDA projection (after PCA to 64) plus the mean true-class "
        "LDA posterior minus the log of the summed class-wise posterior nuclear norms.",
        citation="Wang, Luo, Zheng, Huang & Baktashmotlagh, How Far Pre-trained Models Are from "
        "Neural Collapse on the Target Dataset Informs their Transferability, ICCV 2023",
        task_types=("classification",),
        complexity="O(N D min(N, D) + N k^2 + k^3), k = min(64, N, D)",
        unreliable_when="N - C < min(64, D) (singular within-class scatter); the sum is "
        "unnormalised and dominated by the nuclear-norm term: rank candidates with ncti_combine",
    )
]
