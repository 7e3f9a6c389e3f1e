"""Few-shot ground truth: N-way K-shot episodes on frozen features.

Each episode draws ``ways`` classes, then for each class ``max(shots) + queries``
distinct samples, from a :func:`numpy.random.default_rng` seeded with ``seed``.
The first ``queries`` of each class are the episode's queries; the next ``K`` are
its support set for the ``K``-shot evaluation. Supports are nested (the 1-shot
support is part of the 5-shot one) and every shot count sees the same classes and
queries, so the accuracies across shot counts are paired comparisons.

Only classes with at least ``max(shots) + queries`` samples take part (the same
pool for every shot count); fewer than ``ways`` such classes is an error.

Features are centred on the mean of all rows and L2-normalised ("CL2N", as in
SimpleShot, Wang et al. 2019; the mean uses no labels). The classifier is then

- ``"ncm"``: nearest class mean by cosine (:func:`transferscope.probes.ncm.ncm_predict`);
- ``"logistic"``: multinomial logistic regression on the support set, ``C = 1``
  (scikit-learn's default, as in Tian et al., Rethinking Few-Shot Image
  Classification, ECCV 2020).

The result reports, per shot count ``K``, the mean query accuracy over episodes
(``"{ways}way_{K}shot_mean"``) and the half-width of its 95% interval,
``1.96 * std / sqrt(episodes)`` with the sample standard deviation (``ddof=1``)
(``"{ways}way_{K}shot_ci95"``). The headline ``score`` is the mean for the
largest shot count.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from transferscope.errors import InputError
from transferscope.metrics import (
    check_choice,
    check_classification_labels,
    check_features,
    check_positive_int,
)
from transferscope.probes._common import centre_l2_normalise, check_grid
from transferscope.probes.ncm import ncm_predict
from transferscope.probes.result import ProbeResult

__all__ = ["fewshot_probe", "LOGISTIC_C", "LOGISTIC_MAX_ITER"]

LOGISTIC_C = 1.0
LOGISTIC_MAX_ITER = 1000


def fewshot_probe(
    features: Any,
    labels: Any,
    *,
    ways: int = 5,
    shots: tuple[int, ...] = (1, 5),
    queries: int = 15,
    episodes: int = 100,
    classifier: Literal["ncm", "logistic"] = "ncm",
    center: bool = True,
    seed: int = 0,
) -> ProbeResult:
    """Mean accuracy over seeded N-way K-shot episodes, with 95% intervals.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    ways : int, default=5
        Classes per episode (at least 2).
    shots : tuple of int, default=(1, 5)
        Support samples per class; each shot count is evaluated on the same episodes.
    queries : int, default=15
        Query samples per class and episode.
    episodes : int, default=100
        Number of episodes (at least 2, for the interval).
    classifier : {"ncm", "logistic"}, default="ncm"
    center : bool, default=True
        Subtract the mean of all rows before L2-normalising.
    seed : int, default=0
        Seed of the episode sampler; the same seed gives the same episodes.

    Returns
    -------
    ProbeResult
        ``score``: the mean accuracy at the largest shot count; ``metrics``: for
        each ``K`` in ``shots``, ``"{ways}way_{K}shot_mean"`` and
        ``"{ways}way_{K}shot_ci95"`` (half-width of the 95% interval).

    Raises
    ------
    InputError
        Bad ``features``, ``labels``, ``ways``, ``shots``, ``queries``, ``episodes``,
        ``classifier``, ``center`` or ``seed``, or fewer than ``ways`` classes with at
        least ``max(shots) + queries`` samples.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.probes.fewshot import fewshot_probe
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(np.arange(6), 20)
    >>> x = rng.normal(size=(120, 8)) + 4 * np.eye(8)[y]
    >>> res = fewshot_probe(x, y, ways=5, shots=(1, 5), queries=10, episodes=20)
    >>> res.metric, res.score > 0.9, sorted(res.metrics)
    ('5way_5shot_mean', True, ['5way_1shot_ci95', '5way_1shot_mean', '5way_5shot_ci95', '5way_5shot_mean'])
    """
    ways = check_positive_int(ways, name="ways", minimum=2)
    shot_list = sorted(set(check_grid(shots, name="shots", integer=True)))
    queries = check_positive_int(queries, name="queries")
    episodes = check_positive_int(episodes, name="episodes", minimum=2)
    classifier = check_choice(classifier, ("ncm", "logistic"), name="classifier")
    if not isinstance(center, (bool, np.bool_)):
        raise InputError(f"center must be True or False, got {center!r}")
    seed = check_positive_int(seed, name="seed", minimum=0)
    x = check_features(features)
    y, _ = check_classification_labels(labels, x.shape[0])

    per_class = shot_list[-1] + queries
    counts = np.bincount(y)
    eligible = np.flatnonzero(counts >= per_class)
    if eligible.size < ways:
        raise InputError(
            f"labels: only {eligible.size} class(es) have at least {per_class} samples "
            f"(max(shots) + queries = {shot_list[-1]} + {queries}); ways={ways} needs {ways}"
        )
    members = {int(c): np.flatnonzero(y == c) for c in eligible}
    z = centre_l2_normalise(x, x.mean(axis=0) if center else None)

    rng = np.random.default_rng(seed)
    acc = np.empty((len(shot_list), episodes))
    query_labels = np.repeat(np.arange(ways), queries)
    for e in range(episodes):
        classes = rng.choice(eligible, size=ways, replace=False)
        drawn = np.stack([rng.choice(members[int(c)], size=per_class, replace=False) for c in classes])
        q = z[drawn[:, :queries].ravel()]
        for s, k in enumerate(shot_list):
            support = z[drawn[:, queries:queries + k].ravel()]
            support_labels = np.repeat(np.arange(ways), k)
            pred = _classify(classifier, support, support_labels, q)
            acc[s, e] = np.mean(pred == query_labels)

    metrics: dict[str, float] = {}
    for s, k in enumerate(shot_list):
        key = f"{ways}way_{k}shot"
        metrics[f"{key}_mean"] = float(acc[s].mean())
        metrics[f"{key}_ci95"] = float(1.96 * acc[s].std(ddof=1) / np.sqrt(episodes))
    headline = f"{ways}way_{shot_list[-1]}shot_mean"
    settings: dict[str, Any] = {
        "probe": "fewshot", "ways": ways, "shots": shot_list, "queries": queries,
        "episodes": episodes, "classifier": classifier, "center": bool(center),
        "normalise": "l2", "seed": seed, "min_class_size": per_class,
        "n_eligible_classes": int(eligible.size), "n_classes": int(counts.size),
    }
    if classifier == "logistic":
        settings.update({"C": LOGISTIC_C, "max_iter": LOGISTIC_MAX_ITER})
    return ProbeResult(metrics[headline], headline, metrics, settings)


def _classify(classifier: str, support: np.ndarray, support_labels: np.ndarray, queries: np.ndarray) -> np.ndarray:
    if classifier == "ncm":
        return ncm_predict(support, support_labels, queries, metric="cosine")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=LOGISTIC_C, max_iter=LOGISTIC_MAX_ITER)
        return model.fit(support, support_labels).predict(queries)
