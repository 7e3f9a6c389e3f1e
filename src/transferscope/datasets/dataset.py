"""The Dataset type: inputs, labels, task type, provenance, and seeded splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np

from transferscope.errors import InputError
from transferscope.hashing import hash_inputs

__all__ = ["Dataset", "Splits", "infer_task", "TASKS"]

TASKS = ("classification", "regression", "multilabel")


class Splits(NamedTuple):
    """Index arrays of a train / validation / test split: the one split type of the library. It is
    a ``(train, val, test)`` triple, so the probes (which take index triples) take it as it is."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def infer_task(labels: Any) -> Literal["classification", "regression"]:
    """``regression`` for real numbers that are not all integers, else ``classification``.

    Examples
    --------
    >>> infer_task([0.5, 1.25]), infer_task(["pos", "neg"]), infer_task([1, 2, 3])
    ('regression', 'classification', 'classification')
    """
    arr = np.asarray(labels)
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and not np.all(arr == np.round(arr)):
        return "regression"
    return "classification"


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset.

    Parameters
    ----------
    name : str
    inputs : sequence
        Texts, image paths, or arrays (one per sample).
    labels : array-like of shape (n_samples,), or (n_samples, n_labels) for multilabel
        One label per sample; for ``task="multilabel"`` a 0/1 indicator matrix
        (one column per label, e.g. the 20 classes of PASCAL VOC2007).
    task : {"classification", "regression", "multilabel"}
    modality : {"text", "image", "features"}, default="text"
    source, licence, description : str
        Provenance shown by ``transferscope datasets``.

    Examples
    --------
    >>> from transferscope.datasets import Dataset
    >>> ds = Dataset("toy", ["good", "bad", "fine", "awful"], ["pos", "neg", "pos", "neg"],
    ...              task="classification")
    >>> len(ds), ds.n_classes
    (4, 2)
    >>> ds
    Dataset('toy': 4 text inputs, classification, 2 classes)
    """

    name: str
    inputs: Sequence[Any] | np.ndarray
    labels: np.ndarray
    task: str
    modality: str = "text"
    source: str = ""
    licence: str = ""
    description: str = ""
    _fingerprint: list[str] = field(default_factory=list, repr=False, compare=False)

    def __repr__(self) -> str:
        """One line: name, size, modality and task (printing a dataset never dumps its inputs)."""
        what = self.task
        if self.task in ("classification", "multilabel"):
            what += f", {self.n_classes} classes" if self.task == "classification" else \
                f", {np.asarray(self.labels).shape[1]} labels"
        return f"Dataset({self.name!r}: {len(self)} {self.modality} inputs, {what})"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        labels = np.asarray(self.labels)
        if self.task == "multilabel":
            labels = _check_multilabel(labels, self.name)
        elif labels.ndim != 1:
            raise InputError(f"labels of dataset '{self.name}' must be 1-D, got shape {labels.shape}")
        if len(self.inputs) != labels.shape[0]:
            raise InputError(
                f"dataset '{self.name}' has {len(self.inputs)} inputs but {labels.shape[0]} labels"
            )
        if len(self.inputs) == 0:
            raise InputError(f"dataset '{self.name}' is empty")
        if self.task == "regression":
            try:
                labels = labels.astype(np.float64)
            except (TypeError, ValueError):
                raise InputError(f"labels of dataset '{self.name}' must be numeric for regression") from None
            if not np.isfinite(labels).all():
                raise InputError(f"labels of dataset '{self.name}' contain NaN or inf")
        elif self.task == "classification":
            if labels.dtype.kind == "f" and not np.isfinite(labels).all():
                raise InputError(f"labels of dataset '{self.name}' contain missing values")
            if np.unique(labels).shape[0] < 2:
                raise InputError(
                    f"dataset '{self.name}' has a single class; classification needs at least 2"
                )
        object.__setattr__(self, "labels", labels)

    @classmethod
    def of_features(cls, labels: Any, *, task: str | None = None, name: str = "features") -> Dataset:
        """The labelled rows of precomputed feature arrays: input ``i`` is row ``i`` of each array
        (modality ``features``), ``task`` inferred from ``labels`` when omitted. What ``rank``,
        ``select`` and ``elastic`` split and probe when given arrays instead of models.

        Examples
        --------
        >>> Dataset.of_features([0, 1, 1, 0])
        Dataset('features': 4 features inputs, classification, 2 classes)
        """
        y = np.asarray(labels)
        return cls(name, np.arange(y.shape[0] if y.ndim else 0), y, task or infer_task(y), "features")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_classes(self) -> int | None:
        """Number of classes (of label columns for multilabel), or None for regression."""
        if self.task == "multilabel":
            return int(self.labels.shape[1])
        return None if self.task == "regression" else int(np.unique(self.labels).shape[0])

    def fingerprint(self) -> str:
        """Hash of the inputs (labels excluded: features depend on inputs only)."""
        if not self._fingerprint:
            self._fingerprint.append(hash_inputs(self.inputs))
        return self._fingerprint[0]

    def split(self, *, seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2) -> Splits:
        """Seeded train / validation / test indices, stratified for classification.

        Stratification falls back to a plain shuffle when a class is too small;
        multilabel data is stratified by each sample's first positive label.
        """
        if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
            raise InputError("val_fraction and test_fraction must be in (0, 1) and sum below 1")
        idx = np.arange(len(self))
        strat = self._strata()
        rest, test = _split(idx, test_fraction, seed, strat)
        rel_val = val_fraction / (1.0 - test_fraction)
        train, val = _split(rest, rel_val, seed + 1, None if strat is None else strat[rest])
        return Splits(np.sort(train), np.sort(val), np.sort(test))

    def repeated_splits(self, *, repeats: int = 5, folds: int = 2, seed: int = 0,
                        val_fraction: float = 0.25) -> list[Splits]:
        """``repeats`` x ``folds`` seeded train / validation / test splits (repeated K-fold,
        stratified for classification): each repeat partitions the samples into ``folds`` test
        folds; the rest of each is split into train and a validation part (``val_fraction``) on
        which a probe chooses its regularisation, inside the training data of that fold.

        Examples
        --------
        >>> ds = Dataset("toy", [f"t{i}" for i in range(20)], [0, 1] * 10, "classification")
        >>> splits = ds.repeated_splits(repeats=2, folds=2)
        >>> len(splits), sorted(np.concatenate([splits[0].test, splits[1].test]).tolist()) == list(range(20))
        (4, True)
        """
        from sklearn.model_selection import KFold, StratifiedKFold  # lazy: loading a dataset needs no sklearn

        for value, name, low in ((repeats, "repeats", 1), (folds, "folds", 2)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise InputError(f"{name} must be an integer >= {low}, got {value!r}")
        if not 0 < val_fraction < 1:
            raise InputError(f"val_fraction must be in (0, 1), got {val_fraction}")
        idx = np.arange(len(self))
        strat = self._strata()
        out = []
        for r in range(int(repeats)):
            stratified = strat is not None and np.unique(strat, return_counts=True)[1].min() >= folds
            splitter = (StratifiedKFold if stratified else KFold)(n_splits=int(folds), shuffle=True,
                                                                  random_state=seed + 1000 * r)
            for k, (rest, test) in enumerate(splitter.split(idx, strat if stratified else None)):
                train, val = _split(rest, val_fraction, seed + 1000 * r + k + 1,
                                    None if strat is None else strat[rest])
                out.append(Splits(np.sort(train), np.sort(val), np.sort(test)))
        return out

    def subsample(self, n: int, *, seed: int = 0) -> Dataset:
        """A seeded (stratified for classification) subset of ``n`` samples, order kept.

        Multilabel data is stratified by each sample's first positive label.
        """
        if n >= len(self):
            return self
        idx = np.arange(len(self))
        strat = self._strata()
        _, keep = _split(idx, n / len(self), seed, strat)
        keep = np.sort(keep)
        inputs = (
            self.inputs[keep] if isinstance(self.inputs, np.ndarray) else [self.inputs[i] for i in keep]
        )
        return Dataset(self.name, inputs, self.labels[keep], self.task, self.modality,
                       self.source, self.licence, self.description)

    def _strata(self) -> np.ndarray | None:
        if self.task == "classification":
            return self.labels
        if self.task == "multilabel":
            return np.argmax(self.labels, axis=1)  # first positive label (0 when there is none)
        return None


def _check_multilabel(labels: np.ndarray, name: str) -> np.ndarray:
    if labels.ndim != 2 or labels.shape[1] < 1:
        raise InputError(f"labels of multilabel dataset '{name}' must be a 2-D 0/1 indicator matrix "
                         f"(samples x labels), got shape {labels.shape}")
    if labels.dtype.kind not in "biuf" or not np.isin(labels, (0, 1)).all():
        raise InputError(f"labels of multilabel dataset '{name}' must hold only 0 and 1")
    return labels.astype(np.int64)


def _split(idx: np.ndarray, fraction: float, seed: int, strat: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split  # lazy: loading a dataset needs no sklearn

    try:
        a, b = train_test_split(idx, test_size=fraction, random_state=seed, stratify=strat)
    except ValueError:
        a, b = train_test_split(idx, test_size=fraction, random_state=seed)
    return np.asarray(a), np.asarray(b)
