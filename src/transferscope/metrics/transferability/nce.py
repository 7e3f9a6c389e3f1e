"""NCE: negative conditional entropy of the target labels given the source labels.

Tran, Nguyen & Hassner, "Transferability and Hardness of Supervised
Classification Tasks", ICCV 2019.

Each target input gets the hard source label ``z_i = argmax_z theta_{i z}`` of
the source classifier (ties go to the lowest index). With the empirical joint
``P(y, z) = #{i: y_i = y, z_i = z} / N``:

    NCE = -H(Y | Z) = sum_{y, z} P(y, z) log( P(y, z) / P(z) )

``NCE <= 0``, with equality exactly when the target label is a function of the
source label; higher is better. The paper defines the (lower-is-better)
conditional entropy ``H(Y | Z)``; this returns its negative, as the
reference implementations do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from transferscope.metrics._validation import (
    check_classification_labels,
    check_features_shape,
    check_source_probs,
)
from transferscope.metrics.registry import MetricInfo

__all__ = ["nce"]


def nce(features: Any, labels: Any, *, source_probs: Any) -> float:
    """Negative conditional entropy ``-H(Y | Z)`` of target given hard source labels.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Target features; only validated (NCE uses the source head's outputs).
    labels : array-like of shape (n_samples,)
        Target class labels of any hashable type.
    source_probs : array-like of shape (n_samples, n_source_classes)
        The source classifier's probabilities on the target inputs; only their
        argmax per row is used.

    Returns
    -------
    float
        ``sum_{y,z} P(y, z) log P(y | z)`` in nats, in ``[-log C, 0]``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.nce import nce
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    >>> nce(np.zeros((4, 1)), ["a", "a", "b", "b"], source_probs=probs)  # y is a function of z
    0.0
    >>> round(nce(np.zeros((4, 1)), ["a", "b", "a", "b"], source_probs=probs), 4)  # -log 2
    -0.6931
    """
    n, _ = check_features_shape(features)  # only validated: LEEP/NCE use the source head's outputs
    codes, classes = check_classification_labels(labels, n)
    probs = check_source_probs(source_probs, n)
    _, source = np.unique(probs.argmax(axis=1), return_inverse=True)  # only predicted z
    joint = np.zeros((classes.shape[0], int(source.max()) + 1))
    np.add.at(joint, (codes, source), 1.0)  # counts N * P(y, z)
    marginal = np.broadcast_to(joint.sum(axis=0), joint.shape)
    seen = joint > 0
    return float(np.sum(joint[seen] * np.log(joint[seen] / marginal[seen])) / n)


METRICS = [
    MetricInfo(
        name="nce",
        scale_invariant=True,
        family="transferability",
        func=nce,
        summary="Negative conditional entropy -H(Y|Z) of target labels given the source head's "
        "argmax labels Z.",
        citation="Tran, Nguyen & Hassner, Transferability and Hardness of Supervised "
        "Classification Tasks, ICCV 2019",
        task_types=("classification",),
        needs_source_probs=True,
        complexity="O(N C_s + C C_s)",
        unreliable_when="few samples per source label (H(Y|Z) is underestimated; tends to 0 when "
        "most source labels are hit once); near-ties in source_probs (argmax discards confidence)",
    )
]
