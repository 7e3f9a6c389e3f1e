"""Anisotropy of a representation: expected cosine between random rows, and the dimensions behind it.

- :func:`anisotropy` (registered): the mean cosine similarity over distinct pairs of rows
  (Ethayarajh 2019), exact in O(N D) from the sum of the normalised rows.
- :func:`anisotropy_contributions`: each dimension's share of that mean (Timkey & van
  Schijndel 2021); the shares sum to :func:`anisotropy`.
- :func:`outlier_dimensions`: dimensions whose mean activation lies far from the other
  dimensions' means (Kovaleva et al. 2021; Puccetti et al. 2022).
"""

from __future__ import annotations

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._normalize import unit_rows
from transferscope.metrics._validation import check_features, check_positive_float
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo

__all__ = ["anisotropy", "anisotropy_contributions", "outlier_dimensions"]


def anisotropy_contributions(X: np.ndarray) -> np.ndarray:
    """Contribution of each dimension to the expected cosine between distinct rows.

    With ``u_i = x_i / ||x_i||``, the mean cosine over ordered pairs ``i != j`` splits over
    dimensions: ``CC_l = ((sum_i u_il)^2 - sum_i u_il^2) / (N (N - 1))`` is the mean of
    ``u_il u_jl`` over distinct pairs, and ``sum_l CC_l == anisotropy(X)``. A few large
    ``CC_l`` mean a few "rogue" dimensions dominate cosine similarity (Timkey & van
    Schijndel 2021).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least 2 rows, none of them all-zero.

    Returns
    -------
    ndarray of shape (n_features,)

    References
    ----------
    Timkey & van Schijndel, All bark and no bite: rogue dimensions in transformer language
    models obscure representational quality, EMNLP 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.anisotropy import anisotropy_contributions
    >>> X = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 0.0]])
    >>> anisotropy_contributions(X).round(6).tolist()
    [0.638071, -0.166667]
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    n = points.shape[0]
    if n < 2:
        raise InputError(f"X needs at least 2 rows for pairs, got {n}")
    u = unit_rows(points)
    return (u.sum(axis=0) ** 2 - (u**2).sum(axis=0)) / (n * (n - 1))


def anisotropy(X: np.ndarray) -> float:
    """Expected cosine similarity between two distinct random rows (Ethayarajh 2019).

    ``(||sum_i u_i||^2 - N) / (N (N - 1))`` with ``u_i = x_i / ||x_i||``: the exact mean of
    ``cos(x_i, x_j)`` over all pairs ``i != j``, in O(N D). Near 0 for isotropic
    representations; contextual language-model embeddings are often far above 0
    (a common direction dominates). Ethayarajh estimates it from random pairs; this is
    the exact mean.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least 2 rows, none of them all-zero.

    Returns
    -------
    float
        In ``[-1 / (N - 1), 1]``.

    References
    ----------
    Ethayarajh, How contextual are contextualized word representations? Comparing the
    geometry of BERT, ELMo, and GPT-2 embeddings, EMNLP 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.anisotropy import anisotropy
    >>> round(anisotropy(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])), 6)  # (0 + 2 cos 45deg) / 3
    0.471405
    """
    return float(anisotropy_contributions(X).sum())


def outlier_dimensions(X: np.ndarray, *, n_std: float = 3.0) -> np.ndarray:
    """Indices of outlier dimensions: mean activation more than ``n_std`` std from the others.

    With ``m_l`` the mean of column ``l`` over the rows, dimension ``l`` is an outlier when
    ``|m_l - mean(m)| > n_std * std(m)`` (mean and population standard deviation over the
    dimensions), the criterion of Kovaleva et al. 2021 as Puccetti et al. 2022 state it.
    Means rather than variances: the outliers of these papers are dimensions with a large
    constant offset, which is what makes cosine similarity anisotropic (see
    :func:`anisotropy_contributions`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_std : float, default=3.0
        Threshold in standard deviations, > 0.

    Returns
    -------
    ndarray of int
        Sorted column indices; empty when no dimension stands out (or all means are equal).

    References
    ----------
    Kovaleva, Kulshreshtha, Rogers & Rumshisky, BERT busters: outlier dimensions that disrupt
    transformers, Findings of ACL 2021; Puccetti, Rogers, Drozd & Dell'Orletta, Outlier
    dimensions that disrupt transformers are driven by frequency, Findings of EMNLP 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.geometry.anisotropy import outlier_dimensions
    >>> X = np.random.default_rng(0).normal(size=(100, 50))
    >>> X[:, 7] += 20.0
    >>> outlier_dimensions(X).tolist()
    [7]
    """
    points = check_features(X, name="X", scale="rescale")  # scale-invariant
    n_std = check_positive_float(n_std, name="n_std")
    means = points.mean(axis=0)
    spread = means.std()
    if spread == 0:
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(np.abs(means - means.mean()) > n_std * spread).astype(np.intp)


METRICS = [
    MetricInfo(
        name="anisotropy",
        family="geometry",
        func=anisotropy,
        summary="Expected cosine similarity between distinct rows (exact mean over pairs, O(N D)).",
        citation="Ethayarajh, How contextual are contextualized word representations? Comparing the "
        "geometry of BERT, ELMo, and GPT-2 embeddings, EMNLP 2019",
        complexity="O(N D)",
        unreliable_when="a few rogue dimensions dominate (check anisotropy_contributions)",
        higher_is_better=False,
        measure=MeasureProperties.geometry(
            range=(-1.0, 1.0), invariant=Invariances.all_except("translation", "invertible_linear")
        ),
    )
]
