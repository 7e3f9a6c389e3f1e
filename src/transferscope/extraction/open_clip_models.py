"""OpenCLIP image towers as encoders (``open_clip:ARCH:TAG``), weights from the local Hugging Face
cache only.

:class:`OpenClipEncoder` builds ``open_clip.create_model(ARCH, pretrained=None)`` and, unless the
tag is ``none`` (a seeded random initialisation), loads ``open_clip_model.safetensors`` of the
pretrained config's Hugging Face repository (``open_clip.get_pretrained_cfg(ARCH, TAG)["hf_hub"]``)
from the local cache with safetensors (no pickle), ``strict=True``. **Nothing is downloaded**: a
missing file is one message naming the repository. Images are preprocessed with the pretrained
config's mean, std, interpolation and resize mode (``open_clip.image_transform``).

Layers: the blocks of the image tower (``visual.transformer.resblocks.0`` .. of a ViT, tokens
pooled by ``mean`` or ``max``; ``visual.layer1`` .. ``visual.layer4`` of a ResNet, feature maps
pooled over space) and ``output``, the image embedding CLIP retrieves with (pooling ``none``).
The identity in the feature cache is the sha256 of the weights file (or the seed and a hash of
the random weights).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.encoder import POOLINGS, ProgressCallback
from transferscope.extraction.image_classifier import (
    image_batch,
    image_preprocessing,
    library_version,
    load_hub_safetensors,
    weights_fields,
)
from transferscope.extraction.torch_hooks import TorchModuleEncoder
from transferscope.extraction.torchvision_models import RANDOM_WEIGHTS
from transferscope.hashing import hash_fields
from transferscope.torch_support import require_torch

__all__ = ["OpenClipEncoder", "parse_open_clip_spec", "OUTPUT"]

#: Layer name of the image embedding.
OUTPUT = "output"
_POOLINGS = ("mean", "max")


def parse_open_clip_spec(text: str) -> tuple[str, str | None]:
    """``"open_clip:ARCH:TAG"`` -> ``(arch, tag)``, ``tag`` None for ``none`` (random weights).

    Examples
    --------
    >>> parse_open_clip_spec("open_clip:ViT-B-32:laion2b_s34b_b79k")
    ('ViT-B-32', 'laion2b_s34b_b79k')
    >>> parse_open_clip_spec("open_clip:RN50:none")
    ('RN50', None)
    """
    prefix, _, rest = text.strip().partition(":")
    arch, _, tag = rest.partition(":")
    if prefix != "open_clip" or not re.fullmatch(r"[A-Za-z0-9_.\-]+", arch or "") or \
            not re.fullmatch(r"[A-Za-z0-9_.\-]+", tag or ""):
        raise InputError(f"model {text!r} must look like open_clip:ARCH:TAG (e.g. open_clip:ViT-B-32:laion2b_s34b_b79k) "
                         "or open_clip:ARCH:none for random weights")
    return arch, None if tag.lower() in RANDOM_WEIGHTS else tag


@contextlib.contextmanager
def _without_root_warnings() -> Iterator[None]:
    """Within the block, drop the root logger's records (open_clip warns there when built without
    weights); the logger is as it was afterwards."""
    root = logging.getLogger()

    def drop(record: logging.LogRecord) -> bool:
        return record.name != "root"

    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def _open_clip() -> Any:
    try:
        import open_clip
    except ImportError:
        raise MissingExtraError("open_clip", "vision") from None
    return open_clip


class OpenClipEncoder(TorchModuleEncoder):
    """An OpenCLIP image tower as an encoder of images (module notes).

    Parameters
    ----------
    arch : str
        An OpenCLIP architecture (``open_clip.list_models()``).
    tag : str or None
        A pretrained tag of ``arch`` (``open_clip.list_pretrained_tags_by_model(arch)``); None for
        seeded random weights.
    seed : int, default=0
    batch_size : int, default=32
    device : str, optional
    num_workers : int, default=4
    display : str, optional
    """

    adapter = "open_clip"
    modality = "image"

    def __init__(self, arch: str, tag: str | None, *, seed: int = 0, batch_size: int = 32,
                 device: str | None = None, num_workers: int = 4, display: str | None = None) -> None:
        torch = require_torch()
        open_clip = _open_clip()
        if arch not in open_clip.list_models():
            raise InputError(f"open_clip has no architecture {arch!r}; see open_clip.list_models()")
        cfg: dict[str, Any] = {}
        if tag is not None:
            cfg = dict(open_clip.get_pretrained_cfg(arch, tag) or {})
            if not cfg:
                known = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none"
                raise InputError(f"{tag!r} is not a pretrained tag of open_clip:{arch} (known: {known})")
        with torch.random.fork_rng(devices=[]), _without_root_warnings():
            torch.manual_seed(int(seed))  # open_clip's "no pretrained weights loaded" is expected: ours come next
            model = open_clip.create_model(arch, pretrained=None, force_quick_gelu=bool(cfg.get("quick_gelu")))
        self.arch, self.tag, self.seed, self.num_workers = arch, tag, int(seed), max(int(num_workers), 1)
        self.checkpoint: Path | None = None
        self._sha256: str | None = None
        if tag is not None:
            self.checkpoint, self._sha256 = load_hub_safetensors(
                model, str(cfg.get("hf_hub") or "").strip("/"), "open_clip_model.safetensors",
                spec=f"open_clip:{arch}:{tag}", random_spec=f"open_clip:{arch}:none")
        visual = model.visual.eval()
        size = getattr(visual, "image_size", 224)
        self.transform = open_clip.image_transform(
            size, is_train=False, mean=cfg.get("mean"), std=cfg.get("std"),
            resize_mode=cfg.get("resize_mode"), interpolation=cfg.get("interpolation"))
        if hasattr(visual, "transformer") and hasattr(visual.transformer, "resblocks"):
            stages = [f"visual.transformer.resblocks.{i}" for i in range(len(visual.transformer.resblocks))]
        else:
            stages = [f"visual.{n}" for n, _ in visual.named_children() if re.fullmatch(r"layer\d+", n)]
        self._stages = stages
        wrapper = torch.nn.Sequential(OrderedDict([("visual", visual), (OUTPUT, torch.nn.Identity())]))
        label = tag or "none"
        super().__init__(wrapper, layers=[*stages, OUTPUT], name=display or f"open_clip:{arch}:{label}",
                         batch_size=batch_size, device=device)
        self._identity: dict[str, Any] | None = None

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            ident: dict[str, Any] = {"adapter": self.adapter, "arch": self.arch, "tag": self.tag,
                                     "structure": hash_fields({"repr": repr(self.module)}),
                                     "libraries": {p: library_version(p) for p in ("open_clip_torch", "pillow")}}
            self._identity = {**ident, **weights_fields(self._sha256, seed=self.seed, module=self.module)}
        return dict(self._identity)

    def layer_names(self) -> list[str]:
        return [*self._stages, OUTPUT]

    def pooled_layers(self) -> list[str]:
        return list(self._stages)

    def all_layers(self) -> list[str]:
        return self.layer_names()

    def preprocessing(self) -> dict[str, Any]:
        return image_preprocessing(self.transform)

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        for layer in layers:
            if layer == OUTPUT:
                keys.append((OUTPUT, "none"))
            elif layer in self._stages:
                for pooling in poolings:
                    if pooling not in _POOLINGS:
                        raise InputError(f"pooling {pooling!r} does not apply to {layer}; use mean or max")
                    keys.append((layer, pooling))
            else:
                raise InputError(f"unknown layer {layer!r}; {self.name} has: {', '.join(self.all_layers())}")
        return keys

    def encode(self, inputs: Sequence[Any], *, layers: Sequence[str], poolings: Sequence[str],
               progress: ProgressCallback | None = None) -> dict[tuple[str, str], np.ndarray]:
        keys = self.output_keys(layers, poolings)
        if not len(inputs):
            raise InputError("inputs must hold at least one image")
        hooks = list(dict.fromkeys(layer for layer, _ in keys))
        hook_poolings = sorted({p for _, p in keys if p in POOLINGS}) or ["mean"]
        parts: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in keys}
        for start in range(0, len(inputs), self.batch_size):
            batch = image_batch(inputs[start : start + self.batch_size], self.transform, num_workers=self.num_workers)
            out = super().encode(batch, layers=hooks, poolings=hook_poolings)
            for layer, pooling in keys:
                parts[(layer, pooling)].append(out[(OUTPUT, hook_poolings[0])] if layer == OUTPUT
                                               else out[(layer, pooling)])
            if progress is not None:
                progress(batch.shape[0])
        return {key: np.concatenate(value).astype(np.float32) for key, value in parts.items()}
