"""A zoo of small convolutional networks that transferscope pretrains itself, offline.

Each :class:`ZooSpec` names an architecture (channels per block, convolutions per block),
a SOURCE task from :mod:`transferscope.datasets.digits`, a number of epochs and a seed.
:func:`load_zoo_model` trains it on first use (CPU, one thread, deterministic algorithms,
fixed budget) and saves the weights with safetensors under::

    <cache root>/zoo/<name>-<key>/model.safetensors
    <cache root>/zoo/<name>-<key>/meta.json        spec, key fields, source accuracy, time

``key`` hashes the spec, the source task (name + ``DATA_VERSION``), the seed, the training
recipe version and the torch version, so a changed recipe never reuses old weights. The
entry is written into ``<cache root>/tmp`` and renamed into place, so an interrupted run
leaves nothing behind; later calls load it (no pickle anywhere). Weights are bit-identical
for the same key on the same machine; other CPUs may pick other kernels, which is why
encoders hash the weights themselves for the feature cache.

The zoo (:data:`ZOO_SPECS`, 16 models, about a minute on one CPU core) varies width,
depth, source task, training length and seed, and includes one untrained network:

======================== ============== ===== =================== ======
name                     widths         depth source task         epochs
======================== ============== ===== =================== ======
``s-mnist10``            (8, 16)        1     mnist10             4
``m-mnist10``            (16, 32, 64)   1     mnist10             4
``m-mnist10-seed1``      (16, 32, 64)   1     mnist10             4
``m-mnist10-1ep``        (16, 32, 64)   1     mnist10             1
``m-random``             (16, 32, 64)   1     mnist10             0
``l-mnist10``            (32, 64, 64)   2     mnist10             3
``deep-mnist10``         (16, 32, 64, 64) 2   mnist10             3
``m-0to4``               (16, 32, 64)   1     mnist-0to4          6
``m-5to9``               (16, 32, 64)   1     mnist-5to9          6
``m-parity``             (16, 32, 64)   1     mnist-parity        4
``m-ge5``                (16, 32, 64)   1     mnist-ge5           4
``l-parity``             (32, 64, 64)   2     mnist-parity        3
``m-rot90``              (16, 32, 64)   1     mnist-rot90         4
``m-inverted``           (16, 32, 64)   1     mnist-inverted      4
``s-small``              (8, 16)        1     mnist10-small       12
``m-small``              (16, 32, 64)   1     mnist10-small       12
======================== ============== ===== =================== ======

Held-out targets (never trained on): ``digits10``, ``digits-mod3``, ``digits-loops``,
``mnist-heldout-rot180``, ``mnist-heldout-mirror``, ``mnist-heldout-fewshot``
(:data:`transferscope.datasets.digits.TARGET_TASKS`).

Architecture (:class:`ZooNet`): ``block1 .. blockB`` (B = ``len(widths)``), each ``depth``
3x3 convolutions + ReLU, the first two followed by 2x2 max-pooling (16 -> 8 -> 4);
``penultimate`` = flatten the last feature map, linear to ``hidden`` units, ReLU; ``head`` =
linear to the source classes. Inputs are ``(N, 1, 16, 16)`` float32 in [0, 1] (the
flattening fixes this size: every digit task shares it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.datasets.digits import DATA_VERSION, IMAGE_SIZE, SOURCE_TASKS, load_task
from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.cache import default_cache_dir
from transferscope.extraction.encoder import HEAD_LAYER, HEAD_POOLING, POOLINGS, ProgressCallback
from transferscope.extraction.torch_hooks import TorchModuleEncoder
from transferscope.hashing import hash_fields
from transferscope.torch_support import require_torch

__all__ = [
    "ZooSpec",
    "ZOO_SPECS",
    "ZOO_VERSION",
    "ZooEncoder",
    "build_zoo_net",
    "zoo_parameter_count",
    "zoo_spec",
    "zoo_key",
    "zoo_entry_dir",
    "load_zoo_model",
    "zoo_encoder",
]

#: Version of the architecture + training recipe; part of every zoo cache key.
ZOO_VERSION = "zoo-v1"

_SPATIAL_POOLINGS = ("mean", "max")


@dataclass(frozen=True)
class ZooSpec:
    """One zoo model: architecture, source task and training budget.

    Parameters
    ----------
    name : str
        Display name (also the start of its cache directory).
    widths : tuple of int
        Output channels of each convolutional block (one block per entry).
    depth : int
        3x3 convolutions per block.
    source_task : str
        A source task of :mod:`transferscope.datasets.digits` (``SOURCE_TASKS``).
    epochs : int
        Passes over the source training data; 0 keeps the seeded random initialisation.
    seed : int
        Seeds the initialisation and the order of batches.
    hidden : int, default=64
        Units of the penultimate layer.
    lr : float, default=2e-3
        Adam learning rate.
    batch_size : int, default=64
    """

    name: str
    widths: tuple[int, ...]
    depth: int
    source_task: str
    epochs: int
    seed: int = 0
    hidden: int = 64
    lr: float = 2e-3
    batch_size: int = 64

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if not self.name or any(c in self.name for c in "/\\\0") or self.name.startswith("."):
            raise InputError(f"ZooSpec.name must be a plain file name, got {self.name!r}")
        if not self.widths or min(self.widths) < 1:
            raise InputError(f"ZooSpec.widths must be a non-empty tuple of positive ints, got {self.widths}")
        for attr in ("depth", "hidden", "batch_size"):
            if int(getattr(self, attr)) < 1:
                raise InputError(f"ZooSpec.{attr} must be >= 1, got {getattr(self, attr)}")
        if self.epochs < 0:
            raise InputError(f"ZooSpec.epochs must be >= 0, got {self.epochs}")
        if not self.lr > 0:
            raise InputError(f"ZooSpec.lr must be > 0, got {self.lr}")
        if self.source_task not in SOURCE_TASKS:
            raise InputError(f"ZooSpec.source_task must be a source task ({', '.join(SOURCE_TASKS)}), "
                             f"got {self.source_task!r}")

    def fields(self) -> dict[str, Any]:
        """The spec as JSON-able fields."""
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data


def _m(name: str, task: str, epochs: int, seed: int = 0) -> ZooSpec:
    return ZooSpec(name, (16, 32, 64), 1, task, epochs, seed)


#: The built-in zoo (see the module docstring).
ZOO_SPECS: list[ZooSpec] = [
    ZooSpec("s-mnist10", (8, 16), 1, "mnist10", 4),
    _m("m-mnist10", "mnist10", 4),
    _m("m-mnist10-seed1", "mnist10", 4, seed=1),
    _m("m-mnist10-1ep", "mnist10", 1),
    _m("m-random", "mnist10", 0),
    ZooSpec("l-mnist10", (32, 64, 64), 2, "mnist10", 3),
    ZooSpec("deep-mnist10", (16, 32, 64, 64), 2, "mnist10", 3),
    _m("m-0to4", "mnist-0to4", 6),
    _m("m-5to9", "mnist-5to9", 6),
    _m("m-parity", "mnist-parity", 4),
    _m("m-ge5", "mnist-ge5", 4),
    ZooSpec("l-parity", (32, 64, 64), 2, "mnist-parity", 3),
    _m("m-rot90", "mnist-rot90", 4),
    _m("m-inverted", "mnist-inverted", 4),
    ZooSpec("s-small", (8, 16), 1, "mnist10-small", 12),
    _m("m-small", "mnist10-small", 12),
]


def zoo_spec(name: str) -> ZooSpec:
    """The built-in spec called ``name``."""
    for spec in ZOO_SPECS:
        if spec.name == name:
            return spec
    raise InputError(f"unknown zoo model {name!r}; known: {', '.join(s.name for s in ZOO_SPECS)}")


# -- the network --------------------------------------------------------------

def build_zoo_net(spec: ZooSpec, n_classes: int) -> Any:
    """A freshly initialised :class:`ZooNet` for ``spec`` (uses torch's global RNG)."""
    return _zoo_net_class()(spec.widths, spec.depth, spec.hidden, n_classes)


def zoo_parameter_count(spec: ZooSpec) -> int:
    """Parameters of the backbone of ``spec`` (the blocks and ``penultimate``, not the ``head``),
    counted from the architecture of :class:`ZooNet` without building it or importing torch.

    Examples
    --------
    >>> zoo_parameter_count(ZooSpec("t", widths=(4,), depth=1, source_task=SOURCE_TASKS[0], epochs=1, hidden=8))
    2096
    """
    count, channels = 0, 1
    for width in spec.widths:
        for _ in range(spec.depth):
            count += channels * width * 3 * 3 + width  # Conv2d(channels, width, kernel_size=3), with bias
            channels = width
    side = IMAGE_SIZE // 2 ** min(len(spec.widths), 2)
    return count + channels * side * side * spec.hidden + spec.hidden  # Linear(channels * side**2, hidden)


_ZOONET: list[Any] = []


def _zoo_net_class() -> Any:
    if _ZOONET:
        return _ZOONET[0]
    torch = require_torch()
    nn = torch.nn

    class ZooNet(nn.Module):
        """Conv blocks -> flatten + linear + ReLU (``penultimate``) -> linear ``head``."""

        def __init__(self, widths: Sequence[int], depth: int, hidden: int, n_classes: int) -> None:
            super().__init__()
            self.block_names: list[str] = []
            channels = 1
            for i, width in enumerate(widths):
                layers: list[Any] = []
                for _ in range(depth):
                    layers += [nn.Conv2d(channels, width, kernel_size=3, padding=1), nn.ReLU()]
                    channels = width
                if i < 2:
                    layers.append(nn.MaxPool2d(2))
                name = f"block{i + 1}"
                self.add_module(name, nn.Sequential(*layers))
                self.block_names.append(name)
            side = IMAGE_SIZE // 2 ** min(len(widths), 2)
            self.penultimate = nn.Sequential(nn.Flatten(), nn.Linear(channels * side * side, hidden), nn.ReLU())
            self.head = nn.Linear(hidden, n_classes)

        def features(self, x: Any) -> Any:
            for name in self.block_names:
                x = getattr(self, name)(x)
            return self.penultimate(x)

        def forward(self, x: Any) -> Any:
            return self.head(self.features(x))

    ZooNet.__module__ = __name__
    ZooNet.__qualname__ = "ZooNet"
    _ZOONET.append(ZooNet)
    return ZooNet


def __getattr__(name: str) -> Any:  # ``zoo.ZooNet`` without importing torch at module import
    if name == "ZooNet":
        return _zoo_net_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- cache layout ---------------------------------------------------------------

def _key_fields(spec: ZooSpec) -> dict[str, Any]:
    torch = require_torch()
    return {
        "spec": spec.fields(),
        "source_task": {"name": spec.source_task, "data_version": DATA_VERSION, "image_size": IMAGE_SIZE},
        "seed": spec.seed,
        "recipe": ZOO_VERSION,
        "torch": torch.__version__,
    }


def zoo_key(spec: ZooSpec) -> str:
    """Short hash of everything that determines the trained weights of ``spec``."""
    return hash_fields(_key_fields(spec))[:16]


def zoo_entry_dir(spec: ZooSpec, *, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<cache root>/zoo/<name>-<key>``, where ``spec``'s weights live."""
    return default_cache_dir(cache_dir) / "zoo" / f"{spec.name}-{zoo_key(spec)}"


@contextlib.contextmanager
def _deterministic_cpu(seed: int) -> Iterator[None]:
    """One thread, deterministic algorithms, forked and seeded RNG; all restored afterwards."""
    torch = require_torch()
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.set_num_threads(threads)


def _train(spec: ZooSpec) -> tuple[Any, dict[str, Any]]:
    """Train ``spec`` on its source task; return the model and a summary."""
    torch = require_torch()
    data = load_task(spec.source_task)
    classes, codes = np.unique(data.labels, return_inverse=True)
    x_all = torch.from_numpy(np.ascontiguousarray(data.inputs, dtype=np.float32))
    y_all = torch.from_numpy(codes.astype(np.int64))
    # Every 10th sample (by position) is held out to report source accuracy.
    is_val = np.arange(len(data)) % 10 == 9
    train_idx = torch.from_numpy(np.flatnonzero(~is_val))
    val_idx = torch.from_numpy(np.flatnonzero(is_val))
    start = time.perf_counter()
    with _deterministic_cpu(spec.seed):
        model = build_zoo_net(spec, len(classes))
        order_rng = torch.Generator().manual_seed(spec.seed)
        optimiser = torch.optim.Adam(model.parameters(), lr=spec.lr)
        losses: list[float] = []
        model.train()
        for _ in range(spec.epochs):
            perm = train_idx[torch.randperm(train_idx.numel(), generator=order_rng)]
            total, seen = 0.0, 0
            for s in range(0, perm.numel(), spec.batch_size):
                batch = perm[s : s + spec.batch_size]
                optimiser.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(model(x_all[batch]), y_all[batch])
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * batch.numel()
                seen += batch.numel()
            losses.append(total / max(seen, 1))
        model.eval()
        with torch.inference_mode():
            val_acc = float((model(x_all[val_idx]).argmax(1) == y_all[val_idx]).float().mean())
    summary = {
        "classes": [c.item() if hasattr(c, "item") else c for c in classes],
        "n_classes": int(len(classes)),
        "n_train": int(train_idx.numel()),
        "n_val": int(val_idx.numel()),
        "source_val_accuracy": val_acc,
        "train_loss": losses,
        "train_seconds": time.perf_counter() - start,
    }
    return model, summary


def _state_dict_numpy(model: Any) -> dict[str, Any]:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def _write_entry(target: Path, root: Path, model: Any, meta: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    tmp_root = root / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=tmp_root, prefix="zoo-"))
    try:
        save_file(_state_dict_numpy(model), str(work / "model.safetensors"),
                  # One metadata entry: safetensors writes several in random order, and the
                  # file's bytes should be a function of the weights.
                  metadata={"zoo": json.dumps({"key": meta["key"], "name": meta["spec"]["name"]},
                                              sort_keys=True)})
        (work / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(work, target)
        except OSError:
            if not (target / "model.safetensors").exists():
                raise
            # Another process finished the same entry first: keep theirs.
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _read_entry(target: Path, spec: ZooSpec) -> Any | None:
    """The model stored in ``target``, or None when absent, foreign or unreadable."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise MissingExtraError("safetensors", "vision-zoo") from None
    try:
        meta = json.loads((target / "meta.json").read_text())
        if meta.get("key_fields") != json.loads(json.dumps(_key_fields(spec), default=str)):
            return None
        state = load_file(str(target / "model.safetensors"), device="cpu")
        torch = require_torch()
        with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten; keep the caller's RNG
            model = build_zoo_net(spec, int(meta["n_classes"]))
        model.load_state_dict(state, strict=True)
    except Exception:  # noqa: BLE001 - any unreadable entry is retrained
        return None
    model.eval()
    model.zoo_meta = meta
    return model


def load_zoo_model(spec: ZooSpec | str, *, cache_dir: str | os.PathLike[str] | None = None) -> Any:
    """The pretrained zoo model for ``spec`` (a spec or a built-in name), training it if absent.

    Returns a :class:`ZooNet` in eval mode on the CPU; ``model.zoo_meta`` holds the
    entry's ``meta.json`` (spec, key fields, source classes, source accuracy, training time).

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> spec = ZooSpec("doc-tiny", (4,), 1, "mnist10-small", epochs=1)
    >>> model = load_zoo_model(spec, cache_dir=root)
    >>> model.head.out_features
    10
    >>> sorted(p.name for p in zoo_entry_dir(spec, cache_dir=root).iterdir())
    ['meta.json', 'model.safetensors']
    """
    if isinstance(spec, str):
        spec = zoo_spec(spec)
    require_torch()
    root = default_cache_dir(cache_dir)
    target = zoo_entry_dir(spec, cache_dir=root)
    model = _read_entry(target, spec) if target.exists() else None
    if model is not None:
        model.zoo_meta["cache_root"] = str(root)
        return model
    trained, summary = _train(spec)
    meta = {"spec": spec.fields(), "key": zoo_key(spec), "key_fields": _key_fields(spec), **summary}
    if target.exists():  # a stale or broken entry with the same key: replace it
        shutil.rmtree(target, ignore_errors=True)
    _write_entry(target, root, trained, meta)
    model = _read_entry(target, spec)
    if model is None:
        raise OSError(f"zoo entry {target} could not be read back")
    model.zoo_meta["cache_root"] = str(root)
    return model


# -- encoder ----------------------------------------------------------------------

class ZooEncoder(TorchModuleEncoder):
    """:class:`TorchModuleEncoder` over a zoo model's blocks and penultimate layer.

    Conv blocks give ``(N, C, H, W)`` maps pooled over space (``mean`` or ``max``);
    ``penultimate`` is a vector (pooling ``none``). ``head`` (the source classifier's
    softmax, pooling ``softmax``) gives ``source_probs`` for LEEP / NCE.
    """

    adapter = "zoo"
    modality = "image"

    def __init__(self, module: Any, spec: ZooSpec, *, batch_size: int = 256, device: str | None = None,
                 name: str | None = None) -> None:
        layers = [*module.block_names, "penultimate"]
        super().__init__(module, layers=layers, name=name or f"zoo:{spec.name}", batch_size=batch_size,
                         device=device)
        self.spec = spec

    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        ident.update({"zoo": self.spec.name, "zoo_key": zoo_key(self.spec), "zoo_version": ZOO_VERSION})
        return ident

    def pooled_layers(self) -> list[str]:
        return list(self.module.block_names)

    def all_layers(self) -> list[str]:
        return [*self.layers, HEAD_LAYER]

    def preprocessing(self) -> dict[str, Any]:
        return {"input": f"(N, 1, {IMAGE_SIZE}, {IMAGE_SIZE}) float32 in [0, 1]"}

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        spatial = set(self.module.block_names)
        for layer in layers:
            if layer == HEAD_LAYER:
                keys.append((HEAD_LAYER, HEAD_POOLING))
            elif layer in spatial:
                for pooling in poolings:
                    if pooling not in _SPATIAL_POOLINGS:
                        raise InputError(f"pooling {pooling!r} does not apply to the feature maps of "
                                         f"{layer}; use {' or '.join(_SPATIAL_POOLINGS)}")
                    keys.append((layer, pooling))
            elif layer in self.layers:
                keys.append((layer, "none"))
            else:
                raise InputError(f"unknown layer {layer!r}; {self.name} has: {', '.join(self.all_layers())}")
        return keys

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        keys = self.output_keys(layers, poolings)
        hook_layers = list(dict.fromkeys("head" if layer == HEAD_LAYER else layer for layer, _ in keys))
        hook_poolings = sorted({p for _, p in keys if p in POOLINGS}) or ["mean"]
        out = super().encode(inputs, layers=hook_layers, poolings=hook_poolings, progress=progress)
        result: dict[tuple[str, str], np.ndarray] = {}
        for layer, pooling in keys:
            if layer == HEAD_LAYER:
                logits = out[("head", hook_poolings[0])].astype(np.float64)
                logits -= logits.max(axis=1, keepdims=True)
                probs = np.exp(logits)
                result[(layer, pooling)] = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
            elif pooling == "none":
                result[(layer, pooling)] = out[(layer, hook_poolings[0])]
            else:
                result[(layer, pooling)] = out[(layer, pooling)]
        return result


def zoo_encoder(
    spec: ZooSpec | str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    batch_size: int = 256,
    device: str | None = None,
) -> ZooEncoder:
    """An encoder over ``spec``'s conv blocks and penultimate layer (trains the model if absent).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> enc = zoo_encoder(ZooSpec("doc-tiny", (4,), 1, "mnist10-small", epochs=1), cache_dir=tempfile.mkdtemp())
    >>> enc.layer_names()
    ['block1', 'penultimate']
    >>> out = enc.encode(np.zeros((3, 1, 16, 16), np.float32), layers=["block1", "penultimate", "head"],
    ...                  poolings=["mean"])
    >>> sorted((k, v.shape) for k, v in out.items())
    [(('block1', 'mean'), (3, 4)), (('head', 'softmax'), (3, 10)), (('penultimate', 'none'), (3, 64))]
    """
    if isinstance(spec, str):
        spec = zoo_spec(spec)
    model = load_zoo_model(spec, cache_dir=cache_dir)
    return ZooEncoder(model, spec, batch_size=batch_size, device=device)
