"""Nearest-class-mean ground truth on frozen features.

Features are first centred on the mean of the fitting rows (train + validation)
and L2-normalised row-wise ("CL2N", as in SimpleShot, Wang et al. 2019). Each
class is represented by the mean of its normalised fitting rows, and a test row
goes to the class whose mean is nearest:

- ``metric="cosine"`` (default): largest cosine between the row and the class
  mean, i.e. the class means are re-normalised to unit length, so a class whose
  members are spread out (a short mean) is not penalised;
- ``metric="euclidean"``: smallest Euclidean distance to the (un-normalised)
  class mean, SimpleShot's rule; scikit-learn's
  :class:`~sklearn.neighbors.NearestCentroid` does the fit and the prediction.

NCM has no hyperparameter, so the validation split is simply added to the
training split; the score is top-1 accuracy on the test split (with balanced
accuracy and macro-F1 alongside).
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from sklearn.neighbors import NearestCentroid

from transferscope.errors import InputError
from transferscope.metrics import (
    check_choice,
    check_classification_labels,
    check_features,
)
from transferscope.probes._common import centre_l2_normalise, classification_metrics, split_indices, split_sizes
from transferscope.probes.result import ProbeResult

__all__ = ["ncm_probe", "ncm_predict"]


def ncm_predict(support: np.ndarray, support_labels: np.ndarray, queries: np.ndarray,
                *, metric: str = "cosine") -> np.ndarray:
    """Labels of ``queries`` by nearest class mean of (already normalised) ``support`` rows.

    A helper shared with the few-shot probe; inputs are trusted (no checks).
    """
    with warnings.catch_warnings():
        # NearestCentroid also computes a within-class spread (used only for shrinkage,
        # which is off); with one sample per class or identical rows it warns about it.
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        warnings.filterwarnings("ignore", ".*zero standard deviation", UserWarning)
        model = NearestCentroid(metric="euclidean").fit(support, support_labels)
    if metric == "euclidean":
        return model.predict(queries)
    centroids = model.centroids_
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    sims = queries @ (centroids / np.where(norms == 0.0, 1.0, norms)).T
    return model.classes_[np.argmax(sims, axis=1)]


def ncm_probe(
    features: Any,
    labels: Any,
    *,
    splits: Any,
    metric: Literal["cosine", "euclidean"] = "cosine",
    center: bool = True,
) -> ProbeResult:
    """Nearest-class-mean probe on centred, L2-normalised features, scored on the test split.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    splits : (train, val, test)
        Index arrays, e.g. ``Dataset.split(seed=0)``; train and val together fit the means.
    metric : {"cosine", "euclidean"}, default="cosine"
        Cosine to the class mean, or Euclidean distance to it (SimpleShot).
    center : bool, default=True
        Subtract the mean of the fitting rows before L2-normalising. Without it,
        all rows may point into one narrow cone (anisotropic embeddings) and
        cosines barely differ.

    Returns
    -------
    ProbeResult
        ``score`` is test top-1 accuracy; ``metrics`` add balanced accuracy and macro-F1.

    Raises
    ------
    InputError
        Bad ``features``, ``labels``, ``splits``, ``metric`` or ``center``, or fitting
        rows holding a single class.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.probes.ncm import ncm_probe
    >>> x = np.array([[5.0, 0.1], [5.0, -0.1], [-5.0, 0.1], [-5.0, -0.1], [4.0, 0.0], [-4.0, 0.0]])
    >>> res = ncm_probe(x, ["a", "a", "b", "b", "a", "b"], splits=([0, 2], [1, 3], [4, 5]))
    >>> res.score, res.metric
    (1.0, 'accuracy')
    """
    metric = check_choice(metric, ("cosine", "euclidean"), name="metric")
    if not isinstance(center, (bool, np.bool_)):
        raise InputError(f"center must be True or False, got {center!r}")
    x = check_features(features)
    train, val, test = split_indices(x.shape[0], splits)
    y, _ = check_classification_labels(labels, x.shape[0])
    fit_idx = np.concatenate([train, val])
    if np.unique(y[fit_idx]).size < 2:
        raise InputError("splits: the train and val splits hold a single class; NCM needs at least 2")
    mean = x[fit_idx].mean(axis=0) if center else None
    z = centre_l2_normalise(x, mean)
    pred = ncm_predict(z[fit_idx], y[fit_idx], z[test], metric=metric)
    metrics = classification_metrics(y[test], pred)
    settings = {"probe": "ncm", "metric": metric, "center": bool(center), "normalise": "l2",
                "n_classes_fit": int(np.unique(y[fit_idx]).size), **split_sizes(train, val, test)}
    return ProbeResult(metrics["accuracy"], "accuracy", metrics, settings)
