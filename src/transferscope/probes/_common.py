"""Helpers shared by the probes: test-split metrics and feature normalisation."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, r2_score

from transferscope.errors import InputError

__all__ = [
    "classification_metrics",
    "regression_metrics",
    "centre_l2_normalise",
    "check_grid",
    "split_indices",
    "split_sizes",
]


def classification_metrics(y_true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Top-1 accuracy, balanced accuracy and macro-F1 (a class never predicted has F1 = 0)."""
    return {
        "accuracy": float(accuracy_score(y_true, pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, pred)),
        "macro_f1": float(f1_score(y_true, pred, average="macro", zero_division=0.0)),
    }


def regression_metrics(y_true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """``R^2`` (uniform average over targets) and the mean per-target Spearman correlation.

    Spearman is NaN for a target whose predictions are all equal (undefined).
    """
    y_true = y_true.reshape(y_true.shape[0], -1)
    pred = pred.reshape(y_true.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        rho = np.mean([stats.spearmanr(y_true[:, j], pred[:, j]).statistic for j in range(y_true.shape[1])])
    return {"r2": float(r2_score(y_true, pred)), "spearman": float(rho)}


def centre_l2_normalise(x: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    """``(x - mean) / ||x - mean||`` row-wise (a new array); zero rows stay zero."""
    out = x - mean if mean is not None else x.copy()
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.where(norms == 0.0, 1.0, norms)
    return out


def check_grid(values: object, *, name: str, integer: bool) -> tuple:
    """A non-empty tuple of positive ints (``integer``) or positive finite floats, or raise."""
    try:
        items = tuple(values)  # type: ignore[arg-type]
    except TypeError:
        raise InputError(f"{name} must be a non-empty sequence, got {values!r}") from None
    if not items:
        raise InputError(f"{name} must not be empty")
    for v in items:
        if isinstance(v, bool):
            ok = False
        elif integer:
            ok = isinstance(v, (int, np.integer)) and v >= 1
        else:
            ok = isinstance(v, (int, float, np.integer, np.floating)) and bool(np.isfinite(v)) and v > 0
        if not ok:
            kind = "integers >= 1" if integer else "finite numbers > 0"
            raise InputError(f"{name} must hold {kind}, got {v!r}")
    return tuple(int(v) for v in items) if integer else tuple(float(v) for v in items)


def split_sizes(train: np.ndarray, val: np.ndarray, test: np.ndarray) -> dict[str, int]:
    return {"n_train": int(train.size), "n_val": int(val.size), "n_test": int(test.size)}


def split_indices(n: int, splits: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``(train, val, test)`` index arrays within ``0..n-1``, or raise."""
    try:
        train, val, test = (np.asarray(s, dtype=np.intp) for s in splits)
    except (TypeError, ValueError):
        raise InputError("splits must be (train, val, test) index arrays") from None
    for name, idx in (("train", train), ("val", val), ("test", test)):
        if idx.size == 0:
            raise InputError(f"splits: the {name} split is empty")
        if idx.min() < 0 or idx.max() >= n:
            raise InputError(f"splits: the {name} split has indices outside 0..{n - 1}")
    return train, val, test
