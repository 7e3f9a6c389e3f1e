"""The only place that checks and normalises inputs of the metric functions.

Every public metric calls these helpers first, so that bad input gives one
clear :class:`~transferscope.errors.InputError` naming the argument, and the
arithmetic below always sees float64 arrays it may not mutate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError

__all__ = [
    "SAFE_MAGNITUDE",
    "check_features",
    "check_features_shape",
    "check_paired_features",
    "check_pairwise_memory",
    "check_classification_labels",
    "check_regression_targets",
    "check_multilabel_targets",
    "check_source_probs",
    "check_positive_int",
    "check_positive_float",
    "check_fraction",
    "check_choice",
    "physical_memory_bytes",
]


def all_finite(array: np.ndarray) -> bool:
    """Whether every value of a float ``array`` is finite, in one summing pass without a
    temporary: NaN and inf survive any sum, so a finite sum proves it; a sum that overflows (huge
    but finite values) is decided value by value.

    Examples
    --------
    >>> all_finite(np.array([[1.0, 2.0]])), all_finite(np.array([[1.0, np.nan]]))
    (True, False)
    >>> all_finite(np.full((2, 2), 3e38, dtype=np.float32))  # the sum overflows; the values are finite
    True
    """
    values = np.asarray(array)
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.einsum("abcdefgh"[:values.ndim] + "->", values) if 0 < values.ndim <= 8 else np.sum(values)
    return bool(np.isfinite(total)) or bool(np.isfinite(values).all())


def _checked_2d(features: Any, name: str) -> np.ndarray:
    """``features`` as a real numeric 2-D array, not copied where it already is one, or raise."""
    if isinstance(features, np.ndarray) and features.dtype.kind == "c" or (
            not isinstance(features, np.ndarray) and np.iscomplexobj(features)):
        raise InputError(f"{name} is complex; pass real features (take the real part or the modulus explicitly)")
    arr = features if isinstance(features, np.ndarray) else None
    if arr is None or arr.dtype.kind not in "biuf":
        try:
            arr = np.array(features, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must be a numeric 2-D array ({exc})") from None
    if arr.ndim != 2:
        raise InputError(
            f"{name} must be a 2-D array (samples x dimensions), got {arr.ndim}-D "
            f"with shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype.kind == "f" and not all_finite(arr):
        finite = np.isfinite(arr)
        if not finite.all():
            bad_rows = np.flatnonzero(~finite.all(axis=1))
            raise InputError(
                f"{name} contains NaN or inf in {bad_rows.size} row(s), first at row {int(bad_rows[0])}"
            )
    return arr


#: Largest magnitudes the arithmetic of every measure survives: fourth powers and sums of
#: squares over 1e10 entries stay within float64 (about 2^-1074 to 2^1024).
SAFE_MAGNITUDE = (2.0**-150, 2.0**150)


def check_features(
    features: Any, *, name: str = "features", scale: Literal["refuse", "rescale"] = "refuse"
) -> np.ndarray:
    """Return ``features`` as a new C-contiguous float64 2-D array, or raise.

    Rejects non-numeric and complex data, wrong dimensionality, empty arrays and
    NaN/inf. The returned array is always a copy, so callers may work in place.

    Features whose largest magnitude lies outside :data:`SAFE_MAGNITUDE` (e.g. times
    1e-170 or 1e300) would overflow or underflow: a measure invariant to the scale of
    its features passes ``scale="rescale"`` and gets them multiplied by a power of two
    (exact) to unit magnitude; for every other measure (``"refuse"``) they are refused
    with a message, since its value depends on that scale.
    """
    arr = np.array(_checked_2d(features, name), dtype=np.float64, copy=True, order="C")
    factor = _rescaling(arr, name=name, scale=scale)
    if factor != 1.0:
        arr *= factor
    return arr


def _rescaling(arr: np.ndarray, *, name: str, scale: Literal["refuse", "rescale"]) -> float:
    """The power of two that brings ``arr``'s largest magnitude inside :data:`SAFE_MAGNITUDE` (1
    when it is inside), or an InputError with ``scale="refuse"`` (see :func:`check_features`)."""
    largest = max(float(arr.max()), -float(arr.min()))
    if largest > 0 and not SAFE_MAGNITUDE[0] <= largest <= SAFE_MAGNITUDE[1]:
        if scale == "rescale":
            return float(2.0 ** -np.round(np.log2(largest)))
        raise InputError(
            f"{name} has largest magnitude {largest:.3g}, outside {SAFE_MAGNITUDE[0]:.0e} to "
            f"{SAFE_MAGNITUDE[1]:.0e}, where this measure's arithmetic over- or underflows; its value "
            "depends on the scale of the features, so rescale them first (e.g. divide by their "
            "standard deviation)"
        )
    return 1.0


def check_features_shape(features: Any, *, name: str = "features",
                         scale: Literal["refuse", "rescale"] | None = None) -> tuple[int, int]:
    """Check ``features`` exactly as :func:`check_features` does, without copying them.

    For estimators that only need the number of samples (LEEP and NCE use the source
    head's outputs), and for callers that pass the features on to a measure that copies them
    itself: returns ``(n_samples, n_features)``. With ``scale="refuse"``, magnitudes outside
    :data:`SAFE_MAGNITUDE` are refused as :func:`check_features` refuses them.
    """
    arr = _checked_2d(features, name)
    if scale == "refuse":
        _rescaling(arr, name=name, scale=scale)
    return arr.shape


def check_paired_features(
    X: Any, Y: Any, *, names: tuple[str, str] = ("X", "Y"), scale: Literal["refuse", "rescale"] = "refuse"
) -> tuple[np.ndarray, np.ndarray]:
    """Two representations of the same inputs as float64 copies with equal row counts.

    At least 2 rows are required; the column counts may differ. ``scale`` is that of
    :func:`check_features`, applied to each argument on its own: ``"rescale"`` is for a
    measure invariant to multiplying ``X`` or ``Y`` (separately) by a positive number.
    """
    x = check_features(X, name=names[0], scale=scale)
    y = check_features(Y, name=names[1], scale=scale)
    if x.shape[0] != y.shape[0]:
        raise InputError(
            f"{names[0]} has {x.shape[0]} rows but {names[1]} has {y.shape[0]}; "
            "both must represent the same inputs, row for row"
        )
    if x.shape[0] < 2:
        raise InputError(f"{names[0]} and {names[1]} need at least 2 rows, got {x.shape[0]}")
    return x, y


def physical_memory_bytes() -> int | None:
    """Physical memory of this machine, or None where the OS does not say."""
    import os

    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_pairwise_memory(n_samples: int, n_matrices: float, *, measure: str, limit: int | None = None) -> None:
    """Raise before allocating ``n_matrices`` N x N float64 matrices that cannot fit in memory.

    ``limit`` defaults to the machine's physical memory: beyond it the allocation would
    fail, or swap for hours, after the caller has waited for everything before it.
    """
    limit = physical_memory_bytes() if limit is None else limit
    need = n_matrices * 8.0 * n_samples * n_samples
    if limit is not None and need > limit:
        raise InputError(
            f"{measure} holds {n_matrices:g} N x N matrices: {need / 2**30:.1f} GiB for N = {n_samples:,} rows, "
            f"more than this machine's {limit / 2**30:.1f} GiB; subsample the rows (e.g. compare --max-samples)"
        )


def _check_length(n_labels: int, n_rows: int, labels_name: str, features_name: str) -> None:
    if n_labels != n_rows:
        raise InputError(
            f"{labels_name} has {n_labels} entries but {features_name} has {n_rows} rows"
        )


def check_classification_labels(
    labels: Any,
    n_samples: int,
    *,
    name: str = "labels",
    features_name: str = "features",
    min_classes: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Remap labels of any hashable type to ``0..C-1``.

    Returns ``(codes, classes)`` where ``classes[codes] == labels``. Gaps such as
    ``{0, 5}`` and string labels are fine; what matters is the partition.
    """
    if isinstance(labels, (str, bytes)) or labels is None:
        raise InputError(f"{name} must be a sequence of labels, got {type(labels).__name__}")
    values = labels if isinstance(labels, np.ndarray) else list(labels)
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 1:
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        else:
            raise InputError(f"{name} must be 1-D, got shape {arr.shape}")
    _check_length(arr.shape[0], n_samples, name, features_name)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise InputError(f"{name} contains NaN or inf")
        if not np.all(arr == np.round(arr)):
            raise InputError(
                f"{name} holds non-integer numbers, which look like regression targets; "
                "pass task='regression' to an estimator that supports it"
            )
    if arr.dtype == object:
        for value in arr:
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                raise InputError(f"{name} contains a missing value (None or NaN)")
        try:
            distinct = set(arr.tolist())
        except TypeError as exc:
            raise InputError(f"{name} must hold hashable values ({exc})") from None
        try:
            ordered = sorted(distinct)  # canonical order where values are comparable
        except TypeError:
            ordered = list(dict.fromkeys(arr.tolist()))  # else first-seen order
        index = {value: code for code, value in enumerate(ordered)}
        codes = np.fromiter((index[v] for v in arr.tolist()), dtype=np.intp, count=arr.shape[0])
        classes = np.empty(len(ordered), dtype=object)
        classes[:] = ordered
    else:
        classes, codes = np.unique(arr, return_inverse=True)
        codes = codes.astype(np.intp)
    if classes.shape[0] < min_classes:
        raise InputError(
            f"{name} has {classes.shape[0]} distinct class(es); at least {min_classes} are needed"
        )
    return codes, classes


def check_regression_targets(
    targets: Any, n_samples: int, *, name: str = "labels", features_name: str = "features"
) -> np.ndarray:
    """Return regression targets as a float64 ``(N, K)`` copy, or raise."""
    try:
        arr = np.array(targets, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numeric for a regression task") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{name} must be 1-D or 2-D for regression, got shape {arr.shape}")
    _check_length(arr.shape[0], n_samples, name, features_name)
    if not np.isfinite(arr).all():
        raise InputError(f"{name} contains NaN or inf")
    if np.all(np.ptp(arr, axis=0) == 0):
        raise InputError(f"{name} is constant; a regression target must vary")
    return arr


def check_positive_int(value: Any, *, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(value: Any, choices: Sequence[str], *, name: str) -> str:
    """Return ``value`` if it is one of ``choices``, or raise naming ``name``."""
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


def check_source_probs(
    source_probs: Any, n_samples: int, *, name: str = "source_probs", features_name: str = "features"
) -> np.ndarray:
    """Return the source classifier's class probabilities as a float64 ``(N, C_s)`` copy.

    Rows must be finite, non-negative and sum to 1 (within 1e-6): pass softmax
    outputs, not logits.
    """
    if source_probs is None:
        raise InputError(f"{name} is required: the source model's class probabilities (N x C_s)")
    arr = check_features(source_probs, name=name)
    if arr.shape[0] != n_samples:
        raise InputError(f"{name} has {arr.shape[0]} rows but {features_name} has {n_samples} rows")
    if arr.shape[1] < 2:
        raise InputError(f"{name} must have at least 2 source classes (columns), got {arr.shape[1]}")
    if (arr < 0).any() or not np.allclose(arr.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise InputError(f"{name} rows must be probabilities (non-negative, summing to 1); "
                         "apply a softmax to logits first")
    return arr


def check_multilabel_targets(
    labels: Any, n_samples: int, *, name: str = "labels", features_name: str = "features"
) -> np.ndarray:
    """Return a 0/1 indicator matrix ``(N, L)`` as float64; every column must hold both values."""
    try:
        arr = np.array(labels, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a 0/1 indicator matrix for a multilabel task") from None
    if arr.ndim != 2:
        raise InputError(f"{name} must be 2-D (samples x labels) for multilabel, got shape {arr.shape}")
    _check_length(arr.shape[0], n_samples, name, features_name)
    if not np.isin(arr, (0.0, 1.0)).all():
        raise InputError(f"{name} must hold only 0 and 1 for a multilabel task")
    constant = np.flatnonzero(np.ptp(arr, axis=0) == 0)
    if constant.size:
        raise InputError(f"{name} column {int(constant[0])} is constant; every label must occur and be absent")
    return arr


def check_positive_float(value: Any, *, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (>= 0 with ``allow_zero``), or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a positive number, got {value!r}")
    if not (np.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
        raise InputError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")
    return float(value)


def check_fraction(value: Any, *, name: str, allow_zero: bool = True, allow_none: bool = False) -> float | None:
    """Return ``value`` as a float in ``[0, 1]`` (``(0, 1]`` without ``allow_zero``), or raise.

    ``None`` passes through when ``allow_none``.
    """
    interval = "[0, 1]" if allow_zero else "(0, 1]"
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a number in {interval}, got {value!r}")
    value = float(value)
    if not ((0.0 <= value) if allow_zero else (0.0 < value)) or not value <= 1.0:
        raise InputError(f"{name} must be in {interval}, got {value}")
    return value
