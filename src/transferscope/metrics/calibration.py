"""Null calibration and intervals for any registered similarity measure.

A similarity value alone does not say whether two representations are more alike
than chance: biased CKA of two independent random matrices is far from 0 when
N is small next to D, and kNN overlaps have a chance level of about k / N.
:func:`similarity_permutation_test` compares the observed value with its
distribution when the row correspondence between ``X`` and ``Y`` is broken by
random permutations of ``Y``'s rows; :func:`similarity_bootstrap_ci` gives a
percentile interval over rows resampled with replacement (both representations
resampled together).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics import MetricInfo, check_options, get_metric
from transferscope.metrics._validation import check_fraction, check_paired_features, check_positive_int

__all__ = ["PermutationTest", "similarity_permutation_test", "similarity_bootstrap_ci", "MAX_PERMUTATIONS"]

#: The most permutations a test runs (work grows with them; 1e5 resolves p-values down to 1e-5).
MAX_PERMUTATIONS = 100_000


@dataclass(frozen=True)
class PermutationTest:
    """Result of :func:`similarity_permutation_test`.

    Attributes
    ----------
    value : float
        The measure on the paired data.
    p_value : float
        ``(1 + #{null at least as extreme}) / (1 + n_permutations)``; "extreme" means
        larger for a similarity, smaller for a distance.
    null : ndarray of shape (n_permutations,)
        The measure with ``Y``'s rows permuted.
    """

    value: float
    p_value: float
    null: np.ndarray

    @property
    def null_mean(self) -> float:
        """Mean of the null distribution (the chance level of the measure here)."""
        return float(np.mean(self.null))

    @property
    def null_std(self) -> float:
        """Standard deviation of the null distribution."""
        return float(np.std(self.null, ddof=1)) if self.null.size > 1 else 0.0


def _measure(name: str, options: dict[str, Any]) -> MetricInfo:
    info = get_metric(name, "similarity")
    check_options(info, options)
    return info


def similarity_permutation_test(
    name: str,
    X: Any,
    Y: Any,
    *,
    n_permutations: int = 200,
    seed: int = 0,
    **options: Any,
) -> PermutationTest:
    """Permutation test of a similarity: is ``X`` more alike ``Y`` than chance?

    Parameters
    ----------
    name : str
        A registered similarity measure.
    X, Y : array-like of shape (n_samples, d_x), (n_samples, d_y)
    n_permutations : int, default=200
        Random permutations of ``Y``'s rows (seeded); the smallest attainable
        p-value is ``1 / (n_permutations + 1)``.
    seed : int, default=0
    **options
        Options of the measure.

    Returns
    -------
    PermutationTest

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 20))
    >>> test = ts.similarity_permutation_test("cka", X, X[:, :10] + rng.normal(size=(50, 10)),
    ...                                       n_permutations=99)
    >>> test.p_value, test.null_mean < test.value
    (0.01, True)
    """
    info = _measure(name, options)
    scale = "rescale" if info.measure.invariant.isotropic_scaling else "refuse"
    x, y = check_paired_features(X, Y, scale=scale)
    n_permutations = check_positive_int(n_permutations, name="n_permutations")
    if n_permutations > MAX_PERMUTATIONS:  # each one recomputes the measure: bounded work
        raise InputError(f"n_permutations must be at most {MAX_PERMUTATIONS:,} (the smallest p-value is then "
                         f"{1 / (MAX_PERMUTATIONS + 1):.0e}; each permutation recomputes the measure), got {n_permutations:,}")
    rng = np.random.default_rng(seed)
    observed = info.func(x, y, **options)
    null = np.array([info.func(x, y[rng.permutation(x.shape[0])], **options) for _ in range(n_permutations)])
    extreme = null >= observed if info.higher_is_better else null <= observed
    p_value = (1.0 + float(np.count_nonzero(extreme))) / (1.0 + n_permutations)
    return PermutationTest(value=float(observed), p_value=p_value, null=null)


def similarity_bootstrap_ci(
    name: str,
    X: Any,
    Y: Any,
    *,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
    **options: Any,
) -> tuple[float, float, float]:
    """Percentile bootstrap interval of a similarity over resampled inputs.

    Rows are drawn with replacement, the same rows for ``X`` and ``Y``. Measures
    built on nearest neighbours see the drawn duplicates as distance-0 neighbours,
    which biases them upward; prefer the permutation test for those.

    Parameters
    ----------
    name : str
        A registered similarity measure.
    X, Y : array-like of shape (n_samples, d_x), (n_samples, d_y)
    n_boot : int, default=200
    level : float, default=0.95
    seed : int, default=0
    **options
        Options of the measure.

    Returns
    -------
    (value, low, high) : tuple of float
        The measure on the data and the interval's bounds.

    Examples
    --------
    >>> import numpy as np, transferscope as ts
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 5))
    >>> value, low, high = ts.similarity_bootstrap_ci("cka", X, X + rng.normal(size=(80, 5)))
    >>> low <= value <= high
    True
    """
    info = _measure(name, options)
    scale = "rescale" if info.measure.invariant.isotropic_scaling else "refuse"
    x, y = check_paired_features(X, Y, scale=scale)
    n_boot = check_positive_int(n_boot, name="n_boot", minimum=2)
    level = check_fraction(level, name="level", allow_zero=False)
    if level >= 1.0:
        raise InputError(f"level must be below 1, got {level}")
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    draws = []
    for _ in range(n_boot):
        rows = rng.integers(0, n, n)
        draws.append(info.func(x[rows], y[rows], **options))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(np.asarray(draws), [tail, 1.0 - tail])
    return float(info.func(x, y, **options)), float(low), float(high)
