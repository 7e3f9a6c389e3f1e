"""The 11 image targets of the literature's ImageNet model-selection benchmark, read from disk.

LogME, SFDA and ETran rank ImageNet models by how well they fine-tune on Aircraft,
Caltech101, Stanford Cars, CIFAR-10, CIFAR-100, DTD, Flowers-102, Food-101, Oxford-IIIT
Pets, SUN397 and PASCAL VOC2007 (see :mod:`transferscope.workflows.published.literature`). This module
reads those datasets from the folders that torchvision's dataset classes (0.29) use under a
data root, without torchvision and without downloading anything. Only index files are read
when a dataset is loaded; images stay on disk as :class:`~pathlib.Path` inputs and are
decoded lazily, in batches, by the encoder (``PIL``).

**No pickle is ever loaded.** CIFAR-10/100 are read from their *binary* distributions
(``cifar-10-binary.tar.gz`` -> ``cifar-10-batches-bin``, ``cifar-100-binary.tar.gz`` ->
``cifar-100-binary``): fixed-size records of label byte(s) + 3,072 pixel bytes, read with
:func:`numpy.fromfile`. The "python" versions (``cifar-10-batches-py``) are pickles and are
never opened. ``.mat`` files (Stanford Cars, Flowers-102) are read with
:func:`scipy.io.loadmat`, which parses MATLAB's format and runs no code.

Splits (``split=``): ``"train"``, ``"val"`` (only where the dataset defines one),
``"trainval"`` (train + val; the train split where there is no val), ``"test"`` and
``"all"`` (every split, the set SFDA's ``forward_feature_group1.py`` extracts features on).

=========== ==================================== ================================================
target      folder under ``data_root``           splits and labels
=========== ==================================== ================================================
aircraft    ``fgvc-aircraft-2013b``              ``data/images_variant_{train,val,test}.txt``;
                                                 100 variants (``data/variants.txt``)
caltech101  ``caltech101/101_ObjectCategories``  102 folders (``BACKGROUND_Google`` included, as
                                                 SFDA's ImageFolder); train = 30 draws per class
                                                 with ``np.random.seed(0)``, ``np.random.choice``
                                                 (with replacement, as SFDA's
                                                 ``create_caltech101_splits``; repeats are kept
                                                 once), test = every other image
cars        ``stanford_cars``                    ``devkit/cars_train_annos.mat`` /
                                                 ``cars_test_annos_withlabels.mat``; 196 classes
                                                 (``devkit/cars_meta.mat``)
cifar10     ``cifar-10-batches-bin``             ``data_batch_{1..5}.bin`` / ``test_batch.bin``
cifar100    ``cifar-100-binary``                 ``train.bin`` / ``test.bin``; 100 fine labels
dtd         ``dtd/dtd``                          partition 1: ``labels/{train,val,test}1.txt``
flowers     ``flowers-102``                      ``setid.mat`` ``trnid`` / ``valid`` / ``tstid``;
                                                 labels 1..102 from ``imagelabels.mat``
food        ``food-101``                         ``meta/train.json`` / ``meta/test.json``
pets        ``oxford-iiit-pet``                  ``annotations/trainval.txt`` (the train split)
                                                 / ``annotations/test.txt``; 37 breeds
sun397      ``SUN397``                           partition 01: ``Training_01.txt`` /
                                                 ``Testing_01.txt`` (in ``SUN397/`` or
                                                 ``SUN397/Partitions/``; torchvision's download
                                                 lacks them); 397 classes (``ClassName.txt``)
voc2007     ``VOCdevkit/VOC2007``                ``ImageSets/Main/{train,val,test}.txt``;
                                                 multilabel: 20 columns from
                                                 ``ImageSets/Main/<class>_<split>.txt``
                                                 (1 and 0 = "difficult" count as present)
=========== ==================================== ================================================

Labels are class names (strings) where the dataset names its classes, and the integer
labels 1..102 for Flowers-102, which ships no names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError

__all__ = [
    "VISION_TARGETS",
    "VISION_TARGET_DIRS",
    "VISION_TARGET_SPLITS",
    "VOC_CLASSES",
    "CALTECH101_TRAIN_PER_CLASS",
    "load_vision_target",
    "missing_target_files",
]

#: Folder of each target under the data root (torchvision 0.29's layout; CIFAR: binary version).
VISION_TARGET_DIRS: dict[str, str] = {
    "aircraft": "fgvc-aircraft-2013b",
    "caltech101": "caltech101/101_ObjectCategories",
    "cars": "stanford_cars",
    "cifar10": "cifar-10-batches-bin",
    "cifar100": "cifar-100-binary",
    "dtd": "dtd/dtd",
    "flowers": "flowers-102",
    "food": "food-101",
    "pets": "oxford-iiit-pet",
    "sun397": "SUN397",
    "voc2007": "VOCdevkit/VOC2007",
}

#: The target names, in the order of the published tables.
VISION_TARGETS: tuple[str, ...] = tuple(VISION_TARGET_DIRS)

#: Values accepted by ``split``.
VISION_TARGET_SPLITS = ("train", "val", "trainval", "test", "all")

#: The 20 PASCAL VOC classes, the column order of VOC2007's multilabel targets.
VOC_CLASSES: tuple[str, ...] = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
    "tvmonitor",
)

#: Training images drawn per Caltech101 class (SFDA / ETran ``create_caltech101_splits``).
CALTECH101_TRAIN_PER_CLASS = 30

_CIFAR_PIXELS = 3 * 32 * 32
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")  # ImageFolder's

# Index files each loader reads (relative to the target folder); "a|b" = a or b.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "aircraft": ("data/variants.txt", "data/images_variant_train.txt", "data/images_variant_val.txt",
                 "data/images_variant_test.txt", "data/images"),
    "caltech101": (),
    "cars": ("devkit/cars_meta.mat", "devkit/cars_train_annos.mat", "cars_test_annos_withlabels.mat",
             "cars_train", "cars_test"),
    "cifar10": tuple(f"data_batch_{i}.bin" for i in range(1, 6)) + ("test_batch.bin",),
    "cifar100": ("train.bin", "test.bin"),
    "dtd": ("labels/train1.txt", "labels/val1.txt", "labels/test1.txt", "images"),
    "flowers": ("imagelabels.mat", "setid.mat", "jpg"),
    "food": ("meta/train.json", "meta/test.json", "images"),
    "pets": ("annotations/trainval.txt", "annotations/test.txt", "images"),
    "sun397": ("ClassName.txt", "Training_01.txt|Partitions/Training_01.txt",
               "Testing_01.txt|Partitions/Testing_01.txt"),
    "voc2007": ("ImageSets/Main/train.txt", "ImageSets/Main/val.txt", "ImageSets/Main/test.txt",
                "JPEGImages") + tuple(f"ImageSets/Main/{c}_{s}.txt" for c in VOC_CLASSES
                                      for s in ("train", "val", "test")),
}

# The official parts of each target; "train" is the first, "test" the last.
_PARTS: dict[str, tuple[str, ...]] = {
    "aircraft": ("train", "val", "test"),
    "caltech101": ("train", "test"),
    "cars": ("train", "test"),
    "cifar10": ("train", "test"),
    "cifar100": ("train", "test"),
    "dtd": ("train", "val", "test"),
    "flowers": ("train", "val", "test"),
    "food": ("train", "test"),
    "pets": ("train", "test"),
    "sun397": ("train", "test"),
    "voc2007": ("train", "val", "test"),
}


def _check_name(name: str) -> str:
    if name not in VISION_TARGET_DIRS:
        raise InputError(f"name must be one of {', '.join(VISION_TARGETS)}, got {name!r}")
    return name


def missing_target_files(name: str, data_root: str | Path) -> list[str]:
    """The index files and folders of target ``name`` that are not under ``data_root``.

    Checks only what :func:`load_vision_target` reads to list a dataset (not every image),
    so it is fast. An empty list means the target can be loaded.

    Parameters
    ----------
    name : str
        One of :data:`VISION_TARGETS`.
    data_root : str or path-like
        The folder that holds the targets' folders (:data:`VISION_TARGET_DIRS`).

    Returns
    -------
    list of str
        Paths relative to the target's folder (the folder itself, ``"."``, when it is absent).

    Examples
    --------
    >>> import tempfile
    >>> missing_target_files("cifar100", tempfile.mkdtemp())
    ['.']
    """
    folder = Path(data_root).expanduser() / VISION_TARGET_DIRS[_check_name(name)]
    if not folder.is_dir():
        return ["."]
    return [entry for entry in _REQUIRED[name]
            if not any((folder / alt).exists() for alt in entry.split("|"))]


def load_vision_target(
    name: str,
    data_root: str | Path,
    *,
    split: str = "trainval",
    max_samples: int | None = None,
    seed: int = 0,
) -> Dataset:
    """One of the 11 benchmark targets from its folder under ``data_root``.

    Parameters
    ----------
    name : str
        One of :data:`VISION_TARGETS` (``aircraft``, ``caltech101``, ``cars``, ``cifar10``,
        ``cifar100``, ``dtd``, ``flowers``, ``food``, ``pets``, ``sun397``, ``voc2007``).
    data_root : str or path-like
        The folder that holds the targets in torchvision's layout (see the module docs).
    split : {"train", "val", "trainval", "test", "all"}, default="trainval"
        Which part of the target (see the module docs for each dataset's files).
    max_samples : int, optional
        Keep a seeded, stratified subset of this many samples (the first positive label
        stratifies VOC2007). All samples when omitted.
    seed : int, default=0
        Seed of the subset.

    Returns
    -------
    Dataset
        ``modality="image"``. Inputs are image paths, or ``(N, 32, 32, 3)`` uint8 arrays for
        CIFAR; ``task`` is ``"classification"``, or ``"multilabel"`` with a ``(N, 20)`` 0/1
        label matrix (columns :data:`VOC_CLASSES`) for VOC2007.

    Raises
    ------
    InputError
        For an unknown ``name`` or ``split``, or a missing or malformed index file (the
        message names the file).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> folder = root / "cifar-100-binary"
    >>> folder.mkdir()
    >>> record = lambda coarse, fine: bytes([coarse, fine]) + bytes(3072)
    >>> _ = (folder / "train.bin").write_bytes(record(0, 3) + record(1, 7) + record(0, 3))
    >>> _ = (folder / "test.bin").write_bytes(record(1, 7))
    >>> ds = load_vision_target("cifar100", root, split="train")
    >>> ds.inputs.shape, ds.labels.tolist(), ds.task
    ((3, 32, 32, 3), ['3', '7', '3'], 'classification')
    """
    _check_name(name)
    if split not in VISION_TARGET_SPLITS:
        raise InputError(f"split must be one of {', '.join(VISION_TARGET_SPLITS)}, got {split!r}")
    parts = _PARTS[name]
    if split == "val" and "val" not in parts:
        raise InputError(f"split 'val' does not exist for {name} (its splits: {', '.join(parts)}); "
                         "use train, trainval, test or all")
    chosen = {"train": ("train",), "val": ("val",), "test": ("test",), "all": parts,
              "trainval": tuple(p for p in parts if p != "test")}[split]
    root = Path(data_root).expanduser()
    folder = root / VISION_TARGET_DIRS[name]
    if not folder.is_dir():
        raise InputError(f"data_root {str(root)!r} has no {VISION_TARGET_DIRS[name]} folder for target {name}")
    reader = _READERS[name]
    pieces = [reader(folder, part) for part in chosen]
    if isinstance(pieces[0][0], np.ndarray):
        inputs: Any = np.concatenate([p[0] for p in pieces])
    else:
        inputs = [path for p in pieces for path in p[0]]
    labels = np.concatenate([np.asarray(p[1]) for p in pieces])
    task = "multilabel" if name == "voc2007" else "classification"
    data = Dataset(name, inputs, labels, task, modality="image", source=str(folder),
                   description=f"{name}, split {split} ({'+'.join(chosen)}), read from {folder}")
    if max_samples is not None:
        if int(max_samples) < 2:
            raise InputError(f"max_samples must be >= 2, got {max_samples}")
        data = data.subsample(int(max_samples), seed=seed)
    return data


# -- readers: (folder, part) -> (inputs, labels) ----------------------------------------------------

def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"index file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"could not read index file '{path}': {exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _bad_line(path: Path, line: str, expected: str) -> InputError:
    return InputError(f"index file '{path}' has a malformed line {line[:80]!r}; expected {expected}")


def _aircraft(folder: Path, part: str) -> tuple[list[Path], list[str]]:
    data = folder / "data"
    index = data / f"images_variant_{part}.txt"
    inputs, labels = [], []
    for line in _read_lines(index):
        image_id, _, variant = line.partition(" ")
        if not variant:
            raise _bad_line(index, line, "'<image id> <variant name>'")
        inputs.append(data / "images" / f"{image_id}.jpg")
        labels.append(variant.strip())
    return inputs, labels


def _caltech101(folder: Path, part: str) -> tuple[list[Path], list[str]]:
    # ImageFolder order: sorted class folders, then sorted walk of each folder, sorted files.
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir())
    if not classes:
        raise InputError(f"caltech101 folder '{folder}' has no class folders")
    files: list[Path] = []
    labels: list[str] = []
    by_class: list[list[int]] = []
    for name in classes:
        start = len(files)
        for path in sorted(p for p in (folder / name).rglob("*") if p.is_file()):
            if path.name.lower().endswith(_IMAGE_SUFFIXES):
                files.append(path)
                labels.append(name)
        by_class.append(list(range(start, len(files))))
    rng = np.random.RandomState(0)  # SFDA: np.random.seed(0); np.random.choice(idxs, 30) per class
    train: set[int] = set()
    for idxs in by_class:
        if idxs:
            train.update(int(i) for i in rng.choice(idxs, CALTECH101_TRAIN_PER_CLASS))
    keep = sorted(train) if part == "train" else [i for i in range(len(files)) if i not in train]
    return [files[i] for i in keep], [labels[i] for i in keep]


def _loadmat(path: Path) -> dict[str, Any]:
    from scipy.io import loadmat

    try:
        return loadmat(str(path), squeeze_me=True)
    except FileNotFoundError:
        raise InputError(f"index file '{path}' does not exist") from None
    except (OSError, ValueError, TypeError, NotImplementedError) as exc:
        raise InputError(f"could not read MATLAB file '{path}': {exc}") from None


def _cars(folder: Path, part: str) -> tuple[list[Path], list[str]]:
    meta = _loadmat(folder / "devkit" / "cars_meta.mat")
    names = [str(n) for n in np.atleast_1d(meta.get("class_names", []))]
    if part == "train":
        annos_path, images = folder / "devkit" / "cars_train_annos.mat", folder / "cars_train"
    else:
        annos_path, images = folder / "cars_test_annos_withlabels.mat", folder / "cars_test"
    annos = _loadmat(annos_path)
    inputs, labels = [], []
    try:
        for record in np.atleast_1d(annos["annotations"]):
            cls = int(record["class"])
            if not 1 <= cls <= len(names):
                raise InputError(f"'{annos_path}' has class {cls}; cars_meta.mat names {len(names)} classes")
            inputs.append(images / str(record["fname"]))
            labels.append(names[cls - 1])
    except (KeyError, ValueError, IndexError) as exc:
        raise InputError(f"'{annos_path}' has no 'annotations' with 'fname' and 'class' ({exc})") from None
    return inputs, labels


def _cifar(folder: Path, part: str, *, files: dict[str, list[str]], label_bytes: int, names_file: str,
           label_index: int) -> tuple[np.ndarray, np.ndarray]:
    record = label_bytes + _CIFAR_PIXELS
    blocks = []
    for filename in files[part]:
        path = folder / filename
        try:
            raw = np.fromfile(path, dtype=np.uint8)
        except FileNotFoundError:
            raise InputError(f"CIFAR binary file '{path}' does not exist") from None
        if raw.size == 0 or raw.size % record:
            raise InputError(f"CIFAR binary file '{path}' has {raw.size} bytes, not a multiple of the "
                             f"{record}-byte records of this version")
        blocks.append(raw.reshape(-1, record))
    rows = np.concatenate(blocks)
    images = rows[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # planes R, G, B -> HWC
    codes = rows[:, label_index].astype(np.int64)
    names_path = folder / names_file
    names = _read_lines(names_path) if names_path.is_file() else []
    if names and codes.max() < len(names):
        labels = np.asarray(names, dtype=object)[codes].astype(str)
    else:
        labels = codes.astype(str)
    return np.ascontiguousarray(images), labels


def _cifar10(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    files = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
    return _cifar(folder, part, files=files, label_bytes=1, names_file="batches.meta.txt", label_index=0)


def _cifar100(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    files = {"train": ["train.bin"], "test": ["test.bin"]}  # records: coarse label, fine label, pixels
    return _cifar(folder, part, files=files, label_bytes=2, names_file="fine_label_names.txt", label_index=1)


def _dtd(folder: Path, part: str) -> tuple[list[Path], list[str]]:
    index = folder / "labels" / f"{part}1.txt"
    inputs, labels = [], []
    for line in _read_lines(index):
        cls, sep, _name = line.partition("/")
        if not sep:
            raise _bad_line(index, line, "'<class>/<image>.jpg'")
        inputs.append(folder / "images" / line)
        labels.append(cls)
    return inputs, labels


def _flowers(folder: Path, part: str) -> tuple[list[Path], list[int]]:
    setid = _loadmat(folder / "setid.mat")
    key = {"train": "trnid", "val": "valid", "test": "tstid"}[part]
    try:
        ids = [int(i) for i in np.atleast_1d(setid[key])]
        all_labels = [int(v) for v in np.atleast_1d(_loadmat(folder / "imagelabels.mat")["labels"])]
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"'{folder}' setid.mat / imagelabels.mat lack '{key}' or 'labels' ({exc})") from None
    bad = [i for i in ids if not 1 <= i <= len(all_labels)]
    if bad:
        raise InputError(f"'{folder / 'setid.mat'}' names image {bad[0]}, but imagelabels.mat has "
                         f"{len(all_labels)} labels")
    return [folder / "jpg" / f"image_{i:05d}.jpg" for i in ids], [all_labels[i - 1] for i in ids]


def _food(folder: Path, part: str) -> tuple[list[Path], list[str]]:
    path = folder / "meta" / f"{part}.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"index file '{path}' does not exist") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"could not read index file '{path}': {exc}") from None
    if not isinstance(meta, dict):
        raise InputError(f"index file '{path}' must map class names to lists of image ids")
    inputs, labels = [], []
    for cls in sorted(meta):
        for rel in meta[cls]:
            inputs.append(folder / "images" / f"{rel}.jpg")
            labels.append(str(cls))
    return inputs, labels


def _pets(folder: Path, part: str) -> tuple[list[Path], list[str]]:
    index = folder / "annotations" / f"{'trainval' if part == 'train' else 'test'}.txt"
    inputs, labels = [], []
    for line in _read_lines(index):
        fields = line.split()
        if len(fields) < 2 or "_" not in fields[0]:
            raise _bad_line(index, line, "'<Breed_name>_<n> <class id> <species> <breed id>'")
        inputs.append(folder / "images" / f"{fields[0]}.jpg")
        labels.append(fields[0].rsplit("_", 1)[0])
    return inputs, labels


def _sun397(folder: Path, part: str) -> tuple[list[Path], list[str]]:
    classes = {line[3:] for line in _read_lines(folder / "ClassName.txt")}  # "/a/abbey" -> "abbey"
    name = f"{'Training' if part == 'train' else 'Testing'}_01.txt"
    index = folder / name if (folder / name).is_file() else folder / "Partitions" / name
    inputs, labels = [], []
    for line in _read_lines(index):
        parts = line.strip("/").split("/")
        cls = "/".join(parts[1:-1])  # "/a/abbey/sun_x.jpg" -> "abbey"; "/b/bakery/shop/..." -> "bakery/shop"
        if len(parts) < 3 or cls not in classes:
            raise _bad_line(index, line, "'/<letter>/<class from ClassName.txt>/<image>.jpg'")
        inputs.append(folder.joinpath(*parts))
        labels.append(cls)
    return inputs, labels


def _voc2007(folder: Path, part: str) -> tuple[list[Path], np.ndarray]:
    main = folder / "ImageSets" / "Main"
    ids = _read_lines(main / f"{part}.txt")
    row = {image_id: i for i, image_id in enumerate(ids)}
    labels = np.zeros((len(ids), len(VOC_CLASSES)), dtype=np.int64)
    for j, cls in enumerate(VOC_CLASSES):
        index = main / f"{cls}_{part}.txt"
        for line in _read_lines(index):
            fields = line.split()
            if len(fields) != 2 or fields[1] not in ("1", "0", "-1") or fields[0] not in row:
                raise _bad_line(index, line, f"'<image id of {part}.txt> <1 | 0 | -1>'")
            labels[row[fields[0]], j] = int(fields[1] != "-1")  # 0 = present but "difficult"
    return [folder / "JPEGImages" / f"{image_id}.jpg" for image_id in ids], labels


_READERS: dict[str, Callable[[Path, str], tuple[Any, Any]]] = {
    "aircraft": _aircraft,
    "caltech101": _caltech101,
    "cars": _cars,
    "cifar10": _cifar10,
    "cifar100": _cifar100,
    "dtd": _dtd,
    "flowers": _flowers,
    "food": _food,
    "pets": _pets,
    "sun397": _sun397,
    "voc2007": _voc2007,
}
