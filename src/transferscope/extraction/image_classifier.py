"""What every image classifier encoder shares (torchvision, timm): image inputs preprocessed by
the weights' own transform, the feature maps of the backbone's stages, the pre-classifier features
(``penultimate``) and the classifier's softmax (``head``).

The final classifier is the model's last ``torch.nn.Linear``; an ``Identity`` called
``penultimate`` is inserted in front of it so that the hook machinery of
:class:`~transferscope.extraction.torch_hooks.TorchModuleEncoder` reads its input like any other
layer (the weights are unchanged). Stages are feature maps ``(N, C, H, W)`` pooled over space or
token sequences ``(N, T, D)`` pooled over tokens (``mean`` or ``max``).
"""

from __future__ import annotations

import importlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.encoder import HEAD_LAYER, HEAD_POOLING, POOLINGS, ProgressCallback
from transferscope.extraction.torch_hooks import TorchModuleEncoder, weights_hash
from transferscope.torch_support import require_torch

__all__ = ["ImageClassifierEncoder", "PENULTIMATE", "last_linear", "library_version", "image_tensor", "image_batch", "image_preprocessing",
           "load_hub_safetensors", "weights_fields"]

#: Layer name of the pre-classifier features.
PENULTIMATE = "penultimate"

_SPATIAL_POOLINGS = ("mean", "max")


def library_version(package: str) -> str:
    """The installed version of ``package`` (``"absent"`` when it is not installed)."""
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        module = importlib.import_module(package) if package == "torchvision" else None
        return str(getattr(module, "__version__", "absent"))


def last_linear(module: Any) -> str:
    """The name of the last ``torch.nn.Linear`` of ``module`` (its classifier)."""
    torch = require_torch()
    names = [name for name, m in module.named_modules() if isinstance(m, torch.nn.Linear)]
    if not names:
        raise InputError(f"{type(module).__name__} has no torch.nn.Linear classifier to read the "
                         "penultimate features from")
    return names[-1]


def load_hub_safetensors(module: Any, repo: str, filename: str, *, spec: str, random_spec: str) -> tuple[Path, str]:
    """Load ``filename`` of the Hugging Face repository ``repo`` from the local hub cache into
    ``module`` (safetensors, ``strict=True``): ``(path, sha256)``. Nothing is downloaded; a
    missing file is one InputError naming the repository, the cache and ``random_spec``."""
    path = None
    if repo:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo, filename)
        path = Path(found) if isinstance(found, str) else None
    if path is None:
        where = f"{repo}, {filename}" if repo else "no Hugging Face repository"
        raise InputError(
            f"the weights of {spec} ({where}) are not in the local Hugging Face cache (HF_HUB_CACHE, default "
            "~/.cache/huggingface/hub). transferscope never downloads weights: fetch them on a machine with "
            f"network access (huggingface_hub.snapshot_download) and copy the cache here, or use {random_spec} "
            "for random weights")
    from safetensors.torch import load_file

    try:
        module.load_state_dict(load_file(str(path), device="cpu"), strict=True)
    except (RuntimeError, OSError) as exc:
        raise InputError(f"could not load {path} into {spec}: {str(exc).splitlines()[0]}") from None
    from transferscope.hashing import file_sha256

    return path, file_sha256(path)


def weights_fields(sha256: str | None, *, seed: int, module: Any) -> dict[str, Any]:
    """The weights part of an image encoder's identity: the weights file's sha256, or for random
    weights the seed and a hash of the weights themselves."""
    if sha256 is not None:
        return {"weights_sha256": sha256}
    return {"seed": int(seed), "random_weights": weights_hash(module)}


def image_preprocessing(transform: Any) -> dict[str, Any]:
    """What an image encoder does to its inputs, for the cache key and the provenance."""
    return {"input": "image file, PIL image or HxWx3 uint8 array, converted to RGB", "transforms": repr(transform)}


def image_tensor(item: Any, transform: Any) -> Any:
    """One image (a path, a PIL image or an HxW / HxWx3 uint8 array) through ``transform``, as RGB."""
    try:
        from PIL import Image
    except ImportError:
        raise MissingExtraError("PIL", "vision") from None
    if isinstance(item, (str, os.PathLike)):
        try:
            with Image.open(item) as img:
                return transform(img.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise InputError(f"could not read image '{item}': {exc}") from None
    if isinstance(item, np.ndarray):
        if item.dtype != np.uint8 or item.ndim not in (2, 3) or (item.ndim == 3 and item.shape[2] not in (1, 3, 4)):
            raise InputError(f"image arrays must be HxW or HxWx3 uint8, got {item.dtype} {item.shape}")
        return transform(Image.fromarray(item.squeeze(-1) if item.ndim == 3 and item.shape[2] == 1
                                         else item).convert("RGB"))
    if isinstance(item, Image.Image):
        return transform(item.convert("RGB"))
    raise InputError(f"inputs must be image paths, PIL images or uint8 arrays, got {type(item).__name__}")


def image_batch(items: Sequence[Any], transform: Any, *, num_workers: int = 4) -> np.ndarray:
    """Images through ``transform``, stacked as float32 ``(N, 3, H, W)``; decoded on threads."""
    torch = require_torch()
    if num_workers > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=min(num_workers, len(items))) as pool:
            tensors = list(pool.map(lambda item: image_tensor(item, transform), items))
    else:
        tensors = [image_tensor(item, transform) for item in items]
    return torch.stack([t.float() for t in tensors]).numpy()


class ImageClassifierEncoder(TorchModuleEncoder):
    """Base of the image classifier encoders (module notes). A subclass builds ``module`` and
    ``self.transform`` (PIL image -> normalised tensor), sets ``num_workers`` and calls
    :meth:`_wrap`; it gives :meth:`identity`."""

    num_workers: int = 4
    modality = "image"
    transform: Any = None

    def _wrap(self, module: Any, *, name: str, batch_size: int, device: str | None,
              stages: Sequence[str] | None = None) -> None:
        torch = require_torch()
        module.eval()
        self.classifier = last_linear(module)
        parent_name, _, attr = self.classifier.rpartition(".")
        parent = module.get_submodule(parent_name) if parent_name else module
        linear = getattr(parent, attr)
        setattr(parent, attr, torch.nn.Sequential(OrderedDict([(PENULTIMATE, torch.nn.Identity()),
                                                               ("linear", linear)])))
        prefix = f"{self.classifier}."
        self._hook = {PENULTIMATE: prefix + PENULTIMATE, HEAD_LAYER: prefix + "linear"}
        self._stages = list(stages) if stages is not None else self._stage_names(module)
        super().__init__(module, layers=[*self._stages, *self._hook.values()], name=name, batch_size=batch_size,
                         device=device)
        self._identity: dict[str, Any] | None = None

    def _stage_names(self, module: Any) -> list[str]:
        """Top-level children in order, without the classifier, dropout and auxiliary heads;
        a lone container holding every other parameter (``features`` of DenseNet and
        MobileNetV2, ``layers`` of MNASNet) is replaced by its children."""
        torch = require_torch()
        root = self.classifier.split(".")[0]
        children = [(name, child) for name, child in module.named_children()
                    if name != root and not name.lower().startswith("aux")
                    and not isinstance(child, torch.nn.Dropout)]
        with_params = [(name, child) for name, child in children if any(True for _ in child.parameters())]
        if len(with_params) == 1 and isinstance(with_params[0][1], torch.nn.Sequential):
            name, child = with_params[0]
            inner = [f"{name}.{sub}" for sub, m in child.named_children() if not isinstance(m, torch.nn.Dropout)]
            return [n for c, _ in children for n in (inner if c == name else [c])]
        return [name for name, _ in children]

    def layer_names(self) -> list[str]:
        return [*self._stages, PENULTIMATE]

    def pooled_layers(self) -> list[str]:
        return list(self._stages)

    def all_layers(self) -> list[str]:
        return [*self.layer_names(), HEAD_LAYER]

    def preprocessing(self) -> dict[str, Any]:
        return image_preprocessing(self.transform)

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        for layer in layers:
            if layer == HEAD_LAYER:
                keys.append((HEAD_LAYER, HEAD_POOLING))
            elif layer == PENULTIMATE:
                keys.append((PENULTIMATE, "none"))
            elif layer in self._stages:
                for pooling in poolings:
                    if pooling not in _SPATIAL_POOLINGS:
                        raise InputError(f"pooling {pooling!r} does not apply to the feature maps of {layer}; "
                                         f"use {' or '.join(_SPATIAL_POOLINGS)}")
                    keys.append((layer, pooling))
            else:
                raise InputError(f"unknown layer {layer!r}; {self.name} has: {', '.join(self.all_layers())}")
        return keys

    def _batch(self, items: Sequence[Any]) -> np.ndarray:
        return image_batch(items, self.transform, num_workers=self.num_workers)

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        keys = self.output_keys(layers, poolings)
        if not len(inputs):
            raise InputError("inputs must hold at least one image")
        hooks = list(dict.fromkeys(self._hook.get(layer, layer) for layer, _ in keys))
        hook_poolings = sorted({p for _, p in keys if p in POOLINGS}) or ["mean"]
        parts: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in keys}
        for start in range(0, len(inputs), self.batch_size):
            batch = self._batch(inputs[start : start + self.batch_size])
            out = super().encode(batch, layers=hooks, poolings=hook_poolings)
            for layer, pooling in keys:
                if layer == HEAD_LAYER:
                    logits = out[(self._hook[HEAD_LAYER], hook_poolings[0])].astype(np.float64)
                    logits -= logits.max(axis=1, keepdims=True)
                    probs = np.exp(logits)
                    parts[(layer, pooling)].append((probs / probs.sum(axis=1, keepdims=True)).astype(np.float32))
                elif layer == PENULTIMATE:
                    parts[(layer, pooling)].append(out[(self._hook[PENULTIMATE], hook_poolings[0])])
                else:
                    parts[(layer, pooling)].append(out[(layer, pooling)])
            if progress is not None:
                progress(batch.shape[0])
        return {key: np.concatenate(value).astype(np.float32) for key, value in parts.items()}
