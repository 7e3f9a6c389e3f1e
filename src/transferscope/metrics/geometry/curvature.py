"""Curvature of a trajectory of representations (Hénaff et al. 2019).

The rows of ``X`` are an ordered sequence (frames of a video, tokens of a sentence, ...).
The curvature at step ``t`` is the angle between consecutive difference vectors
``v_t = x_{t+1} - x_t`` and ``v_{t+1}``; the measure is its mean over the sequence. A straight
trajectory has curvature 0; Hénaff et al. find that perceptual representations
"straighten" natural video sequences.
"""

from __future__ import annotations

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import check_features
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo

__all__ = ["curvature"]


def curvature(X: np.ndarray, *, degrees: bool = True) -> float:
    """Mean angle between consecutive steps of the trajectory ``x_1, x_2, ..., x_N``.

    ``c_t = angle(v_t, v_{t+1})`` with ``v_t = x_{t+1} - x_t``, and the result is
    ``mean_t c_t`` over the ``N - 2`` pairs of consecutive steps, in degrees (as Hénaff et
    al. report it) or radians. Angles are computed as ``2 atan2(||a - b||, ||a + b||)`` of the
    unit steps ``a, b``, accurate also near 0 and 180 degrees (``arccos`` of the cosine is
    not). A zero step (a row repeated right after itself) has no direction: such steps are
    dropped, so a repeated frame does not bend the trajectory.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Rows in trajectory order; at least 2 non-zero steps (3 rows) are needed.
    degrees : bool, default=True
        Return degrees in ``[0, 180]``; ``False`` gives radians in ``[0, pi]``.

    Returns
    -------
    float
        0 for a straight line, 180 (pi) for a path that reverses at every step.

    References
    ----------
    Hénaff, Goris & Simoncelli, Perceptual straightening of natural videos, Nature
    Neuroscience 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.curvature import curvature
    >>> square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    >>> curvature(square)
    90.0
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    steps = np.diff(points, axis=0)
    lengths = np.linalg.norm(steps, axis=1)
    keep = lengths > 0
    if keep.sum() < 2:
        raise InputError(
            f"X needs at least 2 non-zero steps (rows in trajectory order), got {int(keep.sum())}"
        )
    unit = steps[keep] / lengths[keep, None]
    a, b = unit[:-1], unit[1:]
    angles = 2.0 * np.arctan2(np.linalg.norm(a - b, axis=1), np.linalg.norm(a + b, axis=1))
    mean = float(np.mean(angles))
    return float(np.degrees(mean)) if degrees else mean


METRICS = [
    MetricInfo(
        name="curvature",
        family="geometry",
        func=curvature,
        summary="Mean angle (degrees) between consecutive steps of the row sequence (trajectory).",
        citation="Hénaff, Goris & Simoncelli, Perceptual straightening of natural videos, "
        "Nature Neuroscience 2019",
        complexity="O(N D)",
        unreliable_when="rows are not an ordered sequence; steps dominated by noise (near 90 degrees in high D)",
        higher_is_better=False,
        measure=MeasureProperties.geometry(
            range=(0.0, 180.0), invariant=Invariances.all_except("invertible_linear", "sample_order")
        ),
    )
]
