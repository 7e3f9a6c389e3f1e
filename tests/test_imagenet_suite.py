"""The imagenet-11x11 suite end to end, without torchvision and without downloads.

A tiny stand-in for ``torchvision.models`` (get_model / get_model_weights / get_weight, weights
objects with ``url``, ``meta``, ``transforms()`` and a ``get_state_dict`` that fails the test if
called: it would download) is put in ``sys.modules``; its weights files are real
``torch.save`` state dicts in ``$TORCH_HOME/hub/checkpoints``. The 11 targets are written in
their on-disk layouts (a few PIL images per class, CIFAR as binary records, ``.mat`` files with
scipy) so the real path runs: availability check -> loaders -> extraction -> estimators ->
published truth -> meta-evaluation. Tests that need the real torchvision are skipped without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from transferscope.datasets import Dataset
from transferscope.datasets.vision_targets import (
    VISION_TARGET_DIRS,
    VISION_TARGETS,
    VOC_CLASSES,
    load_vision_target,
    missing_target_files,
)
from transferscope.errors import InputError
from transferscope.workflows.published.literature import (
    IMAGENET_11X11_DATA_DIRS,
    IMAGENET_11X11_MODELS,
    PUBLISHED_FINETUNE_ACCURACY,
)

torch = pytest.importorskip("torch", reason="the torchvision adapter needs torch")
PIL = pytest.importorskip("PIL", reason="images are decoded with pillow")
from PIL import Image  # noqa: E402

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
N_SOURCE_CLASSES = 10
SIDE = 12  # pixels of the fake images; the fake transforms resize to 8 x 8


# --- a stand-in for torchvision.models ------------------------------------------------------------

class FakeTransforms:
    """PIL image -> normalised (3, 8, 8) float tensor, like weights.transforms() (resize, crop, normalise)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size

    def __call__(self, img):
        arr = np.asarray(img.resize((self.size, self.size)), dtype=np.float32) / 255.0
        return (torch.from_numpy(arr).permute(2, 0, 1) - 0.5) / 0.25

    def __repr__(self) -> str:
        return f"FakeTransforms(size={self.size})"


class FakeWeightsEnum:
    """The part of torchvision's WeightsEnum the adapter and the availability check use."""

    __members__: dict = {}

    def __init__(self, name: str, url: str, meta: dict) -> None:
        self.name, self.url, self.meta = name, url, meta

    @classmethod
    def verify(cls, obj):
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, str) and obj.replace(cls.__name__ + ".", "") in cls.__members__:
            return cls.__members__[obj.replace(cls.__name__ + ".", "")]
        raise ValueError(f"unknown weights {obj!r}")

    def transforms(self):
        return FakeTransforms()

    def get_state_dict(self, *args, **kwargs):
        raise AssertionError("torchvision's get_state_dict was called: it would download the weights")


class ResNetLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.relu = torch.nn.ReLU()
        self.layer1 = torch.nn.Sequential(torch.nn.Conv2d(6, 6, 3, padding=1), torch.nn.ReLU())
        self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(6, N_SOURCE_CLASSES)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.layer1(self.relu(self.conv1(x)))), 1))


class DenseNetLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3), torch.nn.ReLU(), torch.nn.Conv2d(5, 7, 3))
        self.classifier = torch.nn.Linear(7, N_SOURCE_CLASSES)

    def forward(self, x):
        return self.classifier(torch.nn.functional.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class MobileNetLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU6())
        self.classifier = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(8, N_SOURCE_CLASSES))

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


class InceptionLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a = torch.nn.Conv2d(3, 5, 3)
        self.AuxLogits = torch.nn.Linear(5, N_SOURCE_CLASSES)  # registered before fc, unused in eval
        self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
        self.dropout = torch.nn.Dropout(0.5)
        self.fc = torch.nn.Linear(5, N_SOURCE_CLASSES)

    def forward(self, x):
        return self.fc(self.dropout(torch.flatten(self.avgpool(torch.relu(self.Conv2d_1a(x))), 1)))


def _architecture(builder: str):
    if builder.startswith("resnet"):
        return ResNetLike
    if builder.startswith("densenet"):
        return DenseNetLike
    if builder in ("mnasnet1_0", "mobilenet_v2"):
        return MobileNetLike
    return InceptionLike


def install_fake_torchvision(monkeypatch, torch_home: Path, *, write_weights: bool = True) -> types.ModuleType:
    """Put a fake ``torchvision`` / ``torchvision.models`` in sys.modules and (optionally) the 11
    weights files, each a seeded random state dict, in ``torch_home/hub/checkpoints``."""
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    checkpoints = torch_home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    enums: dict[str, type] = {}
    by_builder: dict[str, type] = {}
    for i, (builder, full) in enumerate(IMAGENET_11X11_MODELS.values()):
        enum_name, member = full.split(".")
        tmp = checkpoints / f"{builder}.tmp"
        torch.manual_seed(100 + i)
        torch.save(_architecture(builder)().state_dict(), tmp)
        sha = hashlib.sha256(tmp.read_bytes()).hexdigest()
        filename = f"{builder}-{sha[:8]}.pth"
        if write_weights:
            tmp.replace(checkpoints / filename)
        else:
            tmp.unlink()
        cls = type(enum_name, (FakeWeightsEnum,), {})
        weights = cls(member, f"https://download.invalid/models/{filename}",
                      {"_metrics": {"ImageNet-1K": {"acc@1": 60.0 + i}}, "categories": list(range(10))})
        cls.__members__ = {member: weights, "DEFAULT": weights}
        setattr(cls, member, weights)
        cls.DEFAULT = weights
        enums[enum_name] = by_builder[builder] = cls

    def get_model(name, *, weights=None):
        net = _architecture(name)()
        if weights is not None:
            net.load_state_dict(weights.get_state_dict(progress=True, check_hash=True))
        return net

    def get_model_weights(name):
        if name not in by_builder:
            raise ValueError(f"Unknown model {name}")
        return by_builder[name]

    def get_weight(name):
        enum_name, member = name.split(".")
        return enums[enum_name].verify(member)

    models = types.ModuleType("torchvision.models")
    models.get_model, models.get_model_weights, models.get_weight = get_model, get_model_weights, get_weight
    models.list_models = lambda: sorted(by_builder)
    tv = types.ModuleType("torchvision")
    tv.__version__ = "0.29.1-fake"
    tv.models = models
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.models", models)
    return models


@pytest.fixture()
def fake_tv(monkeypatch, tmp_path):
    return install_fake_torchvision(monkeypatch, tmp_path / "torch-home")


# --- the 11 targets in their on-disk layouts --------------------------------------------------------

COLOURS = [(220, 30, 30), (30, 200, 40), (40, 60, 220)]


def _image(path: Path, cls: int, k: int) -> None:
    rng = np.random.default_rng(1000 * cls + k)
    pixels = np.clip(np.asarray(COLOURS[cls % 3]) + rng.normal(0, 25, (SIDE, SIDE, 3)), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path)


def _lines(path: Path, lines) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))


def _cifar_records(labels_per_record: list[tuple[int, ...]], seed: int) -> bytes:
    out = b""
    rng = np.random.default_rng(seed)
    for labels in labels_per_record:
        cls = labels[-1]
        noise = rng.normal(0, 25, (3, 32, 32))
        planes = np.clip(np.asarray(COLOURS[cls % 3])[:, None, None] + noise, 0, 255).astype(np.uint8)
        planes[:, 0, 0] = COLOURS[cls % 3]
        planes[0, 0, 1] = 7  # R of pixel (row 0, column 1): checks the plane -> HWC order
        out += bytes(labels) + planes.tobytes()
    return out


#: Images per Caltech101 class: 30 draws with replacement leave about 7 of 24 for the test split.
CALTECH_PER_CLASS = 24

#: (train, val, test) images per class of each fake target (pets: trainval, test).
PER_CLASS = {"train": 4, "val": 2, "test": 2}


def make_fake_data(root: Path) -> dict[str, int]:
    """Write all 11 targets under ``root``; return the number of trainval samples of each."""
    from scipy.io import savemat

    sizes: dict[str, int] = {}
    classes = ["Boeing 707-320", "A300B4", "F/A-18"]  # aircraft variants (spaces, slash)
    base = root / IMAGENET_11X11_DATA_DIRS["aircraft"] / "data"
    _lines(base / "variants.txt", classes)
    n = 0
    for split, count in PER_CLASS.items():
        entries = []
        for c, variant in enumerate(classes):
            for _ in range(count):
                image_id = f"{n:07d}"
                _image(base / "images" / f"{image_id}.jpg", c, n)
                entries.append(f"{image_id} {variant}")
                n += 1
        _lines(base / f"images_variant_{split}.txt", entries)
    sizes["aircraft"] = 3 * (PER_CLASS["train"] + PER_CLASS["val"])

    folder = root / IMAGENET_11X11_DATA_DIRS["caltech101"]
    for c, name in enumerate(["BACKGROUND_Google", "Faces", "accordion"]):
        for k in range(CALTECH_PER_CLASS):
            _image(folder / name / f"image_{k + 1:04d}.jpg", c, k)
    sizes["caltech101"] = -1  # depends on the seeded draw

    folder = root / IMAGENET_11X11_DATA_DIRS["cars"]
    names = np.array(["AM General Hummer SUV 2000", "Acura RL Sedan 2012", "BMW M3 Coupe 2012"], dtype=object)
    (folder / "devkit").mkdir(parents=True)
    savemat(folder / "devkit" / "cars_meta.mat", {"class_names": names})
    for split, mat, images in (("train", folder / "devkit" / "cars_train_annos.mat", "cars_train"),
                               ("test", folder / "cars_test_annos_withlabels.mat", "cars_test")):
        records = []
        for c in range(3):
            for k in range(PER_CLASS[split] + (PER_CLASS["val"] if split == "train" else 0)):
                fname = f"{len(records) + 1:05d}.jpg"
                _image(folder / images / fname, c, k)
                records.append((fname, c + 1))
        annotations = np.array(records, dtype=[("fname", object), ("class", object)])
        savemat(mat, {"annotations": annotations})
    sizes["cars"] = 3 * (PER_CLASS["train"] + PER_CLASS["val"])

    folder = root / IMAGENET_11X11_DATA_DIRS["cifar10"]
    folder.mkdir(parents=True)
    for i in range(1, 6):
        (folder / f"data_batch_{i}.bin").write_bytes(_cifar_records([(c,) for c in (0, 1, 2)], seed=i))
    (folder / "test_batch.bin").write_bytes(_cifar_records([(c,) for c in (0, 1, 2)], seed=0))
    _lines(folder / "batches.meta.txt", ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                         "horse", "ship", "truck", ""])
    sizes["cifar10"] = 15

    folder = root / IMAGENET_11X11_DATA_DIRS["cifar100"]
    folder.mkdir(parents=True)
    (folder / "train.bin").write_bytes(_cifar_records([(c + 10, c) for c in (0, 1, 2) * 4], seed=10))
    (folder / "test.bin").write_bytes(_cifar_records([(c + 10, c) for c in (0, 1, 2)], seed=11))
    _lines(folder / "fine_label_names.txt", ["apple", "aquarium_fish", "baby"] + [f"c{i}" for i in range(97)])
    sizes["cifar100"] = 12

    folder = root / IMAGENET_11X11_DATA_DIRS["dtd"]
    for split, count in PER_CLASS.items():
        entries = []
        for c, name in enumerate(["banded", "blotchy", "braided"]):
            for k in range(count):
                rel = f"{name}/{name}_{split}_{k:04d}.jpg"
                _image(folder / "images" / rel, c, k)
                entries.append(rel)
        _lines(folder / "labels" / f"{split}1.txt", entries)
    sizes["dtd"] = 3 * (PER_CLASS["train"] + PER_CLASS["val"])

    folder = root / IMAGENET_11X11_DATA_DIRS["flowers"]
    labels, ids = [], {"train": [], "val": [], "test": []}
    for split, count in PER_CLASS.items():
        for c in range(3):
            for _k in range(count):
                labels.append(c + 1)
                ids[split].append(len(labels))
                _image(folder / "jpg" / f"image_{len(labels):05d}.jpg", c, len(labels))
    savemat(folder / "imagelabels.mat", {"labels": np.asarray(labels)})
    savemat(folder / "setid.mat", {"trnid": np.asarray(ids["train"]), "valid": np.asarray(ids["val"]),
                                   "tstid": np.asarray(ids["test"])})
    sizes["flowers"] = 3 * (PER_CLASS["train"] + PER_CLASS["val"])

    folder = root / IMAGENET_11X11_DATA_DIRS["food"]
    for split in ("train", "test"):
        meta = {}
        for c, name in enumerate(["apple_pie", "baby_back_ribs", "baklava"]):
            meta[name] = [f"{name}/{split}{k}" for k in range(4 if split == "train" else 2)]
            for k, rel in enumerate(meta[name]):
                _image(folder / "images" / f"{rel}.jpg", c, k)
        (folder / "meta").mkdir(parents=True, exist_ok=True)
        (folder / "meta" / f"{split}.json").write_text(json.dumps(meta))
    sizes["food"] = 12

    folder = root / IMAGENET_11X11_DATA_DIRS["pets"]
    for split, count in (("trainval", 4), ("test", 2)):
        entries = []
        for c, breed in enumerate(["Abyssinian", "american_bulldog", "Bengal"]):
            for k in range(count):
                image_id = f"{breed}_{split}{k}"
                _image(folder / "images" / f"{image_id}.jpg", c, k)
                entries.append(f"{image_id} {c + 1} {1 + (c == 1)} {c + 1}")
        _lines(folder / "annotations" / f"{split}.txt", entries)
    sizes["pets"] = 12

    folder = root / IMAGENET_11X11_DATA_DIRS["sun397"]
    sun_classes = ["/a/abbey", "/b/bakery/shop", "/b/beach"]
    _lines(folder / "ClassName.txt", sun_classes)
    for split, name, count in (("train", "Training_01.txt", 4), ("test", "Testing_01.txt", 2)):
        entries = []
        for c, cls in enumerate(sun_classes):
            for k in range(count):
                rel = f"{cls}/sun_{split}{k}.jpg"
                _image(folder / rel.lstrip("/"), c, k)
                entries.append(rel)
        _lines(folder / "Partitions" / name, entries)
    sizes["sun397"] = 12

    folder = root / IMAGENET_11X11_DATA_DIRS["voc2007"]
    main = folder / "ImageSets" / "Main"
    image_no = 0
    for split, count in (("train", 5), ("val", 2), ("test", 3)):
        ids = []
        present: dict[str, dict[str, str]] = {cls: {} for cls in VOC_CLASSES}
        for k in range(count):
            image_no += 1
            image_id = f"{image_no:06d}"
            ids.append(image_id)
            first = k % 3
            _image(folder / "JPEGImages" / f"{image_id}.jpg", first, k)
            present[VOC_CLASSES[first]][image_id] = "1"
            present["person"][image_id] = "0" if k == 0 else "-1"  # 0 = difficult: counts as present
        _lines(main / f"{split}.txt", ids)
        for cls in VOC_CLASSES:
            _lines(main / f"{cls}_{split}.txt", [f"{i} {present[cls].get(i, '-1'):>2}" for i in ids])
    sizes["voc2007"] = 7
    return sizes


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vision-data")
    make_fake_data(root)
    return root


# --- loaders -------------------------------------------------------------------------------------------

def test_loaders_read_every_layout(data_root):
    assert tuple(VISION_TARGET_DIRS) == VISION_TARGETS and set(VISION_TARGETS) == set(PUBLISHED_FINETUNE_ACCURACY)
    for name in VISION_TARGETS:
        assert missing_target_files(name, data_root) == [], name
        ds = load_vision_target(name, data_root)
        assert ds.modality == "image" and ds.name == name and len(ds) >= 7, name
        test = load_vision_target(name, data_root, split="test")
        both = load_vision_target(name, data_root, split="all")
        assert len(both) == len(ds) + len(test), name
        first = ds.inputs[0]
        if name.startswith("cifar"):
            assert ds.inputs.shape[1:] == (32, 32, 3) and ds.inputs.dtype == np.uint8
            assert ds.inputs[0, 0, 1, 0] == 7 and ds.inputs[0, 0, 0, 0] == COLOURS[0][0]
        else:
            assert isinstance(first, Path) and first.is_file(), (name, first)
    assert set(load_vision_target("aircraft", data_root).labels) == {"Boeing 707-320", "A300B4", "F/A-18"}
    assert len(load_vision_target("aircraft", data_root, split="val")) == 6
    assert set(load_vision_target("cifar10", data_root).labels) == {"airplane", "automobile", "bird"}
    assert set(load_vision_target("cifar100", data_root).labels) == {"apple", "aquarium_fish", "baby"}
    assert set(load_vision_target("sun397", data_root).labels) == {"abbey", "bakery/shop", "beach"}
    assert set(load_vision_target("pets", data_root).labels) == {"Abyssinian", "american_bulldog", "Bengal"}
    assert sorted(set(load_vision_target("flowers", data_root).labels)) == [1, 2, 3]
    assert set(load_vision_target("cars", data_root, split="test").labels) == {
        "AM General Hummer SUV 2000", "Acura RL Sedan 2012", "BMW M3 Coupe 2012"}


def test_voc2007_is_multilabel_with_difficult_as_present(data_root):
    voc = load_vision_target("voc2007", data_root, split="train")
    assert voc.task == "multilabel" and voc.labels.shape == (5, 20) and voc.n_classes == 20
    person = VOC_CLASSES.index("person")
    assert voc.labels[:, person].tolist() == [1, 0, 0, 0, 0]
    assert voc.labels.sum(axis=1).tolist() == [2, 1, 1, 1, 1]
    assert len(load_vision_target("voc2007", data_root, split="trainval")) == 7


def test_caltech101_split_reproduces_sfda_draw(data_root):
    train = load_vision_target("caltech101", data_root, split="train")
    test = load_vision_target("caltech101", data_root, split="test")
    files = sorted(p for p in (data_root / IMAGENET_11X11_DATA_DIRS["caltech101"]).rglob("*.jpg"))
    n = CALTECH_PER_CLASS
    assert len(train) + len(test) == len(files) == 3 * n and not set(train.inputs) & set(test.inputs)
    np.random.seed(0)  # SFDA create_caltech101_splits: the global RNG, 30 draws with replacement
    expected = set()
    for c in range(3):
        expected.update(np.random.choice(list(range(n * c, n * c + n)), 30).tolist())
    assert {files.index(p) for p in train.inputs} == expected
    assert set(train.labels) == {"BACKGROUND_Google", "Faces", "accordion"}


def test_loader_errors_name_the_argument_and_file(data_root, tmp_path):
    with pytest.raises(InputError, match="name must be one of"):
        load_vision_target("birdsnap", data_root)
    with pytest.raises(InputError, match="split must be one of"):
        load_vision_target("dtd", data_root, split="validation")
    with pytest.raises(InputError, match="split 'val' does not exist for cifar10"):
        load_vision_target("cifar10", data_root, split="val")
    with pytest.raises(InputError, match="has no cifar-100-binary folder"):
        load_vision_target("cifar100", tmp_path)
    bad = tmp_path / IMAGENET_11X11_DATA_DIRS["cifar100"]
    bad.mkdir(parents=True)
    (bad / "train.bin").write_bytes(b"\0" * 100)
    with pytest.raises(InputError, match="not a multiple of the 3074-byte records"):
        load_vision_target("cifar100", tmp_path, split="train")
    pets = tmp_path / IMAGENET_11X11_DATA_DIRS["pets"] / "annotations"
    _lines(pets / "trainval.txt", ["no-underscore"])
    with pytest.raises(InputError, match="trainval.txt' has a malformed line"):
        load_vision_target("pets", tmp_path, split="train")
    assert missing_target_files("sun397", tmp_path) == ["."]


def test_subsample_is_seeded_and_stratified(data_root):
    full = load_vision_target("aircraft", data_root)
    a = load_vision_target("aircraft", data_root, max_samples=6, seed=3)
    b = load_vision_target("aircraft", data_root, max_samples=6, seed=3)
    assert len(a) == 6 and list(a.inputs) == list(b.inputs)
    assert sorted(np.unique(a.labels, return_counts=True)[1].tolist()) == [2, 2, 2]
    assert set(a.inputs) <= set(full.inputs)
    voc = load_vision_target("voc2007", data_root, max_samples=4)
    assert voc.labels.shape == (4, 20)
    with pytest.raises(InputError, match="max_samples must be >= 2"):
        load_vision_target("dtd", data_root, max_samples=1)


def test_no_pickle_is_loaded(data_root, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    for name in VISION_TARGETS:
        load_vision_target(name, data_root, split="all")
    assert not any("-py" in d or "python" in d for d in IMAGENET_11X11_DATA_DIRS.values())


def test_multilabel_dataset_validation():
    y = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1]])
    ds = Dataset("ml", ["a", "b", "c", "d"], y, "multilabel")
    assert ds.n_classes == 3 and ds.labels.dtype == np.int64
    split = ds.split(seed=0, val_fraction=0.25, test_fraction=0.25)
    assert sorted(np.concatenate([split.train, split.val, split.test]).tolist()) == [0, 1, 2, 3]
    with pytest.raises(InputError, match="2-D 0/1 indicator matrix"):
        Dataset("ml", ["a", "b"], np.array([1, 0]), "multilabel")
    with pytest.raises(InputError, match="only 0 and 1"):
        Dataset("ml", ["a", "b"], np.array([[2, 0], [0, 1]]), "multilabel")


# --- the torchvision adapter on the stand-in --------------------------------------------------------

def test_encoder_reads_local_weights_penultimate_and_head(fake_tv, data_root):
    from transferscope.extraction.specs import build_encoder
    from transferscope.extraction.torchvision_models import TorchvisionEncoder

    enc = build_encoder("torchvision:resnet50:IMAGENET1K_V1")
    assert isinstance(enc, TorchvisionEncoder) and enc.name == "torchvision:resnet50:IMAGENET1K_V1"
    assert enc.weights_name == "ResNet50_Weights.IMAGENET1K_V1" and enc.classifier == "fc"
    assert enc.layer_names() == ["conv1", "relu", "layer1", "avgpool", "penultimate"]
    assert "get_state_dict" not in type(fake_tv.get_weight("ResNet50_Weights.IMAGENET1K_V1")).__dict__
    ident = enc.identity()
    assert ident["weights_sha256"] == hashlib.sha256(enc.checkpoint.read_bytes()).hexdigest()
    assert enc.checkpoint.name.startswith("resnet50-") and "FakeTransforms" in enc.preprocessing()["transforms"]

    ds = load_vision_target("dtd", data_root)
    out = enc.encode(ds.inputs, layers=["penultimate", "head", "layer1"], poolings=["mean", "max"])
    assert set(out) == {("penultimate", "none"), ("head", "softmax"), ("layer1", "mean"), ("layer1", "max")}
    # Reference: the same weights loaded by hand, the classifier's input read with a pre-hook.
    net = ResNetLike().eval()
    net.load_state_dict(torch.load(enc.checkpoint, weights_only=True))
    x = torch.stack([FakeTransforms()(Image.open(p).convert("RGB")) for p in ds.inputs])
    seen = {}
    net.fc.register_forward_pre_hook(lambda m, a: seen.setdefault("x", a[0]))
    with torch.inference_mode():
        probs = torch.softmax(net(x).double(), 1).numpy()
    np.testing.assert_allclose(out[("penultimate", "none")], seen["x"].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[("head", "softmax")], probs, rtol=1e-4, atol=1e-6)
    assert out[("head", "softmax")].shape == (len(ds), N_SOURCE_CLASSES)
    # CIFAR arrays and PIL images go through the same preprocessing.
    cifar = load_vision_target("cifar10", data_root, split="test")
    arr = enc.encode(cifar.inputs, layers=["penultimate"], poolings=["mean"])[("penultimate", "none")]
    pil = enc.encode([Image.fromarray(a) for a in cifar.inputs], layers=["penultimate"], poolings=["mean"])
    np.testing.assert_array_equal(arr, pil[("penultimate", "none")])


def test_encoder_classifier_search_and_random_weights(fake_tv):
    from transferscope.extraction.torchvision_models import TorchvisionEncoder

    mobile = TorchvisionEncoder("mobilenet_v2", weights="MobileNet_V2_Weights.IMAGENET1K_V1")
    assert mobile.classifier == "classifier.1" and mobile.layer_names() == ["features.0", "features.1", "penultimate"]
    inception = TorchvisionEncoder("inception_v3", weights="IMAGENET1K_V1")
    assert inception.classifier == "fc" and "AuxLogits" not in inception.layer_names()
    a = TorchvisionEncoder("densenet121", weights=None, seed=1)
    b = TorchvisionEncoder("densenet121", weights=None, seed=1)
    c = TorchvisionEncoder("densenet121", weights=None, seed=2)
    assert a.identity() == b.identity() != c.identity()
    assert a.name == "torchvision:densenet121:none" and "weights_sha256" not in a.identity()
    with pytest.raises(InputError, match="pooling 'cls' does not apply"):
        a.output_keys(["features.0"], ["cls"])
    with pytest.raises(InputError, match="unknown layer 'nope'"):
        a.output_keys(["nope"], ["mean"])
    with pytest.raises(InputError, match="inputs must be image paths"):
        a.encode([3.5], layers=["penultimate"], poolings=["mean"])


def test_encoder_never_downloads_and_checks_the_file(monkeypatch, tmp_path):
    from transferscope.extraction.torchvision_models import TorchvisionEncoder, parse_torchvision_spec

    install_fake_torchvision(monkeypatch, tmp_path / "empty-home", write_weights=False)
    with pytest.raises(InputError, match=r"not in the torch.hub cache: .*resnet34-[0-9a-f]{8}\.pth does not exist"):
        TorchvisionEncoder("resnet34", weights="IMAGENET1K_V1")
    install_fake_torchvision(monkeypatch, tmp_path / "home")
    path = next((tmp_path / "home" / "hub" / "checkpoints").glob("resnet34-*.pth"))
    path.write_bytes(path.read_bytes()[:-10])  # truncated: the hash in the name no longer matches
    with pytest.raises(InputError, match="corrupt or incomplete"):
        TorchvisionEncoder("resnet34", weights="IMAGENET1K_V1")
    # A checkpoint holding anything but tensors is refused by torch.load(weights_only=True).
    import datetime

    path.unlink()
    evil = path.parent / "evil.tmp"
    torch.save({"conv1.weight": datetime.date(2020, 1, 1)}, evil)
    sha = hashlib.sha256(evil.read_bytes()).hexdigest()
    weights = sys.modules["torchvision.models"].get_weight("ResNet34_Weights.IMAGENET1K_V1")
    weights.url = f"https://download.invalid/models/resnet34-{sha[:8]}.pth"
    evil.replace(path.parent / f"resnet34-{sha[:8]}.pth")
    with pytest.raises(InputError, match=r"torch.load\(weights_only=True\)"):
        TorchvisionEncoder("resnet34", weights="IMAGENET1K_V1")
    with pytest.raises(InputError, match="are not weights of resnet50"):
        TorchvisionEncoder("resnet50", weights="IMAGENET1K_V9")
    with pytest.raises(InputError, match="not a torchvision classification model"):
        TorchvisionEncoder("vgg11", weights=None)
    with pytest.raises(InputError, match="must look like torchvision:BUILDER"):
        parse_torchvision_spec("torchvision:")


# --- the suite end to end --------------------------------------------------------------------------

@pytest.fixture()
def imagenet_env(fake_tv, data_root, monkeypatch):
    monkeypatch.setenv("TRANSFERSCOPE_DATA_DIR", str(data_root))
    return data_root


#: A corner of the 11 x 11 grid for the end-to-end runs (the store costs ~0.1 s per cell): the four
#: classifier layouts, and targets read as CIFAR arrays, multilabel VOC, Caltech's seeded split, SUN397.
SOME_MODELS = ["resnet50", "densenet121", "mobilenet_v2", "inception_v3"]
SOME_TARGETS = ["cifar10", "voc2007", "caltech101", "sun397"]


def _corner(suite, models=SOME_MODELS, targets=SOME_TARGETS):
    import dataclasses

    keep = [c for c in suite.candidates if c.model.split(":")[1] in models]
    return dataclasses.replace(suite, candidates=keep, targets=list(targets))


def test_builtin_suite_definition(imagenet_env):
    from transferscope.workflows.suite import load_suite

    suite = load_suite("imagenet-11x11")
    assert suite.probe == "published" and suite.source_probs and suite.data_root == str(imagenet_env)
    assert suite.targets == list(PUBLISHED_FINETUNE_ACCURACY) and suite.target_split == "trainval"
    assert [c.model for c in suite.candidates] == [f"torchvision:{b}:IMAGENET1K_V1"
                                                   for b, _ in IMAGENET_11X11_MODELS.values()]
    assert all(c.layers == ["penultimate"] for c in suite.candidates)
    assert suite.priors["torchvision:resnet34:IMAGENET1K_V1"] == 60.0  # ImageNet top-1 from the weights' meta
    assert {"nleep", "pactran", "cv_probe"} <= set(suite.exclude)


def test_suite_runs_end_to_end_and_resumes(imagenet_env, tmp_path):
    import dataclasses

    import transferscope as ts
    from transferscope.workflows.benchmark import run_benchmark, suite_estimators
    from transferscope.workflows.storage.store import ResultStore
    from transferscope.workflows.suite import load_suite

    suite = _corner(load_suite("imagenet-11x11"))
    assert {"leep", "nce", "logme", "hscore"} <= set(suite_estimators(suite, "classification"))
    assert suite_estimators(suite, "multilabel") == ["logme"]
    suite = dataclasses.replace(suite, estimators=["logme", "leep", "nce", "hscore"])
    store = ResultStore(tmp_path / "r.duckdb")
    messages: list[str] = []
    result = run_benchmark(suite, store=store, cache_dir=str(tmp_path / "cache"), n_jobs=1, progress=messages.append)
    assert (result.computed_cells, result.skipped_cells) == (16, 0)
    assert any("voc2007" in m and "left out" in m for m in messages)  # classes absent from the tiny VOC
    rows = store.table(suite="imagenet-11x11")
    truth = rows[(rows["kind"] == "probe") & (rows["metric"] == "finetune_accuracy")]
    assert len(truth) == 16 and set(rows[rows["kind"] == "probe"]["metric"]) == {"finetune_accuracy"}
    settings = json.loads(truth.iloc[0]["settings"])
    assert settings["truth"] == "published" and settings["source"].startswith("TencentARC/SFDA@3b7edf76")
    cell = truth[(truth["target"] == "voc2007") & (truth["model"] == "torchvision:mobilenet_v2:IMAGENET1K_V1")]
    assert cell["value"].iloc[0] == pytest.approx(0.828)
    assert json.loads(cell["settings"].iloc[0])["target_metric"] == "mAP"
    est = rows[rows["kind"] == "estimator"]
    assert set(est[est["target"] == "voc2007"]["metric"]) == {"logme", "static"}  # multilabel: LogME only
    cifar = est[est["target"] == "cifar10"]
    assert set(cifar["metric"]) == {"logme", "leep", "nce", "hscore", "static"}
    assert np.isfinite(cifar["value"]).all()  # LEEP / NCE got the ImageNet head's softmax
    meta = rows[rows["kind"] == "meta"]
    assert set(meta["target"]) == set(SOME_TARGETS)
    # Meta-evaluation equals rank_correlation of the stored scores against the published accuracies.
    t = truth[truth["target"] == "sun397"].set_index("candidate")["value"]
    s = est[(est["target"] == "sun397") & (est["metric"] == "leep")].set_index("candidate")["value"].reindex(t.index)
    tau = meta[(meta["target"] == "sun397") & (meta["metric"] == "leep:weighted_kendall")]["value"].iloc[0]
    assert tau == pytest.approx(ts.rank_correlation(s.to_numpy(), t.to_numpy(), method="weighted_kendall"))
    assert "prior:static" in set(result.aggregate["estimator"])  # the suite's static prior, scored as a prior
    again = run_benchmark(suite, store=store, cache_dir=str(tmp_path / "cache"), n_jobs=1)
    assert (again.computed_cells, again.skipped_cells) == (0, 16)


def test_cli_benchmark_imagenet_11x11(imagenet_env, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from transferscope.cli.app import app
    from transferscope.workflows import suite as suite_module

    full = suite_module._imagenet_suite

    def corner() -> dict:  # the built-in definition, every estimator, on 3 models x 3 targets
        spec = full()
        spec["candidates"] = [c for c in spec["candidates"] if c["model"].split(":")[1] in SOME_MODELS[:3]]
        spec["targets"] = ["cifar100", "voc2007", "pets"]
        return spec

    monkeypatch.setattr(suite_module, "_imagenet_suite", corner)
    args = ["benchmark", "imagenet-11x11", "--store", str(tmp_path / "r.duckdb"), "--cache-dir",
            str(tmp_path / "cache"), "--quiet", "--output", str(tmp_path / "agg.csv")]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "9 cell(s) computed" in " ".join(result.output.split())
    import pandas as pd

    table = pd.read_csv(tmp_path / "agg.csv")
    assert {"logme", "leep", "nce", "hscore", "prior:static"} <= set(table["estimator"])
    assert {"cifar100", "voc2007", "pets", "mean"} <= set(table.columns)
    again = CliRunner().invoke(app, args, catch_exceptions=False)
    assert again.exit_code == 0 and "0 cell(s) computed, 9 already stored" in " ".join(again.output.split())


def test_suite_fails_with_one_clear_line_when_data_is_missing(fake_tv, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from transferscope.cli.app import app

    (tmp_path / "data" / "cifar-10-batches-bin").mkdir(parents=True)
    monkeypatch.setenv("TRANSFERSCOPE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["benchmark", "imagenet-11x11", "--store", str(tmp_path / "r.duckdb")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert "11 of 11 target datasets are not complete" in text
    assert "cifar-10-batches-bin lacks data_batch_1.bin" in text and "never loads" in text


def test_published_probe_needs_published_models_and_targets():
    from transferscope.workflows.suite import SUITE_PROBES, load_suite

    assert "published" in SUITE_PROBES
    ok = {"name": "p", "candidates": [{"model": "torchvision:resnet50:IMAGENET1K_V1", "layers": ["penultimate"]}],
          "targets": ["cifar10"], "probe": "published", "data_root": "/data", "source_probs": True}
    suite = load_suite(ok)
    assert suite.data_root == "/data" and suite.target_split == "trainval"
    with pytest.raises(InputError, match="candidate 'tfidf' is not one"):
        load_suite({**ok, "candidates": ["tfidf"]})
    with pytest.raises(InputError, match="candidate 'torchvision:resnet50:IMAGENET1K_V2' is not one"):
        load_suite({**ok, "candidates": ["torchvision:resnet50:IMAGENET1K_V2"]})
    with pytest.raises(InputError, match="not birdsnap"):
        load_suite({**ok, "targets": ["birdsnap"]})
    with pytest.raises(InputError, match="target_split must be one of"):
        load_suite({**ok, "target_split": "everything"})


# --- the real torchvision (skipped where it is not importable) ---------------------------------------

@pytest.mark.skipif(not HAS_TORCHVISION, reason="torchvision is not importable here (pip install torchvision)")
def test_real_torchvision_architecture_and_transforms(tmp_path, monkeypatch):
    import torchvision

    from transferscope.extraction.torchvision_models import TorchvisionEncoder

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    enc = TorchvisionEncoder("mobilenet_v2", weights=None)
    assert enc.classifier == "classifier.1"
    assert repr(torchvision.models.MobileNet_V2_Weights.DEFAULT.transforms()) == repr(enc.transform)
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8))
    out = enc.encode([img], layers=["penultimate", "head"], poolings=["mean"])
    assert out[("penultimate", "none")].shape == (1, 1280) and out[("head", "softmax")].shape == (1, 1000)
    with pytest.raises(InputError, match="never downloads"):
        TorchvisionEncoder("mobilenet_v2", weights="IMAGENET1K_V1")
