"""PED: potential-energy descent of the features, then any other estimator.

Li, Hu, Ge, Shan & Duan, "Exploring Model Transferability through the Lens of
Potential Energy", ICCV 2023 (reference code: lixiaotong97/PED, ``metrics.py``:
``One_Step_PED`` and ``PED_Score``).

Fine-tuning pushes overlapping classes apart. PED simulates that motion on the frozen
features and scores the moved features with a base estimator (LogME by default).
Features are first standardised with the mean and standard deviation (floored at
``eps``) of ``reference_features``. In one step, class ``c`` with mean ``mu_c`` and
radius ``R_c = sqrt(sum_d var_cd)`` (population variances) is repelled by every class
``c'`` that it overlaps:

    F_cc' = max(nsigma (R_c + R_c') - ||mu_c - mu_c'||, 0),
    m_cc' = min(time_step^2 constant F_cc' / 2, F_cc'),
    shift_c = sum_c' m_cc' (mu_c - mu_c') / ||mu_c - mu_c'||,

and every sample of class ``c`` moves by ``shift_c``. Steps repeat (``steps`` at most)
while the total movement ``sum_c ||shift_c||_1`` stays above ``exit_ratio`` times that
of the first step; the moved features are mapped back to the original scale.

Differences from the reference:

* ``reference_features`` defaults to the target features themselves. The paper
  standardises with the same model's ImageNet validation features (its Appendix B);
  the reference has no default and raises without them.
* The shift is computed from class means with ``C x C`` matrices instead of a
  ``C x C x D`` array, and two classes with identical means (no direction to push
  along; NaN in the reference) do not move each other.
* The class means and radii are computed once: all samples of a class move by the
  same shift, so a step moves the class mean by it and leaves the radius as it was
  (the reference recomputes both from the moved samples, the same numbers to
  rounding).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_classification_labels,
    check_features,
    check_positive_float,
    check_positive_int,
)
from transferscope.metrics.registry import MetricInfo, get_metric
from transferscope.metrics.transferability._classwise import class_sums, one_hot

__all__ = ["ped", "ped_dynamics"]


def _class_shift(
    means: np.ndarray, radius: np.ndarray, time_step: float, nsigma: float, constant: float
) -> np.ndarray:
    """Displacement ``(C, D)`` of each class in one step of the simulation."""
    dist = cdist(means, means)
    overlap = np.maximum(nsigma * (radius[:, None] + radius[None, :]) - dist, 0.0)
    move = np.minimum(0.5 * time_step**2 * constant * overlap, overlap)
    weight = np.divide(move, dist, out=np.zeros_like(move), where=dist > 0)
    np.fill_diagonal(weight, 0.0)
    return weight.sum(axis=1)[:, None] * means - weight @ means


def ped_dynamics(
    features: Any,
    labels: Any,
    *,
    steps: int = 6,
    time_step: float = 0.1,
    nsigma: float = 0.6,
    constant: float = 1.0,
    exit_ratio: float = 0.5,
    reference_features: Any = None,
    eps: float = 1e-3,
) -> np.ndarray:
    """Features after the PED potential-energy descent (a new float64 array).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    steps : int, default=6
        Maximum number of steps (the reference's loop runs at most 6).
    time_step : float, default=0.1
        Step length; a pair moves ``time_step^2 constant / 2`` of its overlap per step.
    nsigma : float, default=0.6
        Class reach in radii (the reference's default; its paper also uses 0.3).
    constant : float, default=1.0
        Force constant.
    exit_ratio : float, default=0.5
        Stop once a step would move less than this fraction of the first step's movement.
    reference_features : array-like of shape (n_ref, n_features), optional
        Features whose per-dimension mean and standard deviation define the
        standardisation; default the target features themselves.
    eps : float, default=1e-3
        Floor on those standard deviations.

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.ped import ped_dynamics
    >>> x = np.array([[0.0], [2.0], [0.5], [2.5]])
    >>> moved = ped_dynamics(x, [0, 0, 1, 1])
    >>> bool(np.all(moved[:2] < x[:2]) and np.all(moved[2:] > x[2:]))
    True
    """
    feats = check_features(features)
    n, d = feats.shape
    codes, classes = check_classification_labels(labels, n)
    steps = check_positive_int(steps, name="steps", minimum=0)
    time_step = check_positive_float(time_step, name="time_step")
    nsigma = check_positive_float(nsigma, name="nsigma", allow_zero=True)
    constant = check_positive_float(constant, name="constant")
    exit_ratio = check_positive_float(exit_ratio, name="exit_ratio", allow_zero=True)
    eps = check_positive_float(eps, name="eps")
    if reference_features is None:
        ref = feats
    else:
        ref = check_features(reference_features, name="reference_features")
        if ref.shape[1] != d:
            raise InputError(
                f"reference_features has {ref.shape[1]} columns but features has {d}"
            )
    center = ref.mean(axis=0)
    scale = np.maximum(ref.std(axis=0), eps)
    z = (feats - center) / scale
    counts = np.bincount(codes, minlength=classes.shape[0]).astype(np.float64)
    onehot = one_hot(codes, classes.shape[0])
    means = class_sums(onehot, z) / counts[:, None]
    dev = means[codes]
    np.subtract(z, dev, out=dev)
    # Every sample of a class moves by the same shift, so the class means move by
    # it and the radii stay: one pass over the samples serves every step.
    radius = np.sqrt(class_sums(onehot, np.einsum("ij,ij->i", dev, dev)) / counts)
    total = np.zeros((classes.shape[0], d))
    first = 0.0
    for step in range(steps):
        shift = _class_shift(means, radius, time_step, nsigma, constant)
        movement = float(np.abs(shift).sum())
        if step == 0:
            first = movement
        if first == 0.0 or movement / first <= exit_ratio:
            break
        means += shift
        total += shift
    # Unmoved classes come back bit for bit: add the displacement in the original units.
    return feats + (total * scale)[codes]


def ped(
    features: Any,
    labels: Any,
    *,
    base: str = "logme",
    base_options: dict[str, Any] | None = None,
    steps: int = 6,
    time_step: float = 0.1,
    nsigma: float = 0.6,
    constant: float = 1.0,
    exit_ratio: float = 0.5,
    reference_features: Any = None,
) -> float:
    """PED: the ``base`` estimator's score on features moved by :func:`ped_dynamics`.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    base : str, default="logme"
        A registered classification transferability estimator (not ``"ped"``).
    base_options : dict, optional
        Keyword options passed to the base estimator (e.g. ``{"source_probs": p}``).
    steps, time_step, nsigma, constant, exit_ratio, reference_features
        See :func:`ped_dynamics`.

    Returns
    -------
    float
        The base estimator's score (higher is better).

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.ped import ped
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 40)
    >>> good = rng.normal(size=(120, 5)) + 3.0 * np.eye(3, 5)[y]
    >>> ped(good, y) > ped(rng.normal(size=(120, 5)), y)
    True
    """
    if not isinstance(base, str):
        raise InputError(f"base must be the name of an estimator, got {base!r}")
    info = get_metric(base, "transferability")
    if info.name == "ped":
        raise InputError("base must be another estimator than 'ped'")
    if "classification" not in info.task_types:
        raise InputError(f"base estimator {info.name!r} does not support classification")
    options = dict(base_options or {})
    accepted = [p for p, v in inspect.signature(info.func).parameters.items()
                if v.kind is inspect.Parameter.KEYWORD_ONLY and p != "task"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InputError(
            f"base_options for {info.name} has unknown option(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(accepted) or 'none'}"
        )
    moved = ped_dynamics(
        features, labels, steps=steps, time_step=time_step, nsigma=nsigma, constant=constant,
        exit_ratio=exit_ratio, reference_features=reference_features,
    )
    return info.func(moved, labels, **options)


METRICS = [
    MetricInfo(
        name="ped",
        family="transferability",
        func=ped,
        summary="A base estimator (LogME by default) on features moved apart by a simulated "
        "potential-energy descent between overlapping classes.",
        citation="Li, Hu, Ge, Shan & Duan, Exploring Model Transferability through the Lens of "
        "Potential Energy, ICCV 2023",
        task_types=("classification",),
        complexity="O(steps (N D + C^2 D)) for the dynamics, plus the base estimator",
        unreliable_when="as the base estimator; reference_features not given (the paper "
        "standardises with the model's ImageNet features)",
    )
]
